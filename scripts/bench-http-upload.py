"""Writes the receipt-upload request body of scripts/bench-http.sh to the file given: a new
invoice's fields and a receipt as a phone would take it (an A4 page at 150 dpi, JPEG quality 85,
printed lines on paper with some noise), as multipart/form-data. Prints the Content-Type."""

import io
import random
import sys

from PIL import Image, ImageDraw

random.seed(12)
page = Image.new("RGB", (1240, 1754), (244, 241, 232))
draw = ImageDraw.Draw(page)
for y in range(120, 1650, 38):
    width = random.randint(300, 1000)
    draw.rectangle([100, y, 100 + width, y + 14], fill=(60, 60, 70))
noise = Image.effect_noise((1240, 1754), 18).convert("RGB")
page = Image.blend(page, noise, 0.12)
photo = io.BytesIO()
page.save(photo, "JPEG", quality=85)

boundary = "crm-bench-boundary-7d1f3a"
fields = {"amount": "129.90", "currency": "EUR", "number": "BENCH-1", "issued_on": "2026-11-20"}
body = io.BytesIO()
for name, value in fields.items():
    body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
body.write(
    f'--{boundary}\r\nContent-Disposition: form-data; name="receipt"; filename="receipt.jpg"\r\n'
    "Content-Type: image/jpeg\r\n\r\n".encode()
)
body.write(photo.getvalue())
body.write(f"\r\n--{boundary}--\r\n".encode())
with open(sys.argv[1], "wb") as out:
    out.write(body.getvalue())
print(f"multipart/form-data; boundary={boundary}")

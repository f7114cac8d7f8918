#!/usr/bin/env python3
"""Makes the small receipt fixtures in crates/receipts/tests/fixtures (committed; re-run to refresh).

Needs Pillow and pypng (pip install pillow pypng) and qpdf. Every image shows four coloured
quadrants (red top-left, green top-right, blue bottom-left, white bottom-right), so a wrong
orientation or mirror is obvious.
"""
import io, pathlib, struct, subprocess, zlib
import png
from PIL import Image, ImageOps

out = pathlib.Path(__file__).resolve().parent.parent / "crates/receipts/tests/fixtures"
out.mkdir(parents=True, exist_ok=True)
W, H = 64, 48

def quadrants(mode="RGB"):
    img = Image.new("RGB", (W, H))
    for x in range(W):
        for y in range(H):
            left, top = x < W // 2, y < H // 2
            img.putpixel((x, y), (255, 0, 0) if left and top else (0, 200, 0) if top else (0, 0, 255) if left else (255, 255, 255))
    return img.convert(mode)

quadrants().save(out / "baseline.jpg", quality=92, dpi=(150, 150))
quadrants().save(out / "progressive.jpg", quality=92, progressive=True)
quadrants("L").save(out / "grayscale.jpg", quality=92)
quadrants("CMYK").save(out / "cmyk.jpg", quality=92)
# Stored turned a quarter to the left; EXIF orientation 6 says "turn right to show", so it shows upright.
exif = Image.Exif(); exif[0x0112] = 6
quadrants().rotate(90, expand=True).save(out / "exif-rotated.jpg", quality=92, exif=exif.tobytes())
# Every other orientation, mirrored ones included: stored so that applying the tag shows it upright.
T = Image.Transpose
undo = {2: T.FLIP_LEFT_RIGHT, 3: T.ROTATE_180, 4: T.FLIP_TOP_BOTTOM, 5: T.TRANSPOSE, 7: T.TRANSVERSE, 8: T.ROTATE_270}
for orientation, transpose in undo.items():
    exif = Image.Exif(); exif[0x0112] = orientation
    stored = quadrants().transpose(transpose)
    stored.save(out / f"exif-{orientation}.jpg", quality=92, exif=exif.tobytes())
    shown = ImageOps.exif_transpose(Image.open(out / f"exif-{orientation}.jpg")).convert("RGB")
    assert shown.size == (W, H) and all(
        max(abs(a - b) for a, b in zip(shown.getpixel((x, y)), quadrants().getpixel((x, y)))) < 48
        for x, y in [(W // 4, H // 4), (3 * W // 4, H // 4), (W // 4, 3 * H // 4), (3 * W // 4, 3 * H // 4)]
    ), orientation

quadrants().save(out / "rgb.png", dpi=(300, 300))
rgba = quadrants("RGBA")
rgba.putalpha(Image.linear_gradient("L").resize((W, H)))
rgba.save(out / "rgba.png")
palette = quadrants().convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
palette.save(out / "palette-transparent.png", transparency=0)
quadrants().convert("P", palette=Image.Palette.ADAPTIVE, colors=4).save(out / "palette.png")
quadrants("L").save(out / "gray.png")
# 16-bit samples whose low byte differs from the high byte (and from pixel to pixel), so that a
# conversion that kept only 8 bits, or swapped the bytes, shows.
def sample16(v, x, y, c):
    return (v << 8) | ((x * 7 + y * 13 + c * 29) & 0xFF)
pixels = [[quadrants().getpixel((x, y)) for x in range(W)] for y in range(H)]
rows16 = [[sample16(v, x, y, c) for x, p in enumerate(row) for c, v in enumerate(p)] for y, row in enumerate(pixels)]
with open(out / "rgb16.png", "wb") as f:
    png.Writer(W, H, greyscale=False, bitdepth=16).write(f, rows16)
rows16a = [[s for x, p in enumerate(row) for s in [sample16(v, x, y, c) for c, v in enumerate(p)] + [(x * 1024 + y * 37) & 0xFFFF]] for y, row in enumerate(pixels)]
with open(out / "rgba16.png", "wb") as f:
    png.Writer(W, H, greyscale=False, alpha=True, bitdepth=16).write(f, rows16a)
rows8 = [[v for p in row for v in p] for row in [[quadrants().getpixel((x, y)) for x in range(W)] for y in range(H)]]
with open(out / "interlaced.png", "wb") as f:
    png.Writer(W, H, greyscale=False, bitdepth=8, interlace=True).write(f, rows8)

# Colour profiles. This one is sRGB with its red and blue primaries swapped, so a viewer that
# honours the embedded profile shows the red quadrant blue and the blue one red: the tests can
# see that the profile reached the PDF and is the one in use.
from PIL import ImageCms
srgb = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
tags = {}
for i in range(struct.unpack(">I", srgb[128:132])[0]):
    sig, _, _ = struct.unpack(">4sII", srgb[132 + 12 * i:144 + 12 * i])
    tags[sig] = 132 + 12 * i
r, b = tags[b"rXYZ"], tags[b"bXYZ"]
srgb[r + 4:r + 12], srgb[b + 4:b + 12] = srgb[b + 4:b + 12], srgb[r + 4:r + 12]
srgb[84:100] = bytes(16)  # the profile ID (an MD5 of the profile) no longer holds
swapped = bytes(srgb)
quadrants().save(out / "icc-rgb.jpg", quality=92, icc_profile=swapped)
quadrants().save(out / "icc-rgb.png", icc_profile=swapped)
quadrants().convert("P", palette=Image.Palette.ADAPTIVE, colors=4).save(out / "icc-palette.png", icc_profile=swapped)
icc_rgba = quadrants("RGBA")
icc_rgba.putalpha(255)
icc_rgba.save(out / "icc-rgba.png", icc_profile=swapped)
# An RGB profile on a grayscale image: it can't apply, so it is left out.
quadrants("L").save(out / "icc-mismatched.jpg", quality=92, icc_profile=swapped)

quadrants().save(out / "image.gif")
(out / "notes.txt").write_text("Not a receipt.\n")
(out / "program.pdf").write_bytes(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200))

quadrants().save(out / "plain.pdf")
subprocess.run(["qpdf", "--encrypt", "user", "owner", "256", "--", str(out / "plain.pdf"), str(out / "encrypted.pdf")], check=True)
subprocess.run(["qpdf", "--encrypt", "", "owner", "256", "--", str(out / "plain.pdf"), str(out / "encrypted-empty-password.pdf")], check=True)

# A PDF that runs JavaScript when opened, written by hand and given a proper xref by qpdf.
handmade = out / "javascript-handmade.pdf"
handmade.write_bytes(b"""%PDF-1.7
1 0 obj << /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >> endobj
trailer << /Size 4 /Root 1 0 R >>
%%EOF
""")
subprocess.run(["qpdf", str(handmade), str(out / "javascript.pdf")], check=False)
handmade.unlink()

# A decompression bomb: a valid PNG header claiming 100000 x 100000 pixels, a tiny body.
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
(out / "bomb.png").write_bytes(
    b"\x89PNG\r\n\x1a\n"
    + chunk(b"IHDR", struct.pack(">II", 100_000, 100_000) + bytes([8, 2, 0, 0, 0]))
    + chunk(b"IDAT", zlib.compress(b""))
    + chunk(b"IEND", b"")
)
print("fixtures written to", out)

#!/usr/bin/env python3
"""Times the original app's conversion, Pillow's Image.save(..., "PDF"), on the files the
criterion bench wrote (target/receipt-bench), and a plain copy of their bytes."""
import io, pathlib, statistics, sys, time
from PIL import Image

bench = pathlib.Path(__file__).resolve().parents[3] / "target/receipt-bench"
for name in ["photo-12mp.jpg", "scan-2mp.png"]:
    data = (bench / name).read_bytes()
    def pillow():
        out = io.BytesIO()
        image = Image.open(io.BytesIO(data))
        image.convert("RGB").save(out, "PDF")  # what the Django app did
        return out
    def copy():
        return bytes(bytearray(data))
    for label, work in [("pillow_save_pdf", pillow), ("copy_bytes", copy)]:
        work()
        runs = []
        for _ in range(10 if label == "pillow_save_pdf" else 50):
            start = time.perf_counter()
            work()
            runs.append(time.perf_counter() - start)
        print(f"{name:16} {label:16} median {statistics.median(runs) * 1000:9.3f} ms")
sys.stdout.flush()

#!/usr/bin/env python3
"""Makes the hostile PDF fixtures in crates/receipts/tests/fixtures (committed; re-run to refresh).

Python's standard library only. Each file is a valid one-page PDF apart from its hostile part,
so a refusal can only come from that part:

- bomb-single.pdf: one object stream that unpacks (three Flate passes) to 1 GiB.
- bomb-sum.pdf: twelve object streams, each one 200 MB string (two Flate passes): each under
  lopdf's own 256 MiB limit per stream, 2.4 GB in all.
- bomb-many.pdf: 1,000 small object streams of 64 KiB each, 62.5 MiB in all.
- bomb-chained.pdf: one object stream behind five filters (ASCIIHex, ASCII85, three Flate).
- bomb-nested.pdf: an object nested 100,000 arrays deep.
- objstm-ok.pdf: an ordinary document whose objects sit in object streams (must be accepted).

The fuzz target's corpus includes the fixtures directory, so these seed it too.
"""
import base64
import subprocess
import pathlib
import zlib

out = pathlib.Path(__file__).resolve().parent.parent / "crates/receipts/tests/fixtures"


def pdf(objects: list) -> bytes:
    """A PDF whose objects 1-3 are the catalog, page tree and page, then `objects` (bytes each,
    the body between `N 0 obj` and `endobj`), with a classic cross-reference table."""
    body = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>",
        *objects,
    ]
    data = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, content in enumerate(body, start=1):
        offsets.append(len(data))
        data += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    xref = len(data)
    data += b"xref\n0 %d\n0000000000 65535 f \n" % (len(body) + 1)
    for offset in offsets:
        data += b"%010d 00000 n \n" % offset
    data += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(body) + 1, xref)
    return bytes(data)


def object_stream(number: int, encoded: bytes, filters: bytes) -> bytes:
    """An object stream holding one object numbered `number`, its content already `encoded`
    by the caller with `filters`."""
    return (
        b"<< /Type /ObjStm /N 1 /First %d /Filter %s /Length %d >>\nstream\n"
        % (len(b"%d 0 " % number), filters, len(encoded))
        + encoded
        + b"\nendstream"
    )


def string_stream(number: int, size: int, passes: int) -> bytes:
    """An object stream whose one object is a string of `size` bytes ("(" + A… + ")")."""
    index = b"%d 0 " % number
    compressor = zlib.compressobj(9)
    data = compressor.compress(index + b"(")
    chunk = b"A" * (1 << 20)
    left = size
    while left:
        take = min(left, len(chunk))
        data += compressor.compress(chunk[:take])
        left -= take
    data += compressor.compress(b")") + compressor.flush()
    for _ in range(passes - 1):
        data = zlib.compress(data, 9)
    filters = b"[" + b" /FlateDecode" * passes + b" ]"
    return object_stream(number, data, filters)


def main() -> None:
    (out / "bomb-single.pdf").write_bytes(pdf([string_stream(100, 1 << 30, 3)]))
    (out / "bomb-sum.pdf").write_bytes(
        pdf([string_stream(100 + i, 200_000_000, 2) for i in range(12)])
    )
    (out / "bomb-many.pdf").write_bytes(
        pdf([string_stream(10_000 + i, 64 * 1024, 1) for i in range(1000)])
    )
    inner = zlib.compress(zlib.compress(zlib.compress(b"100 0 (" + b"A" * 50_000_000 + b")", 9), 9), 9)
    chained = base64.a85encode(inner, adobe=True)[2:]  # lopdf reads the data without "<~"
    chained = chained.hex().encode() + b">"
    (out / "bomb-chained.pdf").write_bytes(
        pdf([
            object_stream(
                100,
                chained,
                b"[/ASCIIHexDecode /ASCII85Decode /FlateDecode /FlateDecode /FlateDecode]",
            )
        ])
    )
    (out / "bomb-nested.pdf").write_bytes(pdf([b"[" * 100_000 + b"]" * 100_000]))
    # An ordinary document written with object streams and a cross-reference stream.
    subprocess.run(
        ["qpdf", "--object-streams=generate", str(out / "plain.pdf"), str(out / "objstm-ok.pdf")],
        check=True,
    )


if __name__ == "__main__":
    main()

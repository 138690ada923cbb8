"""A PNG check shared by the tests that write figures: the file decodes and shows drawn
content, not only a valid header."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def assert_png(
    path,
    min_size: int = 100,
    size: tuple[int, int] | None = None,
    min_colours: int = 16,
    min_drawn: float = 0.02,
) -> tuple[int, int]:
    """The file is a valid PNG (signature, IHDR with its CRC, IEND) that decodes, is
    ``size`` pixels (w, h) when given, has more than ``min_colours`` distinct colours and at
    least a ``min_drawn`` fraction of pixels off the background (its most common colour).
    Returns (w, h)."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    ihdr = data[16 : 16 + 13]
    (crc,) = struct.unpack(">I", data[29:33])
    assert crc == zlib.crc32(b"IHDR" + ihdr)
    w, h = struct.unpack(">II", ihdr[:8])
    assert w >= min_size and h >= min_size, f"{path} is {w}x{h}"
    if size is not None:
        assert (w, h) == tuple(size), f"{path} is {w}x{h}, expected {size[0]}x{size[1]}"
    assert data[-12:-8] == b"\x00\x00\x00\x00" and data[-8:-4] == b"IEND"
    from PIL import Image

    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:  # something is drawn: axes, lines, text in several colours
        colours = im.convert("RGB").getcolors(maxcolors=1 << 24)
    assert colours is not None and len(colours) > min_colours, (
        f"{path} has {len(colours or [])} colours: looks blank"
    )
    background = max(colours)[0]
    drawn = 1 - background / (w * h)
    assert drawn >= min_drawn, f"{path}: only {drawn:.1%} of the pixels are drawn"
    return w, h

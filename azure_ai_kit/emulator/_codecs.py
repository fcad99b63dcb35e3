"""The emulated images: a tiny PNG encoder and fixed, pre-encoded JPEGs.

PNGs are a diagonal gradient between two colours derived from a hash of the prompt. Their
pixel size is the requested size divided by 16 (1024x1024 → 64x64, 1792x1024 → 112x64) so the
aspect ratio is exact while responses stay small.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib

__all__ = ["SCALE", "encode_png", "fixed_jpeg", "gradient"]

SCALE = 16

Pixels = list[list[tuple[int, int, int]]]


def gradient(seed: str, width: int, height: int) -> Pixels:
    """A deterministic diagonal gradient whose two end colours come from ``sha256(seed)``."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    start, end = digest[0:3], digest[3:6]
    span = max(1, width + height - 2)
    rows: Pixels = []
    for y in range(height):
        row = []
        for x in range(width):
            t = (x + y) / span
            row.append(
                (
                    round(start[0] + (end[0] - start[0]) * t),
                    round(start[1] + (end[1] - start[1]) * t),
                    round(start[2] + (end[2] - start[2]) * t),
                )
            )
        rows.append(row)
    return rows


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def encode_png(pixels: Pixels) -> bytes:
    """Encode 8-bit RGB *pixels* as a PNG (filter type 0 on every row)."""
    height, width = len(pixels), len(pixels[0])
    raw = b"".join(b"\x00" + bytes(c for px in row for c in px) for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw, 9))
        + _png_chunk(b"IEND", b"")
    )


# Baseline JPEGs (a flat-block gradient), one per gpt-image-1 size at 1/16 scale, encoded once:
# JPEG output only has to be a valid file of the right size, not a picture of the prompt.
_JPEGS = {
    (64, 64): (
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB"
        "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQH/wAARCABAAEADAREAAhEAAxEA/8QAHwAAAAAMAAAAAAAAAAAAAAAAAAEC"
        "AwQFBgcICQoL/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAwDAQACAAMAAD8AqdUkY1RlzdiDLm7GzLm6GzLm7GzL"
        "m7EGXN0NmYN6NI70p0uDLm7GzLm6GzLm7GzLm7EGXN0NmYN6NGXN6IR3pTZbmXN0NmXN2NmXN2IMubobMwb0aMub"
        "0QZc3Q2jvSmy3MubsbMubsQZc3Q2Zg3o0Zc3ogy5uhsy5uxtHelNluZc3Ygy5uhszBvRoy5vRBlzdDZlzdjZlzdj"
        "aO9KbLgy5uhszBvRoy5vRBlzdDZlzdjZlzdjZmDdCEdyU2W5mDejRlzeiDLm6GzLm7GzLm7GzMG6EGXN2No70p0t"
        "jLm9EGXN0NmXN2NmXN2NmYN0IMubsbMubsbf/9k="
    ),
    (64, 96): (
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB"
        "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQH/wAARCABgAEADAREAAhEAAxEA/8QAHwAAAAAMAAAAAAAAAAAAAAAAAAEC"
        "AwQFBgcICQoL/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAwDAQACAAMAAD8AqfEjw1ZnzXiDPmvEFAa8QZ814gz5"
        "rxBnzXiCgNeIRfJcpZGfNeIKA14gz5rxBnzXiDPmvEFAa8QZ814hF8lylkUBrxBnzXiDPmvEGfNeIKA14gz5rxBn"
        "zXjaL9LlLMz5rxBnzXiDPmvEFAa8QZ814gz5rxsz5rxKL9LlLIz5rxBnzXiCgNeIM+a8QZ8142Z814kz5rxCL9Ll"
        "LIz5rxBQGvEGfNeIM+a8bM+a8SZ814gz5rxCL9LlLIoDXiDPmvEGfNeNmfNeJM+a8QZ814gz5rxCMBLlLIz5rxBn"
        "zXjZnzXiTPmvEGfNeIM+a8QUBrxCL9LlLIz5rxsz5rxJnzXiDPmvEGfNeIKA14gz5rxCL9LlLEz5rxJnzXiDPmvE"
        "GfNeIKA14gz5rxBnzXiEX6XKWRnzXiDPmvEGfNeIKA14gz5rxBnzXiDPmvG0X6XKWZnzXiDPmvEFAa8QZ814gz5r"
        "xBnzXjZQGvEv/9k="
    ),
    (96, 64): (
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB"
        "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQH/wAARCABAAGADAREAAhEAAxEA/8QAHwAAAAAMAAAAAAAAAAAAAAAAAAEC"
        "AwQFBgcICQoL/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAwDAQACAAMAAD8AqfEjw1ZnzXiDPmvEFAa8QZ814gz5"
        "rxBnzXiCgNeIM+a8QZ8142Z814kz5rxCZ8kUl8Z814goDXiDPmvEGfNeIM+a8QUBrxBnzXiDPmvGzPmvEmfNeIM+"
        "a8QmfJFJfFAa8QZ814gz5rxBnzXiCgNeIM+a8QZ8142Z814kz5rxBnzXiDPmvEJn6RSXxnzXiDPmvEGfNeIKA14g"
        "z5rxBnzXjZnzXiTPmvEGfNeIM+a8QUBrxCZ8kUl8Z814gz5rxBQGvEGfNeIM+a8bM+a8SZ814gz5rxBnzXiCgNeI"
        "M+a8QmfJFJfGfNeIKA14gz5rxBnzXjZnzXiTPmvEGfNeIM+a8QUBrxBnzXiDPmvEJnyRSXxQGvEGfNeIM+a8bM+a"
        "8SZ814gz5rxBnzXiCgNeIM+a8QZ814gz5rxtM/SKS/M+a8QZ8142Z814kz5rxBnzXiDPmvEFAa8QZ814gz5rxBnz"
        "XjZQGvEv/9k="
    ),
}


def fixed_jpeg(width: int, height: int) -> bytes:
    """A valid baseline JPEG of *width* x *height* (one of the gpt-image-1 sizes at 1/16)."""
    try:
        return base64.b64decode(_JPEGS[(width, height)])
    except KeyError:
        sizes = ", ".join(f"{w}x{h}" for w, h in _JPEGS)
        raise ValueError(f"no fixed JPEG of {width}x{height}; sizes: {sizes}") from None

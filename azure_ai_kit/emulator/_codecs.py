"""Tiny, dependency-free PNG and baseline-JPEG encoders for the emulated images.

Images are a diagonal gradient between two colours derived from a hash of the prompt. Their
pixel size is the requested size divided by 16 (1024x1024 → 64x64, 1792x1024 → 112x64) so the
aspect ratio is exact while responses stay small.
"""

from __future__ import annotations

import hashlib
import struct
import zlib

__all__ = ["SCALE", "encode_jpeg", "encode_png", "gradient"]

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


class _BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self._acc = 0
        self._count = 0

    def write(self, value: int, length: int) -> None:
        for shift in range(length - 1, -1, -1):
            self._acc = (self._acc << 1) | ((value >> shift) & 1)
            self._count += 1
            if self._count == 8:
                self.out.append(self._acc)
                if self._acc == 0xFF:
                    self.out.append(0x00)  # byte stuffing inside entropy-coded data
                self._acc = 0
                self._count = 0

    def flush(self) -> bytes:
        if self._count:
            self.write((1 << (8 - self._count)) - 1, 8 - self._count)  # pad with 1-bits
        return bytes(self.out)


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">HH", marker, len(payload) + 2) + payload


def encode_jpeg(pixels: Pixels) -> bytes:
    """Encode *pixels* as a baseline JPEG of flat 8x8 blocks (DC coefficients only).

    Each block takes the average colour of its pixels, so only DC terms are coded: quantisation
    is all ones, the DC Huffman table gives categories 0–11 fixed 4-bit codes and the AC table
    holds only end-of-block. Valid for any decoder, and a few hundred bytes.
    """
    height, width = len(pixels), len(pixels[0])
    blocks_x, blocks_y = -(-width // 8), -(-height // 8)
    bits = _BitWriter()
    previous = [0, 0, 0]
    for by in range(blocks_y):
        for bx in range(blocks_x):
            sums = [0.0, 0.0, 0.0]
            count = 0
            for y in range(by * 8, min(height, by * 8 + 8)):
                for x in range(bx * 8, min(width, bx * 8 + 8)):
                    r, g, b = pixels[y][x]
                    sums[0] += 0.299 * r + 0.587 * g + 0.114 * b
                    sums[1] += 128 - 0.168736 * r - 0.331264 * g + 0.5 * b
                    sums[2] += 128 + 0.5 * r - 0.418688 * g - 0.081312 * b
                    count += 1
            for comp in range(3):
                # For a flat block the orthonormal DCT gives F(0,0) = 8 * (value - 128).
                dc = round(8 * (sums[comp] / count - 128))
                diff = dc - previous[comp]
                previous[comp] = dc
                size = abs(diff).bit_length()
                bits.write(size, 4)
                if size:
                    bits.write(diff if diff > 0 else diff + (1 << size) - 1, size)
                bits.write(0, 1)  # AC: end of block
    scan = bits.flush()
    components = b"".join(struct.pack(">BBB", cid, 0x11, 0) for cid in (1, 2, 3))
    dc_table = bytes([0x00]) + bytes([0, 0, 0, 12] + [0] * 12) + bytes(range(12))
    ac_table = bytes([0x10]) + bytes([1] + [0] * 15) + bytes([0x00])
    return (
        b"\xff\xd8"
        + _segment(0xFFE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + _segment(0xFFDB, b"\x00" + b"\x01" * 64)
        + _segment(0xFFC0, struct.pack(">BHHB", 8, height, width, 3) + components)
        + _segment(0xFFC4, dc_table)
        + _segment(0xFFC4, ac_table)
        + _segment(0xFFDA, b"\x03\x01\x00\x02\x00\x03\x00\x00\x3f\x00")
        + scan
        + b"\xff\xd9"
    )

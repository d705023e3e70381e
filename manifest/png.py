"""Minimal deterministic PNG encoder (8-bit RGBA, no filtering) on the standard library."""

from __future__ import annotations

import struct
import zlib

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_RGBA = 6


def encode_rgba(width: int, height: int, pixels: bytes | bytearray) -> bytes:
    """Encode row-major RGBA pixels (4 bytes each) as a PNG file."""
    row_bytes = width * 4
    if width <= 0 or height <= 0 or len(pixels) != row_bytes * height:
        raise ValueError(
            f"expected {width}x{height} RGBA pixels ({row_bytes * height} bytes), got {len(pixels)}."
        )
    # Filter type 0 on every row: icons are tiny, and unfiltered rows keep the decoder in tests trivial.
    raw = b"".join(b"\x00" + bytes(pixels[y * row_bytes : (y + 1) * row_bytes]) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, _RGBA, 0, 0, 0)
    return b"".join(
        (_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", zlib.compress(raw, 9)), _chunk(b"IEND", b""))
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

"""The app's two icons, drawn in code so the package needs no binary assets or imaging library."""

from __future__ import annotations

from manifest.png import encode_rgba

# Deep green ("growth"); white on it has a contrast ratio of about 5:1, above WCAG's 3:1 for graphics.
BRAND_COLOR = "#2E7D5B"
COLOR_SIZE = 192
OUTLINE_SIZE = 32

_WHITE = (255, 255, 255, 255)
_CLEAR = (0, 0, 0, 0)

# A garden trellis: three posts and three rails on a 16x16 design grid, as (x0, y0, x1, y1) cells.
_GRID = 16
_GLYPH = (
    (2, 1, 4, 15),
    (7, 1, 9, 15),
    (12, 1, 14, 15),
    (1, 3, 15, 5),
    (1, 7, 15, 9),
    (1, 11, 15, 13),
)


def color_icon() -> bytes:
    """192x192 opaque PNG: white trellis on the brand colour."""
    background = (*_hex_rgb(BRAND_COLOR), 255)
    # Teams asks for the symbol to sit inside the central 96x96 "safe" area of the colour icon.
    glyph_size = COLOR_SIZE // 2
    offset = (COLOR_SIZE - glyph_size) // 2
    return _render(COLOR_SIZE, background, glyph_size, offset)


def outline_icon() -> bytes:
    """32x32 PNG: pure white trellis on a fully transparent background, as Teams requires."""
    return _render(OUTLINE_SIZE, _CLEAR, OUTLINE_SIZE, 0)


def _render(size: int, background: tuple[int, int, int, int], glyph_size: int, offset: int) -> bytes:
    pixels = bytearray(bytes(background) * (size * size))
    scale = glyph_size // _GRID
    # Whole-pixel rectangles only: no anti-aliasing, so the outline never gets grey or half-transparent edges.
    for x0, y0, x1, y1 in _GLYPH:
        for y in range(offset + y0 * scale, offset + y1 * scale):
            start = (y * size + offset + x0 * scale) * 4
            end = (y * size + offset + x1 * scale) * 4
            pixels[start:end] = bytes(_WHITE) * ((end - start) // 4)
    return encode_rgba(size, size, pixels)


def _hex_rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)

"""QR codes for lot labels: one module matrix, drawn as PNG (Pillow) or SVG, the lot id below.

Sized for a printed label: error correction Q (a quarter of the code may be scuffed), the
four-module quiet zone the standard asks for, and at least MIN_PNG_PX pixels across.
"""

import io
import math
from html import escape  # escapes quotes too: the caption goes into an attribute

import qrcode
from PIL import Image, ImageDraw, ImageFont

QUIET_ZONE = 4  # modules, ISO/IEC 18004 §7.3.8
MIN_PNG_PX = 330
CAPTION_MODULES = 4  # the band under the code that holds the lot id, in modules
CAPTION_FONT_PX = 28
MIN_FONT_PX = 14
DARK, LIGHT = 0, 255


def qr_matrix(payload: str) -> list[list[bool]]:
    """The modules of the smallest QR code holding `payload`, quiet zone included."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=QUIET_ZONE)
    code.add_data(payload)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    return matrix


def _runs(row: list[bool]) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules in a row."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for x, dark in enumerate([*row, False]):
        if dark and start is None:
            start = x
        elif not dark and start is not None:
            runs.append((start, x - start))
            start = None
    return runs


def _caption_font(caption: str, room_px: int) -> ImageFont.FreeTypeFont:
    """Pillow's built-in font at CAPTION_FONT_PX, smaller (down to MIN_FONT_PX) for a long id."""
    font = ImageFont.load_default(size=CAPTION_FONT_PX)
    needed = font.getlength(caption)
    if needed > room_px:
        smaller = max(MIN_FONT_PX, math.floor(CAPTION_FONT_PX * room_px / needed))
        font = ImageFont.load_default(size=smaller)
    assert isinstance(font, ImageFont.FreeTypeFont)  # Pillow is built with FreeType
    return font


def png(payload: str, caption: str) -> bytes:
    """A PNG of the code for `payload` with `caption` printed under it."""
    matrix = qr_matrix(payload)
    size = len(matrix)
    box = max(8, math.ceil(MIN_PNG_PX / size))
    font = _caption_font(caption, (size - 2 * QUIET_ZONE) * box)
    width = max(size * box, math.ceil(font.getlength(caption)) + 2 * QUIET_ZONE * box)
    band = CAPTION_MODULES * box + CAPTION_FONT_PX
    image = Image.new("L", (width, size * box + band), LIGHT)
    draw = ImageDraw.Draw(image)
    left = (width - size * box) // 2
    for y, row in enumerate(matrix):
        for start, length in _runs(row):
            x0, y0 = left + start * box, y * box
            draw.rectangle((x0, y0, x0 + length * box - 1, y0 + box - 1), fill=DARK)
    # The caption sits in the band below the bottom quiet zone, which stays clear.
    draw.text((width / 2, size * box + band / 2), caption, fill=DARK, font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def svg_element(payload: str, caption: str) -> str:
    """An <svg> element of the code (one unit per module) with `caption` as a <text> below."""
    matrix = qr_matrix(payload)
    size = len(matrix)
    height = size + CAPTION_MODULES
    path = "".join(
        f"M{start} {y}h{length}v1h-{length}z"
        for y, row in enumerate(matrix)
        for start, length in _runs(row)
    )
    font = 2.4
    # A monospace glyph is about 0.6 em wide: squeeze a long lot id into the code's width.
    fit = f' textLength="{size - 2}" lengthAdjust="spacingAndGlyphs"' * (
        len(caption) * font * 0.6 > size - 2
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {height}" '
        f'width="{size * 10}" height="{height * 10}" shape-rendering="crispEdges" '
        f'role="img" aria-label="QR code for lot {escape(caption)}">'
        f'<rect width="{size}" height="{height}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/>'
        f'<text x="{size / 2}" y="{size + 2.4}" font-family="monospace" font-size="{font}" '
        f'text-anchor="middle"{fit}>{escape(caption)}</text></svg>'
    )


def svg(payload: str, caption: str) -> str:
    """A standalone SVG document of the code."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + svg_element(payload, caption) + "\n"

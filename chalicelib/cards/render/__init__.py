"""Draws an e-card: a PNG of 1012x638 with Pillow, and the same card as a text PDF with fpdf2.

Both are drawn from one layout (`layout.py`), so they show the same lines at the
same places. Pillow, segno, fpdf2 and the Arabic shaping libraries are imported
inside the render path only, so Lambdas that never draw a card do not load them on
cold start. Text goes through Pillow's basic layout (Lambda has no raqm/fribidi);
Arabic is shaped and reordered beforehand by `arabic_text`. Loaded fonts are cached
for the life of the process: loading them costs more than drawing a card.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.cards.card import CardContent
from chalicelib.cards.render.layout import (
    DPI,
    FONT_DIR,
    FONT_FILES,
    HEIGHT,
    LABELS,
    WIDTH,
    CardLayout,
    Line,
    codepoints_of_file,
    font,
    lay_out,
    loaded_fonts,
)
from chalicelib.kernel import arabic_text

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = [
    "DPI", "FONT_DIR", "FONT_FILES", "HEIGHT", "LABELS", "WIDTH", "TextRun", "card_layout", "drawn_lines",
    "drawn_text", "font", "loaded_fonts", "missing_glyphs", "qr_matrix", "qr_segments", "render_pdf", "render_png",
]


# Level M for EC1 payloads (versions 11-13): 15 % of the symbol may be lost to glare or a cracked
# screen, and the symbol is still small enough for modules of 4-5 px.
QR_ERROR_LEVEL = "m"
# Level L for SMART Health Cards, as the spec's own budget is reckoned (its QR FAQ: a version-22
# symbol holds a 1,195-character JWS at L, 927 at M) and as its reference example generator and
# most issuers draw them: an shc:/ card is ~2,500 digits, version 22-25 at L against 25-29 at M,
# and on a card of fixed width every version less is a bigger module. The QR is shown on a screen
# or printed on a plastic card, not stuck on a crate: what it must survive is being photographed or
# shrunk (module size), far more than losing 7-15 % of its surface. segno still raises the level
# to M or Q when the text fits the same version at it (its `boost_error`), at no cost in size.
SHC_QR_ERROR_LEVEL = "l"
# "shc:/" (and a chunk's "n/m/", which our single-QR cards never carry), then the JWS as digits.
_SHC_TEXT = re.compile(r"(shc:/(?:[0-9]+/[0-9]+/)?)([0-9]+)")


@dataclass(frozen=True)
class TextRun:
    """One stretch of text drawn with one font: what the glyph check inspects."""

    font_file: str
    text: str  # visual order, as handed to Pillow


def card_layout(content: CardContent, qr_text: str) -> CardLayout:
    """Where everything on the card goes (what both the PNG and the PDF draw)."""
    return lay_out(content, qr_matrix(qr_text))


def render_png(content: CardContent, qr_text: str) -> bytes:
    """The card as a PNG of 1012x638 pixels (taller only if its values exceed what policies allow)."""
    image = _draw_png(card_layout(content, qr_text))
    return _png(image.tobytes(), image.width, image.height)


# zlib level 3 on unfiltered rows. Measured on the sample card, Pillow's PNG writer
# spends 17 ms choosing a filter for each row before compressing anything, and the
# filters do not pay here: flat colour and anti-aliased text compress better as they
# are. Unfiltered at level 3: 82 KB in 6 ms (Pillow at level 3: 95 KB in 26 ms);
# level 1 is no faster, level 6 saves 7 % for three times the time.
PNG_ZLIB_LEVEL = 3


def _png(rgb: bytes, width: int, height: int) -> bytes:
    """A PNG of 8-bit RGB rows (filter type 0 on every row), marked as DPI dots per inch."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    stride = 3 * width
    rows = b"".join(b"\x00" + rgb[at : at + stride] for at in range(0, stride * height, stride))
    per_metre = round(DPI / 0.0254)
    return b"".join((
        b"\x89PNG\r\n\x1a\n",
        chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),  # 8-bit RGB, not interlaced
        chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),  # unit: the metre
        chunk(b"IDAT", zlib.compress(rows, PNG_ZLIB_LEVEL)),
        chunk(b"IEND", b""),
    ))


def render_pdf(content: CardContent, qr_text: str) -> bytes:
    """The same card as a one-page PDF the size of the card: its text as text (fonts embedded
    as subsets), the QR as vector squares. The same content gives the same bytes."""
    from chalicelib.cards.render.pdf import layout_pdf

    return layout_pdf(card_layout(content, qr_text), title=f"{LABELS['card'].en} {content.member_id}")


def drawn_lines(content: CardContent, qr_text: str = "EC1:TEST") -> tuple[Line, ...]:
    """Every line of text the card draws, with its field, place and size (for layout checks)."""
    return card_layout(content, qr_text).lines


def drawn_text(content: CardContent, qr_text: str = "EC1:TEST") -> list[TextRun]:
    """Every text run the card draws, each with its font file (for glyph checks)."""
    return [
        TextRun(FONT_FILES[role], chunk)
        for line in drawn_lines(content, qr_text)
        for role, chunk, _width in line.runs
    ]


def missing_glyphs(content: CardContent, qr_text: str = "EC1:TEST") -> dict[str, list[str]]:
    """Characters the card would draw with a font lacking them, by font file; empty is good."""
    gaps: dict[str, list[str]] = {}
    for run in drawn_text(content, qr_text):
        missing = arabic_text.missing_glyphs(run.text, codepoints_of_file(run.font_file))
        for ch in missing:
            gaps.setdefault(run.font_file, [])
            if ch not in gaps[run.font_file]:
                gaps[run.font_file].append(ch)
    return gaps


# 256 masks: the ~40 label runs, touched on every card, stay; a card's own values age out.
@lru_cache(maxsize=256)
def _glyph_mask(role: str, size: int, chunk: str, start_x: float, start_y: float) -> tuple[Image, tuple[int, int]]:
    """One run of text drawn white on black, with where its top left goes relative to
    the whole-pixel part of the baseline-left point it is drawn at.

    Rasterising is most of a card's text cost and the labels are the same on every
    card (in the same places, so at the same sub-pixel starts): kept per process,
    bounded, so a long-lived process does not grow with every name it draws.
    """
    from PIL import Image as PILImage
    from PIL import ImageDraw as PILImageDraw

    face = font(role, size)
    left, top, right, bottom = face.getbbox(chunk, anchor="ls")
    # A margin of 2 pixels round the ink box, and the drawing point moved by whole
    # pixels only, so the glyphs are rasterised from the same sub-pixel start.
    shift_x, shift_y = 2 - math.floor(left), 2 - math.floor(top)
    mask = PILImage.new("L", (math.ceil(right) + shift_x + 2, math.ceil(bottom) + shift_y + 2), 0)
    PILImageDraw.Draw(mask).text((shift_x + start_x, shift_y + start_y), chunk, font=face, fill=255, anchor="ls")
    return mask, (-shift_x, -shift_y)


def _draw_png(layout: CardLayout) -> Image:
    from PIL import Image as PILImage
    from PIL import ImageDraw as PILImageDraw

    image = PILImage.new("RGB", (layout.width, layout.height), (255, 255, 255))
    draw = PILImageDraw.Draw(image)
    for box in layout.boxes:
        # Pillow's rectangle includes its last row and column.
        draw.rectangle((box.left, box.top, box.right - 1, box.bottom - 1), fill=box.fill)
    qr = layout.qr
    count = len(qr.rows)
    symbol = PILImage.new("L", (count + 8, count + 8), 255)
    core = PILImage.frombytes("L", (count, count), b"".join(qr.rows).translate(_MODULE_PIXEL))
    symbol.paste(core, (4, 4))
    symbol = symbol.resize((qr.side, qr.side), PILImage.Resampling.NEAREST)
    image.paste(symbol, (qr.left, qr.top))
    for line in layout.lines:
        _draw_line(image, line)
    return image


def _draw_line(image: Image, line: Line) -> None:
    left = line.left
    for role, chunk, chunk_width in line.runs:
        # The run's glyphs as a mask (drawn once per process for the same text,
        # size and sub-pixel start), laid on the card in the fill colour: the same
        # pixels ImageDraw.text gives, as both blend the ink through the mask.
        mask, (mask_left, mask_top) = _glyph_mask(
            role, line.size, chunk, math.modf(left)[0], math.modf(line.baseline)[0]
        )
        x0, y0 = int(left) + mask_left, int(line.baseline) + mask_top
        image.paste(line.fill, (x0, y0, x0 + mask.width, y0 + mask.height), mask)
        left += chunk_width


# Module 0 (light) -> white, 1 (dark) -> black.
_MODULE_PIXEL = bytes([255] + [0] * 255)


def qr_segments(qr_text: str) -> tuple[str | list[tuple[str, int]], str]:
    """What segno encodes for the text, and at which error level.

    A SMART Health Card is two segments, as its spec says ("Encoding Chunks as QR codes"): "shc:/"
    in byte mode, then the digits in numeric mode (3⅓ bits a digit, where one byte-mode segment
    spends 8: a typical card would be version 37 at L, and past version 40 at M). Any other
    text (the EC1 payload of the cards printed before) is one segment in the mode segno picks
    for it, as it always was.
    """
    from segno import consts

    shc = _SHC_TEXT.fullmatch(qr_text)
    if shc is None:
        return qr_text, QR_ERROR_LEVEL
    prefix, digits = shc.groups()
    return [(prefix, consts.MODE_BYTE), (digits, consts.MODE_NUMERIC)], SHC_QR_ERROR_LEVEL


def qr_matrix(qr_text: str) -> tuple[bytes, ...]:
    """The rows of the QR symbol segno makes for the text (no quiet zone): 0 light, 1 dark.

    The same symbol, module for module, as `segno.make(content, error=level, micro=False)`
    with `content, level = qr_segments(qr_text)`, in about a third of its time: segno tries
    the eight data masks in pure Python, one module at a time, and that was a third of a PNG
    card's time. Here segno encodes once with mask 0, and the eight candidates are made by
    XOR of whole bytes and scored with segno's own rules (ISO/IEC 18004 7.8.3, its
    tie-breaks included) on whole rows and columns; the winner gets its format and version
    information from segno.
    """
    encoder = _segno_encoder()

    content, error = qr_segments(qr_text)
    code = encoder.encode(content, error=error, micro=False, mask=0)
    width = len(code.matrix)
    region, fixed, masks = _mask_layout(width)
    size = width * width
    masked = int.from_bytes(b"".join(code.matrix))
    # Mask 0 undone on the data region; function patterns as before masking (format
    # and version areas still blank, as segno scores them).
    unmasked = ((masked ^ masks[0]) & region) | fixed
    best_score, best = None, 0
    for number, mask in enumerate(masks):
        score = _mask_penalty((unmasked ^ mask).to_bytes(size), width)
        if best_score is None or score < best_score:
            best_score, best = score, number
    flat = (unmasked ^ masks[best]).to_bytes(size)
    matrix = tuple(bytearray(flat[i : i + width]) for i in range(0, size, width))
    encoder.add_format_info(matrix, code.version, code.error, best)
    encoder.add_version_info(matrix, code.version)
    return tuple(bytes(row) for row in matrix)


def _segno_encoder() -> Any:
    """segno's encoder module, whose building blocks are untyped: Any at its edge.

    Its internals are pinned with segno in requirements.txt, and a unit test checks
    `qr_matrix` against `segno.make` module for module.
    """
    from segno import encoder

    return encoder


@lru_cache(maxsize=64)
def _mask_layout(width: int) -> tuple[int, int, tuple[int, ...]]:
    """For a symbol `width` modules wide, as big-endian integers of one byte a module:
    the data region (0xFF there), the function patterns before masking (0 on the data
    region), and each of the eight masks (1 where it flips a data module)."""
    encoder = _segno_encoder()

    pattern = encoder.make_matrix(width, width)
    encoder.add_finder_patterns(pattern, width, width)
    encoder.add_alignment_patterns(pattern, width, width)
    flat = b"".join(pattern)
    # The dark module beside the lower-left finder is reserved (0) here: not data.
    data = [value == 0x2 for value in flat]
    region = bytes(0xFF if d else 0 for d in data)
    fixed = bytes(0 if d else v for d, v in zip(data, flat, strict=True))
    cells = [divmod(k, width) for k in range(width * width)]
    masks = tuple(
        int.from_bytes(bytes(1 if d and flips(i, j) else 0 for d, (i, j) in zip(data, cells, strict=True)))
        for flips in encoder.get_data_mask_functions(False)
    )
    return int.from_bytes(region), int.from_bytes(fixed), masks


_N3 = bytes((0x1, 0x0, 0x1, 0x1, 0x1, 0x0, 0x1))
_SEPARATOR = b"\x10"  # not a module value; shifted by 2 it still fits its byte
_ZERO_TO_ONE = bytes([1] + [0] * 255)
# Two modules one above the other, coded (upper << 2) | lower: 1 where both are alike.
_ALIKE_PAIR = bytes(1 if code in (0x0, 0x5, 0xA, 0xF) else 0 for code in range(256))


def _mask_penalty(flat: bytes, width: int) -> int:
    """segno's `mask_scores` (N1 + N2 + N3 + N4) of a masked matrix given row after row."""
    rows = [flat[i : i + width] for i in range(0, width * width, width)]
    columns = [flat[j::width] for j in range(width)]
    # N1: each run of 5 + i modules of one value in a row or column scores 3 + i,
    # found as 4 + i neighbours alike in a row.
    lines = _SEPARATOR.join(rows) + _SEPARATOR + _SEPARATOR.join(columns)
    # A run of 4 + i alike neighbours holds 1 + i windows of four: its score is its
    # windows plus 2, counted with one bit a module (the lowest of each byte).
    alike = int.from_bytes(_alike_neighbours(lines))
    windows = alike & (alike << 8) & (alike << 16) & (alike << 24)
    n1 = windows.bit_count() + 2 * (windows & ~(windows >> 8)).bit_count()
    # N2: each 2x2 block of one value scores 3 (blocks overlap): a pair of rows
    # coded as one line of vertical pairs, two alike neighbours both alike pairs.
    upper = _SEPARATOR.join(rows[:-1])
    lower = _SEPARATOR.join(rows[1:])
    pairs = ((int.from_bytes(upper) << 2) | int.from_bytes(lower)).to_bytes(len(upper))
    blocks = int.from_bytes(pairs[:-1].translate(_ALIKE_PAIR)) & int.from_bytes(_alike_neighbours(pairs))
    n2 = 3 * blocks.bit_count()
    n3 = _n3_score(lines, width)
    percent = float(sum(flat)) / (width**2)
    n4 = 10 * int(abs(percent * 100 - 50) / 5)
    return n1 + n2 + n3 + n4


def _alike_neighbours(line: bytes) -> bytes:
    """One byte less than `line`: 1 where a byte equals the next, else 0."""
    xor = int.from_bytes(line[:-1]) ^ int.from_bytes(line[1:])
    return xor.to_bytes(len(line) - 1).translate(_ZERO_TO_ONE)


def _n3_score(lines: bytes, width: int) -> int:
    """40 for each dark-light-dark-dark-dark-light-dark with 4 light modules on one side,
    in lines of `width` modules each followed by a separator. segno's reading: a
    pattern at either end of a line counts, so does a shorter light stretch at the
    edge, and the search resumes past a counted pattern."""
    count = 0
    stride = width + 1
    index = lines.find(_N3)
    while index != -1:
        start = index - index % stride  # the pattern never spans a separator
        after = index + 7
        if (
            index - start in (0, width - 7)
            or not any(lines[max(index - 4, start) : index])
            or not any(lines[after : min(after + 4, start + width)])
        ):
            count += 40
        else:
            after = index + 4
        index = lines.find(_N3, after)
    return count

"""Draws an e-card (PNG 1012x638, or a one-page PDF of the same image) with Pillow.

Pillow, segno and the Arabic shaping libraries are imported inside the render
path only, so Lambdas that never draw a card do not load them on cold start.
Text goes through Pillow's basic layout (Lambda has no raqm/fribidi); Arabic is
shaped and reordered beforehand by `arabic_text`. Loaded fonts are cached for the
life of the process: loading them costs more than drawing a card.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.cards.card import (
    RELATIONSHIP_TEXT,
    RESIDENCE_COVER_TEXT,
    CardContent,
    GroupCover,
)
from chalicelib.errors import Text
from chalicelib.kernel import arabic_text

if TYPE_CHECKING:
    from PIL.Image import Image
    from PIL.ImageDraw import ImageDraw
    from PIL.ImageFont import FreeTypeFont

# ID-1 (85.60 x 53.98 mm) at 300 dpi, the size the app and the issue ask for.
WIDTH, HEIGHT = 1012, 638
DPI = 300
MARGIN = 36

FONT_DIR = Path(__file__).resolve().parent.parent / "assets" / "fonts"
FONT_FILES = {
    "latin": "NotoSans-Regular.ttf",
    "latin_bold": "NotoSans-Bold.ttf",
    "arabic": "NotoSansArabic-Regular.ttf",
    "arabic_bold": "NotoSansArabic-Bold.ttf",
}

BRAND = (11, 79, 108)
ACCENT = (26, 166, 160)
INK = (27, 42, 51)
MUTED = (96, 112, 122)
WHITE = (255, 255, 255)
BAND_SUBTITLE = (198, 226, 236)
FOOTER_BG = (236, 243, 246)

# QR: modules of 4 px keep the code readable from a phone screenshot shown on
# another phone. 308 px holds a version-13 symbol (69 + 8 quiet-zone modules) at
# 4 px; the base45 payload of even a long four-part name in both languages fits
# that at level M (15 % of the symbol may be lost to glare or a cracked screen).
QR_BOX = 308
QR_TOP = 230
QR_ERROR_LEVEL = "m"

LABELS = {
    "card": Text("Health insurance card", "بطاقة التأمين الصحي"),
    "member_id": Text("Member ID", "رقم العضوية"),
    "date_of_birth": Text("Date of birth", "تاريخ الميلاد"),
    "policy": Text("Policy no.", "رقم الوثيقة"),
    "relationship": Text("Relationship", "صلة القرابة"),
    "employer": Text("Employer", "جهة العمل"),
    "category": Text("Residence category", "فئة الإقامة"),
    "plan": Text("Plan", "الخطة"),
    "network": Text("Network", "الشبكة"),
    "valid_from": Text("Valid from", "صالحة من"),
    "valid_to": Text("Valid to", "صالحة حتى"),
    "scan": Text("Scan to verify", "امسح للتحقق"),
    "customer_service": Text("Customer service", "خدمة العملاء"),
}

_FONTS: dict[tuple[str, int], FreeTypeFont] = {}
_CODEPOINTS: dict[str, frozenset[int]] = {}


@dataclass(frozen=True)
class TextRun:
    """One stretch of text drawn with one font: what the glyph check inspects."""

    font_file: str
    text: str  # visual order, as handed to Pillow


def render_png(content: CardContent, qr_text: str) -> bytes:
    """The card as a PNG of exactly 1012x638 pixels."""
    image, _runs = _draw_card(content, qr_text)
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
    """The same card as a one-page PDF, page sized to the ID-1 card (85.7 x 54 mm)."""
    image, _runs = _draw_card(content, qr_text)
    out = io.BytesIO()
    # Pillow embeds RGB as JPEG: quality 92 without chroma subsampling keeps the
    # edges of small coloured text and of the QR modules sharp.
    image.save(
        out,
        format="PDF",
        resolution=DPI,
        quality=92,
        subsampling=0,
        title=f"{LABELS['card'].en} {content.member_id}",
        producer="e-card",
    )
    return out.getvalue()


def drawn_text(content: CardContent, qr_text: str = "EC1:TEST") -> list[TextRun]:
    """Every text run the card draws, each with its font file (for glyph checks)."""
    _image, runs = _draw_card(content, qr_text)
    return runs


def missing_glyphs(content: CardContent, qr_text: str = "EC1:TEST") -> dict[str, list[str]]:
    """Characters the card would draw with a font lacking them, by font file; empty is good."""
    gaps: dict[str, list[str]] = {}
    for run in drawn_text(content, qr_text):
        missing = arabic_text.missing_glyphs(run.text, _codepoints_of_file(run.font_file))
        for ch in missing:
            gaps.setdefault(run.font_file, [])
            if ch not in gaps[run.font_file]:
                gaps[run.font_file].append(ch)
    return gaps


def font(role: str, size: int) -> FreeTypeFont:
    """A cached font of the card, always with basic layout (the one Lambda can run)."""
    key = (role, size)
    cached = _FONTS.get(key)
    if cached is None:
        from PIL import ImageFont

        cached = ImageFont.truetype(
            str(FONT_DIR / FONT_FILES[role]), size, layout_engine=ImageFont.Layout.BASIC
        )
        _FONTS[key] = cached
    return cached


def _codepoints(role: str) -> frozenset[int]:
    return _codepoints_of_file(FONT_FILES[role])


def _codepoints_of_file(font_file: str) -> frozenset[int]:
    cached = _CODEPOINTS.get(font_file)
    if cached is None:
        cached = arabic_text.font_codepoints(FONT_DIR / font_file)
        _CODEPOINTS[font_file] = cached
    return cached


Runs = tuple[tuple[str, str, float], ...]


@lru_cache(maxsize=4096)
def _measure(logical: str, size: int, bold: bool) -> tuple[Runs, float]:
    """The line cut into runs by font, each with its width, and the total width.

    Memoised per process: labels are the same on every card and a long line is
    measured at several sizes while it is fitted.
    """
    arabic_line = arabic_text.has_arabic(logical)
    arabic_role = "arabic_bold" if bold else "arabic"
    latin_role = "latin_bold" if bold else "latin"
    # Digits and spaces inside an Arabic line come from the Arabic font, so the
    # line keeps one rhythm; anything a font lacks falls back to the other font.
    order = [arabic_role, latin_role] if arabic_line else [latin_role, arabic_role]
    visual = arabic_text.to_visual(logical, _codepoints(arabic_role))
    fonts = {role: _codepoints(role) for role in order}
    runs = tuple(
        (role, chunk, font(role, size).getlength(chunk))
        for role, chunk in arabic_text.split_by_font(visual, fonts, order)
    )
    return runs, sum(width for _role, _chunk, width in runs)


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


class _Card:
    """A canvas that draws bilingual text lines and remembers every run it drew."""

    def __init__(self, image: Image, draw: ImageDraw) -> None:
        self.image = image
        self.draw = draw
        self.runs: list[TextRun] = []

    def text(
        self,
        logical: str,
        x: float,
        baseline: float,
        *,
        size: int,
        bold: bool = False,
        fill: tuple[int, int, int] = INK,
        align: str = "left",
        max_width: float | None = None,
    ) -> float:
        """Draw one line (any script) and return its width; shrinks, then truncates, to fit."""
        runs, width, size = self._fit(logical, size, bold, max_width)
        left = {"left": x, "right": x - width, "center": x - width / 2}[align]
        for role, chunk, chunk_width in runs:
            # The run's glyphs as a mask (drawn once per process for the same text,
            # size and sub-pixel start), laid on the card in the fill colour: the same
            # pixels ImageDraw.text gives, as both blend the ink through the mask.
            mask, (mask_left, mask_top) = _glyph_mask(role, size, chunk, math.modf(left)[0], math.modf(baseline)[0])
            x0, y0 = int(left) + mask_left, int(baseline) + mask_top
            self.image.paste(fill, (x0, y0, x0 + mask.width, y0 + mask.height), mask)
            self.runs.append(TextRun(FONT_FILES[role], chunk))
            left += chunk_width
        return width

    def _fit(
        self, logical: str, size: int, bold: bool, max_width: float | None
    ) -> tuple[Runs, float, int]:
        runs, width = _measure(logical, size, bold)
        if max_width is None or width <= max_width:
            return runs, width, size
        # Shrink down to 80 % first: a smaller whole name beats a truncated one.
        for smaller in range(size - 1, int(size * 0.8) - 1, -1):
            runs, width = _measure(logical, smaller, bold)
            if width <= max_width:
                return runs, width, smaller
        size = int(size * 0.8)
        # Longest prefix that fits with an ellipsis, by bisection: width grows with
        # the prefix, and a 100-letter name would otherwise cost 100 measurements.
        keep, drop = 0, len(logical)
        while keep < drop:
            middle = (keep + drop + 1) // 2
            if _measure(logical[:middle].rstrip() + "…", size, bold)[1] <= max_width:
                keep = middle
            else:
                drop = middle - 1
        # End on a whole word when that loses little: "Abdulrah…" reads as a typo.
        space = logical.rfind(" ", 0, keep + 1)
        if space >= keep * 0.6:
            keep = space
        runs, width = _measure(logical[:keep].rstrip() + "…", size, bold)
        return runs, width, size

    def bilingual(
        self,
        text: Text,
        left: float,
        right: float,
        baseline: float,
        *,
        size: int,
        bold: bool = False,
        fill: tuple[int, int, int] = INK,
    ) -> None:
        """English flush left at `left`, Arabic flush right at `right`, sharing the width."""
        gap = 16
        room = right - left - gap
        en_width = _measure(text.en, size, bold)[1]
        ar_width = _measure(text.ar, size, bold)[1]
        # Each language gets room in proportion to its natural width: a short side
        # lends what it does not need, and when both are long both shrink alike
        # (only past 80 % of the size is anything cut).
        en_room = room * en_width / max(en_width + ar_width, 1)
        ar_room = room - en_room
        self.text(text.en, left, baseline, size=size, bold=bold, fill=fill, max_width=en_room)
        self.text(text.ar, right, baseline, size=size, bold=bold, fill=fill, align="right", max_width=ar_room)


def _draw_card(content: CardContent, qr_text: str) -> tuple[Image, list[TextRun]]:
    from PIL import Image as PILImage
    from PIL import ImageDraw as PILImageDraw

    image = PILImage.new("RGB", (WIDTH, HEIGHT), WHITE)
    card = _Card(image, PILImageDraw.Draw(image))
    _header(card, content)
    _names(card, content)
    _fields(card, content)
    _qr(card, qr_text)
    _footer(card, content)
    return image, card.runs


def _header(card: _Card, content: CardContent) -> None:
    card.draw.rectangle((0, 0, WIDTH, 116), fill=BRAND)
    card.draw.rectangle((0, 116, WIDTH, 122), fill=ACCENT)
    card.bilingual(content.insurer, MARGIN, WIDTH - MARGIN, 54, size=30, bold=True, fill=WHITE)
    subtitle = RESIDENCE_COVER_TEXT if not isinstance(content.cover, GroupCover) else LABELS["card"]
    card.bilingual(subtitle, MARGIN, WIDTH - MARGIN, 92, size=19, fill=BAND_SUBTITLE)


def _names(card: _Card, content: CardContent) -> None:
    # Two lines, each language from its own reading edge: names are the first thing
    # a receptionist looks for, and long ones would not share a line.
    width = WIDTH - 2 * MARGIN
    card.text(content.name.en, MARGIN, 170, size=34, bold=True, max_width=width)
    card.text(content.name.ar, WIDTH - MARGIN, 218, size=34, bold=True, align="right", max_width=width)


def _fields(card: _Card, content: CardContent) -> None:
    grid_left, grid_right = MARGIN, WIDTH - MARGIN - QR_BOX - 20
    col = (grid_right - grid_left - 20) / 2
    top, row = 246, 60

    def cell(r: int, c: int, label: Text, value: str | Text, span: int = 1) -> None:
        left = grid_left + c * (col + 20)
        right = left + col * span + 20 * (span - 1)
        y = top + r * row
        card.bilingual(label, left, right, y + 14, size=15, fill=MUTED)
        if isinstance(value, Text):
            card.bilingual(value, left, right, y + 42, size=21, bold=True)
        else:
            card.text(value, left, y + 42, size=21, bold=True, max_width=right - left)

    cover = content.cover
    cell(0, 0, LABELS["member_id"], content.member_id)
    cell(0, 1, LABELS["date_of_birth"], _day(content.date_of_birth))
    cell(1, 0, LABELS["policy"], cover.policy_number or "—")
    if content.is_dependent:
        cell(1, 1, LABELS["relationship"], RELATIONSHIP_TEXT[content.relationship])
    if isinstance(cover, GroupCover):
        cell(2, 0, LABELS["employer"], cover.employer, span=2)
    else:
        cell(2, 0, LABELS["category"], cover.category, span=2)
    cell(3, 0, LABELS["plan"], content.plan)
    cell(3, 1, LABELS["network"], content.network)
    cell(4, 0, LABELS["valid_from"], _day(content.valid_from))
    cell(4, 1, LABELS["valid_to"], _day(content.valid_to))


def _qr(card: _Card, qr_text: str) -> None:
    from PIL import Image as PILImage

    rows = qr_matrix(qr_text)
    # The 4-module quiet zone is part of the symbol, so nothing drawn near it can
    # confuse a scanner.
    modules = len(rows) + 8
    symbol = PILImage.new("L", (modules, modules), 255)
    core = PILImage.frombytes("L", (len(rows), len(rows)), b"".join(rows).translate(_MODULE_PIXEL))
    symbol.paste(core, (4, 4))
    scale = max(1, QR_BOX // modules)
    side = modules * scale
    symbol = symbol.resize((side, side), PILImage.Resampling.NEAREST)
    box_left, box_top = WIDTH - MARGIN - QR_BOX, QR_TOP
    offset = (QR_BOX - side) // 2
    card.image.paste(symbol, (box_left + offset, box_top + offset))
    centre = box_left + QR_BOX / 2
    # Two captions meeting at the centre rather than one mixed-direction line.
    card.text(LABELS["scan"].en, centre - 8, QR_TOP + QR_BOX + 16, size=14, fill=MUTED, align="right")
    card.text(LABELS["scan"].ar, centre + 8, QR_TOP + QR_BOX + 16, size=14, fill=MUTED, align="left")


# Module 0 (light) -> white, 1 (dark) -> black.
_MODULE_PIXEL = bytes([255] + [0] * 255)


def qr_matrix(qr_text: str) -> tuple[bytes, ...]:
    """The rows of the QR symbol segno makes for the text (no quiet zone): 0 light, 1 dark.

    The same symbol, module for module, as `segno.make(qr_text, error="m", micro=False)`,
    in about a third of its time: segno tries the eight data masks in pure Python, one
    module at a time, and that was a third of a PNG card's time. Here segno encodes once
    with mask 0, and the eight candidates are made by XOR of whole bytes and scored
    with segno's own rules (ISO/IEC 18004 7.8.3, its tie-breaks included) on whole
    rows and columns; the winner gets its format and version information from segno.
    """
    encoder = _segno_encoder()

    code = encoder.encode(qr_text, error=QR_ERROR_LEVEL, micro=False, mask=0)
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


def _footer(card: _Card, content: CardContent) -> None:
    card.draw.rectangle((0, 564, WIDTH, HEIGHT), fill=FOOTER_BG)
    card.bilingual(content.id_note_text, MARGIN, WIDTH - MARGIN, 595, size=18, bold=True)
    service = LABELS["customer_service"]
    number = content.customer_service
    line = Text(f"{service.en}: {number}", f"{service.ar}: {number}")
    card.bilingual(line, MARGIN, WIDTH - MARGIN, 624, size=17, fill=MUTED)


def _day(day: date) -> str:
    # Day first, Western digits: how Kuwaiti documents print dates, and digits a
    # scanner or a foreign receptionist reads the same.
    return day.strftime("%d/%m/%Y")


def loaded_fonts() -> dict[tuple[str, int], FreeTypeFont]:
    """The fonts loaded so far, by role and size (tests check they all use basic layout)."""
    return dict(_FONTS)

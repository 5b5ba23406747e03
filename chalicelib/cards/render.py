"""Draws an e-card (PNG 1012x638, or a one-page PDF of the same image) with Pillow.

Pillow, segno and the Arabic shaping libraries are imported inside the render
path only, so Lambdas that never draw a card do not load them on cold start.
Text goes through Pillow's basic layout (Lambda has no raqm/fribidi); Arabic is
shaped and reordered beforehand by `arabic_text`. Loaded fonts are cached for the
life of the process: loading them costs more than drawing a card.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

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
    out = io.BytesIO()
    # zlib level 3: measured on the sample card, levels 1 to 3 cost the same (the
    # per-row filter choice Pillow makes dominates) and level 3 is the smallest of
    # them, 95 KB; level 6 saves 4 % more for half again the encode time (+15 ms),
    # and level 9 3 % more for five times it. Cards are drawn once and stored.
    image.save(out, format="PNG", compress_level=3, dpi=(DPI, DPI))
    return out.getvalue()


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
            self.draw.text((left, baseline), chunk, font=font(role, size), fill=fill, anchor="ls")
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
    import segno
    from PIL import Image as PILImage

    code = segno.make(qr_text, error=QR_ERROR_LEVEL, micro=False)
    # The 4-module quiet zone is part of the symbol, so nothing drawn near it can
    # confuse a scanner.
    rows = list(code.matrix_iter(scale=1, border=4))
    modules = len(rows)
    pixels = bytes(0 if dark else 255 for row in rows for dark in row)
    symbol = PILImage.frombytes("L", (modules, modules), pixels)
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

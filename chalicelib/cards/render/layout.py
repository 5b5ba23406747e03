"""Where everything on a card goes: one layout that the PNG and the PDF both draw.

Nothing is ever cut. A value too long for its place wraps onto more lines (between
words; inside a word only when the word alone is wider than the place), and the
whole middle of the card (names and fields) is shrunk step by step, never below a
legible size, until it fits between the header and the footer. A card holding more
than policies allow at the smallest size grows taller rather than lose a word.

Measurements are Pillow's (FreeType, basic layout): the PNG is drawn from the same
numbers, and the PDF places every run at the same point.
"""

from __future__ import annotations

import math
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
    from PIL.ImageFont import FreeTypeFont

# ID-1 (85.60 x 53.98 mm) at 300 dpi, the size the app and the issue ask for.
WIDTH, HEIGHT = 1012, 638
DPI = 300
MARGIN = 36

FONT_DIR = Path(__file__).resolve().parents[2] / "assets" / "fonts"
FONT_FILES = {
    "latin": "NotoSans-Regular.ttf",
    "latin_bold": "NotoSans-Bold.ttf",
    "arabic": "NotoSansArabic-Regular.ttf",
    "arabic_bold": "NotoSansArabic-Bold.ttf",
}

RGB = tuple[int, int, int]
BRAND: RGB = (11, 79, 108)
ACCENT: RGB = (26, 166, 160)
INK: RGB = (27, 42, 51)
MUTED: RGB = (96, 112, 122)
WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)
BAND_SUBTITLE: RGB = (198, 226, 236)
FOOTER_BG: RGB = (236, 243, 246)
# A card that is not in force says so in a red band under the header: red is what a
# receptionist's eye stops on, and white on it keeps 5:1 contrast.
STATUS_BG: RGB = (178, 34, 34)

HEADER_BAND, ACCENT_BAND = 116, 6
STATUS_BAND = 46
FOOTER_HEIGHT = 74

# QR: modules of at least 3 px, so a screenshot of the card shown at half size on another phone
# can still be read (1.5 px a module; modules of 2 px blur into grey there). 375 px holds a
# version-25 symbol (117 + 8 quiet-zone modules) at 3 px: the SMART Health Card of the longest card
# the rules allow is version 25 at level L, a typical one version 22-23 (339-351 px). An EC1
# payload (version 11-13) gets modules of 4-5 px. Measured with zxing-cpp on cards halved exactly:
# smoothed with LANCZOS every one of 240 draws (six cards) read, with BILINEAR 9 of 60 (a tent
# filter blurs 1.5 px modules into grey; a symbol alone read them all at level Q, version 32, too
# big for the card); shown at 0.55 of the size and more, both filters read every card. The symbol is
# whole even then: zxing's global-histogram binarizer reads every halved card whatever the filter, and
# the providers' page tries it when the local one finds nothing (provider_page.qr_texts_in_image).
QR_BOX = 375
# The quiet zone (4 modules, white) may lie in the card's right margin, which is white too: the
# dark modules of a full box end where the text's right margin is.
QR_INTO_MARGIN = 12
# Between the fields and the symbol's quiet zone: text closer than this beside a card shrunk to half
# size sways the local thresholds of a scanner's binarizer (zxing-cpp's LocalAverage), which then
# misses the symbol on some cards at 8 px (one in eight to most of them), on none at 40 px.
QR_GAP = 40
# The "Scan to verify" caption's baseline above the footer; the symbol stands 16 px above it.
QR_CAPTION_ABOVE_FOOTER = 10
# The least white between the header (or the status band) and the symbol.
QR_BELOW_HEADER = 12

# The middle of the card is tried at these scales, largest first. Values stop at 16 px
# (1.4 mm printed, 6 pt on a phone showing the card full width) and labels at 12 px:
# smaller, and a receptionist could no longer read them at arm's length. Below 0.76 only
# the names (and the gaps) still shrink, the names down to 22 px, still the largest text.
SCALES = (1.0, 0.95, 0.9, 0.86, 0.82, 0.79, 0.76, 0.72, 0.68, 0.65)
NAME_SIZE, LABEL_SIZE, VALUE_SIZE = 34, 15, 21
# At the smallest scales the header gives up a fifth of its height too.
COMPACT_HEADER_BELOW = 0.8
MIN_LABEL_SIZE, MIN_VALUE_SIZE = 12, 16

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

# What the red band says, by the card's status (CardStatus values). Active cards have no band.
STATUS_TEXT = {
    "cancelled": Text("CANCELLED", "ملغاة"),  # a refunded residence premium
    "terminated": Text("TERMINATED", "تم إنهاء التغطية"),  # HR ended the member's cover
    "expired": Text("EXPIRED", "منتهية الصلاحية"),
    "upcoming": Text("NOT YET IN FORCE", "لم تبدأ التغطية بعد"),
}

_FONTS: dict[tuple[str, int], FreeTypeFont] = {}
# By file name: hashing a Path for every measured line cost as much as the measuring.
_CODEPOINTS: dict[str, frozenset[int]] = {}

Runs = tuple[tuple[str, str, float], ...]


@dataclass(frozen=True)
class Line:
    """One line of text at its place: runs of one font each, left to right as drawn."""

    field: str  # what it shows: "name.en", "network.ar", "label.network.en", ...
    logical: str  # the text in reading order (what the runs show, before shaping)
    runs: Runs  # (font role, visual-order chunk, width in px)
    size: int  # px
    left: float
    baseline: float
    width: float
    fill: RGB
    continues: bool = False  # cut inside a word that goes on at the next line of the field


@dataclass(frozen=True)
class Box:
    """A filled rectangle, in px from the card's top left."""

    left: float
    top: float
    right: float
    bottom: float
    fill: RGB


@dataclass(frozen=True)
class QrPlace:
    """The QR symbol (quiet zone included) at `left`, `top`, each module `module` px square."""

    rows: tuple[bytes, ...]  # without quiet zone: 0 light, 1 dark
    left: int
    top: int
    module: int

    @property
    def side(self) -> int:
        return (len(self.rows) + 8) * self.module


@dataclass(frozen=True)
class CardLayout:
    """Everything the card draws, in drawing order: boxes, then the QR, then lines."""

    width: int
    height: int
    boxes: tuple[Box, ...]
    qr: QrPlace
    lines: tuple[Line, ...]
    scale: float  # of the middle of the card; below 1 when long values needed room


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


def loaded_fonts() -> dict[tuple[str, int], FreeTypeFont]:
    """The fonts loaded so far, by role and size."""
    return dict(_FONTS)


def codepoints_of_file(font_file: str) -> frozenset[int]:
    """The codepoints one of the card's font files has glyphs for (read once per process)."""
    cached = _CODEPOINTS.get(font_file)
    if cached is None:
        cached = _CODEPOINTS[font_file] = arabic_text.font_codepoints(FONT_DIR / font_file)
    return cached


def _codepoints(role: str) -> frozenset[int]:
    return codepoints_of_file(FONT_FILES[role])


@lru_cache(maxsize=4096)
def measure(logical: str, size: int, bold: bool) -> tuple[Runs, float]:
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


def wrap(logical: str, width: float, size: int, bold: bool) -> list[tuple[str, bool]]:
    """The text in lines no wider than `width`, in reading order, each with whether it
    ends inside a word (which goes on at the next line). Every character is kept."""
    words = logical.split()
    if measure(" ".join(words), size, bold)[1] <= width:
        return [(" ".join(words), False)]  # most values: one measurement
    lines: list[tuple[str, bool]] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if measure(candidate, size, bold)[1] <= width:
            current = candidate
            continue
        if current:
            lines.append((current, False))
        # Only a word wider than the whole line is cut: a policy number or a name
        # written without spaces. After a dash or slash when there is one.
        rest = word
        while len(rest) > 1 and measure(rest, size, bold)[1] > width:
            cut = _longest_prefix(rest, width, size, bold)
            lines.append((rest[:cut], True))
            rest = rest[cut:]
        current = rest
    if current or not lines:
        lines.append((current, False))
    return lines


def _longest_prefix(word: str, width: float, size: int, bold: bool) -> int:
    keep, drop = 1, len(word) - 1
    while keep < drop:
        middle = (keep + drop + 1) // 2
        if measure(word[:middle], size, bold)[1] <= width:
            keep = middle
        else:
            drop = middle - 1
    at = max(word.rfind("-", 0, keep), word.rfind("/", 0, keep))
    return at + 1 if at + 1 >= keep * 0.4 else keep


def line_pitch(logical: str, size: int) -> int:
    """Baseline to baseline for lines of this text: Arabic needs more, its marks and the
    "الله" ligature's shadda stand tall and its descenders (ي, ع) reach deep."""
    return round(size * (1.5 if arabic_text.has_arabic(logical) else 1.3))


def step_between(above: str, below: str, size: int) -> int:
    """From the last baseline of one text to the first of the next: a Latin line's shallow
    descenders let an Arabic line come a little closer than under another Arabic line."""
    if arabic_text.has_arabic(above):
        return line_pitch(below, size)
    return round(size * 1.4) if arabic_text.has_arabic(below) else line_pitch(below, size)


def status_text(content: CardContent) -> Text | None:
    """The band's words for a card not in force, or None for an active card.

    Read from `content.status` when the content carries one (a CardStatus or its value).
    """
    status: object = getattr(content, "status", None)
    if status is None:
        return None
    value = str(getattr(status, "value", status)).lower()
    if value == "active":
        return None
    return STATUS_TEXT.get(value, Text(value.upper(), value))


def day(on: date) -> str:
    # Day first, Western digits: how Kuwaiti documents print dates, and digits a
    # scanner or a foreign receptionist reads the same.
    return on.strftime("%d/%m/%Y")


class _Builder:
    """Collects lines and boxes; every helper returns where it ended (a baseline)."""

    def __init__(self) -> None:
        self.lines: list[Line] = []
        self.boxes: list[Box] = []

    def line(
        self, field: str, logical: str, x: float, baseline: float, *, size: int, bold: bool = False,
        fill: RGB = INK, align: str = "left", continues: bool = False,
    ) -> float:
        runs, width = measure(logical, size, bold)
        left = {"left": x, "right": x - width, "center": x - width / 2}[align]
        self.lines.append(Line(field, logical, runs, size, left, baseline, width, fill, continues))
        return width

    def paragraph(
        self, field: str, logical: str, left: float, right: float, baseline: float, *, size: int,
        bold: bool = False, fill: RGB = INK, align: str = "left",
    ) -> float:
        """The text wrapped between `left` and `right`, first baseline at `baseline`; the last baseline."""
        x = left if align == "left" else right
        pitch = line_pitch(logical, size)
        lines = wrap(logical, right - left, size, bold)
        for i, (text, continues) in enumerate(lines):
            self.line(field, text, x, baseline + i * pitch, size=size, bold=bold, fill=fill, align=align,
                      continues=continues)
        return baseline + (len(lines) - 1) * pitch

    def bilingual(
        self, field: str, text: Text, left: float, right: float, baseline: float, *, size: int,
        bold: bool = False, fill: RGB = INK,
    ) -> float:
        """English from the left, Arabic from the right: on one line when both fit whole,
        else English (wrapped) above Arabic (wrapped). Returns the last baseline."""
        gap = 16
        if measure(text.en, size, bold)[1] + gap + measure(text.ar, size, bold)[1] <= right - left:
            self.line(f"{field}.en", text.en, left, baseline, size=size, bold=bold, fill=fill)
            self.line(f"{field}.ar", text.ar, right, baseline, size=size, bold=bold, fill=fill, align="right")
            return baseline
        last = self.paragraph(f"{field}.en", text.en, left, right, baseline, size=size, bold=bold, fill=fill)
        below = last + step_between(text.en, text.ar, size)
        return self.paragraph(f"{field}.ar", text.ar, left, right, below, size=size, bold=bold, fill=fill,
                              align="right")

    def fixed_bilingual(
        self, field: str, text: Text, left: float, right: float, baseline: float, *, size: int,
        bold: bool = False, fill: RGB = INK,
    ) -> None:
        """A line of the card's own words (header, footer): one line, shrunk if it must."""
        gap = 16
        while size > 8 and (measure(text.en, size, bold)[1] + gap + measure(text.ar, size, bold)[1]
                            > right - left):
            size -= 1
        self.line(f"{field}.en", text.en, left, baseline, size=size, bold=bold, fill=fill)
        self.line(f"{field}.ar", text.ar, right, baseline, size=size, bold=bold, fill=fill, align="right")


@dataclass(frozen=True)
class _Cell:
    field: str
    label: Text
    value: str | Text


def _cells(content: CardContent) -> list[list[_Cell]]:
    """The fields in rows, as a receptionist reads them: who, which policy, what cover, when."""
    cover = content.cover
    who = [_Cell("member_id", LABELS["member_id"], content.member_id),
           _Cell("date_of_birth", LABELS["date_of_birth"], day(content.date_of_birth))]
    plan = _Cell("plan", LABELS["plan"], content.plan)
    dates = [_Cell("valid_from", LABELS["valid_from"], day(content.valid_from)),
             _Cell("valid_to", LABELS["valid_to"], day(content.valid_to))]
    policy = _Cell("policy", LABELS["policy"], cover.policy_number or "—")
    second = [policy, plan]
    if content.is_dependent:
        # The relationship is a word or two: it takes the third column by the dates, and the plan
        # (up to TEXT_MAX in both languages) keeps half the row.
        last = [_Cell("relationship", LABELS["relationship"], RELATIONSHIP_TEXT[content.relationship]), *dates]
    else:
        last = dates
    if isinstance(cover, GroupCover):
        whose = _Cell("employer", LABELS["employer"], cover.employer)
    else:
        whose = _Cell("category", LABELS["category"], cover.category)
    # The network has a row of its own: it is the line a receptionist checks, and the
    # longest value a plan has.
    network = _Cell("network", LABELS["network"], content.network)
    return [who, second, [whose], [network], last]


def lay_out(content: CardContent, qr_rows: tuple[bytes, ...]) -> CardLayout:
    """The card's layout at the largest scale at which everything fits on the card.

    Names across the whole card (above the QR) are worth up to two scale steps: a name
    squeezed left of the QR breaks over more lines and looks misplaced in Arabic.
    """
    # Tried only when the names could fit above the QR at all: above a SMART Health Card's QR there
    # is seldom room for two names, and each vain try lays the card out four times.
    across = _largest_fitting(content, qr_rows, names_across=True) if _names_may_fit_above(content, qr_rows) else None
    if across is not None and across.scale == SCALES[0]:
        return across  # most cards: one try
    beside = _largest_fitting(content, qr_rows, names_across=False)
    if across is not None and (beside is None or across.scale >= beside.scale - 0.1):
        return across
    if beside is not None:
        return beside
    # More than any policy allows today, even at the smallest legible size: the card
    # grows taller rather than drop a word a receptionist may need.
    _layout, overflow = _lay_out(content, qr_rows, SCALES[-1], HEIGHT, names_across=False)
    layout, _overflow = _lay_out(content, qr_rows, SCALES[-1], HEIGHT + math.ceil(overflow), names_across=False)
    return layout


def _names_may_fit_above(content: CardContent, qr_rows: tuple[bytes, ...]) -> bool:
    """False when one line of each name, at the smallest scale under the smallest header, would
    already reach the QR of a card HEIGHT tall: then no layout has the names across the card."""
    size = round(NAME_SIZE * SCALES[-1])
    names = [name for name in (content.name.en, content.name.ar) if name.strip()]
    top = round(HEADER_BAND * 0.8) + ACCENT_BAND + (STATUS_BAND if status_text(content) is not None else 0)
    lowest = top + 8 + round(size * 1.05) + (len(names) - 1) * round(size * 1.3)
    _module, _side, qr_top = _qr_size_and_top(qr_rows, HEIGHT - FOOTER_HEIGHT)
    return lowest <= qr_top


def _qr_size_and_top(qr_rows: tuple[bytes, ...], footer_top: int) -> tuple[int, int, int]:
    """The QR's module and side (its quiet zone included) in px, and its top: it stands on its caption."""
    modules = len(qr_rows) + 8
    module = max(1, QR_BOX // modules)
    side = modules * module
    return module, side, footer_top - QR_CAPTION_ABOVE_FOOTER - 16 - side


def _largest_fitting(content: CardContent, qr_rows: tuple[bytes, ...], *, names_across: bool) -> CardLayout | None:
    """The layout at the largest of SCALES that fits, found by bisection (smaller scales
    overflow less; a long card would otherwise be laid out ten times), or None."""
    layout, overflow = _lay_out(content, qr_rows, SCALES[0], HEIGHT, names_across=names_across)
    if overflow <= 0:
        return layout
    fits: CardLayout | None = None
    low, high = 1, len(SCALES) - 1
    while low <= high:
        middle = (low + high) // 2
        layout, overflow = _lay_out(content, qr_rows, SCALES[middle], HEIGHT, names_across=names_across)
        if overflow <= 0:
            fits, high = layout, middle - 1
        else:
            low = middle + 1
    return fits


def _lay_out(
    content: CardContent, qr_rows: tuple[bytes, ...], scale: float, height: int, *, names_across: bool
) -> tuple[CardLayout, float]:
    """The layout at `scale` on a card `height` px tall, and by how much its middle overflows
    (with `names_across`, a name reaching down beside the QR overflows too)."""
    top_part = _Builder()
    # A card not in force gives a fifth of its header to the red band: the band and the QR both fit.
    compact = scale < COMPACT_HEADER_BELOW or status_text(content) is not None
    top = _header(top_part, content, compact=compact)
    # The footer is drawn last, so a PDF reader's text follows the card from top to bottom.
    bottom_part = _Builder()
    footer_top = height - FOOTER_HEIGHT
    qr = _footer(bottom_part, content, footer_top, qr_rows)
    fields_right = qr.left - QR_GAP
    middle = _Builder()
    names_bottom, beside_qr = _names(middle, content, top, qr, fields_right, scale, names_across=names_across)
    _fields(middle, content, names_bottom + round(12 * scale), fields_right, scale)
    # The lowest ink of the middle must clear the footer by a few pixels.
    lowest = max((ink_box(line)[3] for line in middle.lines), default=names_bottom)
    # A symbol reaching into the header would overflow too: the card grows rather than cut it.
    overflow = max(lowest - (footer_top - 6), beside_qr, top + QR_BELOW_HEADER - qr.top)
    layout = CardLayout(
        WIDTH, height, (*top_part.boxes, *bottom_part.boxes), qr,
        (*top_part.lines, *middle.lines, *bottom_part.lines), scale,
    )
    return layout, overflow


def _header(b: _Builder, content: CardContent, *, compact: bool) -> int:
    """The insurer and the kind of card, and the status band of a card not in force; where they end.

    `compact`: a fifth smaller, for the few cards whose values need the room.
    """
    k = 0.8 if compact else 1.0
    band = round(HEADER_BAND * k)
    b.boxes.append(Box(0, 0, WIDTH, band, BRAND))
    b.boxes.append(Box(0, band, WIDTH, band + ACCENT_BAND, ACCENT))
    b.fixed_bilingual("insurer", content.insurer, MARGIN, WIDTH - MARGIN, round(54 * k), size=round(30 * k),
                      bold=True, fill=WHITE)
    subtitle = RESIDENCE_COVER_TEXT if not isinstance(content.cover, GroupCover) else LABELS["card"]
    b.fixed_bilingual("subtitle", subtitle, MARGIN, WIDTH - MARGIN, round(92 * k), size=round(19 * k),
                      fill=BAND_SUBTITLE)
    top = band + ACCENT_BAND
    status = status_text(content)
    if status is not None:
        b.boxes.append(Box(0, top, WIDTH, top + STATUS_BAND, STATUS_BG))
        b.fixed_bilingual("status", status, MARGIN, WIDTH - MARGIN, top + 33, size=26, bold=True, fill=WHITE)
        top += STATUS_BAND
    return top


def _footer(b: _Builder, content: CardContent, footer_top: int, qr_rows: tuple[bytes, ...]) -> QrPlace:
    """Which ID to show and the number to call; the QR standing on the footer, right."""
    b.boxes.append(Box(0, footer_top, WIDTH, footer_top + FOOTER_HEIGHT, FOOTER_BG))
    b.fixed_bilingual("id_note", content.id_note_text, MARGIN, WIDTH - MARGIN, footer_top + 31, size=18, bold=True)
    service = LABELS["customer_service"]
    number = content.customer_service
    b.fixed_bilingual("customer_service", Text(f"{service.en}: {number}", f"{service.ar}: {number}"),
                      MARGIN, WIDTH - MARGIN, footer_top + 60, size=17, fill=MUTED)
    # The quiet zone (4 modules) is part of the symbol, so nothing drawn near it can
    # confuse a scanner.
    module, side, top = _qr_size_and_top(qr_rows, footer_top)
    caption = footer_top - QR_CAPTION_ABOVE_FOOTER
    left = WIDTH - MARGIN + QR_INTO_MARGIN - side
    centre = left + side / 2
    # Two captions meeting at the centre rather than one mixed-direction line.
    b.line("label.scan.en", LABELS["scan"].en, centre - 8, caption, size=14, fill=MUTED, align="right")
    b.line("label.scan.ar", LABELS["scan"].ar, centre + 8, caption, size=14, fill=MUTED)
    return QrPlace(qr_rows, left, top, module)


def _names(
    b: _Builder, content: CardContent, top: int, qr: QrPlace, fields_right: float, scale: float, *,
    names_across: bool,
) -> tuple[float, float]:
    """Each name from its reading edge, across the card while above the QR (else left of
    it): where their ink ends, and how far a name across the card reaches beside the QR."""
    size = round(NAME_SIZE * scale)
    first: float = top + 8 + round(size * 1.05)
    last: float | None = None
    above = ""
    bottom, beside_qr = float(top), 0.0
    for field, name, align in (("name.en", content.name.en, "left"), ("name.ar", content.name.ar, "right")):
        if not name.strip():
            continue  # a name known in one script only is printed once
        baseline = first if last is None else last + step_between(above, name, size)
        above = name
        for right in (WIDTH - MARGIN,) if names_across else (WIDTH - MARGIN, fields_right):
            trial = _Builder()
            last = trial.paragraph(field, name, MARGIN, right, baseline, size=size, bold=True, align=align)
            bottom = max(ink_box(line)[3] for line in trial.lines)
            if bottom <= qr.top:
                break
        if right > fields_right:
            beside_qr = max(beside_qr, bottom - qr.top)
        b.lines += trial.lines
    return bottom, beside_qr


def _fields(b: _Builder, content: CardContent, y: float, right_edge: float, scale: float) -> None:
    """The fields in rows from `y`, left of `right_edge`: a label over each value, wrapped as needed."""
    label_size = max(MIN_LABEL_SIZE, round(LABEL_SIZE * scale))
    value_size = max(MIN_VALUE_SIZE, round(VALUE_SIZE * scale))
    gutter = 20
    for row in _cells(content):
        x = float(MARGIN)
        row_last = y
        cell_width = (right_edge - MARGIN - (len(row) - 1) * gutter) / len(row)
        for cell in row:
            right = x + cell_width
            label_last = b.bilingual(f"label.{cell.field}", cell.label, x, right, y + round(14 * scale),
                                     size=label_size, fill=MUTED)
            first = label_last + round(26 * scale)
            if isinstance(cell.value, Text):
                last = b.bilingual(cell.field, cell.value, x, right, first, size=value_size, bold=True)
            else:
                last = b.paragraph(cell.field, cell.value, x, right, first, size=value_size, bold=True)
            row_last = max(row_last, last)
            x = right + gutter
        y = row_last + round(15 * scale)


def ink_box(line: Line) -> tuple[float, float, float, float]:
    """Where the line's glyphs put ink on the card: left, top, right, bottom in px."""
    left, top, right, bottom = line.left, line.baseline, line.left, line.baseline
    x = line.left
    for role, chunk, width in line.runs:
        if chunk.strip():
            ink_left, ink_top, ink_right, ink_bottom = _run_ink(role, line.size, chunk)
            left, right = min(left, x + ink_left), max(right, x + ink_right)
            top, bottom = min(top, line.baseline + ink_top), max(bottom, line.baseline + ink_bottom)
        x += width
    return left, top, right, bottom


@lru_cache(maxsize=4096)
def _run_ink(role: str, size: int, chunk: str) -> tuple[float, float, float, float]:
    left, top, right, bottom = font(role, size).getbbox(chunk, anchor="ls")
    return float(left), float(top), float(right), float(bottom)

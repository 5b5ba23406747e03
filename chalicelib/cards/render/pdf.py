"""The card's layout as a one-page PDF with fpdf2: text as text, fonts as subsets, QR as a 1-bit image.

Every run of text is placed at the point the PNG draws it, already shaped and in
visual order (fpdf2's own shaping needs HarfBuzz, which Lambda does not ship), so the
two look alike and a reader's copy-and-search finds the card's words.

Parsing a TrueType font costs more than the rest of the page, so each font is parsed
once per process; a document gets a copy sharing the parsed tables, with a fresh font
program for fpdf2 to cut its subset from (subsetting rewrites the font in place).
"""

from __future__ import annotations

import copy
import io
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.cards.render.layout import DPI, FONT_DIR, FONT_FILES, CardLayout

if TYPE_CHECKING:
    from fpdf import FPDF

# px at 300 dpi -> PDF points.
PT = 72 / DPI

# The PDF says when it was made, and a card's bytes must not change with the day it was
# drawn (its S3 key is a hash of what it shows): a fixed date, the first of the design.
CREATION_DATE = datetime(2026, 1, 1, tzinfo=UTC)


def layout_pdf(layout: CardLayout, *, title: str) -> bytes:
    """The layout as PDF bytes, the page the card's size (85.7 x 54 mm at 1012x638)."""
    from fpdf import FPDF
    from fpdf.fonts import SubsetMap

    pdf = FPDF(unit="pt", format=(layout.width * PT, layout.height * PT))
    pdf.set_creation_date(CREATION_DATE)
    pdf.set_title(title)
    pdf.set_producer("e-card")
    pdf.set_creator("e-card")
    pdf.set_margins(0, 0, 0)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    _add_fonts(pdf)
    try:
        _draw(pdf, layout)
        return bytes(pdf.output())
    finally:
        # fpdf2 memoises glyph look-ups per subset map for the life of the process;
        # without this, every card drawn would keep its fonts in memory.
        SubsetMap.get_glyph.cache_clear()


def _draw(pdf: FPDF, layout: CardLayout) -> None:
    for box in layout.boxes:
        pdf.set_fill_color(*box.fill)
        pdf.rect(box.left * PT, box.top * PT, (box.right - box.left) * PT, (box.bottom - box.top) * PT, style="F")
    _draw_qr(pdf, layout)
    for line in layout.lines:
        pdf.set_text_color(*line.fill)
        left = line.left
        for role, chunk, width in line.runs:
            if chunk.strip():
                pdf.set_font(role, size=line.size * PT)
                # Pillow advances each glyph by whole pixels (up to 4 % off the font's own
                # widths, which a PDF viewer uses): the difference spread between the glyphs
                # makes each run as wide as on the PNG, so right-aligned Arabic ends at
                # the same place and nothing runs into its neighbour.
                face = pdf.current_font
                assert face is not None  # set on the line above
                _count, natural = face.get_text_width(chunk, pdf.font_size_pt, None)
                pdf.set_char_spacing((width * PT - natural) / len(chunk))
                pdf.text(left * PT, line.baseline * PT, chunk)
            left += width


def _draw_qr(pdf: FPDF, layout: CardLayout) -> None:
    """The symbol as a 1-bit image already at its printed size (one pixel per 300-dpi dot).

    Drawn at 300 dpi, as many dots a module as the PNG has pixels (3 and up), a viewer's
    smoothing can blur at most a third of a module's edge, and a scanner reads it as sharp;
    a 1-bit image costs a few kilobytes (CCITT G4) and one call, where the ~1000 dark
    rectangles cost fpdf2 a third of the page's time.
    """
    from PIL import Image

    qr = layout.qr
    count = len(qr.rows)
    symbol = Image.new("L", (count + 8, count + 8), 255)
    symbol.paste(Image.frombytes("L", (count, count), b"".join(qr.rows).translate(_MODULE_GREY)), (4, 4))
    symbol = symbol.resize((qr.side, qr.side), Image.Resampling.NEAREST).convert("1")
    pdf.image(symbol, qr.left * PT, qr.top * PT, qr.side * PT, qr.side * PT)


# Module 0 (light) -> white, 1 (dark) -> black.
_MODULE_GREY = bytes([255] + [0] * 255)


def _add_fonts(pdf: FPDF) -> None:
    """The card's four fonts on this document, copied from the ones parsed for the process."""
    from fontTools.ttLib import TTFont
    from fpdf.fonts import SubsetMap

    for role, (parsed, program) in _parsed_fonts().items():
        own: Any = copy.copy(parsed)
        own.i = len(pdf.fonts) + 1
        # Bounding boxes as stored (recomputing them decodes and re-encodes every glyph
        # kept), and the glyph order known: the fonts have no glyph names, and deriving
        # them from the cmap costs as much as the subsetting itself.
        own.ttfont = TTFont(io.BytesIO(program), recalcTimestamp=False, recalcBBoxes=False, lazy=True)
        own.ttfont.setGlyphOrder(parsed.ttfont.getGlyphOrder())
        own.subset = SubsetMap(own)
        # The font descriptor becomes one of this document's objects (fpdf2 numbers it).
        own.desc = copy.copy(parsed.desc)
        own.missing_glyphs = []
        own.biggest_size_pt = 0
        pdf.fonts[role] = own


@lru_cache(maxsize=1)
def _parsed_fonts() -> dict[str, tuple[Any, bytes]]:
    """Each role's fpdf2 font (metrics, cmap, widths) and its font file's bytes, once per process."""
    from fpdf import FPDF

    host = FPDF()
    fonts: dict[str, tuple[Any, bytes]] = {}
    for role, file in FONT_FILES.items():
        host.add_font(role, "", str(FONT_DIR / file))
        fonts[role] = (host.fonts[role], (FONT_DIR / file).read_bytes())
    return fonts

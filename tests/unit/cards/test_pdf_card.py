"""The PDF card read back by an independent reader (pypdf): its text, its fonts, its QR, its bytes.

Before, the PDF was one JPEG of the PNG: no text to search or copy, 175 KB.
"""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import UTC, datetime

import pytest
import zxingcpp
from fontTools.ttLib import TTFont
from PIL import Image
from pypdf import PdfReader

from chalicelib.cards import render as card_render
from chalicelib.cards.card import CardContent, GroupCover
from chalicelib.cards.payload import sign_payload
from chalicelib.cards.render import layout
from chalicelib.cards.shc import sign_card
from chalicelib.errors import Text
from chalicelib.platform.signing_keys import derive_es256_key

NETWORK = Text("Network A: all hospitals and clinics", "الشبكة أ: جميع المستشفيات والعيادات")
LONG_NAME = Text(
    "Abdulrahman Mohammed Abdullah Al-Sabah Al-Rashidi Al-Mutairi Al-Ajmi Al-Enezi Al-Hajri Al-Shammari",
    "عبدالرحمن محمد عبدالله الصباح الرشيدي المطيري العجمي العنزي الهاجري الشمري الدوسري القحطاني",
)


@pytest.fixture(scope="module")
def card(group_card):
    return group_card(
        name=LONG_NAME, network=NETWORK,
        cover=GroupCover("GP-KUWAIT-NATIONAL-PETROLEUM-2026-GRP-01",
                         Text("ACME Trading Company", "شركة أكمي التجارية")),
    )


@pytest.fixture(scope="module")
def qr_text(card) -> str:
    # What a card drawn now carries: a SMART Health Card (the biggest symbol the card draws).
    return sign_card(card, datetime(2026, 3, 1, 9, 30, tzinfo=UTC), derive_es256_key("card-secret-" + "x" * 52),
                     "https://api.insure.example.com")


@pytest.fixture(scope="module")
def pdf(card, qr_text) -> bytes:
    return card_render.render_pdf(card, qr_text)


@pytest.fixture(scope="module")
def page(pdf):
    return PdfReader(io.BytesIO(pdf)).pages[0]


def _comparable(text: str) -> str:
    """Presentation forms back to letters (NFKC), without spaces or line breaks: a wrapped
    line reads on in the next one."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def test_the_text_of_every_field_can_be_read_from_the_pdf(page, card):
    raw = page.extract_text()
    # Arabic is drawn joined (presentation forms), as the PNG shows it: no bare letter reaches the page.
    assert any("\ufb50" <= ch <= "\ufeff" for ch in raw)
    assert not any("\u0621" <= ch <= "\u064a" for ch in raw)
    text = _comparable(raw)
    values = [
        card.name.en, card.name.ar, card.member_id, card.cover.policy_number, NETWORK.en, NETWORK.ar,
        card.cover.employer.en, card.cover.employer.ar, card.plan.en, card.plan.ar,
        layout.day(card.date_of_birth), layout.day(card.valid_from), layout.day(card.valid_to),
        "Network", "الشبكة", "Customer service", "19097",
    ]
    for value in values:
        assert _comparable(value) in text, value


def test_the_fonts_are_embedded_subsets_of_the_cards_fonts(page):
    fonts = {}
    for resource in page["/Resources"]["/Font"].values():
        font = resource.get_object()
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert re.fullmatch(r"/[A-Z]{6}\+\S+", font["/BaseFont"])
        fonts[font["/BaseFont"].split("+")[1]] = TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data()))
    shipped_files = {"NotoSans": "NotoSans-Regular.ttf", "NotoSansBold": "NotoSans-Bold.ttf",
                     "NotoSansArabic": "NotoSansArabic-Regular.ttf", "NotoSansArabicBold": "NotoSansArabic-Bold.ttf"}
    assert sorted(fonts) == sorted(shipped_files)
    for name, program in fonts.items():
        shipped = TTFont(layout.FONT_DIR / shipped_files[name])
        # A subset: the glyphs the card uses, not the 600-960 the shipped file has.
        assert len(program.getGlyphOrder()) < len(shipped.getGlyphOrder()) / 4, name


def test_the_qr_in_the_pdf_decodes_to_the_cards_payload_at_the_pngs_place(page, card, qr_text):
    (image,) = page.images
    symbol = image.image.convert("L")
    found = zxingcpp.read_barcodes(symbol, formats=zxingcpp.BarcodeFormat.QRCode)  # an EAN-13 may show in a dense QR
    assert [b.text for b in found] == [qr_text]
    drawn = card_render.card_layout(card, qr_text)
    # One image pixel per PNG pixel: the modules stay square and sharp at 300 dpi, 3 dots and up.
    assert symbol.size == (drawn.qr.side, drawn.qr.side)
    assert drawn.qr.module >= 3 and drawn.qr.side == (len(drawn.qr.rows) + 8) * drawn.qr.module
    assert [level for level, count in enumerate(symbol.histogram()) if count] == [0, 255]
    placed = re.search(rb"q ([\d.]+) 0 0 ([\d.]+) ([\d.]+) ([\d.]+) cm /I\d+ Do Q", page.get_contents().get_data())
    assert placed is not None
    side_w, side_h, x, y = (float(v) for v in placed.groups())
    pt = 72 / 300
    assert side_w == pytest.approx(drawn.qr.side * pt, abs=0.02) and side_h == pytest.approx(side_w)
    assert x == pytest.approx(drawn.qr.left * pt, abs=0.02)
    assert y == pytest.approx((drawn.height - drawn.qr.top - drawn.qr.side) * pt, abs=0.02)


def test_the_page_is_the_pngs_size_at_300_dpi_even_when_a_card_grows(group_card, keypair, claims_for):
    card = group_card(name=LONG_NAME, network=Text("Network " * 20, "الشبكة " * 20),
                      cover=GroupCover("GP-KUWAIT-NATIONAL-PETROLEUM-2026-GRP-01", Text("Employer " * 12, "جهة " * 20)))
    qr_text = sign_payload(claims_for(card), keypair.private_key_pem, keypair.kid)
    with Image.open(io.BytesIO(card_render.render_png(card, qr_text))) as image:
        width, height = image.size
    assert height > 638
    box = PdfReader(io.BytesIO(card_render.render_pdf(card, qr_text))).pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx((width * 72 / 300, height * 72 / 300), abs=0.01)


def test_the_pdf_paints_the_pngs_bands_in_the_same_colours(page, card, qr_text):
    content = page.get_contents().get_data().decode("latin-1")
    painted = {
        tuple(round(float(v) * 255) for v in m.groups())
        for m in re.finditer(r"([\d.]+) ([\d.]+) ([\d.]+) rg\s+[-\d.]+ [-\d.]+ [-\d.]+ [-\d.]+ re f", content)
    }
    assert painted == {box.fill for box in card_render.card_layout(card, qr_text).boxes}


def test_the_same_card_gives_the_same_pdf_bytes_and_another_card_other_bytes(pdf, card, qr_text, group_card):
    assert card_render.render_pdf(card, qr_text) == pdf
    other = group_card(name=Text("Sara Al-Rashidi", "سارة الرشيدي"))
    assert card_render.render_pdf(other, qr_text) != pdf


def test_the_pdf_is_a_fraction_of_the_old_image_pdf(pdf):
    # The old one-JPEG PDF of this card was about 175 KB.
    assert len(pdf) < 60_000


def test_every_run_of_text_is_placed_where_the_png_draws_it(page, card, qr_text):
    placed: list[tuple[float, float, float]] = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            placed.append((tm[4], tm[5], font_size * tm[0]))

    page.extract_text(visitor_text=visit)
    drawn = card_render.card_layout(card, qr_text)
    pt = 72 / 300
    expected = []
    for line in drawn.lines:
        left = line.left
        for _role, chunk, width in line.runs:
            if chunk.strip():
                expected.append((left * pt, (drawn.height - line.baseline) * pt, line.size * pt))
            left += width
    # pypdf may report one shown string in pieces, all at the string's own origin.
    distinct = sorted({tuple(round(v, 2) for v in p) for p in placed})
    assert distinct == sorted({tuple(round(v, 2) for v in e) for e in expected})


def test_importing_the_renderer_loads_neither_fpdf2_nor_fonttools():
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys\n"
        "import chalicelib.cards.render\n"
        "print(sorted({'fpdf', 'fontTools'} & {name.split('.')[0] for name in sys.modules}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def _widths(font) -> dict[int, float]:
    """CID -> advance (1/1000 em) from a Type0 font's /W array, as a PDF viewer reads it."""
    w = font["/DescendantFonts"][0].get_object()["/W"]
    widths: dict[int, float] = {}
    i = 0
    while i < len(w):
        first = int(w[i])
        if isinstance(w[i + 1], list):
            widths.update({first + k: float(v) for k, v in enumerate(w[i + 1])})
            i += 2
        else:
            widths.update({cid: float(w[i + 2]) for cid in range(first, int(w[i + 1]) + 1)})
            i += 3
    return widths


def test_each_run_of_text_is_as_wide_in_the_pdf_as_on_the_png(page, card, qr_text):
    # Pillow advances glyphs by whole pixels; a viewer uses the font's widths. Unless the
    # PDF makes up the difference, right-aligned Arabic would end off its edge.
    from pypdf.generic import ContentStream

    fonts = {name: _widths(ref.get_object()) for name, ref in page["/Resources"]["/Font"].items()}
    spacing, font, size, shown = 0.0, None, 0.0, []
    for operands, operator in ContentStream(page.get_contents(), page.pdf).operations:
        if operator == b"Tc":
            spacing = float(operands[0])
        elif operator == b"Tf":
            font, size = operands[0], float(operands[1])
        elif operator == b"Td":
            x = float(operands[0])
        elif operator == b"Tj":
            codes = operands[0].original_bytes
            cids = [int.from_bytes(codes[k : k + 2]) for k in range(0, len(codes), 2)]
            shown.append(sum(fonts[font][cid] * size / 1000 + spacing for cid in cids) + x)
    drawn = card_render.card_layout(card, qr_text)
    pt = 72 / 300
    ends = []
    for line in drawn.lines:
        left = line.left
        for _role, chunk, width in line.runs:
            left += width
            if chunk.strip():
                ends.append(left * pt)
    assert len(shown) == len(ends)
    for got, want in zip(shown, ends, strict=True):
        assert got == pytest.approx(want, abs=0.4)  # under 2 px at 300 dpi


def test_two_processes_draw_the_same_pdf_bytes_for_the_same_card():
    # The stored object's key is a hash of the content: a fresh Lambda must not draw other bytes
    # (string hashing is salted per process, so set order must not reach the file).
    import hashlib
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import hashlib, sys\n"
        "from datetime import date\n"
        "from chalicelib.cards.card import CardContent, GroupCover, IdNote\n"
        "from chalicelib.cards.render import render_pdf\n"
        "from chalicelib.errors import Text\n"
        "card = CardContent(Text('Gulf Mutual Health', 'الخليج للتأمين الصحي'), 'GP-1', "
        "Text('Abdullah Al-Rashidi', 'عبدالله الرشيدي'), date(2012, 5, 14), "
        "GroupCover('GP-ACME-2026', Text('ACME', 'أكمي')), Text('Gold', 'ذهبي'), "
        "Text('Network A: all hospitals and clinics', 'الشبكة أ: جميع المستشفيات والعيادات'), "
        "date(2026, 1, 1), date(2026, 12, 31), IdNote.OWN_ID)\n"
        "print(hashlib.sha256(render_pdf(card, 'EC1:SAME-PAYLOAD')).hexdigest())\n"
    )
    digests = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3]), "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
        assert out.returncode == 0, out.stderr
        digests.add(out.stdout.strip())
    assert len(digests) == 1 and len(digests.pop()) == len(hashlib.sha256().hexdigest())


def test_a_cancelled_cards_pdf_says_so_in_both_languages(residence_card, keypair, claims_for):
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class WithStatus(CardContent):  # CardContent carries no status yet
        status: str = "cancelled"

    plain = residence_card()
    card = WithStatus(**{f.name: getattr(plain, f.name) for f in dataclasses.fields(plain)})
    qr_text = sign_payload(claims_for(card), keypair.private_key_pem, keypair.kid)
    text = _comparable(PdfReader(io.BytesIO(card_render.render_pdf(card, qr_text))).pages[0].extract_text())
    assert "CANCELLED" in text and _comparable("ملغاة") in text
    assert _comparable(layout.day(card.valid_from)) in text and _comparable(layout.day(card.valid_to)) in text

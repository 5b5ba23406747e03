"""The drawn card: right size and type, every glyph present, and a QR that verifies."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageFont

from chalicelib.cards import render as card_render
from chalicelib.cards.card import IdNote
from chalicelib.cards.payload import (
    public_jwks,
    public_keys_from_jwks,
    sign_payload,
    verify_payload,
)
from chalicelib.errors import Text

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def qr_text(keypair, group_card, claims_for) -> str:
    return sign_payload(claims_for(group_card()), keypair.private_key_pem, keypair.kid)


@pytest.fixture(scope="module")
def png(qr_text, group_card) -> bytes:
    return card_render.render_png(group_card(), qr_text)


def test_the_png_is_a_png_of_1012_by_638(png):
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        assert image.size == (1012, 638)


def test_the_pdf_is_a_single_page_the_size_of_an_id_card(qr_text, group_card):
    pdf = card_render.render_pdf(group_card(), qr_text)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1
    media_box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert media_box is not None
    width_mm, height_mm = (float(v) / 72 * 25.4 for v in media_box.groups())
    assert width_mm == pytest.approx(85.6, abs=0.5) and height_mm == pytest.approx(54, abs=0.5)


def test_the_qr_read_from_the_png_by_a_real_decoder_verifies(png, keypair, group_card):
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [b.format for b in found] == [zxingcpp.BarcodeFormat.QRCode]
    keys = public_keys_from_jwks(public_jwks({keypair.kid: keypair.public_key}))
    claims = verify_payload(found[0].text, keys)
    assert claims.member_id == group_card().member_id
    assert claims.name_ar == group_card().name.ar


def test_the_qr_still_reads_from_a_half_size_screenshot(png, qr_text):
    with Image.open(io.BytesIO(png)) as image:
        small = image.resize((506, 319), Image.Resampling.BILINEAR)
    assert [b.text for b in zxingcpp.read_barcodes(small)] == [qr_text]


@pytest.mark.parametrize("kind", ["group_card", "residence_card"])
def test_every_character_drawn_has_a_glyph_in_the_font_drawing_it(request, kind, qr_text):
    card = request.getfixturevalue(kind)()
    assert card_render.missing_glyphs(card, qr_text) == {}


def test_arabic_is_drawn_from_presentation_forms_with_the_arabic_font(qr_text, group_card):
    runs = card_render.drawn_text(group_card(), qr_text)
    arabic_runs = [r for r in runs if any("\u0600" <= ch <= "\u06ff" or ch >= "\ufb50" for ch in r.text)]
    assert arabic_runs
    assert all(r.font_file.startswith("NotoSansArabic") for r in arabic_runs)
    # Nothing in the base Arabic block reaches Pillow: it would draw unjoined letters.
    assert not any("\u0621" <= ch <= "\u064a" for r in arabic_runs for ch in r.text)


def test_every_font_uses_basic_layout_the_one_lambda_can_run(png):
    fonts = card_render.loaded_fonts()
    assert fonts
    assert {f.layout_engine for f in fonts.values()} == {ImageFont.Layout.BASIC}


def test_the_card_of_a_child_under_16_asks_for_a_parents_id(qr_text, group_card):
    english = " ".join(r.text for r in card_render.drawn_text(group_card(), qr_text))
    assert "parent's valid ID" in english
    adult = group_card(id_note=IdNote.OWN_ID)
    english = " ".join(r.text for r in card_render.drawn_text(adult, qr_text))
    assert "Show a valid ID with this card." in english and "parent" not in english


def test_the_card_shows_customer_service_and_a_residence_card_says_so(qr_text, residence_card):
    drawn = " ".join(r.text for r in card_render.drawn_text(residence_card(), qr_text))
    assert "19097" in drawn
    assert "Residence health insurance" in drawn
    assert "Employer" not in drawn and "Residence category" in drawn


def test_a_very_long_name_is_wrapped_whole_never_cut_or_drawn_off_the_card(qr_text, group_card):
    long_name = Text("Abdulrahman " * 8, "عبدالرحمن " * 8)
    card = group_card(name=long_name)
    with Image.open(io.BytesIO(card_render.render_png(card, qr_text))) as image:
        assert image.size == (1012, 638)
    lines = card_render.drawn_lines(card, qr_text)
    assert not any("…" in line.logical for line in lines)
    for field, name in (("name.en", long_name.en), ("name.ar", long_name.ar)):
        drawn = [line.logical for line in lines if line.field == field]
        assert len(drawn) > 1 and " ".join(drawn) == " ".join(name.split())


def test_importing_the_card_modules_loads_no_imaging_qr_shaping_or_crypto_library():
    code = (
        "import sys\n"
        "import chalicelib.cards.render, chalicelib.cards.payload\n"
        "heavy = {'PIL', 'segno', 'bidi', 'arabic_reshaper', 'cryptography'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"

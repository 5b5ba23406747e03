"""The card's QR code is the symbol a standard encoder makes (a SMART Health Card as the spec's two segments);
a card draws the same twice, at 300 dpi."""

from __future__ import annotations

import io

import pytest
import segno
from PIL import Image, ImageChops

from chalicelib.cards import render as card_render
from chalicelib.cards.payload import sign_payload


# Lengths reaching versions 1 to 18 and all eight masks: small symbols, those with
# version information (7 and up) and the card's own payload sizes (11-13).
@pytest.mark.parametrize("length", [5, 30, 60, 100, 140, 200, 260, 330, 400, 480, 560])
def test_the_qr_is_module_for_module_the_symbol_segno_makes(length):
    for text in ("EC1:" + "K4Q$-./ :9" * 60, "mixed Case text, with bytes ü" * 30):
        payload = text[:length]
        expected = segno.make(payload, error=card_render.QR_ERROR_LEVEL, micro=False)
        assert card_render.qr_matrix(payload) == tuple(bytes(row) for row in expected.matrix)


@pytest.mark.parametrize("prefix", ["shc:/", "shc:/1/2/"])
def test_a_smart_health_card_is_the_specs_two_segments_byte_then_numeric_at_level_l(prefix):
    digits = "".join(str(i * 7 % 10) for i in range(2521 - len(prefix)))  # as long as a typical card's text
    qr_text = prefix + digits
    expected = segno.make([(prefix, segno.consts.MODE_BYTE), (digits, segno.consts.MODE_NUMERIC)],
                          error="l", micro=False)
    assert card_render.SHC_QR_ERROR_LEVEL == "l"
    assert card_render.qr_matrix(qr_text) == tuple(bytes(row) for row in expected.matrix)
    assert expected.version == 23  # one byte-mode segment would need version 37 at L, none at M
    assert segno.make(qr_text, mode="byte", error="l", micro=False).version == 37


def test_text_that_only_looks_like_a_smart_health_card_stays_one_segment():
    for qr_text in ("shc:/12a4", "SHC:/1234", "shc:/"):
        expected = segno.make(qr_text, error=card_render.QR_ERROR_LEVEL, micro=False)
        assert card_render.qr_matrix(qr_text) == tuple(bytes(row) for row in expected.matrix)


def test_the_same_card_draws_the_same_pixels_every_time(keypair, group_card, claims_for):
    card = group_card()
    qr_text = sign_payload(claims_for(card), keypair.private_key_pem, keypair.kid)
    first, second = (card_render.render_png(card, qr_text) for _ in range(2))
    with Image.open(io.BytesIO(first)) as a, Image.open(io.BytesIO(second)) as b:
        assert ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox() is None


def test_the_png_prints_at_300_dpi_the_size_of_an_id_card(keypair, group_card, claims_for):
    card = group_card()
    png = card_render.render_png(card, sign_payload(claims_for(card), keypair.private_key_pem, keypair.kid))
    with Image.open(io.BytesIO(png)) as image:
        image.load()  # decodes every row and checks each chunk's CRC
        assert image.mode == "RGB"
        assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)

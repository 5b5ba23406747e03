"""Money: integer fils only, exact decimal text, receipts in both languages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.kernel.money import ensure_fils, fils_from_kwd, format_amount, kwd_decimal, parse_kwd


def test_fifty_dinars_read_on_a_receipt_in_both_languages():
    assert format_amount(50_000, "en") == "50.000 KWD"
    assert format_amount(50_000, "ar") == "50.000 د.ك"


@pytest.mark.parametrize(
    ("fils", "text"),
    [
        (0, "0.000 KWD"),
        (5, "0.005 KWD"),
        (20_550, "20.550 KWD"),
        (1_250_000, "1,250.000 KWD"),
        (-5_000, "-5.000 KWD"),
    ],
)
def test_amounts_show_three_decimals_and_group_thousands(fils, text):
    assert format_amount(fils) == text


def test_an_unknown_language_falls_back_to_english():
    assert format_amount(30_000, "fr") == "30.000 KWD"


def test_gateway_amounts_have_three_decimals_and_no_grouping():
    assert kwd_decimal(1_250_000) == "1250.000"
    assert kwd_decimal(5) == "0.005"


def test_whole_dinars_become_fils():
    assert fils_from_kwd(50) == 50_000


@pytest.mark.parametrize(
    ("text", "fils"), [("20.550", 20_550), ("5", 5_000), ("0.5", 500), ("0.05", 50), (" 1.001 ", 1_001)]
)
def test_decimal_dinar_text_becomes_exact_fils(text, fils):
    assert parse_kwd(text) == fils


@pytest.mark.parametrize("text", ["1.2345", "abc", "", "1e3", "1,000.000", "1.", ".5", "NaN"])
def test_text_that_is_not_a_3_decimal_amount_is_refused(text):
    with pytest.raises(ValueError):
        parse_kwd(text)


@pytest.mark.parametrize("value", [50.0, True, "50000", None])
def test_floats_booleans_and_strings_are_never_amounts(value):
    with pytest.raises(TypeError):
        ensure_fils(value)
    with pytest.raises(TypeError):
        format_amount(value)


@given(st.integers(-(10**12), 10**12))
def test_gateway_text_round_trips_to_the_same_fils(fils):
    assert parse_kwd(kwd_decimal(fils)) == fils

"""Kuwait mobile numbers: the forms people type, stored as E.164, refused clearly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.errors import ValidationFailed
from chalicelib.kernel.phone import is_kuwait_mobile, parse_kuwait_mobile


def refusal(raw: object) -> str:
    with pytest.raises(ValidationFailed) as caught:
        parse_kuwait_mobile(raw)
    en = caught.value.body("en")["error"]["fields"]["phone"]
    ar = caught.value.body("ar")["error"]["fields"]["phone"]
    assert en["rule"] == ar["rule"]
    assert en["message"] and ar["message"] and en["message"] != ar["message"]
    return en["rule"]


@pytest.mark.parametrize(
    "raw",
    [
        "50012345",
        "5001 2345",
        "500-12345",
        "+96550012345",
        "+965 5001 2345",
        "+965-5001-2345",
        "0096550012345",
        "00965 500 12345",
        "96550012345",
        "(+965) 5001 2345",
        "٥٠٠١٢٣٤٥",
        "+٩٦٥٥٠٠١٢٣٤٥",
    ],
)
def test_every_usual_form_of_one_number_is_stored_as_the_same_e164(raw):
    assert parse_kuwait_mobile(raw).e164 == "+96550012345"


@pytest.mark.parametrize("national", ["41234567", "51234567", "61234567", "91234567", "99999999"])
def test_numbers_in_the_mobile_blocks_are_accepted(national):
    assert parse_kuwait_mobile(national).national == national


@given(st.sampled_from(["41", "5", "6", "9"]), st.integers(0, 10**7 - 1))
def test_any_8_digit_number_in_a_mobile_block_round_trips(prefix, rest):
    national = (prefix + f"{rest:07d}")[:8]
    mobile = parse_kuwait_mobile(f"+965 {national}")
    assert parse_kuwait_mobile(mobile.e164) == mobile


@pytest.mark.parametrize(
    "national",
    ["22345678", "24567890", "40123456", "42123456", "49999999", "11234567", "31234567", "81234567"],
    ids=["landline 22", "landline 24", "40", "42", "49", "1", "3", "8"],
)
def test_landlines_and_unallocated_ranges_are_refused_as_not_mobile(national):
    assert refusal(national) == "not_mobile"


@pytest.mark.parametrize("raw", ["5001234", "500123456", "+965500123", "050012345"])
def test_numbers_without_8_national_digits_are_refused(raw):
    assert refusal(raw) == "length"


@pytest.mark.parametrize("raw", ["+971501234567", "00971501234567", "+44 7700 900123"])
def test_other_countries_are_refused(raw):
    assert refusal(raw) == "country"


@pytest.mark.parametrize("raw", ["5001abcd", "+", "50012345 ext 2", "5001+2345"])
def test_letters_and_stray_symbols_are_refused(raw):
    assert refusal(raw) == "digits_only"


@pytest.mark.parametrize("raw", [None, "", "  ", 50012345])
def test_a_missing_number_is_required(raw):
    assert refusal(raw) == "required"


def test_is_kuwait_mobile_answers_without_raising():
    assert is_kuwait_mobile("+965 6000 0000")
    assert not is_kuwait_mobile("22222222")


def test_logs_see_the_country_code_and_last_3_digits_only():
    mobile = parse_kuwait_mobile("50012345")
    assert mobile.masked() == "+965*****345"
    assert "50012" not in repr(mobile)
    assert str(mobile) == "+96550012345"

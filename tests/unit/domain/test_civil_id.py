"""Kuwait civil ID: check digit, birth date, forms people type, masking, ages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.errors import ValidationFailed
from chalicelib.kernel.civil_id import (
    WEIGHTS,
    age_on,
    compose_civil_id,
    expected_check_digit,
    is_older_than,
    is_valid_civil_id,
    parse_civil_id,
)

TODAY = date(2026, 3, 1)


def refusal(raw: object, field: str = "civil_id") -> tuple[str, dict, dict]:
    with pytest.raises(ValidationFailed) as caught:
        parse_civil_id(raw, today=TODAY, field=field)
    problem = caught.value.fields[field]
    en = caught.value.body("en")["error"]["fields"][field]
    ar = caught.value.body("ar")["error"]["fields"][field]
    assert en["message"] and ar["message"] and en["message"] != ar["message"]
    return problem.rule, en, ar


def first_serial(birth: date) -> str:
    return next(f"{n:04d}" for n in range(10000) if _composable(birth, f"{n:04d}"))


def _composable(birth: date, serial: str) -> bool:
    try:
        compose_civil_id(birth, serial)
    except ValueError:
        return False
    return True


valid_ids = st.builds(
    lambda birth, n: (birth, f"{n:04d}"),
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.integers(0, 9999),
).filter(lambda pair: _composable(*pair))


@pytest.mark.parametrize(
    ("number", "born"),
    [
        ("288020122596", date(1988, 2, 1)),
        ("227081660516", date(1927, 8, 16)),
        ("292091998298", date(1992, 9, 19)),
        ("305031512348", date(2005, 3, 15)),
    ],
)
def test_published_valid_numbers_parse_with_their_birth_date(number, born):
    civil_id = parse_civil_id(number, today=TODAY)
    assert civil_id.number == number
    assert civil_id.birth_date == born


@given(valid_ids)
def test_every_composed_number_round_trips_to_its_birth_date_and_serial(pair):
    birth, serial = pair
    civil_id = parse_civil_id(compose_civil_id(birth, serial), today=TODAY)
    assert (civil_id.birth_date, civil_id.serial) == (birth, serial)


@given(valid_ids, st.integers(0, 11), st.integers(1, 9))
def test_changing_any_one_digit_of_a_valid_number_is_refused(pair, position, delta):
    number = compose_civil_id(*pair)
    digit = (int(number[position]) + delta) % 10
    typo = number[:position] + str(digit) + number[position + 1 :]
    assert not is_valid_civil_id(typo, today=TODAY)


def test_a_weighted_sum_divisible_by_11_takes_check_digit_0():
    birth = date(1990, 5, 17)
    serial = next(s for s in (f"{n:04d}" for n in range(10000)) if _remainder(birth, s) == 0)
    number = compose_civil_id(birth, serial)
    assert number.endswith("0")
    assert parse_civil_id(number, today=TODAY).birth_date == birth


def test_a_weighted_sum_leaving_remainder_1_is_never_a_valid_number():
    birth = date(1990, 5, 17)
    serial = next(s for s in (f"{n:04d}" for n in range(10000)) if _remainder(birth, s) == 1)
    first = f"2{birth:%y%m%d}{serial}"
    assert expected_check_digit(first) is None
    for last in "0123456789":
        assert refusal(first + last)[0] == "check_digit"
    with pytest.raises(ValueError):
        compose_civil_id(birth, serial)


def _remainder(birth: date, serial: str) -> int:
    first = f"2{birth:%y%m%d}{serial}"
    return sum(int(d) * w for d, w in zip(first, WEIGHTS, strict=True)) % 11


def test_a_wrong_check_digit_is_refused_with_a_typing_hint():
    rule, en, ar = refusal("288020122597")
    assert rule == "check_digit"
    assert "typing" in en["message"]
    assert "الرقم المدني" in ar["message"]


@pytest.mark.parametrize(
    "first_eleven",
    ["28813012259", "28802302259", "20002291234", "29902301234"],
    ids=["month 13", "30 February", "29 February 1900 (not leap)", "30 February 1999"],
)
def test_a_birth_date_that_does_not_exist_is_refused(first_eleven):
    assert refusal(first_eleven + "0")[0] == "birth_date"


def test_29_february_of_a_leap_year_is_a_real_birth_date():
    number = compose_civil_id(date(2000, 2, 29), first_serial(date(2000, 2, 29)))
    assert parse_civil_id(number, today=TODAY).birth_date == date(2000, 2, 29)


def test_a_birth_date_after_today_is_refused():
    tomorrow = TODAY + timedelta(days=1)
    number = compose_civil_id(tomorrow, first_serial(tomorrow))
    assert refusal(number)[0] == "birth_date_future"


def test_someone_born_today_has_a_valid_number():
    number = compose_civil_id(TODAY, first_serial(TODAY))
    assert parse_civil_id(number, today=TODAY).birth_date == TODAY


@pytest.mark.parametrize("number", ["28802012259", "2880201225960", "2"])
def test_a_number_without_exactly_12_digits_is_refused_saying_how_many_it_has(number):
    rule, en, _ = refusal(number)
    assert rule == "length"
    assert str(len(number)) in en["message"]


@pytest.mark.parametrize("number", ["28802O122596", "288020122596x", "+88020122596", "٢٨٨٠٢٠١٢٢٥٩a"])
def test_letters_and_symbols_are_refused(number):
    assert refusal(number)[0] == "digits_only"


@pytest.mark.parametrize("number", ["188020122596", "488020122596", "088020122596"])
def test_a_century_digit_other_than_2_or_3_is_refused(number):
    assert refusal(number)[0] == "century"


@pytest.mark.parametrize("raw", [None, "", "   ", 288020122596])
def test_a_missing_number_is_refused_as_required(raw):
    assert refusal(raw)[0] == "required"


@pytest.mark.parametrize("raw", ["٢٨٨٠٢٠١٢٢٥٩٦", "2 8802 0122 596", "288-020-122-596", " 288020122596 "])
def test_arabic_digits_spaces_and_dashes_are_accepted(raw):
    assert parse_civil_id(raw, today=TODAY).number == "288020122596"


def test_the_error_names_the_field_it_was_asked_about():
    rule, _, _ = refusal("1", field="sponsor_civil_id")
    assert rule == "length"


def test_logs_see_only_the_last_four_digits():
    civil_id = parse_civil_id("288020122596", today=TODAY)
    assert civil_id.masked() == "********2596"
    assert "88020122" not in repr(civil_id)
    assert "88020122" not in f"{[civil_id]}"


@pytest.mark.parametrize(
    ("on", "age"),
    [
        (date(2026, 5, 16), 35),
        (date(2026, 5, 17), 36),
        (date(2026, 12, 31), 36),
        (date(1990, 5, 17), 0),
    ],
)
def test_age_counts_completed_years_and_grows_on_the_birthday(on, age):
    assert age_on(date(1990, 5, 17), on) == age


def test_someone_born_on_29_february_turns_a_year_older_on_1_march_in_common_years():
    born = date(2012, 2, 29)
    assert age_on(born, date(2025, 2, 28)) == 12
    assert age_on(born, date(2025, 3, 1)) == 13
    assert age_on(born, date(2024, 2, 29)) == 12
    assert age_on(born, date(2024, 2, 28)) == 11


def test_older_than_12_starts_on_the_13th_birthday():
    born = date(2013, 6, 10)
    assert not is_older_than(born, 12, date(2025, 6, 10))  # exactly 12
    assert not is_older_than(born, 12, date(2025, 6, 11))  # 12 years and a day
    assert not is_older_than(born, 12, date(2026, 6, 9))  # the eve of 13
    assert is_older_than(born, 12, date(2026, 6, 10))  # 13

"""Residence categories, effective-dated tariffs and quotes."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.errors import ValidationFailed
from chalicelib.premiums.rules import (
    CATEGORIES,
    CATEGORIES_BY_CODE,
    DEFAULT_TARIFFS,
    NotOfferedOnline,
    Period,
    Tariff,
    add_years,
    category_by_code,
    price_list,
    quote,
    tariff_in_force,
)

START = date(2026, 3, 1)

SEED_AMOUNTS_KWD = {
    "commercial_residence": 50,
    "government_employee": 50,
    "private_sector_employee": 50,
    "study": 50,
    "joining_sibling": 50,
    "joining_parent": 50,
    "joining_child": 50,
    "joining_wife": 30,
    "domestic_worker": 5,
    "widow_or_divorcee_of_kuwaiti": 5,
    "wife_of_kuwaiti": 5,
    "joining_gcc_or_kuwaiti_sponsor": 5,
    "self_sponsored": 5,
    "stateless": 5,
}


def field_rule(error: Exception, field: str) -> str:
    assert isinstance(error, ValidationFailed | NotOfferedOnline)
    en = error.body("en")["error"]["fields"][field]
    ar = error.body("ar")["error"]["fields"][field]
    assert en["message"] and ar["message"] and en["message"] != ar["message"]
    return en["rule"]


@pytest.mark.parametrize(("code", "kwd"), SEED_AMOUNTS_KWD.items())
def test_each_category_costs_the_seed_amount_per_year(code, kwd):
    result = quote(DEFAULT_TARIFFS, code, START, 1)
    assert result.yearly_fils == result.amount_fils == kwd * 1000
    assert result.currency == "KWD"


def test_the_seed_lists_exactly_these_categories():
    assert [c.code for c in CATEGORIES] == list(SEED_AMOUNTS_KWD)


def test_every_category_has_an_arabic_and_an_english_label():
    for category in CATEGORIES:
        assert category.label.en and category.label.ar
        assert any("\u0600" <= ch <= "\u06ff" for ch in category.label.ar)


def test_only_a_son_or_daughter_has_a_minimum_age_and_it_is_12():
    limits = {c.code: c.min_age_exclusive for c in CATEGORIES if c.min_age_exclusive is not None}
    assert limits == {"joining_child": 12}


def test_everyone_but_the_self_sponsored_needs_a_sponsor_who_is_someone_else():
    alike = [c.code for c in CATEGORIES if not c.sponsor_must_differ]
    assert alike == ["self_sponsored"]


@pytest.mark.parametrize("years", [1, 2, 3])
def test_a_quote_is_the_yearly_amount_times_the_years(years):
    result = quote(DEFAULT_TARIFFS, CATEGORIES_BY_CODE["joining_wife"], START, years)
    assert (result.amount_fils, result.yearly_fils, result.years) == (30_000 * years, 30_000, years)


@pytest.mark.parametrize("years", [0, 4, -1, True, 1.0, "2", None])
def test_years_outside_1_to_3_or_not_whole_numbers_are_refused(years):
    with pytest.raises(ValidationFailed) as caught:
        quote(DEFAULT_TARIFFS, "study", START, years)
    assert field_rule(caught.value, "years") == "range"


def test_the_maximum_number_of_years_is_a_setting():
    assert quote(DEFAULT_TARIFFS, "study", START, 5, max_years=5).amount_fils == 250_000
    with pytest.raises(ValidationFailed):
        quote(DEFAULT_TARIFFS, "study", START, 3, max_years=2)


def test_an_unknown_category_is_refused_on_the_category_field():
    with pytest.raises(ValidationFailed) as caught:
        category_by_code("tourist")
    assert field_rule(caught.value, "category") == "unknown"


RAISE_2026 = Tariff(
    effective_from=date(2026, 1, 1),
    amounts={**{c: 100_000 for c in SEED_AMOUNTS_KWD}, "domestic_worker": 10_000},
)


def test_the_tariff_in_force_is_the_latest_one_started_on_or_before_the_date():
    tariffs = (*DEFAULT_TARIFFS, RAISE_2026)
    assert tariff_in_force(tariffs, date(2025, 12, 31)) is DEFAULT_TARIFFS[0]
    assert tariff_in_force(tariffs, date(2026, 1, 1)) is RAISE_2026
    assert tariff_in_force(tuple(reversed(tariffs)), date(2027, 6, 1)) is RAISE_2026


def test_a_quote_uses_the_tariff_in_force_on_the_coverage_start_date():
    tariffs = (*DEFAULT_TARIFFS, RAISE_2026)
    before = quote(tariffs, "study", date(2025, 12, 31), 2)
    after = quote(tariffs, "study", date(2026, 1, 1), 2)
    assert (before.amount_fils, before.tariff_effective_from) == (100_000, date(2020, 1, 1))
    assert (after.amount_fils, after.tariff_effective_from) == (200_000, date(2026, 1, 1))


def test_adding_a_newer_tariff_does_not_change_an_older_quote():
    start = date(2025, 6, 1)
    first = quote(DEFAULT_TARIFFS, "domestic_worker", start, 3)
    again = quote((*DEFAULT_TARIFFS, RAISE_2026), "domestic_worker", start, 3)
    assert again == first
    assert first.amount_fils == 15_000


def test_a_start_date_before_any_tariff_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        quote(DEFAULT_TARIFFS, "study", date(2019, 12, 31), 1)
    assert field_rule(caught.value, "start_date") == "no_tariff"


def test_a_category_a_newer_tariff_drops_is_no_longer_offered_online():
    dropped = Tariff(date(2027, 1, 1), {"study": 60_000})
    with pytest.raises(NotOfferedOnline) as caught:
        quote((*DEFAULT_TARIFFS, dropped), "stateless", date(2027, 1, 1), 1)
    assert caught.value.code == "NOT_OFFERED_ONLINE"
    assert field_rule(caught.value, "category") == "not_in_tariff"
    assert quote((*DEFAULT_TARIFFS, dropped), "stateless", date(2026, 12, 31), 1).amount_fils == 5_000


@pytest.mark.parametrize(
    "amounts",
    [{"study": 50.0}, {"study": True}, {"study": 0}, {"tourist": 50_000}],
    ids=["float", "bool", "zero", "unknown category"],
)
def test_a_tariff_holds_positive_integer_fils_for_known_categories_only(amounts):
    with pytest.raises((TypeError, ValueError)):
        Tariff(date(2026, 1, 1), amounts)


def test_a_tariff_cannot_be_changed_after_it_is_made():
    with pytest.raises(TypeError):
        DEFAULT_TARIFFS[0].amounts["study"] = 1  # type: ignore[index]


def test_two_tariffs_from_the_same_day_are_a_data_error():
    twin = Tariff(date(2020, 1, 1), {"study": 1_000})
    with pytest.raises(ValueError):
        tariff_in_force((*DEFAULT_TARIFFS, twin), START)


def test_the_price_list_shows_every_category_in_order_with_its_yearly_amount():
    entries = price_list(DEFAULT_TARIFFS, START)
    assert [(e.category.code, e.yearly_fils) for e in entries] == [
        (code, kwd * 1000) for code, kwd in SEED_AMOUNTS_KWD.items()
    ]


def test_a_period_of_years_ends_on_the_same_day_and_covers_up_to_the_day_before():
    period = Period.of_years(date(2026, 3, 1), 2)
    assert period.end == date(2028, 3, 1)
    assert period.last_day == date(2028, 2, 29)


def test_a_period_starting_on_29_february_ends_on_1_march_of_a_common_year():
    assert add_years(date(2024, 2, 29), 1) == date(2025, 3, 1)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)


@given(st.sampled_from(CATEGORIES), st.integers(1, 3), st.dates(date(2020, 1, 1), date(2100, 1, 1)))
def test_every_quote_is_whole_fils_and_a_multiple_of_its_yearly_amount(category, years, start):
    result = quote(DEFAULT_TARIFFS, category, start, years)
    assert isinstance(result.amount_fils, int)
    assert result.amount_fils == result.yearly_fils * years > 0

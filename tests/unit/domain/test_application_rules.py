"""Residence-premium application rules: every refusal names its field, in both languages."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from chalicelib.errors import AppError, ValidationFailed
from chalicelib.kernel.civil_id import compose_civil_id
from chalicelib.premiums.rules import (
    DEFAULT_TARIFFS,
    ApplicationRequest,
    NotOfferedOnline,
    Tariff,
    review_application,
)

TODAY = date(2026, 3, 1)


def civil_id_born(born: date) -> str:
    for n in range(10000):
        try:
            return compose_civil_id(born, f"{n:04d}")
        except ValueError:
            continue
    raise AssertionError("no serial")


INSURED = civil_id_born(date(1990, 5, 17))
SPONSOR = civil_id_born(date(1970, 1, 2))

GOOD = ApplicationRequest(
    insured_civil_id=INSURED,
    insured_name="Ahmed  Ali",
    category="private_sector_employee",
    sponsor_name="شركة الخليج",
    sponsor_civil_id=SPONSOR,
    kind="new",
    passport_expiry="2030-01-01",
    years=2,
)


def review(request: ApplicationRequest = GOOD, *, existing_policy_end: date | None = None, **kwargs):
    return review_application(request, today=TODAY, existing_policy_end=existing_policy_end, **kwargs)


def refused(request: ApplicationRequest = GOOD, **kwargs) -> dict[str, str]:
    """Field -> rule of the refusal; checks each problem reads in Arabic and English."""
    with pytest.raises(AppError) as caught:
        review(request, **kwargs)
    en = caught.value.body("en")["error"]
    ar = caught.value.body("ar")["error"]
    assert en["code"] == ar["code"]
    assert en["message"] != ar["message"]
    for name, problem in en["fields"].items():
        assert problem["message"] and ar["fields"][name]["message"]
        assert problem["message"] != ar["fields"][name]["message"]
        assert any("\u0600" <= ch <= "\u06ff" for ch in ar["fields"][name]["message"])
    return {name: problem["rule"] for name, problem in en["fields"].items()}


def test_a_valid_new_application_starts_today_and_shows_every_field_the_period_and_the_price():
    result = review()
    assert result.insured.number == INSURED
    assert result.insured_name == "Ahmed Ali"
    assert result.category.code == "private_sector_employee"
    assert result.sponsor.number == SPONSOR
    assert result.sponsor_name == "شركة الخليج"
    assert result.kind == "new"
    assert result.passport_expiry == date(2030, 1, 1)
    assert (result.period.start, result.period.end) == (TODAY, date(2028, 3, 1))
    assert (result.quote.amount_fils, result.quote.years) == (100_000, 2)


def test_a_renewal_starts_the_day_the_existing_policy_ends():
    result = review(replace(GOOD, kind="renewal"), existing_policy_end=date(2026, 4, 15))
    assert result.period.start == date(2026, 4, 15)
    assert result.period.end == date(2028, 4, 15)


def test_a_renewal_ending_today_starts_today():
    assert review(replace(GOOD, kind="renewal"), existing_policy_end=TODAY).period.start == TODAY


def test_a_renewal_is_priced_by_the_tariff_in_force_when_it_starts():
    raise_in_april = Tariff(date(2026, 4, 1), {"private_sector_employee": 70_000})
    tariffs = (*DEFAULT_TARIFFS, raise_in_april)
    early = review(replace(GOOD, kind="renewal"), existing_policy_end=date(2026, 3, 20), tariffs=tariffs)
    late = review(replace(GOOD, kind="renewal"), existing_policy_end=date(2026, 4, 20), tariffs=tariffs)
    assert (early.quote.yearly_fils, late.quote.yearly_fils) == (50_000, 70_000)


def test_a_renewal_without_an_existing_policy_is_refused():
    assert refused(replace(GOOD, kind="renewal")) == {"kind": "no_policy_to_renew"}


def test_a_renewal_of_a_policy_that_already_ended_is_refused_in_favour_of_new():
    assert refused(replace(GOOD, kind="renewal"), existing_policy_end=date(2026, 2, 28)) == {
        "kind": "policy_lapsed"
    }
    assert review(existing_policy_end=date(2026, 2, 28)).period.start == TODAY


def test_a_new_application_while_a_policy_is_active_is_refused():
    assert refused(existing_policy_end=date(2026, 3, 2)) == {"kind": "active_policy"}


def test_a_new_application_the_day_a_policy_ends_is_accepted():
    assert review(existing_policy_end=TODAY).period.start == TODAY


def test_the_sponsor_must_be_someone_other_than_the_insured():
    assert refused(replace(GOOD, sponsor_civil_id=INSURED)) == {"sponsor_civil_id": "same_as_insured"}


def test_a_self_sponsored_person_is_their_own_sponsor_when_the_sponsor_is_left_blank():
    request = replace(GOOD, category="self_sponsored", sponsor_civil_id="", sponsor_name=" ")
    result = review(request)
    assert result.sponsor == result.insured
    assert result.sponsor_name == "Ahmed Ali"
    assert result.quote.yearly_fils == 5_000


def test_a_self_sponsored_application_naming_someone_else_as_sponsor_is_refused():
    request = replace(GOOD, category="self_sponsored")
    assert refused(request) == {"sponsor_civil_id": "self_sponsored_mismatch"}


def test_an_invalid_sponsor_civil_id_is_refused_on_the_sponsor_field():
    typo = SPONSOR[:-1] + str((int(SPONSOR[-1]) + 1) % 10)
    assert refused(replace(GOOD, sponsor_civil_id=typo)) == {"sponsor_civil_id": "check_digit"}


def test_an_invalid_insured_civil_id_is_refused_on_the_insured_field():
    assert refused(replace(GOOD, insured_civil_id="12345")) == {"insured_civil_id": "length"}


def test_a_passport_expiring_before_the_last_covered_day_is_refused():
    # Two years from 2026-03-01: the last covered day is 2028-02-29.
    assert refused(replace(GOOD, passport_expiry="2028-02-28")) == {"passport_expiry": "before_period_end"}


def test_a_passport_valid_through_the_last_covered_day_is_accepted():
    assert review(replace(GOOD, passport_expiry=date(2028, 2, 29))).passport_expiry == date(2028, 2, 29)


def test_fewer_years_can_fit_a_passport_that_is_too_short_for_more():
    request = replace(GOOD, passport_expiry="2027-03-01", years=1)
    assert review(request).period.last_day == date(2027, 2, 28)


def test_a_passport_expiry_that_is_not_a_date_is_refused():
    assert refused(replace(GOOD, passport_expiry="01/01/2030")) == {"passport_expiry": "date"}


@pytest.mark.parametrize("kind", ["", "renew", None, "NEW"])
def test_kind_must_be_new_or_renewal(kind):
    assert refused(replace(GOOD, kind=kind)) == {"kind": "one_of"}


@pytest.mark.parametrize("years", [0, 4, "two"])
def test_years_must_be_1_to_3(years):
    assert refused(replace(GOOD, years=years)) == {"years": "range"}


def test_the_maximum_years_is_configurable():
    assert review(replace(GOOD, years=5, passport_expiry="2040-01-01"), max_years=5).quote.years == 5


@pytest.mark.parametrize(
    ("name", "rule"),
    [("", "required"), (None, "required"), ("x" * 101, "too_long"), ("a\x00b", "name_characters"),
     ("Ali\u202eReza", "name_characters"), ("Ali\u200bReza", "name_characters"), (42, "name_characters")],
)
def test_names_are_required_printable_and_at_most_100_characters(name, rule):
    assert refused(replace(GOOD, insured_name=name)) == {"insured_name": rule}


def test_every_problem_is_reported_at_once():
    request = ApplicationRequest(
        insured_civil_id="abc",
        insured_name="",
        category="tourist",
        sponsor_name="",
        sponsor_civil_id="",
        kind="maybe",
        passport_expiry="soon",
        years=9,
    )
    assert refused(request) == {
        "insured_civil_id": "digits_only",
        "insured_name": "required",
        "category": "unknown",
        "kind": "one_of",
        "years": "range",
        "passport_expiry": "date",
        "sponsor_civil_id": "required",
        "sponsor_name": "required",
    }


def test_field_problems_are_a_422_validation_error():
    with pytest.raises(ValidationFailed) as caught:
        review(replace(GOOD, years=0))
    assert (caught.value.status, caught.value.code) == (422, "VALIDATION_FAILED")


# --- A son or daughter joining a parent must be older than 12 on the start date.


def child_request(born: date) -> ApplicationRequest:
    return replace(GOOD, category="joining_child", insured_civil_id=civil_id_born(born))


def test_a_son_of_exactly_12_is_not_offered_online():
    with pytest.raises(NotOfferedOnline) as caught:
        review(child_request(date(2014, 3, 1)))
    error = caught.value
    assert (error.status, error.code) == (422, "NOT_OFFERED_ONLINE")
    assert "service centre" in error.body("en")["error"]["message"]
    assert "مراكز خدمة" in error.body("ar")["error"]["message"]
    assert refused(child_request(date(2014, 3, 1))) == {"category": "not_offered_online"}


def test_a_daughter_of_12_years_and_a_day_is_still_not_offered_online():
    with pytest.raises(NotOfferedOnline):
        review(child_request(date(2014, 2, 28)))


def test_a_son_on_his_13th_birthday_is_accepted_at_50_kwd():
    result = review(child_request(date(2013, 3, 1)))
    assert result.quote.yearly_fils == 50_000


def test_a_child_born_on_29_february_is_13_on_1_march_of_a_common_year():
    born = date(2012, 2, 29)
    with pytest.raises(NotOfferedOnline):
        review_application(child_request(born), today=date(2025, 2, 28), existing_policy_end=None)
    result = review_application(child_request(born), today=date(2025, 3, 1), existing_policy_end=None)
    assert result.category.code == "joining_child"


def test_age_is_judged_on_the_start_date_so_a_renewal_after_the_13th_birthday_is_accepted():
    request = replace(child_request(date(2013, 4, 10)), kind="renewal")
    with pytest.raises(NotOfferedOnline):
        review(request, existing_policy_end=date(2026, 4, 9))
    assert review(request, existing_policy_end=date(2026, 4, 10)).period.start == date(2026, 4, 10)


def test_field_problems_are_reported_before_the_not_offered_online_answer():
    request = replace(child_request(date(2020, 1, 1)), years=0)
    assert refused(request) == {"years": "range"}


def test_not_offered_online_is_answered_before_a_passport_problem_that_fixing_would_not_help():
    with pytest.raises(NotOfferedOnline):
        review(replace(child_request(date(2020, 1, 1)), passport_expiry="2026-03-02"))

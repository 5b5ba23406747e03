"""Applications: the review with every field, field-named refusals, not-offered-online cases, the confirm gate."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.api import premium_support
from tests.api.premium_support import INSURED, SPONSOR, civil_id_born, ledger

payer = premium_support.payer


def test_an_application_answers_with_the_full_review_awaiting_confirmation(payer):
    answer = payer.apply(years=2, insured_name="  Ahmed   Ali ")

    assert answer.status == 201, answer.body
    body = answer.body
    assert body["status"] == "awaiting_confirmation" and body["revision"] == 1
    assert body["confirmation"] == {"confirmed": False, "confirmed_at": None}
    assert body["review"] == {
        "insured_civil_id": INSURED, "insured_name": "Ahmed Ali", "insured_name_ar": None,
        "category": {"code": "private_sector_employee",
                     "label": {"en": "Private sector employee", "ar": "موظف في القطاع الخاص"}},
        "sponsor_civil_id": SPONSOR, "sponsor_name": "Gulf Trading Co", "kind": "new",
        "passport_expiry": "2031-01-01", "years": 2,
        "period": {"start_date": "2026-03-01", "end_date": "2028-03-01", "last_day": "2028-02-29"},
        "yearly_fils": 50_000, "amount_fils": 100_000, "currency": "KWD", "tariff_effective_from": "2020-01-01",
    }
    assert [e.kind for e in ledger(f"application#{body['application_id']}")] == ["application_created"]


@pytest.mark.parametrize(("overrides", "field", "rule"), [
    ({"insured_civil_id": INSURED[:-1] + str((int(INSURED[-1]) + 1) % 10)}, "insured_civil_id", "check_digit"),
    ({"insured_civil_id": "12345"}, "insured_civil_id", "length"),
    ({"insured_civil_id": None}, "insured_civil_id", "required"),
    ({"insured_name": "  "}, "insured_name", "required"),
    ({"category": "astronaut"}, "category", "unknown"),
    ({"sponsor_civil_id": INSURED}, "sponsor_civil_id", "same_as_insured"),
    ({"sponsor_civil_id": "2abc"}, "sponsor_civil_id", "digits_only"),
    ({"sponsor_name": None}, "sponsor_name", "required"),
    ({"kind": "upgrade"}, "kind", "one_of"),
    ({"kind": "renewal"}, "kind", "no_policy_to_renew"),
    ({"passport_expiry": "01/01/2030"}, "passport_expiry", "date"),
    ({"passport_expiry": "2027-02-27"}, "passport_expiry", "before_period_end"),
    ({"years": 4}, "years", "range"),
    ({"years": "2"}, "years", "range"),
    ({"category": "self_sponsored", "sponsor_civil_id": SPONSOR}, "sponsor_civil_id", "self_sponsored_mismatch"),
    ({"insured_name_ar": "Ahmed Ali"}, "insured_name_ar", "arabic_script"),
    ({"insured_name_ar": "أحمد Ali"}, "insured_name_ar", "arabic_script"),
    ({"insured_name_ar": "أحمد\u202eعلي"}, "insured_name_ar", "name_characters"),
    ({"insured_name_ar": "أحمد\nعلي"}, "insured_name_ar", "name_characters"),
    ({"insured_name_ar": "أحمد ٣"}, "insured_name_ar", "name_characters"),
    ({"insured_name_ar": "أ" * 101}, "insured_name_ar", "too_long"),
    ({"insured_name_ar": 7}, "insured_name_ar", "type"),
])
def test_every_refusal_names_its_field_and_rule_in_both_languages(payer, overrides, field, rule):
    english = payer.apply(**overrides)
    arabic = payer.call("POST", "/v1/applications", premium_support.application_body(**overrides), lang="ar")

    assert english.status == 422, english.body
    assert english.body["error"]["fields"][field]["rule"] == rule
    assert arabic.body["error"]["fields"][field]["message"] != english.body["error"]["fields"][field]["message"]


def test_a_passport_valid_through_the_last_covered_day_is_enough(payer):
    assert payer.apply(passport_expiry="2027-02-28").status == 201


def test_self_sponsored_may_leave_the_sponsor_blank(payer):
    answer = payer.apply(category="self_sponsored", sponsor_civil_id=None, sponsor_name=None)

    assert answer.status == 201, answer.body
    assert answer.body["review"]["sponsor_civil_id"] == INSURED
    assert answer.body["review"]["amount_fils"] == 5_000


def test_a_child_of_twelve_joining_a_parent_is_not_offered_online_and_thirteen_is(payer):
    twelve = civil_id_born(date(2013, 3, 2))  # turns 13 the day after the start date
    thirteen = civil_id_born(date(2013, 3, 1))

    refused = payer.apply(category="joining_child", insured_civil_id=twelve, insured_name="Omar")
    accepted = payer.apply(category="joining_child", insured_civil_id=thirteen, insured_name="Mona")

    assert refused.status == 422
    assert refused.body["error"]["code"] == "NOT_OFFERED_ONLINE"
    assert refused.body["error"]["fields"]["category"]["rule"] == "not_offered_online"
    assert "service centre" in refused.body["error"]["message"]
    assert accepted.status == 201, accepted.body
    assert accepted.body["review"]["amount_fils"] == 50_000


def test_applications_need_a_signed_in_caller_and_belong_to_their_account(payer, api):
    from tests.api.premium_support import make_payer

    assert api.post("/v1/applications", premium_support.application_body()).status == 401
    mine = payer.apply().body["application_id"]
    other = make_payer(api, account_id="acct-other", email="other@example.com", phone="+96550000000")

    assert other.call("GET", f"/v1/applications/{mine}").status == 404
    assert other.confirm(mine).status == 404
    assert other.pay(mine).status == 404


def test_paying_needs_a_confirmed_review(payer):
    application_id = payer.apply().body["application_id"]

    answer = payer.pay(application_id)

    assert answer.status == 409
    assert answer.body["error"]["code"] == "CONFIRMATION_REQUIRED"


@pytest.mark.parametrize("accept", [None, False, "true", 1])
def test_confirming_takes_an_explicit_accept_true(payer, accept):
    application_id = payer.apply().body["application_id"]
    body = {} if accept is None else {"accept": accept}

    answer = payer.call("POST", f"/v1/applications/{application_id}/confirm", body)

    assert answer.status == 422
    assert answer.body["error"]["fields"]["accept"]["rule"] == "must_be_true"


def test_confirming_records_the_time_and_the_revision(payer, clock):
    application_id = payer.apply().body["application_id"]
    clock.shift(timedelta(minutes=3))

    answer = payer.confirm(application_id, revision=1)

    assert answer.status == 200
    assert answer.body["status"] == "confirmed"
    assert answer.body["confirmation"] == {"confirmed": True, "confirmed_at": "2026-03-01T09:03:00+00:00"}
    events = ledger(f"application#{application_id}")
    assert [e.kind for e in events] == ["application_created", "application_confirmed"]
    assert events[1].actor == f"account:{payer.account_id}"
    # Confirming again is harmless and keeps the first time.
    clock.shift(timedelta(minutes=1))
    assert payer.confirm(application_id).body["confirmation"]["confirmed_at"] == "2026-03-01T09:03:00+00:00"


def test_a_change_after_confirming_needs_a_new_confirmation(payer):
    application_id = payer.confirmed_application()

    changed = payer.call("PUT", f"/v1/applications/{application_id}", premium_support.application_body(years=2))

    assert changed.status == 200, changed.body
    assert changed.body["revision"] == 2
    assert changed.body["status"] == "awaiting_confirmation"
    assert changed.body["confirmation"]["confirmed"] is False
    assert changed.body["review"]["amount_fils"] == 100_000
    assert payer.pay(application_id).body["error"]["code"] == "CONFIRMATION_REQUIRED"
    # Confirming the revision seen before the change is refused: the person has not reviewed this one.
    stale = payer.confirm(application_id, revision=1)
    assert stale.status == 409 and stale.body["error"]["code"] == "APPLICATION_CHANGED"
    assert payer.confirm(application_id, revision=2).status == 200
    assert payer.pay(application_id).status == 201


def test_a_change_is_checked_like_a_new_application(payer):
    application_id = payer.apply().body["application_id"]

    answer = payer.call("PUT", f"/v1/applications/{application_id}", premium_support.application_body(years=0))

    assert answer.status == 422
    assert answer.body["error"]["fields"]["years"]["rule"] == "range"
    assert payer.call("GET", f"/v1/applications/{application_id}").body["revision"] == 1


def test_a_paying_or_paid_application_cannot_change(payer):
    application_id = payer.confirmed_application()
    assert payer.pay(application_id).status == 201

    answer = payer.call("PUT", f"/v1/applications/{application_id}", premium_support.application_body(years=2))

    assert answer.status == 409 and answer.body["error"]["code"] == "APPLICATION_LOCKED"


def test_a_new_application_confirmed_yesterday_must_be_reviewed_again(payer, clock):
    application_id = payer.confirmed_application()
    clock.shift(timedelta(days=1))

    answer = payer.pay(application_id)

    assert answer.status == 409 and answer.body["error"]["code"] == "APPLICATION_OUTDATED"
    refreshed = payer.call("PUT", f"/v1/applications/{application_id}", premium_support.application_body())
    assert refreshed.body["review"]["period"]["start_date"] == "2026-03-02"

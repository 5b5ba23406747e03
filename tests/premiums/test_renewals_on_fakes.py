"""Renewal on autopilot, on fakes: renew in one call, and the reminders at 30 days, 7 days and the lapse.

The clock is the world's (tests/premiums/fakes.py); the reminder job takes its time from the run only.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from chalicelib.errors import AppError, NotFound
from chalicelib.platform.jobs import JobRun
from chalicelib.premiums import applications, payments, renewals
from chalicelib.premiums.ports import Contact
from chalicelib.premiums.renewal_rules import plan_reminder
from chalicelib.premiums.rules import DEFAULT_TARIFFS, Tariff
from tests.api.premium_support import INSURED, SPONSOR
from tests.premiums.fakes import World
from tests.premiums.test_payments_on_fakes import ACCOUNT, paid, pay, person_chooses


def policy_number(world: World) -> str:
    [policy] = payments.list_policies(world.deps, ACCOUNT)
    return str(policy["policy_number"])


def renew(world: World, body: dict | None = None, account: str = ACCOUNT, number: str | None = None):
    return renewals.renew_policy(world.deps, account, number or policy_number(world), body or {})


def kuwait_morning(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC)  # 09:00 in Kuwait


def run_reminders(world: World, day: date) -> tuple[JobRun, list[dict[str, Any]]]:
    queued: list[dict[str, Any]] = []
    run = JobRun("remind_renewals", out_of_time=lambda: False, at=kuwait_morning(day))
    renewals.send_due_reminders(world.deps, run, kuwait_morning(day), queued.extend)
    return run, queued


def texts(world: World, jobs: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    built = {}
    for job in jobs:
        message = renewals.build_reminder(world.deps, job)
        assert message is not None
        built[(job["message"], message.channel)] = message.text
    return built


# --- renew in one call ------------------------------------------------------------------------------


def test_renewing_prefills_the_last_application_priced_today_from_the_old_end(world):
    paid(world)
    world.clock.shift(timedelta(days=300))  # 2026-12-26: the policy ends 2027-03-01

    view, created = renew(world)

    assert created and view["status"] == "awaiting_confirmation" and view["confirmation"]["confirmed"] is False
    review = view["review"]
    assert (review["kind"], review["insured_civil_id"], review["insured_name"]) == ("renewal", INSURED, "Ahmed Ali")
    assert (review["category"]["code"], review["sponsor_name"]) == ("private_sector_employee", "Gulf Trading Co")
    assert review["period"] == {"start_date": "2027-03-01", "end_date": "2028-03-01", "last_day": "2028-02-29"}
    assert (review["amount_fils"], review["currency"]) == (50_000, "KWD")


def test_a_renewal_pays_into_the_period_after_the_old_end_after_review_and_confirmation(world):
    paid(world)
    world.clock.shift(timedelta(days=300))
    view, _ = renew(world)
    with pytest.raises(AppError) as unconfirmed:
        pay(world, view["application_id"], key="renew-1")
    assert unconfirmed.value.code == "CONFIRMATION_REQUIRED"

    applications.confirm_application(world.deps, ACCOUNT, view["application_id"], {"accept": True})
    payment, _ = pay(world, view["application_id"], key="renew-1")
    callback = person_chooses(world, payment)
    payments.handle_callback(world.deps, callback.body, callback.headers)

    [policy] = payments.list_policies(world.deps, ACCOUNT)
    assert (policy["start_date"], policy["end_date"]) == ("2026-03-01", "2028-03-01")
    assert [(p["start_date"], p["end_date"], p["amount_fils"]) for p in policy["periods"]] == [
        ("2026-03-01", "2027-03-01", 50_000), ("2027-03-01", "2028-03-01", 50_000)]


def test_renewing_twice_answers_the_same_open_application(world):
    paid(world)
    first, created = renew(world)
    again, created_again = renew(world)
    assert (created, created_again) == (True, False)
    assert again["application_id"] == first["application_id"]
    assert sum(1 for a in world.store.applications.values() if a.kind == "renewal") == 1


def test_only_the_owning_account_can_renew_and_an_unknown_number_is_not_found(world):
    paid(world)
    with pytest.raises(NotFound):
        renew(world, account="someone-else")
    with pytest.raises(NotFound):
        renew(world, number="RH-26-AAAA-AAAA")


def test_a_passport_shorter_than_the_renewal_is_refused_with_field_errors(world):
    created = applications.create_application(world.deps, ACCOUNT, {
        "insured_civil_id": INSURED, "insured_name": "Ahmed Ali", "category": "private_sector_employee",
        "sponsor_name": "Gulf Trading Co", "sponsor_civil_id": SPONSOR, "kind": "new",
        "passport_expiry": "2027-06-01", "years": 1})
    applications.confirm_application(world.deps, ACCOUNT, created["application_id"], {"accept": True})
    payment, _ = pay(world, created["application_id"])
    callback = person_chooses(world, payment)
    payments.handle_callback(world.deps, callback.body, callback.headers)

    with pytest.raises(AppError) as refused:
        renew(world)
    problem = refused.value.fields["passport_expiry"]
    assert problem.rule == "before_period_end"
    assert "2027-06-01" in problem.text.en and "2028-02-29" in problem.text.en
    assert "ينتهي جواز السفر" in problem.text.ar

    view, created_now = renew(world, {"passport_expiry": "2032-01-01"})
    assert created_now and view["review"]["passport_expiry"] == "2032-01-01"


def test_a_category_no_longer_offered_is_refused(world):
    paid(world)
    world.clock.shift(timedelta(days=300))
    amounts = dict(DEFAULT_TARIFFS[0].amounts)
    del amounts["private_sector_employee"]
    world.deps.tariffs = (*DEFAULT_TARIFFS, Tariff(date(2027, 1, 1), amounts))

    with pytest.raises(AppError) as refused:
        renew(world)
    assert refused.value.code == "NOT_OFFERED_ONLINE"
    assert refused.value.fields["category"].rule == "not_in_tariff"


# --- reminders ----------------------------------------------------------------------------------------


def test_reminders_go_out_30_and_7_days_before_and_on_the_lapse_once_each(world):
    paid(world)  # 2026-03-01 to 2027-03-01 (last day 2027-02-28)
    sent_on: dict[str, list[str]] = {}
    day = date(2027, 1, 25)
    while day <= date(2027, 3, 10):
        for _ in range(2):  # two runs a day: the second sends nothing
            _, jobs = run_reminders(world, day)
            for job in jobs:
                if job["channel"] == "sms":
                    sent_on.setdefault(job["step"], []).append(day.isoformat())
        day += timedelta(days=1)

    assert sent_on == {"30d": ["2027-01-30"], "7d": ["2027-02-22"], "lapsed": ["2027-03-01"]}


def test_the_reminder_says_when_and_links_to_the_renewal_in_english_and_in_arabic(world):
    paid(world)
    number = policy_number(world)
    _, jobs = run_reminders(world, date(2027, 1, 30))
    english = texts(world, jobs)
    assert english[("renewal_reminder", "sms")].startswith(
        f"The residence health insurance of Ahmed Ali (policy {number}) ends in 30 days: its last day is 2027-02-28.")
    assert f"/app/policies/{number}/renew" in english[("renewal_reminder", "sms")]
    assert "Renew in the app" in english[("renewal_reminder", "email")]
    assert ("renewal_passport_warning", "sms") not in english  # the passport (2031) outlasts a renewal

    world.deps.contact = lambda account_id: Contact("payer@example.com", "+96550000000", "ar")
    _, jobs = run_reminders(world, date(2027, 2, 22))
    arabic = texts(world, jobs)
    assert "ينتهي الضمان الصحي للإقامة لـ Ahmed Ali" in arabic[("renewal_reminder", "sms")]
    assert "بعد 7 أيام" in arabic[("renewal_reminder", "sms")]  # not "7 يومًا"
    assert "2027-02-28" in arabic[("renewal_reminder", "sms")]

    _, jobs = run_reminders(world, date(2027, 3, 1))
    lapsed = texts(world, jobs)
    assert lapsed[("renewal_reminder", "sms")].startswith(
        f"انتهى الضمان الصحي للإقامة لـ Ahmed Ali (الوثيقة {number}): كان آخر يوم فيه 2027-02-28.")


def test_a_passport_that_ends_before_the_renewed_period_gets_its_own_warning_once(world):
    created = applications.create_application(world.deps, ACCOUNT, {
        "insured_civil_id": INSURED, "insured_name": "Ahmed Ali", "category": "private_sector_employee",
        "sponsor_name": "Gulf Trading Co", "sponsor_civil_id": SPONSOR, "kind": "new",
        "passport_expiry": "2027-06-01", "years": 1})
    applications.confirm_application(world.deps, ACCOUNT, created["application_id"], {"accept": True})
    payment, _ = pay(world, created["application_id"])
    callback = person_chooses(world, payment)
    payments.handle_callback(world.deps, callback.body, callback.headers)

    _, jobs = run_reminders(world, date(2027, 1, 30))
    built = texts(world, jobs)
    warning = built[("renewal_passport_warning", "sms")]
    assert "The passport of Ahmed Ali expires on 2027-06-01, before the renewed insurance would end on 2028-02-29" \
        in warning
    _, later = run_reminders(world, date(2027, 2, 22))
    assert {job["message"] for job in later} == {"renewal_reminder"}


def test_the_job_reads_only_the_policies_due(world):
    paid(world)
    run, jobs = run_reminders(world, date(2026, 6, 1))
    assert (run.due, jobs, world.store.reads) == (0, [], 0)
    run, jobs = run_reminders(world, date(2027, 1, 30))
    assert (run.due, run.done, world.store.reads) == (1, 1, 1)


def test_a_refunded_policy_gets_no_reminder(world):
    from chalicelib.premiums import refunds

    payment = paid(world)
    refunds.request_refund(world.deps, ACCOUNT, payment["payment_id"], {"reason": "left Kuwait"})
    run, jobs = run_reminders(world, date(2027, 1, 30))
    assert (run.due, jobs) == (0, [])


def test_a_step_missed_is_not_sent_late_once_a_later_one_is_due():
    end = date(2027, 3, 1)
    assert plan_reminder(end, date(2027, 2, 23), None).step == "7d"
    assert plan_reminder(end, date(2027, 2, 23), "2027-03-01#7d").step is None
    assert plan_reminder(end, date(2027, 1, 30), "2026-03-01#lapsed").step == "30d"  # an older period's
    assert plan_reminder(end, date(2027, 3, 20), None).step is None  # a lapse long gone is not announced


def test_a_renewal_paid_then_refunded_can_be_renewed_again(world):
    from chalicelib.premiums import refunds

    paid(world)
    world.clock.shift(timedelta(days=300))
    first, _ = renew(world)
    applications.confirm_application(world.deps, ACCOUNT, first["application_id"], {"accept": True})
    payment, _ = pay(world, first["application_id"], key="renew-1")
    callback = person_chooses(world, payment)
    payments.handle_callback(world.deps, callback.body, callback.headers)
    refunds.request_refund(world.deps, ACCOUNT, payment["payment_id"], {"reason": "wrong years"})

    again, created = renew(world, {"years": 2})

    assert created and again["application_id"] != first["application_id"]
    assert again["review"]["period"]["start_date"] == "2027-03-01" and again["review"]["years"] == 2


def test_an_account_without_a_language_gets_the_reminder_in_arabic_then_english(world):
    paid(world)
    world.deps.contact = lambda account_id: Contact("payer@example.com", "+96550000000", None)
    _, jobs = run_reminders(world, date(2027, 1, 30))
    messages = {(job["channel"]): renewals.build_reminder(world.deps, job) for job in jobs}
    sms = messages["sms"].text
    assert sms.index("بعد 30 يومًا") < sms.index("ends in 30 days")
    email = messages["email"]
    assert 'dir="rtl"' in email.html and "جدّد من التطبيق" in email.text and "Renew in the app" in email.text

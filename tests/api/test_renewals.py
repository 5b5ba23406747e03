"""Renewal over HTTP and the reminder job through its Lambda handler, on moto with a controlled clock.

A policy paid on 2026-03-01 ends 2027-03-01 (last day 2027-02-28): its reminders fall on 2027-01-30,
2027-02-22 and 2027-03-01, whichever day the job is run as of (the scheduled event's time).
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib.settings import get_settings
from tests.api import premium_support
from tests.api.premium_support import INSURED, choose_on_page, make_payer

payer = premium_support.payer


def paid_policy(api, payer) -> dict:
    payment = payer.started_payment()
    assert choose_on_page(api, payment, "approved").status == 200
    [policy] = payer.call("GET", "/v1/policies").body["policies"]
    return policy


def remind(app, at: str) -> dict:
    """The scheduled function as EventBridge (or `make job AT=...`) invokes it: its time is the event's."""
    from devstack.lambdas import invoke, scheduled_event

    event = scheduled_event("me-south-1", "remind_renewals")
    event["time"] = at
    return invoke(app, "remind_renewals", event)


def test_renewing_a_paid_policy_yields_a_prefilled_application_that_pays_into_the_next_period(api, payer, clock):
    policy = paid_policy(api, payer)
    clock.shift(timedelta(days=320))  # 2027-01-15

    renewal = payer.call("POST", f"/v1/policies/{policy['policy_number']}/renew")

    assert renewal.status == 201, renewal.body
    body = renewal.body
    assert (body["status"], body["confirmation"]["confirmed"]) == ("awaiting_confirmation", False)
    assert body["review"]["kind"] == "renewal" and body["review"]["insured_civil_id"] == INSURED
    assert body["review"]["period"] == {"start_date": "2027-03-01", "end_date": "2028-03-01",
                                        "last_day": "2028-02-29"}
    assert (body["review"]["amount_fils"], body["review"]["currency"]) == (50_000, "KWD")
    again = payer.call("POST", f"/v1/policies/{policy['policy_number']}/renew")
    assert (again.status, again.body["application_id"]) == (200, body["application_id"])

    refused = payer.pay(body["application_id"], "renew-key")
    assert (refused.status, refused.body["error"]["code"]) == (409, "CONFIRMATION_REQUIRED")
    assert payer.confirm(body["application_id"]).status == 200
    payment = payer.pay(body["application_id"], "renew-key").body
    assert payment["period"]["start_date"] == "2027-03-01"
    assert choose_on_page(api, payment, "approved").status == 200

    [renewed] = payer.call("GET", "/v1/policies").body["policies"]
    assert renewed["policy_number"] == policy["policy_number"]
    assert (renewed["start_date"], renewed["end_date"], renewed["last_day"]) == ("2026-03-01", "2028-03-01",
                                                                                 "2028-02-29")


def test_another_account_cannot_renew_the_policy(api, payer):
    policy = paid_policy(api, payer)
    stranger = make_payer(api, account_id="acct-stranger", email="x@example.com", phone="+96555555555")
    answer = stranger.call("POST", f"/v1/policies/{policy['policy_number']}/renew")
    assert (answer.status, answer.body["error"]["code"]) == (404, "NOT_FOUND")
    assert payer.call("POST", "/v1/policies/RH-26-AAAA-AAAA/renew").status == 404


def test_a_passport_too_short_for_the_renewal_is_refused_with_its_field_in_arabic(api, payer, clock):
    payment = payer.started_payment(passport_expiry="2027-06-01")
    choose_on_page(api, payment, "approved")
    [policy] = payer.call("GET", "/v1/policies").body["policies"]

    answer = payer.call("POST", f"/v1/policies/{policy['policy_number']}/renew", lang="ar")

    assert answer.status == 422
    problem = answer.body["error"]["fields"]["passport_expiry"]
    assert problem["rule"] == "before_period_end" and "ينتهي جواز السفر في 2027-06-01" in problem["message"]
    fixed = payer.call("POST", f"/v1/policies/{policy['policy_number']}/renew", {"passport_expiry": "2033-01-01"})
    assert fixed.status == 201


def test_the_reminder_job_sends_each_step_once_on_its_day_by_sms_and_email(app, api, payer, clock, outbox):
    policy = paid_policy(api, payer)

    first = remind(app, "2027-01-30T06:00:00Z")
    again = remind(app, "2027-01-30T07:00:00Z")
    assert (first["due"], first["done"], again["due"]) == (1, 1, 0)
    sms = outbox.last(to=payer.phone, template="renewal_reminder")
    assert sms["text"].startswith(f"The residence health insurance of Ahmed Ali (policy {policy['policy_number']}) "
                                  "ends in 30 days: its last day is 2027-02-28.")
    email = outbox.last(to=payer.email, template="renewal_reminder")
    assert email["subject"] == "Renew your residence health insurance: 30 days left"
    base = get_settings().public_base_url
    assert email["links"] == [f"{base}/app/policies/{policy['policy_number']}/renew"]

    assert remind(app, "2027-02-21T06:00:00Z")["due"] == 0
    assert remind(app, "2027-02-22T06:00:00Z")["done"] == 1
    assert remind(app, "2027-03-01T06:00:00Z")["done"] == 1
    assert remind(app, "2027-03-02T06:00:00Z")["due"] == 0
    steps = [m["vars"]["step"] for m in outbox.messages(to=payer.phone, template="renewal_reminder")]
    assert steps == ["30d", "7d", "lapsed"]
    assert INSURED not in " ".join(m["text"] for m in outbox.messages())


def test_make_job_at_runs_the_reminder_job_as_of_that_day_while_the_clock_says_otherwise(app, api, payer, clock,
                                                                                          outbox, monkeypatch, capsys):
    import devstack.__main__ as devstack_main

    monkeypatch.setattr(devstack_main, "_attach", lambda: None)  # the test's moto is the stack
    paid_policy(api, payer)  # the clock stays on 2026-03-01

    devstack_main.main(["job", "remind_renewals", "--at", "2027-02-22"])

    out = capsys.readouterr().out
    assert "remind_renewals as of 2027-02-22T06:00:00Z" in out and "'done': 1" in out
    assert outbox.last(to=payer.phone, template="renewal_reminder")["vars"]["step"] == "7d"


def test_a_path_that_is_no_policy_number_is_404_without_a_read(api, payer, monkeypatch):
    from tests.premiums.dynamo_limits import dynamodb_requests

    policy = paid_policy(api, payer)
    requests = dynamodb_requests(monkeypatch)

    for odd in ("RH-26-" + "A" * 3_000, "x" * 3_000, policy["policy_number"].lower()):
        answer = payer.call("POST", f"/v1/policies/{odd}/renew")
        assert (answer.status, answer.body["error"]["code"]) == (404, "NOT_FOUND")
    assert requests == []  # not one DynamoDB request: the paths were refused by their form
    assert payer.call("POST", f"/v1/policies/{policy['policy_number']}/renew").status == 201

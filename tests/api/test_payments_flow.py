"""Paying: approved, declined, timeout then reconciled, duplicate and forged callbacks, renewals, receipts."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.api import premium_support
from tests.api.premium_support import (
    INSURED,
    choose_on_page,
    gateway,
    ledger,
    payment_ref,
    policy_stream,
    post_callback,
)

payer = premium_support.payer


def reconcile(app):
    from devstack.lambdas import invoke, scheduled_event

    return invoke(app, "reconcile_payments", scheduled_event("me-south-1", "reconcile_payments"))


def kinds(stream: str) -> list[str]:
    return [e.kind for e in ledger(stream)]


def test_paying_returns_the_gateways_page_and_a_pending_payment_in_fils(payer):
    payment = payer.started_payment()

    assert payment["status"] == "pending"
    assert payment["amount_fils"] == 50_000 and payment["currency"] == "KWD"
    assert payment["payment_url"].startswith("http://127.0.0.1:8001/sandbox/pay/sbx_")
    assert payment["period"] == {"start_date": "2026-03-01", "end_date": "2027-03-01", "last_day": "2027-02-28"}
    assert "50.000" in gateway().page(payment_ref(payment))


def test_an_approved_payment_is_captured_and_creates_the_policy_with_receipts(api, payer, outbox):
    payment = payer.started_payment()

    ack = choose_on_page(api, payment, "approved")

    assert ack.status == 200
    got = payer.call("GET", f"/v1/payments/{payment['payment_id']}").body
    assert got["status"] == "captured" and got["payment_url"] is None
    assert got["transaction_id"].startswith("sbt_")
    assert got["captured_at"] == "2026-03-01T09:00:00+00:00"
    policies = payer.call("GET", "/v1/policies").body["policies"]
    assert len(policies) == 1
    policy = policies[0]
    assert policy["status"] == "active"
    assert policy["insured"] == {"civil_id": INSURED, "name": "Ahmed Ali", "name_ar": None}
    assert (policy["start_date"], policy["end_date"], policy["last_day"]) == ("2026-03-01", "2027-03-01", "2027-02-28")
    assert [p["payment_id"] for p in policy["periods"]] == [payment["payment_id"]]
    application = payer.call("GET", f"/v1/applications/{payment['application_id']}").body
    assert application["status"] == "paid"
    # Every change has its event: the payment's, the policy's, the application's.
    assert kinds(f"payment#{payment['payment_id']}") == ["payment_started", "payment_session_opened",
                                                         "payment_captured"]
    assert kinds(policy_stream()) == ["policy_created"]
    captured = ledger(f"payment#{payment['payment_id']}")[-1]
    assert (captured.from_status, captured.to_status, captured.amount_fils, captured.actor) == (
        "pending", "captured", 50_000, "gateway:sandbox")
    # The receipts: a bilingual email and an SMS in the person's language, amounts from fils.
    email = outbox.last(to=payer.email, template="premium_receipt")
    assert "50.000 KWD" in email["text"] and "50.000 د.ك" in email["text"]
    assert 'dir="rtl"' in email["html"] and payment["payment_id"] in email["text"]
    assert "********" + INSURED[-4:] in email["text"] and INSURED not in email["text"]
    sms = outbox.last(to=payer.phone, template="premium_receipt")
    assert "Paid 50.000 KWD" in sms["text"] and "2027-02-28" in sms["text"]


def test_a_repeated_callback_changes_nothing(api, payer, outbox):
    payment = payer.started_payment()
    outcome = gateway().complete(payment_ref(payment), {"result": "approved"})
    first = post_callback(api, outcome.callback.body, dict(outcome.callback.headers))
    events = kinds(f"payment#{payment['payment_id']}")
    receipts = len(outbox.messages(template="premium_receipt"))

    again = post_callback(api, outcome.callback.body, dict(outcome.callback.headers))
    resigned = gateway().callback_for(payment_ref(payment))
    third = post_callback(api, resigned.body, dict(resigned.headers))

    assert first.status == again.status == third.status == 200
    assert kinds(f"payment#{payment['payment_id']}") == events
    assert len(outbox.messages(template="premium_receipt")) == receipts == 2
    assert len(payer.call("GET", "/v1/policies").body["policies"][0]["periods"]) == 1


def test_forged_and_garbled_callbacks_are_rejected_and_logged(api, payer, capsys):
    payment = payer.started_payment()
    signed = gateway().complete(payment_ref(payment), {"result": "approved"}).callback
    # Nothing is captured from the page alone until a valid callback arrives (it is held here).
    tampered = json.loads(signed.body)
    tampered["amount_fils"] = 1
    forged_bodies = [
        (json.dumps(tampered, sort_keys=True, separators=(",", ":")).encode(), dict(signed.headers)),
        (signed.body, {"Content-Type": "application/json"}),
        (signed.body, {"Content-Type": "application/json", "X-Signature": "t=1,v1=00"}),
    ]
    from chalicelib.premiums.gateway.signing import sign

    stale = {"Content-Type": "application/json", "X-Signature": sign(signed.body, b"not-the-secret", 0)}
    forged_bodies.append((signed.body, stale))
    capsys.readouterr()

    for body, headers in forged_bodies:
        answer = post_callback(api, body, headers)
        assert answer.status == 400, answer.body
        assert answer.body["error"]["code"] == "INVALID_CALLBACK"

    logged = capsys.readouterr().out
    assert logged.count('"event":"payment_callback_rejected"') == len(forged_bodies)
    assert payer.call("GET", f"/v1/payments/{payment['payment_id']}").body["status"] == "pending"
    assert post_callback(api, signed.body, dict(signed.headers)).status == 200
    assert payer.call("GET", f"/v1/payments/{payment['payment_id']}").body["status"] == "captured"


def test_a_callback_for_a_payment_nobody_started_is_rejected(api, payer):
    from chalicelib.premiums.gateway.sandbox import SandboxSession, build_callback
    from chalicelib.premiums.payment_secrets import callback_secrets

    ghost = SandboxSession("sbx_ghost", "payghost", 50_000, "KWD", "http://x/", "http://x/", "en", 0,
                           result="approved", status="captured")
    import time

    signed = build_callback(ghost, callback_secrets()[0], int(time.time()))
    assert post_callback(api, signed.body, dict(signed.headers)).status == 400


def test_a_declined_payment_leaves_the_application_payable_with_a_new_key(api, payer, clock):
    first = payer.started_payment(key="first")

    choose_on_page(api, first, "declined")

    declined = payer.call("GET", f"/v1/payments/{first['payment_id']}").body
    assert declined["status"] == "declined"
    application = payer.call("GET", f"/v1/applications/{first['application_id']}").body
    assert application["status"] == "confirmed"
    assert payer.call("GET", "/v1/policies").body["policies"] == []
    # The same key gives back the same (declined) payment; a new key starts a new one.
    assert payer.pay(first["application_id"], "first").body["payment_id"] == first["payment_id"]
    clock.shift(timedelta(seconds=1))
    second = payer.pay(first["application_id"], "second")
    assert second.status == 201 and second.body["payment_id"] != first["payment_id"]
    choose_on_page(api, second.body, "approved")
    assert payer.call("GET", f"/v1/applications/{first['application_id']}").body["status"] == "paid"
    history = payer.call("GET", "/v1/payments").body["payments"]
    assert [p["status"] for p in history] == ["captured", "declined"]
    assert kinds(f"payment#{first['payment_id']}")[-1] == "payment_declined"


def test_a_timeout_stays_pending_until_reconciliation_asks_the_gateway(app, api, payer, clock, outbox):
    payment = payer.started_payment()

    assert choose_on_page(api, payment, "timeout") is None
    assert payer.call("GET", f"/v1/payments/{payment['payment_id']}").body["status"] == "pending"
    assert payer.pay(payment["application_id"], "another-key").body["error"]["code"] == "PAYMENT_IN_PROGRESS"

    clock.shift(timedelta(minutes=14))
    assert reconcile(app) == {}  # not due yet: nothing was even asked
    clock.shift(timedelta(minutes=2))
    assert reconcile(app) == {"captured": 1}
    assert reconcile(app) == {}

    got = payer.call("GET", f"/v1/payments/{payment['payment_id']}").body
    assert got["status"] == "captured"
    assert payer.call("GET", "/v1/policies").body["policies"][0]["status"] == "active"
    assert ledger(f"payment#{payment['payment_id']}")[-1].actor == "reconciliation"
    assert outbox.last(to=payer.email, template="premium_receipt")
    # The late callback, if it ever comes, changes nothing.
    late = gateway().callback_for(payment_ref(payment))
    assert post_callback(api, late.body, dict(late.headers)).status == 200
    assert len(outbox.messages(template="premium_receipt")) == 2


def test_reconciliation_leaves_a_payment_the_person_is_still_paying_pending_and_asks_again_later(app, payer, clock):
    payment = payer.started_payment()

    clock.shift(timedelta(minutes=16))
    assert reconcile(app) == {"pending": 1}
    assert reconcile(app) == {}
    clock.shift(timedelta(minutes=16))
    assert reconcile(app) == {"pending": 1}
    assert payer.call("GET", f"/v1/payments/{payment['payment_id']}").body["status"] == "pending"


def test_reconciliation_expires_a_payment_the_gateway_never_saw_and_frees_the_application(app, payer, clock):
    payment = payer.started_payment()
    gateway().store.sessions.clear()  # the gateway has no trace of it

    clock.shift(timedelta(minutes=16))
    assert reconcile(app) == {"pending": 1}  # too early to give up: the person may still be on the page
    clock.shift(timedelta(minutes=16))
    assert reconcile(app) == {"expired": 1}

    assert payer.call("GET", f"/v1/payments/{payment['payment_id']}").body["status"] == "expired"
    assert payer.call("GET", f"/v1/applications/{payment['application_id']}").body["status"] == "confirmed"


def test_reconciliation_finds_due_payments_by_index_query_never_a_scan(app, payer, clock):
    from devstack.counting import count_aws_calls

    payer.started_payment()
    clock.shift(timedelta(minutes=16))

    with count_aws_calls() as calls:
        reconcile(app)

    operations = {op for (service, op) in calls if service == "dynamodb"}
    assert "Scan" not in operations and "Query" in operations


def test_a_renewal_starts_when_the_policy_ends_and_extends_it(api, payer, clock):
    first = payer.started_payment(key="first", years=1)
    choose_on_page(api, first, "approved")
    clock.shift(timedelta(days=300))  # 2026-12-26, before the end on 2027-03-01

    new_again = payer.apply(kind="new")
    assert new_again.body["error"]["fields"]["kind"]["rule"] == "active_policy"
    renewal = payer.apply(kind="renewal", years=2, passport_expiry="2030-01-01")
    assert renewal.status == 201, renewal.body
    assert renewal.body["review"]["period"] == {"start_date": "2027-03-01", "end_date": "2029-03-01",
                                                 "last_day": "2029-02-28"}
    payer.confirm(renewal.body["application_id"])
    second = payer.pay(renewal.body["application_id"], "second").body
    choose_on_page(api, second, "approved")

    policies = payer.call("GET", "/v1/policies").body["policies"]
    assert len(policies) == 1
    policy = policies[0]
    assert (policy["start_date"], policy["end_date"]) == ("2026-03-01", "2029-03-01")
    assert [(p["start_date"], p["end_date"], p["payment_id"]) for p in policy["periods"]] == [
        ("2026-03-01", "2027-03-01", first["payment_id"]), ("2027-03-01", "2029-03-01", second["payment_id"])]
    assert kinds(policy_stream()) == ["policy_created", "policy_extended"]


def test_a_lapsed_policy_is_not_renewed_but_insured_anew_from_today(api, payer, clock):
    first = payer.started_payment(key="first")
    choose_on_page(api, first, "approved")
    clock.shift(timedelta(days=400))  # 2027-04-05: ended on 2027-03-01

    renewal = payer.apply(kind="renewal")
    assert renewal.body["error"]["fields"]["kind"]["rule"] == "policy_lapsed"
    assert payer.call("GET", "/v1/policies").body["policies"][0]["status"] == "expired"
    again = payer.started_payment(key="again", passport_expiry="2031-01-01")
    choose_on_page(api, again, "approved")
    policy = payer.call("GET", "/v1/policies").body["policies"][0]
    # The same policy, now from the new start: the lapsed year stays in its history.
    assert (policy["start_date"], policy["end_date"], len(policy["periods"])) == ("2027-04-05", "2028-04-05", 2)
    assert kinds(policy_stream()) == ["policy_created", "policy_period_added"]


def test_two_applications_for_one_person_cannot_both_be_paying(api, payer):
    first = payer.started_payment(key="first")
    second_application = payer.confirmed_application()

    blocked = payer.pay(second_application, "second")

    assert blocked.status == 409 and blocked.body["error"]["code"] == "COVERAGE_CHANGE_IN_PROGRESS"
    choose_on_page(api, first, "approved")
    # Once the first is paid, the second (a "new" one) no longer fits: the person is insured.
    outdated = payer.pay(second_application, "third")
    assert outdated.status == 409 and outdated.body["error"]["code"] == "APPLICATION_OUTDATED"


def _run_as_of(app, name: str, at: str):
    """A scheduled function invoked as EventBridge (or `make job AT=...`) does: as of the event's time."""
    from devstack.lambdas import invoke, scheduled_event

    event = scheduled_event("me-south-1", name)
    event["time"] = at
    return invoke(app, name, event)


def test_reconciliation_runs_as_of_its_invocation_time_while_the_clock_says_otherwise(app, api, payer, clock):
    payment = payer.started_payment()  # 2026-03-01 09:00: reconciliation is due from 09:15
    assert choose_on_page(api, payment, "timeout") is None  # the money moved, nobody told us

    assert _run_as_of(app, "reconcile_payments", "2026-03-01T09:14:00Z") == {}  # not due as of 09:14
    assert _run_as_of(app, "reconcile_payments", "2026-03-01T09:16:00Z") == {"captured": 1}

    got = payer.call("GET", f"/v1/payments/{payment['payment_id']}").body
    assert (got["status"], got["captured_at"]) == ("captured", "2026-03-01T09:16:00+00:00")
    captured = ledger(f"payment#{payment['payment_id']}")[-1]
    assert (captured.kind, captured.actor, captured.at.isoformat()) == (
        "payment_captured", "reconciliation", "2026-03-01T09:16:00+00:00")


def test_the_ledger_check_starts_from_the_shard_of_its_run_day(app, clock, monkeypatch):
    from chalicelib.premiums import ledger_check

    firsts = []
    monkeypatch.setattr(ledger_check, "check_ledger", lambda store, out_of_time, first: firsts.append(first) or {
        "streams": 0, "findings": 0, "complete": 1})

    for day in ("2026-01-01", "2026-01-02", "2026-01-08", "2026-01-09"):  # days 1, 2, 8, 9 of the year
        _run_as_of(app, "verify_ledger", f"{day}T00:30:00Z")

    assert firsts == [1, 2, 0, 1]  # the clock says 2026-03-01 (day 60, shard 4) throughout

"""Money edges: a callback about another gateway session captures nothing; a refund the gateway made is
never lost because our write after it failed."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import timedelta

import pytest

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


def logged(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_a_signed_callback_naming_another_gateway_reference_captures_nothing_and_is_logged_and_recorded(
        api, payer, capsys):
    from chalicelib.premiums.gateway.sandbox import build_callback
    from chalicelib.premiums.payment_secrets import callback_secrets
    from chalicelib.premiums.wiring import premium_deps

    payment = payer.started_payment()
    stored_ref = payment_ref(payment)
    session = gateway().store.get(stored_ref)
    # Correctly signed, for our payment id, but about a session this payment never opened.
    other = replace(session, gateway_ref="sbx_someoneelse", result="approved", status="captured",
                    transaction_id="sbt_other")
    signed = build_callback(other, callback_secrets()[0], int(time.time()))
    capsys.readouterr()

    answer = post_callback(api, signed.body, dict(signed.headers))

    assert answer.status == 200  # heard (the gateway must not retry it forever), and refused:
    got = payer.call("GET", f"/v1/payments/{payment['payment_id']}").body
    assert got["status"] == "pending" and got["transaction_id"] is None
    assert payer.call("GET", "/v1/policies").body["policies"] == []
    assert premium_deps().store.payment(payment["payment_id"]).gateway_ref == stored_ref
    events = ledger(f"payment#{payment['payment_id']}")
    assert [e.kind for e in events] == ["payment_started", "payment_session_opened", "payment_result_refused"]
    assert json.loads(events[-1].details) == {"reason": "gateway_ref", "gateway_ref": "sbx_someoneelse",
                                              "expected_gateway_ref": stored_ref, "status": "captured"}
    lines = logged(capsys)
    refused = [line for line in lines if line.get("event") == "payment_result_mismatch"]
    assert len(refused) == 1 and refused[0]["level"] == "ERROR"
    assert refused[0]["payment_id"] == payment["payment_id"] and refused[0]["reason"] == "gateway_ref"
    assert INSURED not in json.dumps(lines)
    # The payment's own session still settles it, keeping its reference.
    assert choose_on_page(api, payment, "approved").status == 200
    assert payer.call("GET", f"/v1/payments/{payment['payment_id']}").body["status"] == "captured"
    assert premium_deps().store.payment(payment["payment_id"]).gateway_ref == stored_ref


def _lost_race():
    from chalicelib.premiums.store import LostRace

    # DynamoDB cancelled the transaction: another one held the policy item at that instant.
    return LostRace(set(), conflict=True)


def _throttled():
    from pynamodb.exceptions import TransactWriteError

    return TransactWriteError("Throughput exceeds the current capacity of your table or index")


@pytest.mark.parametrize("failure", [_lost_race, _throttled], ids=["conflict", "throttled"])
def test_a_refund_the_gateway_made_but_we_could_not_write_is_logged_recorded_and_completed_by_reconciliation(
        app, api, payer, clock, monkeypatch, capsys, outbox, failure):
    from chalicelib.premiums.store import PremiumStore

    payment = payer.started_payment()
    choose_on_page(api, payment, "approved")
    assert outbox.messages(template="premium_receipt")  # delivered before the clock moves
    real_write = PremiumStore.complete_refund

    def failing_write(self, *args, **kwargs):
        raise failure()

    monkeypatch.setattr(PremiumStore, "complete_refund", failing_write)
    capsys.readouterr()

    answer = payer.refund(payment["payment_id"], "Visa cancelled")

    # The money is back (the gateway said so); the app is told the refund is under way, not refused.
    assert answer.status == 202, answer.body
    assert answer.body["refund_status"] == "requested"
    assert gateway().store.get(payment_ref(payment)).refunded_fils == 50_000
    lines = logged(capsys)
    alert = [line for line in lines if line.get("event") == "refund_not_recorded"]
    assert len(alert) == 1 and alert[0]["level"] == "ERROR"
    assert alert[0]["payment_id"] == payment["payment_id"] and alert[0]["refund_ref"].startswith("sbr_")
    assert INSURED not in json.dumps(lines)
    events = ledger(f"payment#{payment['payment_id']}")
    assert [e.kind for e in events][-2:] == ["refund_requested", "refund_gateway_confirmed"]
    assert json.loads(events[-1].details)["refund_ref"] == alert[0]["refund_ref"]
    assert payer.refund(payment["payment_id"]).body["error"]["code"] == "REFUND_IN_PROGRESS"

    monkeypatch.setattr(PremiumStore, "complete_refund", real_write)  # DynamoDB answers again
    clock.shift(timedelta(minutes=5))
    assert reconcile(app) == {"refund_completed": 1}
    assert reconcile(app) == {}

    got = payer.call("GET", f"/v1/payments/{payment['payment_id']}").body
    assert (got["status"], got["refund_status"], got["refunded_fils"]) == ("refunded", "refunded", 50_000)
    assert [r["status"] for r in got["refunds"]] == ["refunded"]
    policy = payer.call("GET", "/v1/policies").body["policies"][0]
    assert policy["status"] == "cancelled" and policy["periods"][0]["status"] == "cancelled"
    assert kinds(f"payment#{payment['payment_id']}")[-3:] == [
        "refund_requested", "refund_gateway_confirmed", "refunded"]
    assert kinds(policy_stream()) == ["policy_created", "policy_period_cancelled"]
    assert gateway().store.get(payment_ref(payment)).refunded_fils == 50_000  # asked once, never twice
    assert "50.000 KWD" in outbox.last(to=payer.email, template="premium_refund")["text"]


def test_an_id_no_one_was_given_is_404_on_every_premium_route_without_a_read(api, payer, monkeypatch):
    from tests.premiums.dynamo_limits import dynamodb_requests

    payment = payer.started_payment()
    long_id = "a" * 3_000
    requests = dynamodb_requests(monkeypatch)  # DynamoDB would refuse the key (a 500); moto does not on reads

    answers = [
        payer.call("GET", f"/v1/applications/{long_id}"),
        payer.call("PUT", f"/v1/applications/{long_id}", premium_support.application_body()),
        payer.call("POST", f"/v1/applications/{long_id}/confirm", {"accept": True}),
        payer.pay(long_id, "long-key"),
        payer.call("GET", f"/v1/payments/{long_id}"),
        payer.refund(long_id),
    ]

    assert [(a.status, a.body["error"]["code"]) for a in answers] == [(404, "NOT_FOUND")] * len(answers)
    assert not [op for op, params in requests if long_id[:100] in params]
    assert payer.call("GET", f"/v1/payments/{payment['payment_id']}").status == 200

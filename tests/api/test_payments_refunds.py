"""Refunds: before coverage starts or within 14 days, in full, once, through the gateway; the period cancelled."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api import premium_support
from tests.api.premium_support import choose_on_page, gateway, ledger, policy_stream

payer = premium_support.payer


def paid(api, payer, key: str = "first", **overrides) -> dict:
    payment = payer.started_payment(key=key, **overrides)
    choose_on_page(api, payment, "approved")
    return payment


def renewed(api, payer, clock, days_later: int = 320) -> tuple[dict, dict]:
    """A policy from 2026-03-01 and its renewal from 2027-03-01, paid `days_later`."""
    first = paid(api, payer)
    clock.shift(timedelta(days=days_later))
    renewal = payer.apply(kind="renewal")
    payer.confirm(renewal.body["application_id"])
    second = payer.pay(renewal.body["application_id"], "second").body
    choose_on_page(api, second, "approved")
    return first, second


def test_a_refund_within_fourteen_days_returns_everything_and_cancels_the_policy(api, payer, clock, outbox):
    payment = paid(api, payer)
    # Deliver the payment's receipts now: moto's queue stops answering once a message outlives
    # the queue's 4-day retention on a moved clock.
    assert outbox.messages(template="premium_receipt")
    clock.shift(timedelta(days=14))

    answer = payer.refund(payment["payment_id"], "  Residence   cancelled ")

    assert answer.status == 200, answer.body
    assert answer.body["status"] == "refunded"
    assert answer.body["refund_status"] == "refunded" and answer.body["refunded_fils"] == 50_000
    assert answer.body["refunds"] == [{
        "status": "refunded", "amount_fils": 50_000, "currency": "KWD", "reason": "Residence cancelled",
        "requested_at": "2026-03-15T09:00:00+00:00", "completed_at": "2026-03-15T09:00:00+00:00"}]
    policy = payer.call("GET", "/v1/policies").body["policies"][0]
    assert policy["status"] == "cancelled" and policy["end_date"] is None
    assert policy["periods"][0]["status"] == "cancelled"
    assert gateway().store.get(premium_support.payment_ref(payment)).refunded_fils == 50_000
    kinds = [e.kind for e in ledger(f"payment#{payment['payment_id']}")]
    assert kinds[-2:] == ["refund_requested", "refunded"]
    assert [e.kind for e in ledger(policy_stream())] == ["policy_created", "policy_period_cancelled"]
    email = outbox.last(to=payer.email, template="premium_refund")
    assert "50.000 KWD" in email["text"] and "Residence cancelled" in email["text"]
    assert outbox.last(to=payer.phone, template="premium_refund")["text"].startswith("Refunded 50.000 KWD")


def test_after_fourteen_days_of_coverage_a_refund_is_refused(api, payer, clock):
    payment = paid(api, payer)
    clock.shift(timedelta(days=14, seconds=1))

    answer = payer.refund(payment["payment_id"])

    assert answer.status == 422 and answer.body["error"]["code"] == "REFUND_NOT_ALLOWED"
    assert answer.body["error"]["window_days"] == 14
    assert payer.call("GET", "/v1/payments").body["payments"][0]["status"] == "captured"


def test_a_renewal_whose_coverage_has_not_started_is_refundable_long_after_payment(api, payer, clock):
    first, second = renewed(api, payer, clock)
    clock.shift(timedelta(days=40))  # 2027-02-24: paid 40 days ago, coverage starts 2027-03-01

    answer = payer.refund(second["payment_id"], "Leaving Kuwait")

    assert answer.status == 200, answer.body
    policy = payer.call("GET", "/v1/policies").body["policies"][0]
    # The renewal's period is gone; the first year stands, still paid by the first payment.
    assert (policy["status"], policy["start_date"], policy["end_date"]) == ("active", "2026-03-01", "2027-03-01")
    assert [p["status"] for p in policy["periods"]] == ["active", "cancelled"]
    # Once coverage started, the window counts from payment: the first is long past it.
    assert payer.refund(first["payment_id"]).body["error"]["code"] == "REFUND_NOT_ALLOWED"


def test_an_earlier_period_is_refunded_only_after_the_later_one(api, payer, clock):
    first, second = renewed(api, payer, clock, days_later=2)

    blocked = payer.refund(first["payment_id"])
    later = payer.refund(second["payment_id"])
    earlier = payer.refund(first["payment_id"])

    assert blocked.status == 409 and blocked.body["error"]["code"] == "LATER_PERIOD_PAID"
    assert later.status == earlier.status == 200
    policy = payer.call("GET", "/v1/policies").body["policies"][0]
    assert policy["status"] == "cancelled"
    assert [p["status"] for p in policy["periods"]] == ["cancelled", "cancelled"]


def test_a_payment_is_refunded_once(api, payer):
    payment = paid(api, payer)

    first = payer.refund(payment["payment_id"])
    second = payer.refund(payment["payment_id"])

    assert first.status == 200
    assert second.status == 409 and second.body["error"]["code"] == "ALREADY_REFUNDED"
    assert gateway().store.get(premium_support.payment_ref(payment)).refunded_fils == 50_000


def test_a_refund_needs_a_reason(api, payer):
    payment = paid(api, payer)

    for reason in (None, "   ", "x" * 501):
        answer = payer.refund(payment["payment_id"], reason)
        assert answer.status == 422
        assert "reason" in answer.body["error"]["fields"]


@pytest.mark.parametrize("result", ["declined", None])
def test_only_captured_payments_are_refundable(api, payer, result):
    payment = payer.started_payment()
    if result:
        choose_on_page(api, payment, result)

    answer = payer.refund(payment["payment_id"])

    assert answer.status == 409 and answer.body["error"]["code"] == "NOT_REFUNDABLE"


def test_a_refund_the_gateway_refuses_changes_nothing_and_may_be_asked_again(api, payer, monkeypatch):
    from chalicelib.premiums.gateway import GatewayRefundStatus, RefundResult

    payment = paid(api, payer)
    real = gateway().refund
    monkeypatch.setattr(gateway(), "refund", lambda pid, ref, amount: RefundResult(
        GatewayRefundStatus.FAILED, ref, amount, error_code="IPAY0100159"))

    refused = payer.refund(payment["payment_id"])

    assert refused.status == 502 and refused.body["error"]["code"] == "REFUND_FAILED"
    assert refused.body["error"]["payment"]["refund_status"] == "failed"
    assert payer.call("GET", "/v1/policies").body["policies"][0]["status"] == "active"
    monkeypatch.setattr(gateway(), "refund", real)
    again = payer.refund(payment["payment_id"])
    assert again.status == 200
    assert [r["status"] for r in again.body["refunds"]] == ["failed", "refunded"]
    assert again.body["refunded_fils"] == 50_000


def test_a_refund_whose_outcome_is_unknown_stays_requested_and_blocks_a_second(api, payer, monkeypatch):
    from chalicelib.premiums.gateway import GatewayError

    payment = paid(api, payer)

    def unreachable(*args):
        raise GatewayError("timeout")

    monkeypatch.setattr(gateway(), "refund", unreachable)
    answer = payer.refund(payment["payment_id"])

    assert answer.status == 202 and answer.body["refund_status"] == "requested"
    assert payer.refund(payment["payment_id"]).body["error"]["code"] == "REFUND_IN_PROGRESS"


def test_someone_elses_payment_cannot_be_seen_or_refunded(api, payer):
    from tests.api.premium_support import make_payer

    payment = paid(api, payer)
    other = make_payer(api, account_id="acct-other", email="o@example.com", phone="+96550000001")

    assert other.call("GET", f"/v1/payments/{payment['payment_id']}").status == 404
    assert other.refund(payment["payment_id"]).status == 404
    assert other.call("GET", "/v1/payments").body["payments"] == []
    assert other.call("GET", "/v1/policies").body["policies"] == []


def test_a_refund_that_ends_the_cover_revokes_the_residence_card_in_the_crl(api, payer):
    from tests.api.cards_support import Holder, qr_of_png, stored

    payment = paid(api, payer)
    holder = Holder(api, payer.account_id)
    (card,) = holder.cards()
    drawn = holder.card(card["member_id"], "png")
    assert drawn.status == 200, drawn.body
    qr = qr_of_png(stored(drawn.body["url"])[0])
    kid = api.get("/.well-known/jwks.json").body["keys"][0]["kid"]
    before = api.post("/v1/verify", {"payload": qr}).body
    assert (before["format"], before["status"], before["revoked"]) == ("shc", "active", False)
    rid = before["card"]["rid"]

    assert payer.refund(payment["payment_id"]).status == 200

    crl = api.get(f"/.well-known/crl/{kid}.json").body
    assert [entry.partition(".")[0] for entry in crl["rids"]] == [rid] and crl["ctr"] == 2
    after = api.post("/v1/verify", {"payload": qr}).body
    assert (after["genuine"], after["status"], after["revoked"]) == (True, "cancelled", True)


def test_a_refund_is_written_even_when_the_card_revocation_fails(api, payer, monkeypatch, capsys):
    from chalicelib.cards import revocation

    payment = paid(api, payer)

    def s3_down(self, kid, entries):
        raise RuntimeError("S3 unavailable")

    monkeypatch.setattr(revocation.S3RevocationLists, "add", s3_down)
    answer = payer.refund(payment["payment_id"])

    assert answer.status == 200 and answer.body["refund_status"] == "refunded"
    assert payer.call("GET", "/v1/policies").body["policies"][0]["status"] == "cancelled"
    assert '"card_revocation_failed"' in capsys.readouterr().out


def test_a_refund_completed_by_reconciliation_revokes_the_card_then(app, api, payer, clock, monkeypatch):
    from chalicelib.premiums.store import PremiumStore
    from tests.api.cards_support import Holder, qr_of_png, stored
    from tests.api.test_payments_money_edges import reconcile

    payment = paid(api, payer)
    holder = Holder(api, payer.account_id)
    qr = qr_of_png(stored(holder.card(holder.cards()[0]["member_id"], "png").body["url"])[0])
    real_write = PremiumStore.complete_refund

    def failing_write(self, *args, **kwargs):
        raise RuntimeError("DynamoDB unavailable")

    monkeypatch.setattr(PremiumStore, "complete_refund", failing_write)
    assert payer.refund(payment["payment_id"]).status == 202  # the gateway refunded; our write failed
    assert api.post("/v1/verify", {"payload": qr}).body["revoked"] is False  # the cover is not ended yet

    monkeypatch.setattr(PremiumStore, "complete_refund", real_write)
    clock.shift(timedelta(minutes=5))
    assert reconcile(app) == {"refund_completed": 1}

    after = api.post("/v1/verify", {"payload": qr}).body
    assert (after["status"], after["revoked"]) == ("cancelled", True)

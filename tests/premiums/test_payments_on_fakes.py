"""Premium use cases on fakes, in milliseconds: quote, apply, confirm, pay, the gateway's callback, refund.

The store is tests/premiums/fakes.py (its contract test runs it against PremiumStore on moto), the
gateway is the sandbox with its sessions in memory; tests assert on their state, not on calls.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.errors import AppError
from chalicelib.premiums import applications, payments, refunds
from chalicelib.premiums.payment_rules import (
    AlreadyRefunded,
    ApplicationStatus,
    IdempotencyKeyReused,
    PaymentStatus,
    RefundStatus,
)
from tests.api.premium_support import INSURED, application_body
from tests.premiums.fakes import World, make_world

ACCOUNT = "acc-1"


def confirmed_application(world: World) -> dict:
    created = applications.create_application(world.deps, ACCOUNT, application_body())
    return applications.confirm_application(world.deps, ACCOUNT, created["application_id"],
                                            {"accept": True, "revision": created["revision"]})


def pay(world: World, application_id: str, key: str = "key-1", body: dict | None = None) -> tuple[dict, bool]:
    return payments.start_payment(world.deps, account_id=ACCOUNT, application_id=application_id,
                                  idempotency_key=key, body=body or {}, lang="en")


def person_chooses(world: World, payment: dict, result: str = "approved"):
    """The person on the sandbox page; the signed callback it posts, if any."""
    return world.gateway.complete(payment["payment_url"].rsplit("/", 1)[-1], {"result": result}).callback


def paid(world: World) -> dict:
    application = confirmed_application(world)
    payment, _ = pay(world, application["application_id"])
    callback = person_chooses(world, payment)
    payments.handle_callback(world.deps, callback.body, callback.headers)
    return payments.get_payment(world.deps, ACCOUNT, payment["payment_id"])


def test_a_quote_prices_the_years_asked_for(world):
    one = applications.quote_premium(world.deps, {"category": "private_sector_employee", "years": "1"})
    two = applications.quote_premium(world.deps, {"category": "private_sector_employee", "years": "2"})
    assert two["amount_fils"] == 2 * one["amount_fils"] > 0
    assert one["period"]["start_date"] == "2026-03-01"


def test_from_application_to_refund_the_person_pays_once_is_covered_then_refunded(world):
    application = confirmed_application(world)
    assert application["confirmation"]["confirmed"] is True
    payment, created = pay(world, application["application_id"])
    assert created and payment["status"] == PaymentStatus.PENDING and payment["payment_url"]
    assert world.store.application(application["application_id"]).status == ApplicationStatus.PAYMENT_PENDING

    callback = person_chooses(world, payment)
    ack = payments.handle_callback(world.deps, callback.body, callback.headers)
    assert ack.status == 200
    captured = payments.get_payment(world.deps, ACCOUNT, payment["payment_id"])
    assert (captured["status"], captured["transaction_id"] is not None) == (PaymentStatus.CAPTURED, True)
    [policy] = payments.list_policies(world.deps, ACCOUNT)
    assert (policy["status"], policy["insured"]["civil_id"], policy["end_date"]) == ("active", INSURED, "2027-03-01")
    assert sorted(m.channel for m in world.sent) == ["email", "sms"]  # the receipts

    view, status = refunds.request_refund(world.deps, ACCOUNT, payment["payment_id"], {"reason": "plans changed"})
    assert (status, view["status"], view["refund_status"], view["refunded_fils"]) == (
        200, PaymentStatus.REFUNDED, RefundStatus.REFUNDED, payment["amount_fils"])
    assert payments.list_policies(world.deps, ACCOUNT)[0]["status"] == "cancelled"
    assert world.store.policy(INSURED).lock_ref is None
    assert len(world.sent) == 4  # and the refund's receipts
    assert [e.kind for e in world.store.ledger(f"payment#{payment['payment_id']}")] == [
        "payment_started", "payment_session_opened", "payment_captured", "refund_requested", "refunded"]


def test_one_idempotency_key_makes_one_payment_and_one_gateway_session(world):
    application = confirmed_application(world)
    first, created_first = pay(world, application["application_id"])
    again, created_again = pay(world, application["application_id"])
    assert (created_first, created_again) == (True, False)
    assert again == first
    assert len(world.store.payments) == 1
    assert len(world.gateway.store.sessions) == 1
    with pytest.raises(IdempotencyKeyReused):
        pay(world, application["application_id"], body={"something": "else"})


def test_a_repeated_callback_changes_nothing(world):
    application = confirmed_application(world)
    payment, _ = pay(world, application["application_id"])
    callback = person_chooses(world, payment)
    payments.handle_callback(world.deps, callback.body, callback.headers)
    writes = world.store.writes
    payments.handle_callback(world.deps, callback.body, callback.headers)
    assert world.store.writes == writes
    assert payments.get_payment(world.deps, ACCOUNT, payment["payment_id"])["status"] == PaymentStatus.CAPTURED


def test_a_payment_is_refunded_once(world):
    payment = paid(world)
    refunds.request_refund(world.deps, ACCOUNT, payment["payment_id"], {"reason": "plans changed"})
    with pytest.raises(AlreadyRefunded):
        refunds.request_refund(world.deps, ACCOUNT, payment["payment_id"], {"reason": "again"})
    session = world.gateway.store.find(payment["payment_id"])
    assert session.refunded_fils == payment["amount_fils"]
    assert len(world.store.payment(payment["payment_id"]).refunds) == 1


def test_a_declined_payment_frees_the_application_for_another_try(world):
    application = confirmed_application(world)
    payment, _ = pay(world, application["application_id"])
    callback = person_chooses(world, payment, "declined")
    payments.handle_callback(world.deps, callback.body, callback.headers)
    assert payments.get_payment(world.deps, ACCOUNT, payment["payment_id"])["status"] == PaymentStatus.DECLINED
    second, created = pay(world, application["application_id"], key="key-2")
    assert created and second["payment_id"] != payment["payment_id"]


def test_reconciliation_captures_a_payment_whose_callback_never_came(world):
    application = confirmed_application(world)
    payment, _ = pay(world, application["application_id"])
    assert person_chooses(world, payment, "timeout") is None
    world.clock.shift(timedelta(minutes=world.deps.settings.payments.reconcile_after_minutes))
    assert payments.reconcile_due(world.deps) == {"captured": 1}
    assert payments.get_payment(world.deps, ACCOUNT, payment["payment_id"])["status"] == PaymentStatus.CAPTURED
    assert payments.reconcile_due(world.deps) == {}


# Replaces a test that walked a transition table no code read: the same promise, kept by the use cases.
@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["callback", "declined_callback", "reconcile", "refund"]), max_size=8))
def test_a_payment_moves_only_forward_and_is_refunded_at_most_once(steps):
    world = make_world()
    application = confirmed_application(world)
    payment, _ = pay(world, application["application_id"])
    ref = payment["payment_url"].rsplit("/", 1)[-1]
    order = [PaymentStatus.PENDING, PaymentStatus.CAPTURED, PaymentStatus.REFUNDED]
    seen = [PaymentStatus.PENDING]
    for step in steps:
        try:
            if step in ("callback", "declined_callback"):
                world.gateway.complete(ref, {"result": "approved" if step == "callback" else "declined"})
                callback = world.gateway.callback_for(ref)
                payments.handle_callback(world.deps, callback.body, callback.headers)
            elif step == "reconcile":
                world.clock.shift(timedelta(hours=1))
                payments.reconcile_due(world.deps)
            else:
                refunds.request_refund(world.deps, ACCOUNT, payment["payment_id"], {"reason": "x"})
        except AppError:
            pass  # refused, as the person would be told: the state must still be sound
        seen.append(world.store.payment(payment["payment_id"]).status)
    final = world.store.payment(payment["payment_id"])
    assert int(final.refunded_fils) <= int(final.amount_fils)
    assert len([a for a in (final.refunds or []) if a.status == RefundStatus.REFUNDED]) <= 1
    if PaymentStatus.DECLINED in seen:  # a closed payment stays closed
        assert seen[seen.index(PaymentStatus.DECLINED):] == [PaymentStatus.DECLINED] * (
            len(seen) - seen.index(PaymentStatus.DECLINED))
    else:
        ranks = [order.index(s) for s in seen]
        assert ranks == sorted(ranks)


def test_a_number_another_policy_holds_is_never_issued_again_the_next_draw_is(world):
    world.store.policy_numbers["RH-26-4K7M-9P2Q"] = "pol-someone-else"
    draws = iter(["RH-26-4K7M-9P2Q", "RH-26-HX3N-5VW7"])
    world.deps.new_policy_number = lambda day: next(draws)

    paid(world)

    [policy] = payments.list_policies(world.deps, ACCOUNT)
    assert policy["policy_number"] == "RH-26-HX3N-5VW7"
    assert world.store.policy_numbers["RH-26-4K7M-9P2Q"] == "pol-someone-else"


def test_a_policy_issued_before_numbers_existed_gets_one_with_its_next_payment_and_keeps_it(world):
    paid(world)
    world.store.policies[INSURED].policy_number = None  # as stored before numbers existed
    assert payments.list_policies(world.deps, ACCOUNT)[0]["policy_number"] is None
    world.clock.shift(timedelta(days=320))
    renewal = applications.create_application(world.deps, ACCOUNT, application_body(kind="renewal"))
    applications.confirm_application(world.deps, ACCOUNT, renewal["application_id"], {"accept": True})
    payment, _ = pay(world, renewal["application_id"], key="renewal")
    callback = person_chooses(world, payment)
    payments.handle_callback(world.deps, callback.body, callback.headers)

    [policy] = payments.list_policies(world.deps, ACCOUNT)
    assert policy["policy_number"] and policy["policy_number"].startswith("RH-27-")
    assert len(policy["periods"]) == 2


def test_a_capture_whose_receipt_cannot_be_addressed_is_still_captured_and_acknowledged(world, monkeypatch):
    def contact_unreadable(account_id):
        raise RuntimeError("accounts table throttled")

    application = confirmed_application(world)
    payment, _ = pay(world, application["application_id"])
    monkeypatch.setattr(world.deps, "contact", contact_unreadable)
    callback = person_chooses(world, payment)

    ack = payments.handle_callback(world.deps, callback.body, callback.headers)

    assert ack.status == 200 and world.sent == []
    assert payments.get_payment(world.deps, ACCOUNT, payment["payment_id"])["status"] == PaymentStatus.CAPTURED
    view, status = refunds.request_refund(world.deps, ACCOUNT, payment["payment_id"], {"reason": "plans changed"})
    assert (status, view["status"]) == (200, PaymentStatus.REFUNDED)

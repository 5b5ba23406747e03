"""Payment races, many rounds each, on the linearizable moto server: one payment per key, one refund of two.

Each round uses a fresh account, insured person and application on the one server the test
provisioned (fresh ids cost milliseconds; re-provisioning costs a second), and the app's
services are called from threads released together, as concurrent Lambdas would call them.
The server applies each DynamoDB request atomically (see tests/concurrency/test_linearizable_moto.py),
so a round passes because the app's conditional writes won the race, never because moto
happened not to interleave.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

from tests.api.premium_support import SPONSOR, application_body, civil_id_born
from tests.fixtures_moto_server import race

ROUNDS = 20


def _insured(round_no: int) -> str:
    # One insured person per round: a person's coverage lock would otherwise chain the rounds.
    return civil_id_born(date(1980, 1, 1) + timedelta(days=97 * round_no))


def _confirmed_application(deps: Any, account_id: str, insured: str) -> str:
    from chalicelib.premiums import applications as premiums

    created = premiums.create_application(deps, account_id, application_body(insured_civil_id=insured,
                                                                             sponsor_civil_id=SPONSOR))
    premiums.confirm_application(deps, account_id, created["application_id"], {"accept": True})
    return created["application_id"]


def _warm(deps: Any) -> None:
    """Clients made before the race, as warm Lambdas have them: the threads race on DynamoDB, not on boto3."""
    _ = deps.gateway
    deps.store.idempotency("warm"), deps.store.payment("warm"), deps.store.policy("warm")
    deps.store.application("warm")


def _captured_payment(deps: Any, account_id: str, insured: str) -> Any:
    from chalicelib.premiums import payments

    application_id = _confirmed_application(deps, account_id, insured)
    view, _ = payments.start_payment(deps, account_id=account_id, application_id=application_id,
                                     idempotency_key="pay", body={}, lang="en")
    callback = deps.gateway.complete(view["payment_url"].rsplit("/", 1)[-1], {"result": "approved"}).callback
    payments.handle_callback(deps, callback.body, dict(callback.headers))
    payment = deps.store.payment(view["payment_id"])
    assert payment.status == "captured"
    return payment


def _one_key_round(deps: Any, round_no: int) -> None:
    from chalicelib.premiums import payments

    account_id = f"acct-pay-{round_no}"
    application_id = _confirmed_application(deps, account_id, _insured(round_no))
    sessions_before = len(deps.gateway.store.sessions)

    outcomes = race(20, lambda _: payments.start_payment(
        deps, account_id=account_id, application_id=application_id, idempotency_key="one-key", body={}, lang="en"))

    assert [o for o in outcomes if isinstance(o, Exception)] == [], round_no
    assert len({view["payment_id"] for view, _ in outcomes}) == 1, round_no
    assert sum(created for _, created in outcomes) == 1, round_no
    assert all(view["payment_url"] for view, _ in outcomes), round_no
    made = deps.store.payments_of(account_id)
    assert [p.payment_id for p in made] == [outcomes[0][0]["payment_id"]], round_no
    assert len(deps.gateway.store.sessions) == sessions_before + 1, round_no
    assert [e.kind for e in deps.store.ledger(f"payment#{made[0].payment_id}")] == [
        "payment_started", "payment_session_opened"], round_no


def test_twenty_concurrent_starts_with_one_key_make_one_payment_in_every_round(moto_server):
    from chalicelib.premiums.wiring import premium_deps

    deps = premium_deps()
    _warm(deps)
    for round_no in range(ROUNDS):
        _one_key_round(deps, round_no)


def _two_refunds_round(deps: Any, round_no: int, refund_calls: list[str]) -> None:
    from chalicelib.errors import AppError
    from chalicelib.premiums import refunds

    account_id = f"acct-refund-{round_no}"
    payment = _captured_payment(deps, account_id, _insured(round_no))
    pid = payment.payment_id

    outcomes = race(2, lambda _: refunds.request_refund(deps, account_id, pid, {"reason": "Visa cancelled"}))

    answered = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(answered) == 1 and answered[0][1] == 200, (round_no, outcomes)
    assert answered[0][0]["status"] == "refunded", round_no
    assert len(refused) == 1 and isinstance(refused[0], AppError), (round_no, refused)
    assert refused[0].status == 409, (round_no, refused)
    assert refused[0].code in ("REFUND_IN_PROGRESS", "ALREADY_REFUNDED"), (round_no, refused[0].code)
    assert refund_calls.count(pid) == 1, round_no
    assert deps.gateway.store.get(payment.gateway_ref).refunded_fils == int(payment.amount_fils), round_no
    kinds = [e.kind for e in deps.store.ledger(f"payment#{pid}")]
    assert kinds.count("refund_requested") == 1 and kinds.count("refunded") == 1, (round_no, kinds)
    policy = deps.store.policy(payment.insured_civil_id)
    assert [e.kind for e in deps.store.ledger(f"policy#{policy.policy_id}")] == [
        "policy_created", "policy_period_cancelled"], round_no
    assert policy.status == "cancelled" and policy.lock_ref is None, round_no


def test_of_two_concurrent_refunds_one_reaches_the_gateway_and_the_other_is_a_conflict_in_every_round(
        moto_server, monkeypatch):
    from chalicelib.premiums.wiring import premium_deps

    deps = premium_deps()
    _warm(deps)
    refund_calls: list[str] = []
    calls_lock = threading.Lock()
    real_refund = deps.gateway.refund

    def counted_refund(payment_id: str, gateway_ref: str, amount_fils: int) -> Any:
        with calls_lock:
            refund_calls.append(payment_id)
        return real_refund(payment_id, gateway_ref, amount_fils)

    monkeypatch.setattr(deps.gateway, "refund", counted_refund)
    for round_no in range(ROUNDS):
        _two_refunds_round(deps, round_no, refund_calls)

"""Family-basket races, many rounds each, on the linearizable moto server: one basket per key, one refund of a
share of two, and a capture racing a refund.

As tests/concurrency/test_payment_races.py: each round has a fresh account and fresh insured people on the
one provisioned server, and the app's services are called from threads released together.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

from chalicelib.errors import AppError
from tests.api.premium_support import SPONSOR, application_body, civil_id_born
from tests.fixtures_moto_server import race

ROUNDS = 15
FAMILY = 3


def _insured(round_no: int, member: int, salt: int) -> str:
    # People of their own per round and test: a person's coverage lock would otherwise chain the rounds.
    return civil_id_born(date(1960, 1, 1) + timedelta(days=97 * round_no + 7 * member + 3000 * salt))


def _basket(deps: Any, account_id: str, round_no: int, salt: int) -> list[str]:
    from chalicelib.premiums import applications as premiums

    ids = []
    for member in range(FAMILY):
        created = premiums.create_application(deps, account_id, application_body(
            insured_civil_id=_insured(round_no, member, salt), sponsor_civil_id=SPONSOR))
        premiums.confirm_application(deps, account_id, created["application_id"], {"accept": True})
        ids.append(created["application_id"])
    return ids


def _warm(deps: Any) -> None:
    _ = deps.gateway
    deps.store.idempotency("warm"), deps.store.payment("warm"), deps.store.policy("warm")
    deps.store.application("warm")


def _start(deps: Any, account_id: str, ids: list[str], key: str = "basket") -> tuple[dict, bool]:
    from chalicelib.premiums import baskets

    return baskets.start_basket_payment(deps, account_id=account_id, idempotency_key=key,
                                        body={"application_ids": ids}, lang="en")


def _approve(deps: Any, view: dict) -> Any:
    from chalicelib.premiums import payments

    callback = deps.gateway.complete(view["payment_url"].rsplit("/", 1)[-1], {"result": "approved"}).callback
    return callback, lambda: payments.handle_callback(deps, callback.body, dict(callback.headers))


def test_twenty_concurrent_basket_starts_with_one_key_make_one_payment_in_every_round(moto_server):
    from chalicelib.premiums.wiring import premium_deps

    deps = premium_deps()
    _warm(deps)
    for round_no in range(ROUNDS):
        account_id = f"acct-basket-{round_no}"
        ids = _basket(deps, account_id, round_no, salt=0)
        sessions_before = len(deps.gateway.store.sessions)

        outcomes = race(20, lambda _, account_id=account_id, ids=ids: _start(deps, account_id, ids))

        assert [o for o in outcomes if isinstance(o, Exception)] == [], round_no
        assert len({view["payment_id"] for view, _ in outcomes}) == 1, round_no
        assert sum(created for _, created in outcomes) == 1, round_no
        assert len(deps.store.payments_of(account_id)) == 1, round_no
        assert len(deps.gateway.store.sessions) == sessions_before + 1, round_no
        assert {deps.store.application(i).status for i in ids} == {"payment_pending"}, round_no


def test_of_two_concurrent_refunds_of_one_share_one_reaches_the_gateway_in_every_round(moto_server, monkeypatch):
    from chalicelib.premiums import refunds
    from chalicelib.premiums.wiring import premium_deps

    deps = premium_deps()
    _warm(deps)
    calls: list[tuple[str, int]] = []
    lock = threading.Lock()
    real_refund = deps.gateway.refund

    def counted(payment_id: str, gateway_ref: str, amount_fils: int) -> Any:
        with lock:
            calls.append((payment_id, amount_fils))
        return real_refund(payment_id, gateway_ref, amount_fils)

    monkeypatch.setattr(deps.gateway, "refund", counted)
    for round_no in range(ROUNDS):
        account_id = f"acct-share-{round_no}"
        ids = _basket(deps, account_id, round_no, salt=1)
        view, _ = _start(deps, account_id, ids)
        _, deliver = _approve(deps, view)
        deliver()
        pid = view["payment_id"]

        share = {"reason": "left Kuwait", "application_id": ids[1]}
        outcomes = race(2, lambda _, account_id=account_id, pid=pid, share=share: refunds.request_refund(
            deps, account_id, pid, share))

        answered = [o for o in outcomes if not isinstance(o, Exception)]
        refused = [o for o in outcomes if isinstance(o, Exception)]
        assert len(answered) == 1 and answered[0][1] == 200, (round_no, outcomes)
        assert len(refused) == 1 and isinstance(refused[0], AppError) and refused[0].status == 409, (round_no,
                                                                                                      refused)
        assert refused[0].code in ("REFUND_IN_PROGRESS", "ALREADY_REFUNDED"), (round_no, refused[0].code)
        assert calls.count((pid, 50_000)) == 1, round_no
        payment = deps.store.payment(pid)
        assert (payment.status, int(payment.refunded_fils)) == ("captured", 50_000), round_no
        assert deps.gateway.store.get(payment.gateway_ref).refunded_fils == 50_000, round_no
        statuses = [deps.store.policy(_insured(round_no, m, 1)).status for m in range(FAMILY)]
        assert statuses == ["active", "cancelled", "active"], round_no
        assert all(deps.store.policy(_insured(round_no, m, 1)).lock_ref is None for m in range(FAMILY)), round_no


def test_a_capture_racing_a_refund_ends_consistent_in_every_round(moto_server):
    from chalicelib.premiums import refunds
    from chalicelib.premiums.wiring import premium_deps

    deps = premium_deps()
    _warm(deps)
    for round_no in range(ROUNDS):
        account_id = f"acct-cvr-{round_no}"
        ids = _basket(deps, account_id, round_no, salt=2)
        view, _ = _start(deps, account_id, ids)
        _, deliver = _approve(deps, view)
        pid = view["payment_id"]

        def attempt(index: int, deliver: Any = deliver, account_id: str = account_id, pid: str = pid) -> Any:
            if index == 0:
                return deliver()
            return refunds.request_refund(deps, account_id, pid, {"reason": "changed my mind"})

        outcomes = race(2, attempt)

        assert not isinstance(outcomes[0], Exception), (round_no, outcomes)
        payment = deps.store.payment(pid)
        people = [deps.store.policy(_insured(round_no, m, 2)) for m in range(FAMILY)]
        assert all(p.lock_ref is None for p in people), round_no
        if isinstance(outcomes[1], Exception):
            # The refund came first and found the payment not captured yet: the capture stands whole.
            assert isinstance(outcomes[1], AppError) and outcomes[1].code == "NOT_REFUNDABLE", (round_no, outcomes)
            assert (payment.status, int(payment.refunded_fils)) == ("captured", 0), round_no
            assert {p.status for p in people} == {"active"}, round_no
        else:
            assert (payment.status, int(payment.refunded_fils)) == ("refunded", 150_000), round_no
            assert {p.status for p in people} == {"cancelled"}, round_no
            assert deps.gateway.store.get(payment.gateway_ref).refunded_fils == 150_000, round_no

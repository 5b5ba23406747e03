"""Invariants over random histories, on moto: whatever people, gateways and clocks do,
- refunds of a payment never exceed it;
- every active policy period is covered by exactly one captured, unrefunded payment, and the other way round;
- every payment's state changes have their ledger events;
- repeated callbacks and lost races change nothing."""

from __future__ import annotations

import contextlib
import itertools
from datetime import UTC, datetime, timedelta

import time_machine
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.api.premium_support import INSURED, SECOND_INSURED, application_body

ACCOUNT = "acct-hypothesis"
PEOPLE = (INSURED, SECOND_INSURED)

pay = st.tuples(st.just("pay"), st.integers(0, 1), st.integers(0, 3), st.integers(1, 2),
                st.sampled_from(["approved", "approved", "declined", "timeout", "left"]))
step = st.one_of(
    pay,
    st.tuples(st.just("replay"), st.integers(0, 5)),
    st.tuples(st.just("refund"), st.integers(0, 5), st.booleans()),
    st.tuples(st.just("wait"), st.sampled_from([timedelta(minutes=20), timedelta(days=3), timedelta(days=20),
                                                timedelta(days=300)])),
    st.tuples(st.just("reconcile")),
)


@contextlib.contextmanager
def fresh_aws():
    from moto import mock_aws

    from chalicelib.accounts.jwt_tokens import jwt_keys
    from chalicelib.platform.aws import reset_clients
    from chalicelib.settings import reset_settings
    from chalicelib.wiring import reset_wiring
    from devstack.provision import provision

    reset_settings()
    reset_clients()
    reset_wiring()
    jwt_keys.cache_clear()
    with mock_aws():
        provision("dev", "me-south-1")
        yield


class History:
    """Drives the use cases the way people and the gateway would, ignoring refusals (they are allowed)."""

    def __init__(self, traveller) -> None:
        from chalicelib.premiums.wiring import premium_deps

        self.deps = premium_deps()
        self.traveller = traveller
        self.payments: list[dict] = []
        self.callbacks: dict[str, object] = {}

    def run(self, action: tuple) -> None:
        from chalicelib.errors import AppError

        with contextlib.suppress(AppError):
            getattr(self, action[0])(*action[1:])

    def pay(self, person: int, key: int, years: int, outcome: str) -> None:
        from chalicelib.premiums import applications as premiums
        from chalicelib.premiums import payments

        civil_id = PEOPLE[person]
        policy = self.deps.store.policy(civil_id)
        renewal = bool(policy and policy.end_date and policy.end_date > self.today())
        created = premiums.create_application(self.deps, ACCOUNT, application_body(
            insured_civil_id=civil_id, kind="renewal" if renewal else "new", years=years,
            passport_expiry="2035-01-01"))
        premiums.confirm_application(self.deps, ACCOUNT, created["application_id"], {"accept": True})
        view, _ = payments.start_payment(self.deps, account_id=ACCOUNT, application_id=created["application_id"],
                                         idempotency_key=f"key-{key}", body={}, lang="en")
        self.payments.append(view)
        ref = view["payment_url"].rsplit("/", 1)[-1]
        if outcome == "left" or self.deps.gateway.store.get(ref).result is not None:
            return
        page = self.deps.gateway.complete(ref, {"result": outcome})
        if page.callback is not None:
            self.callbacks[view["payment_id"]] = page.callback
            payments.handle_callback(self.deps, page.callback.body, dict(page.callback.headers))

    def replay(self, index: int) -> None:
        from chalicelib.premiums import payments

        if not self.payments:
            return
        index %= len(self.payments)
        if self.payments[index]["payment_id"] in self.callbacks:
            ref = self.payments[index]["payment_url"].rsplit("/", 1)[-1]
            signed = self.deps.gateway.callback_for(ref)  # freshly signed: the clock may have moved
            payments.handle_callback(self.deps, signed.body, dict(signed.headers))

    def refund(self, index: int, gateway_agrees: bool) -> None:
        from chalicelib.premiums import refunds
        from chalicelib.premiums.gateway import GatewayRefundStatus, RefundResult

        if not self.payments:
            return
        index %= len(self.payments)
        gateway = self.deps.gateway
        if not gateway_agrees:
            gateway.refund = lambda pid, ref, amount: RefundResult(
                GatewayRefundStatus.FAILED, ref, amount, error_code="X")
        try:
            refunds.request_refund(self.deps, ACCOUNT, self.payments[index]["payment_id"], {"reason": "changed plans"})
        finally:
            gateway.__dict__.pop("refund", None)

    def wait(self, delta: timedelta) -> None:
        self.traveller.shift(delta)

    def reconcile(self) -> None:
        from chalicelib.premiums import payments

        payments.reconcile_due(self.deps)

    def today(self) -> str:
        from chalicelib.kernel.kuwait_time import kuwait_today

        return kuwait_today(self.deps.now()).isoformat()


def check_invariants(deps) -> None:
    from chalicelib.premiums.payment_rules import PaymentStatus

    payments = {p.payment_id: p for p in deps.store.payments_of(ACCOUNT)}
    for payment in payments.values():
        refunded = sum(int(r.amount_fils) for r in (payment.refunds or []) if r.status == "refunded")
        assert refunded == int(payment.refunded_fils or 0) <= int(payment.amount_fils)
        assert (payment.status == PaymentStatus.REFUNDED) == (refunded == int(payment.amount_fils))
        kinds = [e.kind for e in deps.store.ledger(f"payment#{payment.payment_id}")]
        assert kinds[0] == "payment_started"
        expected_last_status_event = {
            PaymentStatus.CAPTURED: "payment_captured", PaymentStatus.DECLINED: "payment_declined",
            PaymentStatus.EXPIRED: "payment_expired", PaymentStatus.REFUNDED: "refunded",
        }.get(payment.status)
        if expected_last_status_event:
            assert kinds.count(expected_last_status_event) == 1
        assert kinds.count("payment_captured") <= 1 and kinds.count("refunded") <= 1
        assert kinds.count("refund_requested") == len(payment.refunds or [])
        assert kinds.count("refund_failed") == sum(r.status == "failed" for r in (payment.refunds or []))

    covering: dict[str, str] = {}
    for civil_id in PEOPLE:
        policy = deps.store.policy(civil_id)
        active = [p for p in ((policy.periods if policy else None) or []) if p.status == "active"]
        for period in active:
            payment = payments[period.payment_id]
            assert payment.status == PaymentStatus.CAPTURED
            assert (payment.period_start, payment.period_end) == (period.start, period.end)
            assert payment.insured_civil_id == civil_id
            assert period.payment_id not in covering
            covering[period.payment_id] = civil_id
        spans = sorted((p.start, p.end) for p in active)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
        assert (policy.end_date if policy and active else None) == (spans[-1][1] if spans else None)
    captured = {pid for pid, p in payments.items() if p.status == PaymentStatus.CAPTURED}
    assert captured == set(covering)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.tuples(pay, st.lists(step, max_size=9)).map(lambda t: [t[0], *t[1]]))
def test_no_history_loses_or_doubles_a_dinar(steps):
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller, fresh_aws():
        history = History(traveller)
        for action in steps:
            history.run(action)
            check_invariants(history.deps)
        for status in sorted({p.status for p in history.deps.store.payments_of(ACCOUNT)}):
            event(f"a payment ended {status}")


def test_every_transition_is_conditional_so_a_stale_writer_fails_cleanly(api, clock):
    import pytest

    from chalicelib.errors import StaleState
    from chalicelib.platform.clock import now
    from chalicelib.premiums.ledger import LedgerEvent
    from chalicelib.premiums.wiring import premium_deps
    from tests.api.premium_support import choose_on_page, make_payer

    payer = make_payer(api)
    payment = payer.started_payment()
    store = premium_deps().store
    stale = store.payment(payment["payment_id"])  # read while pending
    choose_on_page(api, payment, "approved")
    application = store.application(payment["application_id"])
    event = LedgerEvent(f"payment#{payment['payment_id']}", "stale_write", now(), "test")
    before = [e.kind for e in store.ledger(f"payment#{payment['payment_id']}")]

    with pytest.raises(StaleState) as capture:
        store.capture(stale, policy_id="pol-x", periods=[], start_date="2026-03-01", end_date="2027-03-01", now=now(),
                      transaction_id=None, gateway_ref=None, gateway_result="captured", events=[event])
    with pytest.raises(StaleState) as decline:
        store.close_unpaid(stale, status="declined", now=now(), gateway_result="late", release_key=None,
                           events=[event])
    with pytest.raises(StaleState) as confirm:
        store.confirm_application(application.application_id, 1, now(), event)
    with pytest.raises(StaleState) as refund_done:
        store.complete_refund(store.payment(payment["payment_id"]), refund_ref=None, now=now(), periods=[],
                              start_date=None, end_date=None, policy_status="cancelled", events=[event])

    assert capture.value.failed == {"payment", "policy", "application"}
    assert decline.value.failed == {"payment", "policy", "application"}
    assert confirm.value.failed == {"application"}
    assert "payment" in refund_done.value.failed
    # Nothing was written by the losers: not the state, not an event.
    assert store.payment(payment["payment_id"]).status == "captured"
    assert store.policy(INSURED).periods[0].payment_id == payment["payment_id"]
    assert [e.kind for e in store.ledger(f"payment#{payment['payment_id']}")] == before

"""Refunding a premium in full: before coverage starts or within the refund window, once, through the gateway.

The request is recorded first (payment refund_status requested, the insured's
coverage locked) so a second refund or a renewal cannot slip in; then the
gateway is asked; then one transaction either refunds the payment and cancels
the period it bought, or records the failure and unlocks. If the gateway's
answer never comes, the refund stays `requested` for operations to check.

Once the gateway says the money went back, that fact is never lost: if the
transaction that records it fails (a conflict, throttling, an outage), the refund
is logged at error level, its gateway reference kept with a ledger event, and the
payment queued in the reconciliation index, whose job writes the same refund later
(`complete_confirmed_refunds`). The person is told 202: under way, not refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from chalicelib.errors import NotFound, StaleState
from chalicelib.logs import log_alert, log_error, log_event
from chalicelib.premiums.ledger import LedgerEvent
from chalicelib.premiums.payment_rules import (
    AlreadyRefunded,
    InsuredBusy,
    LaterPeriodPaid,
    PaymentStatus,
    RefundFailed,
    RefundStatus,
    cancel_period,
    check_refund_reason,
    check_refundable,
    current_span,
    is_id,
)
from chalicelib.premiums.payments import payment_event, payment_view, policy_periods, send_receipts
from chalicelib.premiums.ports import LostRace, PaymentRow, PremiumDeps


def _check(deps: PremiumDeps, payment: PaymentRow, now: datetime) -> None:
    check_refundable(status=payment.status, refund_status=payment.refund_status, captured_at=payment.captured_at,
                     period_start=date.fromisoformat(payment.period_start), now=now,
                     window_days=deps.settings.payments.refund_window_days)


def request_refund(deps: PremiumDeps, account_id: str, payment_id: str,
                   body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Refund a captured payment in full; (the payment's view, HTTP status: 200 refunded, 202 still open)."""
    reason = check_refund_reason(body.get("reason"))
    payment = deps.store.payment(payment_id) if is_id(payment_id) else None
    if payment is None or payment.account_id != account_id:
        raise NotFound()
    if payment.lines:
        from chalicelib.premiums.baskets import request_basket_refund  # whole, or one application's share

        return request_basket_refund(deps, account_id, payment, body)
    now = deps.now()
    _check(deps, payment, now)
    policy = deps.store.policy(payment.insured_civil_id)
    if policy is not None and policy.end_date and policy.end_date != payment.period_end:
        raise LaterPeriodPaid()
    actor = f"account:{account_id}"
    try:
        deps.store.request_refund(payment, reason=reason, now=now, event=payment_event(
            payment, "refund_requested", now, actor, from_status=payment.refund_status,
            to_status=RefundStatus.REQUESTED, details={"reason": reason}))
    except StaleState as lost:
        fresh = deps.store.payment(payment_id)
        if fresh is None:
            raise NotFound() from lost
        _check(deps, fresh, now)  # a racing refund won: already refunded or in progress
        if isinstance(lost, LostRace) and "policy" in lost.failed:
            raise InsuredBusy() from lost
        raise
    payment = deps.store.payment(payment_id)
    if payment is None:
        raise NotFound()
    try:
        answer = deps.gateway.refund(payment.payment_id, payment.gateway_ref or payment.payment_id,
                                     int(payment.amount_fils))
    except deps.gateway_errors as exc:
        log_error("refund_outcome_unknown", payment_id=payment_id, reason=str(exc))
        return payment_view(payment), 202
    if str(answer.status) != RefundStatus.REFUNDED:
        deps.store.fail_refund(payment, error_code=answer.error_code, now=deps.now(), event=payment_event(
            payment, "refund_failed", deps.now(), f"gateway:{deps.gateway.name}", from_status=RefundStatus.REQUESTED,
            to_status=RefundStatus.FAILED, details={"error_code": answer.error_code}))
        log_event("refund_failed", payment_id=payment_id, error_code=answer.error_code)
        failed = deps.store.payment(payment_id)
        raise RefundFailed(details={"payment": payment_view(failed or payment)})
    try:
        recorded = _complete(deps, payment, answer.refund_ref, reason, f"gateway:{deps.gateway.name}")
    except Exception as exc:  # any failure at all: the money already went back
        return _refunded_but_not_recorded(deps, payment, answer.refund_ref, exc)
    return payment_view(recorded), 200


def _refunded_but_not_recorded(deps: PremiumDeps, payment: PaymentRow, refund_ref: str | None,
                               exc: Exception) -> tuple[dict[str, Any], int]:
    """The gateway refunded, our record of it failed: say so loudly and leave it to reconciliation."""
    from chalicelib.premiums.payments import refund_queue_of

    pid = payment.payment_id
    fresh = _read(deps, pid)
    if fresh is not None and _recorded(payment, fresh):
        # Written after all: the write's answer was what got lost, or something after it failed.
        return payment_view(fresh), 200
    # What went back: the attempt's amount (a basket share's), which is the whole payment's for a single one.
    attempt = payment.refunds[-1] if payment.refunds else None
    amount = int(attempt.amount_fils) if attempt is not None else int(payment.amount_fils)
    log_alert("refund_not_recorded", payment_id=pid, refund_ref=refund_ref, amount_fils=amount,
              error=type(exc).__name__)
    now = deps.now()
    try:
        deps.store.keep_confirmed_refund(
            payment, refund_ref=refund_ref, queue=refund_queue_of(pid), due_at=now, now=now,
            event=payment_event(payment, "refund_gateway_confirmed", now, f"gateway:{deps.gateway.name}",
                                amount_fils=amount, details={"refund_ref": refund_ref, "error": type(exc).__name__}))
    except Exception:
        # Storage refuses everything: the error line above is the only record; operations act on it.
        log_error("refund_confirmation_not_recorded", payment_id=pid, refund_ref=refund_ref)
    return payment_view(_read(deps, pid) or payment), 202


def _recorded(requested: PaymentRow, fresh: PaymentRow) -> bool:
    """Whether the refund attempt of `requested` (its latest) is written in `fresh`.

    A whole refund makes the payment refunded; a basket share's leaves it captured, so the attempt
    counts as written when every line it covered is marked refunded, or when the attempt itself is
    stored as refunded with the gateway's reference.
    """
    if fresh.status == PaymentStatus.REFUNDED:
        return True
    attempts = list(requested.refunds or [])
    if not attempts:
        return False
    attempt, index = attempts[-1], len(attempts) - 1
    shares = set((attempt.shares or "").split())
    if shares and fresh.lines:
        covered = [line for line in fresh.lines if line.application_id in shares]
        if covered and all(line.refund_status == RefundStatus.REFUNDED for line in covered):
            return True
    stored = list(fresh.refunds or [])
    return len(stored) > index and stored[index].status == RefundStatus.REFUNDED


def _read(deps: PremiumDeps, payment_id: str) -> PaymentRow | None:
    try:
        return deps.store.payment(payment_id)
    except Exception:
        return None


def complete_confirmed_refunds(deps: PremiumDeps, *, limit: int = 50,
                               out_of_time: Callable[[], bool] = lambda: False) -> dict[str, int]:
    """Write the refunds the gateway made whose record failed (reconciliation's part); outcomes counted."""
    outcomes: Counter[str] = Counter()
    for payment in deps.store.due_refunds(deps.now(), limit):
        if out_of_time():
            break  # the rest stay due: the next run takes them (platform.schedule's margin)
        attempt = payment.refunds[-1] if payment.refunds else None
        if payment.refund_status != RefundStatus.REQUESTED or attempt is None:
            log_alert("refund_queue_unexpected", payment_id=payment.payment_id, refund_status=payment.refund_status)
            outcomes["refund_skipped"] += 1
            continue
        try:
            _complete(deps, payment, attempt.refund_ref, attempt.reason, "reconciliation")
        except Exception:
            # Still not writable: it stays due, and the next run tries again.
            log_error("refund_not_recorded", payment_id=payment.payment_id, refund_ref=attempt.refund_ref)
            outcomes["refund_unrecorded"] += 1
            continue
        outcomes["refund_completed"] += 1
    return dict(outcomes)


def _complete(deps: PremiumDeps, payment: PaymentRow, refund_ref: str | None, reason: str, actor: str) -> PaymentRow:
    """Write a refund the gateway made: payment refunded, its period cancelled, the insured unlocked; receipts."""
    if payment.lines:
        from chalicelib.premiums.baskets import complete_basket_refund

        return complete_basket_refund(deps, payment, refund_ref, reason, actor)
    now = deps.now()
    policy = deps.store.policy(payment.insured_civil_id)
    if policy is None:
        raise StaleState()  # a captured payment always has its policy: something else is wrong
    stored, domain = policy_periods(policy)
    remaining = cancel_period(domain, payment.payment_id)
    for period in stored:
        if period["payment_id"] == payment.payment_id:
            period["status"] = "cancelled"
    span = current_span(remaining)
    start, end = span if span else (None, None)
    policy_status = "active" if end else "cancelled"
    events = [
        payment_event(payment, "refunded", now, actor, policy_id=policy.policy_id, from_status=PaymentStatus.CAPTURED,
               to_status=PaymentStatus.REFUNDED, details={"refund_ref": refund_ref, "reason": reason}),
        LedgerEvent(f"policy#{policy.policy_id}", "policy_period_cancelled", now, actor,
                    account_id=payment.account_id, application_id=payment.application_id,
                    payment_id=payment.payment_id, policy_id=policy.policy_id, amount_fils=-int(payment.amount_fils),
                    from_status=policy.status, to_status=policy_status,
                    details={"period_start": payment.period_start, "period_end": payment.period_end}),
    ]
    try:
        deps.store.complete_refund(payment, refund_ref=refund_ref, now=now, periods=stored,
                                   start_date=start.isoformat() if start else None,
                                   end_date=end.isoformat() if end else None, policy_status=policy_status,
                                   events=events)
    except StaleState as exc:
        raise AlreadyRefunded() from exc
    log_event("refunded", payment_id=payment.payment_id, amount_fils=int(payment.amount_fils))
    if policy_status == "cancelled":
        _revoke_cards(deps, payment)
    refunded = deps.store.payment(payment.payment_id) or payment
    send_receipts(deps, refunded, now, refund=True, reason=reason)
    return refunded


def _revoke_cards(deps: PremiumDeps, payment: PaymentRow) -> None:
    """List the insured's cards as revoked: the refund left them no cover at all.

    Only then: a refund of a renewal that leaves the current period in force keeps its card valid
    (revoking by rid would revoke every card drawn so far, the valid one too), and /v1/verify reads the
    status from the record anyway. Best effort, after the refund is written: the refund stands whatever
    S3 says. A failed write (after the CRL store's own retries on lost races and botocore's on throttling)
    is an error line with the payment id, for the error alarm: the card already verifies online as
    cancelled, the CRL is what offline verifiers read, and operations list the card again with
    `revoke_cards` (README, "E-cards and verification").
    """
    if deps.revoke_cards_of is None:
        return
    try:
        deps.revoke_cards_of([payment.insured_civil_id])
    except Exception as exc:
        log_error("card_revocation_failed", payment_id=payment.payment_id, error=type(exc).__name__)

"""Refunding a premium in full: before coverage starts or within the refund window, once, through the gateway.

The request is recorded first (payment refund_status requested, the insured's
coverage locked) so a second refund or a renewal cannot slip in; then the
gateway is asked; then one transaction either refunds the payment and cancels
the period it bought, or records the failure and unlocks. If the gateway's
answer never comes, the refund stays `requested` for operations to check.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.domain.ledger import LedgerEvent
from chalicelib.domain.payments import (
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
)
from chalicelib.errors import NotFound, StaleState
from chalicelib.logs import log_error, log_event
from chalicelib.services.payments import payment_event, payment_view, policy_periods, send_receipts
from chalicelib.services.premium_deps import PremiumDeps


def _check(deps: PremiumDeps, payment: Any, now: Any) -> None:
    check_refundable(status=payment.status, refund_status=payment.refund_status, captured_at=payment.captured_at,
                     period_start=date.fromisoformat(payment.period_start), now=now,
                     window_days=deps.settings.payments.refund_window_days)


def request_refund(deps: PremiumDeps, account_id: str, payment_id: str,
                   body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Refund a captured payment in full; (the payment's view, HTTP status: 200 refunded, 202 still open)."""
    reason = check_refund_reason(body.get("reason"))
    payment = deps.store.payment(payment_id)
    if payment is None or payment.account_id != account_id:
        raise NotFound()
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
        _check(deps, fresh, now)  # a racing refund won: already refunded or in progress
        if "policy" in getattr(lost, "failed", ()):
            raise InsuredBusy() from lost
        raise
    payment = deps.store.payment(payment_id)
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
        raise RefundFailed(details={"payment": payment_view(deps.store.payment(payment_id))})
    return payment_view(_complete(deps, payment, answer, reason)), 200


def _complete(deps: PremiumDeps, payment: Any, answer: Any, reason: str) -> Any:
    now = deps.now()
    policy = deps.store.policy(payment.insured_civil_id)
    stored, domain = policy_periods(policy)
    remaining = cancel_period(domain, payment.payment_id)
    for period in stored:
        if period["payment_id"] == payment.payment_id:
            period["status"] = "cancelled"
    span = current_span(remaining)
    start, end = span if span else (None, None)
    policy_status = "active" if end else "cancelled"
    actor = f"gateway:{deps.gateway.name}"
    events = [
        payment_event(payment, "refunded", now, actor, policy_id=policy.policy_id, from_status=PaymentStatus.CAPTURED,
               to_status=PaymentStatus.REFUNDED, details={"refund_ref": answer.refund_ref, "reason": reason}),
        LedgerEvent(f"policy#{policy.policy_id}", "policy_period_cancelled", now, actor,
                    account_id=payment.account_id, application_id=payment.application_id,
                    payment_id=payment.payment_id, policy_id=policy.policy_id, amount_fils=-int(payment.amount_fils),
                    from_status=policy.status, to_status=policy_status,
                    details={"period_start": payment.period_start, "period_end": payment.period_end}),
    ]
    try:
        deps.store.complete_refund(payment, refund_ref=answer.refund_ref, now=now, periods=stored,
                                   start_date=start.isoformat() if start else None,
                                   end_date=end.isoformat() if end else None, policy_status=policy_status,
                                   events=events)
    except StaleState as exc:
        raise AlreadyRefunded() from exc
    log_event("refunded", payment_id=payment.payment_id, amount_fils=int(payment.amount_fils))
    refunded = deps.store.payment(payment.payment_id)
    send_receipts(deps, refunded, now, refund=True, reason=reason)
    return refunded

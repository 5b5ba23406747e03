"""Scheduled reconciliation: pending payments whose callback never came are settled by asking the gateway,
and refunds the gateway confirmed but whose record failed are written."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate

from chalicelib.logs import log_event
from chalicelib.platform.middleware import event_log
from chalicelib.premiums import payments, refunds
from chalicelib.premiums.wiring import premium_deps

payment_jobs = Blueprint(__name__)


@payment_jobs.schedule(Rate(5, unit=Rate.MINUTES))
@event_log("reconcile_payments")
def reconcile_payments(event: Any) -> dict[str, int]:
    context = getattr(event, "context", None)
    time_left = (lambda: context.get_remaining_time_in_millis() / 1000) if context is not None else None
    deps = premium_deps()
    outcomes = payments.reconcile_due(deps, time_left_s=time_left)
    # Refunds the gateway made whose record failed: written now, as the refund request would have.
    outcomes.update(refunds.complete_confirmed_refunds(deps, time_left_s=time_left))
    log_event("payments_reconciled", **outcomes)
    # The same summary line as every scheduled job: still pending or raced is a skip, unreachable a failure.
    skipped = outcomes.get("pending", 0) + outcomes.get("raced", 0) + outcomes.get("refund_skipped", 0)
    failed = outcomes.get("unreachable", 0) + outcomes.get("refund_unrecorded", 0)
    log_event("job_summary", job="reconcile_payments", due=sum(outcomes.values()),
              done=sum(outcomes.values()) - skipped - failed, skipped=skipped, failed=failed)
    return outcomes

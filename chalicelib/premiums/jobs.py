"""Scheduled reconciliation: pending payments whose callback never came are settled by asking the gateway,
and refunds the gateway confirmed but whose record failed are written."""

from __future__ import annotations

from chalice import Blueprint, Rate

from chalicelib.logs import log_event
from chalicelib.platform.jobs import JobRun
from chalicelib.platform.schedule import scheduled

payment_jobs = Blueprint(__name__)


@scheduled(payment_jobs, Rate(5, unit=Rate.MINUTES))
def reconcile_payments(run: JobRun) -> dict[str, int]:
    """Settle overdue pending payments by asking the gateway; record gateway-confirmed refunds."""
    from chalicelib.premiums import payments, refunds
    from chalicelib.premiums.wiring import premium_deps

    deps = premium_deps()
    outcomes = payments.reconcile_due(deps, out_of_time=run.out_of_time)
    # Refunds the gateway made whose record failed: written now, as the refund request would have.
    outcomes.update(refunds.complete_confirmed_refunds(deps, out_of_time=run.out_of_time))
    log_event("payments_reconciled", **outcomes)
    # Still pending or raced is a skip, unreachable or unrecorded a failure; the rest were settled.
    run.skipped = outcomes.get("pending", 0) + outcomes.get("raced", 0) + outcomes.get("refund_skipped", 0)
    run.failed = outcomes.get("unreachable", 0) + outcomes.get("refund_unrecorded", 0)
    run.due = sum(outcomes.values())
    run.done = run.due - run.skipped - run.failed
    for outcome, n in outcomes.items():
        run.count(outcome, n)
    return outcomes

"""Scheduled premium jobs: reconciliation (pending payments whose callback never came are settled by asking
the gateway, refunds the gateway confirmed but whose record failed are written) and renewal reminders."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Cron, Rate

from chalicelib.logs import log_event
from chalicelib.platform.jobs import JobRun
from chalicelib.platform.messages import Message
from chalicelib.platform.outbound import builds
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


# Daily at 06:00 UTC, 09:00 in Kuwait: the reminders of the Kuwaiti day arrive in the morning.
@scheduled(payment_jobs, Cron(0, 6, "*", "*", "?", "*"))
def remind_renewals(run: JobRun) -> None:
    """Renewal reminders due today (30 and 7 days before a residence policy ends, and the day it lapses)."""
    from chalicelib.platform.messaging import enqueue
    from chalicelib.premiums import renewals
    from chalicelib.premiums.wiring import premium_deps

    assert run.at is not None  # the runner always gives the invocation's time
    renewals.send_due_reminders(premium_deps(), run, run.at, enqueue)


@builds("renewal_reminder")
def renewal_reminder(job: dict[str, Any]) -> Message | None:
    """A queued renewal reminder (or passport warning), built when sent in the account's language."""
    from chalicelib.premiums import renewals
    from chalicelib.premiums.wiring import premium_deps

    return renewals.build_reminder(premium_deps(), job)

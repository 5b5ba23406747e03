"""Scheduled premium jobs: reconciliation (pending payments whose callback never came are settled by asking
the gateway, refunds the gateway confirmed but whose record failed are written) and renewal reminders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from chalice import Blueprint, Cron, Rate

from chalicelib.logs import log_event
from chalicelib.platform.jobs import JobRun
from chalicelib.platform.messages import Message
from chalicelib.platform.outbound import builds
from chalicelib.platform.schedule import scheduled

payment_jobs = Blueprint(__name__)


def as_of(run: JobRun) -> datetime:
    """The time a run is as of: its invocation's (the schedule's, or `make job AT=...`), never a global."""
    if run.at is not None:
        return run.at
    from chalicelib.platform.clock import now  # a run built by hand without a time

    return now()


def run_clock(run: JobRun) -> Callable[[], datetime]:
    """The run's clock: its time, moving on as the run goes (so the writes of one run keep their order)."""
    from chalicelib.platform.clock import now

    started, at = now(), as_of(run)
    return lambda: at + (now() - started)


@scheduled(payment_jobs, Rate(5, unit=Rate.MINUTES))
def reconcile_payments(run: JobRun) -> dict[str, int]:
    """Settle overdue pending payments by asking the gateway; record gateway-confirmed refunds."""
    from chalicelib.premiums import payments, refunds
    from chalicelib.premiums.wiring import premium_deps

    base = premium_deps()
    # What is due, and the times written (captured, refunded, asked again), are the run's: as of run.at.
    # The gateway is the wiring's own (built once, its sessions kept), only the clock is the run's.
    deps = replace(base, now=run_clock(run), make_gateway=lambda: base.gateway)
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

    renewals.send_due_reminders(premium_deps(), run, as_of(run), enqueue)


@builds("renewal_reminder")
def renewal_reminder(job: dict[str, Any]) -> Message | None:
    """A queued renewal reminder (or passport warning), built when sent in the account's language."""
    from chalicelib.premiums import renewals
    from chalicelib.premiums.wiring import premium_deps

    return renewals.build_reminder(premium_deps(), job)

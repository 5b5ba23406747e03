"""Scheduled expiry jobs (EventBridge in AWS; `make run` runs them on schedule, `make job` now)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate

from chalicelib.api.middleware import event_log
from chalicelib.settings import get_settings

expiry_jobs = Blueprint(__name__)

MARGIN_MS = 15_000  # stop with this much time left; the next run picks up the rest


def _run(event: Any, name: str) -> Any:
    from chalicelib.services.expiry import JobRun

    context = getattr(event, "context", None)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return JobRun(name, out_of_time=(lambda: remaining() < MARGIN_MS) if remaining else (lambda: False))


def _store() -> Any:
    from chalicelib.adapters.account_store import DueStore

    return DueStore(page_size=get_settings().job_page_size)


def _now() -> Any:
    from chalicelib.wiring import now

    return now()


@expiry_jobs.schedule(Rate(1, unit=Rate.HOURS))
@event_log("expire_invites")
def expire_invites(event: Any) -> dict:
    from chalicelib.services import expiry

    return expiry.expire_invites(_store(), _now(), _run(event, "expire_invites")).summary()


@expiry_jobs.schedule(Rate(1, unit=Rate.HOURS))
@event_log("expire_passwords")
def expire_passwords(event: Any) -> dict:
    from chalicelib.adapters.messaging import enqueue
    from chalicelib.services import expiry

    life = get_settings().lifetimes
    return expiry.password_lifecycle(_store(), _now(), _run(event, "expire_passwords"),
                                     max_age_days=life.password_max_age_days,
                                     temporary_days=life.temporary_password_days, enqueue=enqueue).summary()


@expiry_jobs.schedule(Rate(15, unit=Rate.MINUTES))
@event_log("purge_tokens")
def purge_tokens(event: Any) -> dict:
    from chalicelib.services import expiry

    return expiry.purge_tokens(_store(), _now(), _run(event, "purge_tokens")).summary()


@expiry_jobs.schedule(Rate(1, unit=Rate.HOURS))
@event_log("purge_sessions")
def purge_sessions(event: Any) -> dict:
    from chalicelib.services import expiry

    return expiry.purge_sessions(_store(), _now(), _run(event, "purge_sessions")).summary()

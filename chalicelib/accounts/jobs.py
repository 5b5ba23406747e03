"""Scheduled expiry jobs (EventBridge in AWS; `make run` runs them on schedule, `make job` now)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate

from chalicelib.platform.middleware import event_log
from chalicelib.platform.outbound import builds
from chalicelib.settings import get_settings

expiry_jobs = Blueprint(__name__)

MARGIN_MS = 15_000  # stop with this much time left; the next run picks up the rest


def _run(event: Any, name: str) -> Any:
    from chalicelib.accounts.expiry import JobRun

    context = getattr(event, "context", None)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return JobRun(name, out_of_time=(lambda: remaining() < MARGIN_MS) if remaining else (lambda: False))


def _store() -> Any:
    from chalicelib.accounts.store import DueStore

    return DueStore(page_size=get_settings().job_page_size)


def _now() -> Any:
    from chalicelib.platform.clock import now

    return now()


@expiry_jobs.schedule(Rate(1, unit=Rate.HOURS))
@event_log("expire_invites")
def expire_invites(event: Any) -> dict:
    from chalicelib.accounts import expiry

    return expiry.expire_invites(_store(), _now(), _run(event, "expire_invites")).summary()


@expiry_jobs.schedule(Rate(1, unit=Rate.HOURS))
@event_log("expire_passwords")
def expire_passwords(event: Any) -> dict:
    from chalicelib.accounts import expiry
    from chalicelib.platform.messaging import enqueue

    life = get_settings().lifetimes
    return expiry.password_lifecycle(_store(), _now(), _run(event, "expire_passwords"),
                                     max_age_days=life.password_max_age_days,
                                     temporary_days=life.temporary_password_days, enqueue=enqueue).summary()


@expiry_jobs.schedule(Rate(15, unit=Rate.MINUTES))
@event_log("purge_tokens")
def purge_tokens(event: Any) -> dict:
    from chalicelib.accounts import expiry

    return expiry.purge_tokens(_store(), _now(), _run(event, "purge_tokens")).summary()


@expiry_jobs.schedule(Rate(1, unit=Rate.HOURS))
@event_log("purge_sessions")
def purge_sessions(event: Any) -> dict:
    from chalicelib.accounts import expiry

    return expiry.purge_sessions(_store(), _now(), _run(event, "purge_sessions")).summary()


@builds("welcome")
def welcome(job: dict[str, Any]) -> Any:
    """The welcome email of an enrolled member; None if already sent, activated since, or no such account."""
    from chalicelib.accounts.passwords import welcome_message
    from chalicelib.accounts.wiring import auth_deps

    return welcome_message(auth_deps(), job["account_id"], int(job.get("generation", 0)))


@builds("password_reset")
def password_reset(job: dict[str, Any]) -> Any:
    """A forgot-password link; None for an unknown name or one over its hourly limit (no enumeration)."""
    from chalicelib.accounts.passwords import password_reset_message
    from chalicelib.accounts.wiring import auth_deps

    return password_reset_message(auth_deps(), job["username"])

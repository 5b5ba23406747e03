"""The account jobs: scheduled expiry (EventBridge in AWS; `make run` runs them on schedule, `make job` now),
and the outbound kinds whose message is built when sent (welcome, password reset)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalice import Blueprint, Rate

from chalicelib.accounts.ports import DueStorePort
from chalicelib.platform.jobs import JobRun
from chalicelib.platform.messages import Message
from chalicelib.platform.outbound import builds
from chalicelib.platform.schedule import scheduled

expiry_jobs = Blueprint(__name__)


def _store() -> DueStorePort:
    from chalicelib.accounts.wiring import due_store

    return due_store()


def _as_of(run: JobRun) -> datetime:
    """The time the run is as of: its invocation's (the schedule's, or `make job AT=...`), never a global."""
    if run.at is not None:
        return run.at
    from chalicelib.platform.clock import now  # a run built by hand (a test) without a time

    return now()


@scheduled(expiry_jobs, Rate(1, unit=Rate.HOURS))
def expire_invites(run: JobRun) -> None:
    """Invited accounts whose welcome link died unused become invite_expired."""
    from chalicelib.accounts import expiry

    expiry.expire_invites(_store(), _as_of(run), run)


@scheduled(expiry_jobs, Rate(1, unit=Rate.HOURS))
def expire_passwords(run: JobRun) -> None:
    """Temporary passwords die after their days; a permanent one gets one reminder, then expires."""
    from chalicelib.accounts import expiry
    from chalicelib.platform.messaging import enqueue
    from chalicelib.settings import get_settings

    life = get_settings().lifetimes
    expiry.password_lifecycle(_store(), _as_of(run), run, max_age_days=life.password_max_age_days,
                              temporary_days=life.temporary_password_days, enqueue=enqueue)


@scheduled(expiry_jobs, Rate(15, unit=Rate.MINUTES))
def purge_tokens(run: JobRun) -> None:
    """Codes, challenges, registrations and links past their life are deleted."""
    from chalicelib.accounts import expiry

    expiry.purge_tokens(_store(), _as_of(run), run)


@scheduled(expiry_jobs, Rate(1, unit=Rate.HOURS))
def purge_sessions(run: JobRun) -> None:
    """Sessions unused past their sliding or absolute lifetime are deleted."""
    from chalicelib.accounts import expiry

    expiry.purge_sessions(_store(), _as_of(run), run)


@builds("welcome")
def welcome(job: dict[str, Any]) -> Message | None:
    """The welcome email of an enrolled member; None if already sent, activated since, or no such account."""
    from chalicelib.accounts.passwords import welcome_message
    from chalicelib.accounts.wiring import auth_deps

    # Jobs queued before name_ar was carried have no such key: the builder looks the name up.
    name_ar = job.get("name_ar")
    return welcome_message(auth_deps(), str(job["account_id"]), int(job.get("generation", 0)),
                           str(name_ar) if name_ar else None, look_up_name="name_ar" not in job)


@builds("password_reset")
def password_reset(job: dict[str, Any]) -> Message | None:
    """A forgot-password link; None for an unknown name or one over its hourly limit (no enumeration)."""
    from chalicelib.accounts.passwords import password_reset_message
    from chalicelib.accounts.wiring import auth_deps

    return password_reset_message(auth_deps(), str(job["username"]))

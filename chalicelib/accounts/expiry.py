"""The expiry jobs: each reads only what is due, shard by shard, and acts with conditional writes.

Validity is always checked where a link, code or password is used; these jobs clean up,
mark states people and HR can see (invite_expired, password expired), and send the one
password reminder. Running a job twice, or two at once, does nothing twice: every action is
a write conditioned on the state that made the item due.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from chalicelib.accounts.password_policy import REMINDER_BEFORE
from chalicelib.platform import messages
from chalicelib.platform.jobs import JobRun, run_due


def expire_invites(store: Any, now: datetime, run: JobRun) -> JobRun:
    """Invited accounts whose welcome link died unused become invite_expired (HR can see who never came)."""
    return run_due(run, lambda shard: store.due_invites(shard, now), lambda key: store.expire_invite(key, now))


def password_lifecycle(store: Any, now: datetime, run: JobRun, *, max_age_days: int, temporary_days: int,
                       enqueue: Callable[[list[dict[str, Any]]], object]) -> JobRun:
    """Temporary passwords die after 7 days; a permanent one gets one reminder 7 days ahead, then expires."""

    def act(account: Any) -> bool:
        kind, set_at = account.password_kind, account.password_set_at
        if kind == "temporary":
            if now < set_at + timedelta(days=temporary_days):
                return False
            store.drop_temporary_password(account, now)
            return True
        if kind != "permanent" or not max_age_days:
            store.clear_password_due(account)
            return False
        expires = set_at + timedelta(days=max_age_days)
        if now >= expires:
            store.mark_password_expired(account, now)
            return True
        if account.password_reminded_for == set_at or now < expires - REMINDER_BEFORE:
            return False
        store.mark_reminded(account, expires)  # conditional: of two runs, one sends
        days = max(1, (expires - now).days)
        message = messages.password_expiry_reminder(account.email, account.language, days) if account.email \
            else None
        if message is not None:
            from dataclasses import asdict

            enqueue([{"kind": "message", "message": asdict(message)}])
        return True

    return run_due(run, lambda shard: store.due_passwords(shard, now), act)


def purge_tokens(store: Any, now: datetime, run: JobRun) -> JobRun:
    """Codes, challenges, registrations and links past their life are deleted (TTL may lag for days)."""
    return run_due(run, lambda shard: store.due_tokens(shard, now), lambda key: store.delete_due_token(key, now))


def purge_sessions(store: Any, now: datetime, run: JobRun) -> JobRun:
    """Sessions unused past their sliding or absolute lifetime are deleted."""
    return run_due(run, lambda shard: store.due_sessions(shard, now), lambda key: store.delete_due_session(key, now))

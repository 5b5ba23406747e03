"""The expiry jobs: each reads only what is due, shard by shard, and acts with conditional writes.

Validity is always checked where a link, code or password is used; these jobs clean up,
mark states people and HR can see (invite_expired, password expired), and send the one
password reminder. Running a job twice, or two at once, does nothing twice: every action is
a write conditioned on the state that made the item due.

At a million members an hour's due items run to thousands, so the writes go out `WORKERS` at a
time (platform/jobs.run_due) and the reminders ten to an SQS request. The conditional writes stay
one item per request: BatchWriteItem takes no conditions (a batch delete would remove a session a
refresh had just moved on), and TransactWriteItems is all or nothing (one item changed by the
person, or by another run, would cancel the other 99 and cost twice the write capacity). Side by
side single-item writes keep each item's own condition and its own outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime

from chalicelib.accounts.password_policy import REMINDER_BEFORE, password_expires_at
from chalicelib.accounts.ports import DueStorePort, Job
from chalicelib.accounts.values import Account
from chalicelib.platform import messages
from chalicelib.platform.jobs import WORKERS, JobRun, QueuedMessages, run_due

__all__ = ["JobRun", "expire_invites", "password_lifecycle", "purge_sessions", "purge_tokens"]


def expire_invites(store: DueStorePort, now: datetime, run: JobRun) -> JobRun:
    """Invited accounts whose welcome link died unused become invite_expired (HR can see who never came)."""
    return run_due(run, lambda shard: store.due_invites(shard, now), lambda key: store.expire_invite(key, now),
                   workers=WORKERS)


def password_lifecycle(store: DueStorePort, now: datetime, run: JobRun, *, max_age_days: int, temporary_days: int,
                       enqueue: Callable[[list[Job]], object]) -> JobRun:
    """Temporary passwords die after 7 days; a permanent one gets one reminder 7 days ahead, then expires."""
    reminders = QueuedMessages(enqueue, run)

    def act(account: Account) -> bool:
        kind, set_at = account.password_kind, account.password_set_at
        expires = password_expires_at(kind, set_at, max_age_days=max_age_days, temporary_days=temporary_days)
        if kind == "temporary":
            if expires is None or now < expires:
                return False
            store.drop_temporary_password(account, now)
            return True
        if expires is None:  # not a permanent password, or expiry is off
            store.clear_password_due(account)
            return False
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
            reminders.add({"kind": "message", "message": asdict(message)})
        return True

    try:
        return run_due(run, lambda shard: store.due_passwords(shard, now), act, workers=WORKERS)
    finally:
        reminders.flush()


def purge_tokens(store: DueStorePort, now: datetime, run: JobRun) -> JobRun:
    """Codes, challenges, registrations and links past their life are deleted (TTL may lag for days)."""
    return run_due(run, lambda shard: store.due_tokens(shard, now), lambda key: store.delete_due_token(key, now),
                   workers=WORKERS)


def purge_sessions(store: DueStorePort, now: datetime, run: JobRun) -> JobRun:
    """Sessions unused past their sliding or absolute lifetime are deleted."""
    return run_due(run, lambda shard: store.due_sessions(shard, now), lambda key: store.delete_due_session(key, now),
                   workers=WORKERS)

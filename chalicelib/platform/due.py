"""Where scheduled work sits in the sparse due indexes: a shard per item, a time per stage."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

# One day's due items spread over this many partition keys: a job reads each shard's due
# range, so no single key grows hot however many accounts expire on the same day.
SHARDS = 8
REMINDER_BEFORE = timedelta(days=7)


def shard_of(key: str, shards: int = SHARDS) -> str:
    return str(int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % shards)


def password_due(kind: str | None, set_at: datetime | None, reminded_for: datetime | None,
                 max_age_days: int, temporary_days: int) -> datetime | None:
    """When the password job next has something to do with this password, if ever."""
    if set_at is None or kind is None:
        return None
    if kind == "temporary":
        return set_at + timedelta(days=temporary_days)
    if not max_age_days:
        return None
    expires = set_at + timedelta(days=max_age_days)
    return expires if reminded_for == set_at else expires - REMINDER_BEFORE

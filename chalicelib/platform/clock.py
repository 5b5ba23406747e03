"""The wall clock the wiring hands to use cases (tests swap in their own)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)

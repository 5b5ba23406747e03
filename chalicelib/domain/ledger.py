"""Ledger events: who changed what, when, for how much; appended with the change, never edited."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class LedgerEvent:
    """One state change of an application, payment or policy (its `stream`)."""

    stream: str  # application#<id> | payment#<id> | policy#<id>
    kind: str
    at: datetime
    actor: str  # account:<id> | gateway:<name> | reconciliation
    account_id: str | None = None
    application_id: str | None = None
    payment_id: str | None = None
    policy_id: str | None = None
    amount_fils: int | None = None
    from_status: str | None = None
    to_status: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

"""The account values the use cases work on: plain dataclasses, whatever stores them.

The store turns its rows into these and back; a use case changes a value and hands it to the
store, which writes it only if nobody changed the row since it was read (`version`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Account:
    """A person who can log in: HR-enrolled (username email) or self-registered (civil ID).

    An HR account's civil_id is its second login name (claimed with it, by enrolment) and its
    phone the one HR gave; both None until HR's file carries them.
    """

    account_id: str
    status: str  # invited | active | invite_expired
    source: str  # hr | self
    created_at: datetime
    updated_at: datetime
    email: str | None = None
    civil_id: str | None = None
    phone: str | None = None
    name: str | None = None
    gender: str | None = None
    city: str | None = None
    language: str | None = None  # ar | en; None for HR accounts (both languages)
    password_hash: str | None = None
    password_kind: str | None = None  # temporary | temporary_expired | permanent
    password_set_at: datetime | None = None
    password_history: list[str] = field(default_factory=list)  # the previous hashes, newest first
    activation_hash: str | None = None
    activation_expires_at: datetime | None = None
    activation_used_hash: str | None = None
    welcome_generation: int | None = None
    welcome_delivered_generation: int | None = None
    password_expired: str | None = None
    password_reminded_for: datetime | None = None
    invite_shard: str | None = None
    invite_due_at: datetime | None = None
    password_shard: str | None = None
    password_due_at: datetime | None = None
    reset_hash: str | None = None
    version: int | None = None  # None until stored; every write checks and moves it on


@dataclass
class TokenData:
    """What a token carries besides its owner: a challenge's reason, a registration's fields."""

    reason: str | None = None
    civil_id: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    gender: str | None = None
    language: str | None = None
    city: str | None = None
    code_hash: str | None = None
    code_expires_at: datetime | None = None
    sent_at: list[datetime] = field(default_factory=list)
    device_id: str | None = None
    device_name: str | None = None


@dataclass
class Token:
    """A single-use secret (reset, challenge, registration), known by its SHA-256 only."""

    token_hash: str
    kind: str  # reset | challenge | registration
    expires_at: datetime
    account_id: str | None = None
    used_at: datetime | None = None
    attempts: int = 0
    data: TokenData | None = None
    version: int | None = None


@dataclass
class Session:
    """One device signed in: its refresh-token family, rotated on every refresh."""

    session_id: str
    account_id: str
    created_at: str  # ISO-8601
    device_id: str
    device_name: str
    refresh_hash: str
    last_used_at: datetime
    idle_expires_at: datetime
    absolute_expires_at: datetime
    language: str | None = None
    used_hashes: list[str] = field(default_factory=list)  # for reuse detection
    previous_hash: str | None = None
    rotated_at: datetime | None = None


@dataclass(frozen=True)
class LoginCheck:
    """One reserved password check: its number in the window, and the failures counted before it."""

    number: int
    failed_before: int


@dataclass(frozen=True)
class LoginName:
    """A login name (email or civil ID) and the account it opens, if any."""

    username: str
    account_id: str | None

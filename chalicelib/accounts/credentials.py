"""Shared steps of the account flows: names, new passwords, sessions and challenges."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.accounts.password_policy import (
    HISTORY_SIZE,
    check_new_password,
    password_due,
    password_expires_at,
    reused_password_error,
)
from chalicelib.accounts.ports import AuthDeps
from chalicelib.accounts.tokens import new_token, token_hash
from chalicelib.accounts.values import Account, Session, TokenData
from chalicelib.kernel.civil_id import ascii_digits
from chalicelib.platform.jobs import shard_of

HISTORY = HISTORY_SIZE  # the new password differs from the current one and the ones kept before it
_CIVIL_ID_SEPARATORS = " -\u00a0\t"  # as kernel.civil_id drops them


def normalize_username(raw: object) -> str | None:
    """An email (any case) or a civil ID (Arabic digits too), as stored; None if neither shape.

    A civil ID loses the separators kernel.civil_id drops when it checks one (spaces, no-break
    spaces, tabs, dashes), so what a resident registered, what HR's file said and what the member
    types all become the same 12 ASCII digits.
    """
    text = ascii_digits(str(raw or "")).strip()
    if "@" in text:
        return text.lower()
    digits = "".join(ch for ch in text if ch not in _CIVIL_ID_SEPARATORS)
    return digits if digits.isascii() and digits.isdecimal() and len(digits) == 12 else None


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    session_id: str
    expires_in: int

    def body(self) -> dict[str, Any]:
        return {"access_token": self.access_token, "token_type": "Bearer", "expires_in": self.expires_in,
                "refresh_token": self.refresh_token, "session_id": self.session_id}


@dataclass(frozen=True)
class Challenge:
    challenge_token: str
    reason: str
    expires_in: int

    def body(self) -> dict[str, Any]:
        return {"challenge": "NEW_PASSWORD_REQUIRED", "reason": self.reason,
                "challenge_token": self.challenge_token, "expires_in": self.expires_in}


def set_new_password(deps: AuthDeps, account: Account, password: str, now: datetime,
                     field: str = "new_password") -> None:
    """Check the policy (incl. the last 5) and put the new permanent password on the account (the caller saves)."""
    check_new_password(password, field=field, email=account.email, civil_id=account.civil_id, name=account.name,
                       is_common=deps.is_common_password)
    history = list(account.password_history)
    earlier = [h for h in [account.password_hash, *history] if h][:HISTORY]
    if any(deps.hasher.verify(h, password) for h in earlier):
        raise reused_password_error(field)
    new_hash = deps.hasher.hash(password)
    account.password_history = (([account.password_hash] if account.password_hash else []) + history)[: HISTORY - 1]
    account.password_hash = new_hash
    account.password_kind = "permanent"
    account.password_set_at = now
    account.password_expired = None
    account.updated_at = now
    schedule_password_job(deps, account)


def password_expiry(deps: AuthDeps, account: Account) -> datetime | None:
    """When the account's password stops working under this stage's lifetimes (None: it does not)."""
    life = deps.settings.lifetimes
    return password_expires_at(account.password_kind, account.password_set_at,
                               max_age_days=life.password_max_age_days, temporary_days=life.temporary_password_days)


def schedule_password_job(deps: AuthDeps, account: Account) -> None:
    """Put the account in the password job's due index for its current password (or take it out)."""
    life = deps.settings.lifetimes
    due = password_due(account.password_kind, account.password_set_at, account.password_reminded_for,
                       life.password_max_age_days, life.temporary_password_days)
    account.password_shard = shard_of(account.account_id) if due else None
    account.password_due_at = due


def start_session(deps: AuthDeps, account: Account, device_id: str, device_name: str, now: datetime) -> Tokens:
    """A new device session with its own refresh-token family, and its first tokens."""
    life = deps.settings.lifetimes
    session_id = uuid.uuid4().hex
    secret = new_token()
    idle = now + timedelta(days=life.refresh_idle_days)
    absolute = now + timedelta(days=life.refresh_max_days)
    deps.store.put_session(Session(
        session_id=session_id, account_id=account.account_id, created_at=now.isoformat(), device_id=device_id,
        device_name=device_name, language=account.language, refresh_hash=token_hash(secret),
        last_used_at=now, idle_expires_at=idle, absolute_expires_at=absolute,
    ))
    access = deps.issue_access_token(account.account_id, session_id, now, account.language)
    return Tokens(access, f"{session_id}.{secret}", session_id, life.access_token_s)


def start_challenge(deps: AuthDeps, account: Account, reason: str, device_id: str, device_name: str,
                    now: datetime) -> Challenge:
    token = new_token()
    expires = now + timedelta(seconds=deps.settings.lifetimes.challenge_s)
    deps.store.put_token(token_hash(token), kind="challenge", account_id=account.account_id, expires_at=expires,
                         data=TokenData(reason=reason, device_id=device_id, device_name=device_name))
    return Challenge(token, reason, deps.settings.lifetimes.challenge_s)

"""Login, the new-password challenge, refresh-token rotation, logout and device sessions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.accounts.credentials import (
    Challenge,
    Tokens,
    normalize_username,
    password_expiry,
    set_new_password,
    start_challenge,
    start_session,
)
from chalicelib.accounts.errors import (
    InvalidCredentials,
    InvalidToken,
    LockedOut,
    RefreshReused,
    SessionEnded,
    TemporaryPasswordExpired,
)
from chalicelib.accounts.ports import AuthDeps
from chalicelib.accounts.tokens import refresh_successor, same, token_hash
from chalicelib.accounts.values import Session
from chalicelib.errors import NotFound, StaleState
from chalicelib.logs import log_event


def login(deps: AuthDeps, username: object, password: str, device_id: str, device_name: str) -> Tokens | Challenge:
    """Check a username (email or civil ID) and password; tokens, or a NEW_PASSWORD_REQUIRED challenge.

    The check is counted before argon2 runs, in one conditional write: however many requests
    arrive at once, at most `login_failures` passwords are checked per name and window, and the
    one that spends the budget locks the name. Unknown names take the same path as known ones:
    the same budget, a dummy hash of the same cost, the same answer.
    """
    now = deps.now()
    limits = deps.settings.limits
    name = normalize_username(username) or f"?{str(username).strip().lower()[:128]}"
    lock = timedelta(minutes=limits.lockout_minutes)
    check = deps.store.reserve_login_check(name, now, limits.login_failures, lock)
    if check is None:
        log_event("login_refused_locked")
        raise _locked((deps.store.login_lock(name, now, limits.login_failures) or now + lock) - now)
    login_name = deps.store.login_name(name)
    account = deps.store.account(login_name.account_id) if login_name and login_name.account_id else None
    if account is not None and account.password_hash:
        ok = deps.hasher.verify(account.password_hash, password)
    else:
        deps.hasher.burn_dummy_verify(password)
        ok = False
    if not ok or account is None or account.password_hash is None:
        if deps.store.record_login_failure(name, check, now, limits.login_failures, lock):
            log_event("login_locked")
            raise _locked(lock)
        log_event("login_failed")
        if check.number == limits.login_failures - 1:
            # The budget is counted per name, known or not, so this warning tells nothing about who exists.
            raise InvalidCredentials.last_try(limits.lockout_minutes)
        raise InvalidCredentials()
    deps.store.release_login_check(name, check)
    expires = password_expiry(deps, account)
    if account.password_kind in ("temporary", "temporary_expired"):
        if account.password_kind == "temporary_expired" or (expires is not None and now >= expires):
            raise TemporaryPasswordExpired()
        return start_challenge(deps, account, "temporary", device_id, device_name, now)
    if deps.hasher.needs_rehash(account.password_hash):
        account.password_hash = deps.hasher.hash(password)
        deps.store.save_account(account)
    if account.password_expired or (expires is not None and now >= expires):
        return start_challenge(deps, account, "expired", device_id, device_name, now)
    log_event("login_succeeded", account_id=account.account_id)
    return start_session(deps, account, device_id, device_name, now)


def _locked(retry_after: timedelta) -> LockedOut:
    return LockedOut.for_(retry_after)


def answer_challenge(deps: AuthDeps, challenge_token: str, new_password: str, device_id: str | None,
                     device_name: str | None) -> Tokens:
    """Set the new password a challenge asked for, activate the account, and sign in."""
    now = deps.now()
    record = deps.store.token(token_hash(str(challenge_token or "")))
    if record is None or record.kind != "challenge" or record.used_at or record.expires_at <= now:
        raise InvalidToken()
    account = deps.store.account(record.account_id) if record.account_id else None
    if account is None:
        raise InvalidToken()
    set_new_password(deps, account, new_password, now)
    account.status = "active"
    deps.store.use_token(record, now)  # single use, even against a concurrent answer
    deps.store.save_account(account)
    data = record.data
    return start_session(deps, account, device_id or (data.device_id if data else None) or "unknown",
                         device_name or (data.device_name if data else None) or "unknown", now)


def refresh(deps: AuthDeps, refresh_token: str) -> Tokens:
    """Rotate a refresh token: one successor per token; a replayed old one ends the session.

    Mobile apps fire refreshes concurrently (two screens, a retry after a timeout). The successor
    is derived from the presented token with the server key, so the loser of a race, or a retry
    of the token just rotated within the grace period, gets the same successor and the session
    lives on. The same old token after the grace period is a replay: the session is revoked.
    """
    now = deps.now()
    session_id, _, secret = str(refresh_token or "").partition(".")
    record = deps.store.session(session_id) if session_id and secret else None
    if record is None:
        raise SessionEnded()
    presented = token_hash(secret)
    if not same(presented, record.refresh_hash):
        successor = _retried_successor(deps, record, session_id, secret, presented, now)
        if successor is None:
            if presented in (record.used_hashes or []):
                deps.store.delete_session(record.session_id)
                log_event("refresh_reuse_detected", account_id=record.account_id)
                raise RefreshReused()
            raise SessionEnded()
        _check_alive(deps, record, now)
        log_event("refresh_retried_within_grace", account_id=record.account_id)
        return _tokens(deps, record, successor, now)
    _check_alive(deps, record, now)
    life = deps.settings.lifetimes
    new_secret = refresh_successor(deps.hmac_keys()[0], session_id, secret)
    idle = min(now + timedelta(days=life.refresh_idle_days), record.absolute_expires_at)
    try:
        deps.store.rotate_session(record, presented, token_hash(new_secret), now, idle)
    except StaleState as exc:
        # A concurrent refresh with the same token won: it stored this same successor.
        latest = deps.store.session(session_id)
        if latest is None or _retried_successor(deps, latest, session_id, secret, presented, now) != new_secret:
            raise SessionEnded() from exc
    return _tokens(deps, record, new_secret, now)


def _retried_successor(deps: AuthDeps, record: Session, session_id: str, secret: str, presented: str,
                       now: datetime) -> str | None:
    """The successor of the token the last rotation replaced, when it is presented within the grace."""
    grace = timedelta(seconds=deps.settings.lifetimes.refresh_retry_grace_s)
    if not same(presented, record.previous_hash) or record.rotated_at is None or now - record.rotated_at > grace:
        return None
    for key in deps.hmac_keys():  # the key may have rotated since
        successor = refresh_successor(key, session_id, secret)
        if same(token_hash(successor), record.refresh_hash):
            return successor
    return None


def _check_alive(deps: AuthDeps, record: Session, now: datetime) -> None:
    if record.idle_expires_at <= now or record.absolute_expires_at <= now:
        deps.store.delete_session(record.session_id)
        raise SessionEnded()


def _tokens(deps: AuthDeps, record: Session, secret: str, now: datetime) -> Tokens:
    access = deps.issue_access_token(record.account_id, record.session_id, now, record.language)
    return Tokens(access, f"{record.session_id}.{secret}", record.session_id, deps.settings.lifetimes.access_token_s)


def logout(deps: AuthDeps, account_id: str, session_id: str) -> None:
    deps.store.delete_session(session_id, account_id)


def list_sessions(deps: AuthDeps, account_id: str, current_session_id: str) -> list[dict[str, Any]]:
    now = deps.now()
    return [
        {"session_id": s.session_id, "device_id": s.device_id, "device_name": s.device_name,
         "created_at": s.created_at, "last_used_at": s.last_used_at.isoformat(),
         "current": s.session_id == current_session_id}
        for s in deps.store.sessions_of(account_id)
        if s.idle_expires_at > now and s.absolute_expires_at > now
    ]


def revoke_session(deps: AuthDeps, account_id: str, session_id: str) -> None:
    if not deps.store.delete_session(session_id, account_id):
        raise NotFound()


def revoke_all_sessions(deps: AuthDeps, account_id: str) -> int:
    return deps.store.delete_sessions(account_id)

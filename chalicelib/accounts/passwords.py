"""Invitations and their activation links, forgot/reset password, and change password."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol
from urllib.parse import quote

from chalicelib.accounts.credentials import normalize_username, schedule_password_job, set_new_password
from chalicelib.accounts.errors import InvalidToken, WrongCurrentPassword
from chalicelib.accounts.ports import AuthDeps, Job
from chalicelib.accounts.tokens import new_token, same, temporary_password, token_hash
from chalicelib.accounts.values import Account, Token
from chalicelib.errors import StaleState
from chalicelib.logs import log_event
from chalicelib.platform import messages
from chalicelib.platform.jobs import shard_of
from chalicelib.platform.messages import Message

LinkProblem = Literal["expired", "used", "invalid"]


@dataclass(frozen=True)
class LinkState:
    """Whether a link can still be used, and if not why (for the HTML page)."""

    ok: bool
    reason: LinkProblem | None = None
    record: Token | None = None
    account: Account | None = None


def _link(deps: AuthDeps, path: str, token: str) -> str:
    # Always the configured public URL: never the request's Host header (a forged Host would
    # otherwise send the secret to someone else's server).
    return f"{deps.settings.public_base_url}{path}?token={quote(token)}"


def invite(deps: AuthDeps, *, email: str, name: str, now: datetime | None = None) -> Account:
    """Create an HR-enrolled account as invited and queue its welcome (the sender mints the link)."""
    now = now or deps.now()
    address = email.lower()
    account = Account(account_id=uuid.uuid4().hex, status="invited", source="hr", email=address, name=name,
                      welcome_generation=1, created_at=now, updated_at=now)
    deps.store.create_account(account, {"email": address})
    deps.enqueue([welcome_job(account)])
    return account


class Invited(Protocol):
    """What a welcome job names: an account (a value here, enrolment's stored row there) and its generation."""

    @property
    def account_id(self) -> str: ...
    @property
    def welcome_generation(self) -> float | None: ...


def welcome_job(account: Invited, name_ar: str | None = None) -> Job:
    """The outbound job whose sender mints this generation's welcome link (jobs.welcome builds the email).

    `name_ar`: the Arabic name from the HR row ("" when HR sent none), so the Arabic part greets with it;
    jobs without the key (queued before it existed, or from a caller that does not pass it) have the
    sender look it up instead.
    """
    job: Job = {"kind": "welcome", "account_id": account.account_id,
                "generation": int(account.welcome_generation or 0)}
    if name_ar is not None:
        job["name_ar"] = name_ar
    return job


def welcome_message(deps: AuthDeps, account_id: str, generation: int, name_ar: str | None = None,
                    *, look_up_name: bool = True) -> Message | None:
    """Mint this generation's welcome link (valid 14 days from now) and the email carrying it.

    None when there is nothing to send: the account activated meanwhile, HR changed the email
    again (a newer generation is queued), or this generation was already delivered. Without
    `name_ar` (and `look_up_name`), the Arabic name is read from the account's principal.
    """
    now = deps.now()
    account = deps.store.account(account_id)
    if account is None or account.status not in ("invited", "invite_expired") or account.email is None:
        return None
    if int(account.welcome_generation or 0) != generation or account.welcome_delivered_generation == generation:
        return None
    link, expires = _new_activation(deps, account, now)
    # The invite job marks the account invite_expired if this link dies unused.
    account.invite_shard, account.invite_due_at = shard_of(account.account_id), expires
    account.welcome_delivered_generation = generation
    account.updated_at = now
    # Conditional on the version read: a concurrent sender of the same job loses here, before sending.
    deps.store.save_account(account)
    if not name_ar and look_up_name:
        name_ar = deps.arabic_name_of(account.account_id)
    return messages.welcome_email(account.email, account.name or "", link,
                                  deps.settings.lifetimes.activation_link_days, name_ar or None)


def _new_activation(deps: AuthDeps, account: Account, now: datetime) -> tuple[str, datetime]:
    # The token names its account, so checking it is one read and no token item is stored.
    token = f"{account.account_id}.{new_token()}"
    expires = now + timedelta(days=deps.settings.lifetimes.activation_link_days)
    account.activation_hash = token_hash(token)  # the newest link is the only live one
    account.activation_expires_at = expires
    return _link(deps, "/activate", token), expires


def _check_activation(deps: AuthDeps, token: str) -> LinkState:
    account_id, _, secret = str(token or "").partition(".")
    account = deps.store.account(account_id) if account_id and secret else None
    if account is None:
        return LinkState(False, "invalid")
    hashed = token_hash(token)
    if same(account.activation_used_hash, hashed):
        return LinkState(False, "used")
    if not same(account.activation_hash, hashed):
        return LinkState(False, "invalid")  # replaced by a newer link, or never ours
    if account.activation_expires_at is None or account.activation_expires_at <= deps.now():
        return LinkState(False, "expired")
    return LinkState(True, account=account)


def _check_link(deps: AuthDeps, token: str, kind: str) -> LinkState:
    now = deps.now()
    hashed = token_hash(str(token or ""))
    record = deps.store.token(hashed)
    if record is None or record.kind != kind:
        return LinkState(False, "invalid")
    if record.used_at:
        return LinkState(False, "used")
    account = deps.store.account(record.account_id) if record.account_id else None
    if account is None:
        return LinkState(False, "invalid")
    if not same(account.reset_hash, hashed):
        return LinkState(False, "invalid")  # replaced by a newer link
    if record.expires_at <= now:
        return LinkState(False, "expired")
    return LinkState(True, record=record, account=account)


def activation_state(deps: AuthDeps, token: str) -> LinkState:
    return _check_activation(deps, token)


def activate(deps: AuthDeps, token: str) -> LinkState:
    """Confirming a welcome link emails a temporary password (valid 7 days); the link then dies."""
    now = deps.now()
    state = _check_activation(deps, token)
    if not state.ok:
        return state
    account = state.account
    assert account is not None  # an ok state carries its account
    password = temporary_password()
    account.password_hash = deps.hasher.hash(password)
    account.password_kind = "temporary"
    account.password_set_at = now
    account.activation_used_hash = account.activation_hash
    account.activation_hash = None
    account.invite_shard = account.invite_due_at = None
    account.updated_at = now
    schedule_password_job(deps, account)
    try:
        deps.store.save_account(account)  # conditional on the version read: one of two clicks wins
    except StaleState:
        return LinkState(False, "used")
    deps.send(messages.activation_password_email(account.email or "", account.name or "", password,
                                                 deps.settings.lifetimes.temporary_password_days,
                                                 deps.arabic_name_of(account.account_id)))
    log_event("account_activation_sent", account_id=account.account_id)
    return state


def forgot_password(deps: AuthDeps, username: object) -> None:
    """Queue a reset for the sender; the caller answers 202 the same way either way.

    The request does the same work whether or not the account exists (one counter, one queue
    message), so its timing tells nothing: the lookup happens in the sender. The message's
    language is the account's (both for HR accounts), never the request's: the link goes to the
    account's owner, who may not be the one asking.
    """
    name = normalize_username(username)
    if name is None:
        return
    if deps.store.hit(f"forgot:name:{token_hash(name)}", timedelta(hours=1), deps.now()) > \
            deps.settings.limits.forgot_per_hour:
        log_event("forgot_password_throttled")
        return
    deps.enqueue([{"kind": "password_reset", "username": name}])


def password_reset_message(deps: AuthDeps, username: str) -> Message | None:
    """The sender's half: a reset link (valid 24 hours; the newest voids older ones), if the account exists."""
    now = deps.now()
    login_name = deps.store.login_name(username)
    account = deps.store.account(login_name.account_id) if login_name and login_name.account_id else None
    if account is None:
        return None
    if deps.store.hit(f"forgot:account:{account.account_id}", timedelta(hours=1), now) > \
            deps.settings.limits.forgot_per_hour:
        log_event("forgot_password_throttled", account_id=account.account_id)
        return None
    token = new_token()
    hours = deps.settings.lifetimes.reset_link_hours
    deps.store.put_token(token_hash(token), kind="reset", account_id=account.account_id,
                         expires_at=now + timedelta(hours=hours))
    account.reset_hash = token_hash(token)  # a newer link voids the older ones
    account.updated_at = now
    deps.store.save_account(account)
    link = _link(deps, "/reset-password", token)
    # HR accounts have no language preference: both languages. Residents get theirs.
    lang_of_account = account.language if account.source == "self" else None
    log_event("password_reset_sent", account_id=account.account_id)
    if account.email:
        return messages.reset_link_email(account.email, lang_of_account, link, hours)
    if account.phone:
        return messages.reset_link_sms(account.phone, lang_of_account, link, hours)
    return None


def reset_state(deps: AuthDeps, token: str) -> LinkState:
    return _check_link(deps, token, "reset")


def reset_password(deps: AuthDeps, token: str, new_password: str) -> LinkState:
    """Set a new password from a reset link; activates an invited account; ends every session."""
    now = deps.now()
    state = _check_link(deps, token, "reset")
    if not state.ok or state.account is None or state.record is None:
        raise InvalidToken(details={"reason": state.reason})
    account = state.account
    set_new_password(deps, account, new_password, now)
    deps.store.use_token(state.record, now)
    account.status = "active"
    account.reset_hash = None
    account.activation_hash = None
    account.invite_shard = account.invite_due_at = None
    deps.store.save_account(account)
    deps.store.delete_sessions(account.account_id)
    log_event("password_reset", account_id=account.account_id)
    return state


def change_password(deps: AuthDeps, account_id: str, session_id: str, current: str, new_password: str) -> None:
    """Change the password with the current one; every other device is signed out."""
    now = deps.now()
    account = deps.store.account(account_id)
    if account is None or not account.password_hash or not deps.hasher.verify(account.password_hash, current or ""):
        raise WrongCurrentPassword()
    set_new_password(deps, account, new_password, now)
    account.status = "active"
    deps.store.save_account(account)
    deps.store.delete_sessions(account_id, keep=session_id)
    log_event("password_changed", account_id=account_id)

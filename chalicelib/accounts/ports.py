"""What the account use cases need from the outside world: typed ports, and one value the wiring fills."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.accounts.values import Account, LoginCheck, LoginName, Session, Token, TokenData
from chalicelib.platform.messages import Message
from chalicelib.settings import Settings

# One queued outbound job (platform.outbound): its "kind" and the JSON fields its sender reads.
Job = dict[str, object]


class PasswordHashing(Protocol):
    """Slow, salted password hashes (argon2id in production)."""

    def hash(self, password: str) -> str: ...
    def verify(self, stored_hash: object, password: str) -> bool: ...
    def needs_rehash(self, stored_hash: str) -> bool: ...
    def burn_dummy_verify(self, password: str) -> None: ...


class AccountStorePort(Protocol):
    """Where accounts, login names, tokens, sessions and counters live; every change is conditional.

    Conflicts surface as errors the use cases handle: StaleState (someone changed the item since
    it was read, or a single-use token was used), UsernameTaken (a login name has an account).
    """

    # login names and their password-check budget
    def login_name(self, username: str) -> LoginName | None: ...

    def reserve_login_check(self, username: str, now: datetime, limit: int,
                            window: timedelta) -> LoginCheck | None:
        """One check of the name's budget, or None when it is spent or the name is locked."""
        ...

    def login_lock(self, username: str, now: datetime, limit: int) -> datetime | None:
        """Until when the name can't be checked; None if it can."""
        ...

    def record_login_failure(self, username: str, check: LoginCheck, now: datetime, limit: int,
                             lock: timedelta) -> bool:
        """Count a wrong password; True when this failure locked the name."""
        ...

    def release_login_check(self, username: str, check: LoginCheck) -> None: ...

    # accounts
    def account(self, account_id: str) -> Account | None: ...

    def create_account(self, account: Account, usernames: dict[str, str]) -> None:
        """Store a new account with its login names (field -> name); UsernameTaken(field) if one has an owner."""
        ...

    def save_account(self, account: Account) -> None:
        """Write the account if its version is still the one read (StaleState if not); moves the version on."""
        ...

    # single-use tokens
    def put_token(self, hashed: str, *, kind: str, expires_at: datetime, account_id: str | None = None,
                  data: TokenData | None = None) -> Token: ...

    def token(self, token_hash: str) -> Token | None: ...

    def use_token(self, token: Token, now: datetime) -> None:
        """Mark it used, once (StaleState the second time, or if it changed since read)."""
        ...

    def save_token(self, token: Token) -> None:
        """Write the token if its version is still the one read (StaleState if not)."""
        ...

    # device sessions
    def put_session(self, session: Session) -> None: ...

    def session(self, session_id: str) -> Session | None: ...

    def rotate_session(self, session: Session, old_hash: str, new_hash: str, now: datetime,
                       idle_expires_at: datetime) -> None:
        """Swap the refresh hash if it is still `old_hash` (StaleState if a racer won)."""
        ...

    def delete_session(self, session_id: str, account_id: str | None = None) -> bool:
        """True if it existed (and belonged to `account_id`, when given)."""
        ...

    def sessions_of(self, account_id: str) -> list[Session]: ...

    def delete_sessions(self, account_id: str, keep: str | None = None) -> int: ...

    # counters
    def hit(self, key: str, window: timedelta, now: datetime) -> int:
        """Count one event in the key's current fixed window; the count so far."""
        ...


class DueStorePort(Protocol):
    """The expiry jobs' reads of what is due (one shard at a time) and their conditional writes.

    Each write is conditioned on the state that made the item due: StaleState when it changed.
    """

    def due_invites(self, shard: str, now: datetime) -> Iterator[Account]: ...
    def expire_invite(self, account: Account, now: datetime) -> bool: ...
    def due_passwords(self, shard: str, now: datetime) -> Iterator[Account]: ...
    def drop_temporary_password(self, account: Account, now: datetime) -> bool: ...
    def mark_password_expired(self, account: Account, now: datetime) -> bool: ...
    def mark_reminded(self, account: Account, expires: datetime) -> bool: ...
    def clear_password_due(self, account: Account) -> bool: ...
    def due_tokens(self, shard: str, now: datetime) -> Iterator[Token]: ...
    def delete_due_token(self, token: Token, now: datetime) -> bool: ...
    def due_sessions(self, shard: str, now: datetime) -> Iterator[Session]: ...
    def delete_due_session(self, session: Session, now: datetime) -> bool: ...


def no_arabic_name(account_id: str) -> str | None:
    return None


@dataclass
class AuthDeps:
    settings: Settings
    store: AccountStorePort
    hasher: PasswordHashing
    is_common_password: Callable[[str], bool]
    send: Callable[[Message], object]
    enqueue: Callable[[list[Job]], object]
    now: Callable[[], datetime]
    issue_access_token: Callable[[str, str, datetime, str | None], str]
    # The server's HMAC keys (Secrets Manager), the signing one first: SMS codes, refresh successors.
    hmac_keys: Callable[[], list[bytes]]
    # The Arabic name HR gave for an account's principal (the account stores the Latin one), or None:
    # the emails greet in Arabic with it. The wiring reads it from the members; fakes have none.
    arabic_name_of: Callable[[str], str | None] = no_arabic_name

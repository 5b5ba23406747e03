"""In-memory adapters of the account ports: the store (AccountStorePort and DueStorePort), a hasher,
a mailer and a clock. tests/contract/test_account_store_contract.py runs the store fake and the real
AccountStore/DueStore on moto through the same tests, so a use case tested here behaves the same there.

Every read hands out a copy and every write checks the condition the real write puts on DynamoDB
(versions, a refresh hash still current, a name without an owner, a token not used), raising the
same StaleState / UsernameTaken.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from chalicelib.accounts.errors import UsernameTaken
from chalicelib.accounts.ports import AuthDeps, Job
from chalicelib.accounts.settings import Lifetimes, Limits
from chalicelib.accounts.tokens import token_hash
from chalicelib.accounts.values import Account, LoginCheck, LoginName, Session, Token, TokenData
from chalicelib.errors import StaleState
from chalicelib.platform.jobs import shard_of
from chalicelib.platform.messages import Message

EXPIRED = "expired-"


@dataclass
class _Throttle:
    count: int = 0
    failed: int | None = None
    window_end: datetime | None = None
    locked_until: datetime | None = None


class FakeAccountStore:
    """The account store in dicts, with the real store's conditional writes."""

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.usernames: dict[str, str | None] = {}
        self.tokens: dict[str, Token] = {}
        self.sessions: dict[str, Session] = {}
        self.throttles: dict[str, _Throttle] = {}

    # --- login names and their budget ------------------------------------------------------------
    def login_name(self, username: str) -> LoginName | None:
        if username not in self.usernames:
            return None
        return LoginName(username, self.usernames[username])

    def _throttle(self, username: str) -> _Throttle:
        return self.throttles.setdefault(f"login#{token_hash(username)}", _Throttle())

    def reserve_login_check(self, username: str, now: datetime, limit: int,
                            window: timedelta) -> LoginCheck | None:
        t = self._throttle(username)
        not_locked = t.locked_until is None or t.locked_until <= now
        if not_locked and (t.window_end is None or t.window_end <= now):
            t.count, t.failed, t.window_end, t.locked_until = 1, 0, now + window, None
            return LoginCheck(1, 0)
        if not_locked and t.count < limit and t.window_end is not None and t.window_end > now:
            t.count += 1
            return LoginCheck(t.count, t.failed or 0)
        return None

    def login_lock(self, username: str, now: datetime, limit: int) -> datetime | None:
        t = self.throttles.get(f"login#{token_hash(username)}")
        if t is None:
            return None
        if t.locked_until and t.locked_until > now:
            return t.locked_until
        if t.window_end and t.window_end > now and t.count >= limit:
            return t.window_end
        return None

    def record_login_failure(self, username: str, check: LoginCheck, now: datetime, limit: int,
                             lock: timedelta) -> bool:
        t = self._throttle(username)
        t.failed = (t.failed or 0) + 1
        locks = check.number >= limit
        if locks:
            t.locked_until = t.window_end = now + lock
        return locks

    def release_login_check(self, username: str, check: LoginCheck) -> None:
        t = self._throttle(username)
        if check.failed_before and t.count == check.number and t.failed == check.number - 1:
            t.count, t.failed = 0, 0
            return
        t.count -= 1

    # --- accounts --------------------------------------------------------------------------------
    def account(self, account_id: str) -> Account | None:
        return copy.deepcopy(self.accounts.get(account_id))

    def create_account(self, account: Account, usernames: dict[str, str]) -> None:
        if account.account_id in self.accounts:
            raise StaleState()
        for field_name, name in usernames.items():
            if self.usernames.get(name):
                raise UsernameTaken(field_name)
        for name in usernames.values():
            self.usernames[name] = account.account_id
        account.version = 1
        self.accounts[account.account_id] = copy.deepcopy(account)

    def new_account(self, **values: object) -> Account:
        return Account(**values)  # type: ignore[arg-type]  # bench/test seeding, as the real store's

    def save_account(self, account: Account) -> None:
        stored = self.accounts.get(account.account_id)
        if (stored.version if stored else None) != account.version:
            raise StaleState()
        account.version = (account.version or 0) + 1
        self.accounts[account.account_id] = copy.deepcopy(account)

    # --- tokens ----------------------------------------------------------------------------------
    def put_token(self, hashed: str, *, kind: str, expires_at: datetime, account_id: str | None = None,
                  data: TokenData | None = None) -> Token:
        if hashed in self.tokens:
            raise StaleState()
        token = Token(hashed, kind, expires_at, account_id=account_id, data=copy.deepcopy(data), version=1)
        self.tokens[hashed] = copy.deepcopy(token)
        return token

    def token(self, token_hash: str) -> Token | None:
        return copy.deepcopy(self.tokens.get(token_hash))

    def use_token(self, token: Token, now: datetime) -> None:
        stored = self.tokens.get(token.token_hash)
        if stored is None or stored.used_at is not None or stored.version != token.version:
            raise StaleState()
        stored.used_at, stored.version = now, (stored.version or 0) + 1
        token.used_at, token.version = stored.used_at, stored.version

    def save_token(self, token: Token) -> None:
        stored = self.tokens.get(token.token_hash)
        if (stored.version if stored else None) != token.version:
            raise StaleState()
        token.version = (token.version or 0) + 1
        self.tokens[token.token_hash] = copy.deepcopy(token)

    # --- sessions --------------------------------------------------------------------------------
    def put_session(self, session: Session) -> None:
        if session.session_id in self.sessions:
            raise StaleState()
        self.sessions[session.session_id] = copy.deepcopy(session)

    def session(self, session_id: str) -> Session | None:
        return copy.deepcopy(self.sessions.get(session_id))

    def rotate_session(self, session: Session, old_hash: str, new_hash: str, now: datetime,
                       idle_expires_at: datetime) -> None:
        stored = self.sessions.get(session.session_id)
        if stored is None or stored.refresh_hash != old_hash:
            raise StaleState()
        stored.used_hashes = [*session.used_hashes, old_hash][-20:]
        stored.refresh_hash, stored.previous_hash, stored.rotated_at = new_hash, old_hash, now
        stored.last_used_at, stored.idle_expires_at = now, idle_expires_at

    def delete_session(self, session_id: str, account_id: str | None = None) -> bool:
        stored = self.sessions.get(session_id)
        if stored is None or (account_id is not None and stored.account_id != account_id):
            return False
        del self.sessions[session_id]
        return True

    def sessions_of(self, account_id: str) -> list[Session]:
        mine = [s for s in self.sessions.values() if s.account_id == account_id]
        return copy.deepcopy(sorted(mine, key=lambda s: s.created_at))

    def delete_sessions(self, account_id: str, keep: str | None = None) -> int:
        ended = [sid for sid, s in self.sessions.items() if s.account_id == account_id and sid != keep]
        for sid in ended:
            del self.sessions[sid]
        return len(ended)

    # --- counters --------------------------------------------------------------------------------
    def hit(self, key: str, window: timedelta, now: datetime) -> int:
        start = int(now.timestamp()) // int(window.total_seconds())
        t = self.throttles.setdefault(f"{key}#{start}", _Throttle())
        t.count += 1
        return t.count

    # --- the expiry jobs' reads and writes (DueStorePort) ------------------------------------------
    def due_invites(self, shard: str, now: datetime) -> Iterator[Account]:
        due = [a for a in self.accounts.values()
               if a.invite_shard == shard and a.invite_due_at is not None and a.invite_due_at <= now]
        return iter(copy.deepcopy(sorted(due, key=lambda a: a.invite_due_at or now)))

    def _stored(self, account: Account) -> Account:
        stored = self.accounts.get(account.account_id)
        if stored is None:
            raise StaleState()
        return stored

    def expire_invite(self, account: Account, now: datetime) -> bool:
        stored = self._stored(account)
        if stored.status != "invited" or stored.invite_due_at is None or stored.invite_due_at > now:
            raise StaleState()
        stored.status, stored.invite_shard = "invite_expired", f"{EXPIRED}{account.invite_shard}"
        stored.updated_at, stored.version = now, (stored.version or 0) + 1
        return True

    def never_activated(self) -> Iterator[Account]:
        gone = [a for a in self.accounts.values() if (a.invite_shard or "").startswith(EXPIRED)]
        return iter(copy.deepcopy(gone))

    def due_passwords(self, shard: str, now: datetime) -> Iterator[Account]:
        due = [a for a in self.accounts.values()
               if a.password_shard == shard and a.password_due_at is not None and a.password_due_at <= now]
        return iter(copy.deepcopy(sorted(due, key=lambda a: a.password_due_at or now)))

    def _same_password(self, account: Account) -> Account:
        stored = self._stored(account)
        if stored.password_set_at != account.password_set_at:
            raise StaleState()
        return stored

    def drop_temporary_password(self, account: Account, now: datetime) -> bool:
        stored = self._same_password(account)
        if stored.password_kind != "temporary":
            raise StaleState()
        stored.password_kind, stored.password_shard, stored.password_due_at = "temporary_expired", None, None
        stored.updated_at, stored.version = now, (stored.version or 0) + 1
        return True

    def mark_password_expired(self, account: Account, now: datetime) -> bool:
        stored = self._same_password(account)
        stored.password_expired, stored.password_shard, stored.password_due_at = "yes", None, None
        stored.updated_at, stored.version = now, (stored.version or 0) + 1
        return True

    def mark_reminded(self, account: Account, expires: datetime) -> bool:
        if account.password_set_at is None:
            return False
        stored = self._same_password(account)
        if stored.password_reminded_for == account.password_set_at:
            raise StaleState()
        stored.password_reminded_for, stored.password_due_at = account.password_set_at, expires
        stored.version = (stored.version or 0) + 1
        return True

    def clear_password_due(self, account: Account) -> bool:
        stored = self._same_password(account)
        stored.password_shard, stored.password_due_at = None, None
        stored.version = (stored.version or 0) + 1
        return True

    def due_tokens(self, shard: str, now: datetime) -> Iterator[Token]:
        due = [t for t in self.tokens.values() if shard_of(t.token_hash) == shard and t.expires_at <= now]
        return iter(copy.deepcopy(due))

    def delete_due_token(self, token: Token, now: datetime) -> bool:
        stored = self.tokens.get(token.token_hash)
        if stored is None or stored.expires_at > now:
            raise StaleState()
        del self.tokens[token.token_hash]
        return True

    def due_sessions(self, shard: str, now: datetime) -> Iterator[Session]:
        due = [s for s in self.sessions.values()
               if shard_of(s.session_id) == shard and min(s.idle_expires_at, s.absolute_expires_at) <= now]
        return iter(copy.deepcopy(due))

    def delete_due_session(self, session: Session, now: datetime) -> bool:
        stored = self.sessions.get(session.session_id)
        if stored is None or min(stored.idle_expires_at, stored.absolute_expires_at) > now:
            raise StaleState()
        del self.sessions[session.session_id]
        return True


class FakeHasher:
    """Reversible stand-in for argon2 (milliseconds, not 60 ms a hash); `params` marks an old cost."""

    def __init__(self, params: str = "v2") -> None:
        self.params = params
        self.dummy_verifies = 0

    def hash(self, password: str) -> str:
        return f"fake${self.params}${password}"

    def verify(self, stored_hash: object, password: str) -> bool:
        return isinstance(stored_hash, str) and stored_hash.split("$", 2)[-1] == password

    def needs_rehash(self, stored_hash: str) -> bool:
        return not stored_hash.startswith(f"fake${self.params}$")

    def burn_dummy_verify(self, password: str) -> None:
        self.dummy_verifies += 1


class Clock:
    def __init__(self, at: datetime = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def shift(self, delta: timedelta) -> None:
        self.at += delta


@dataclass
class World:
    """One test's account world: the deps the use cases take, and the fakes to look at."""

    deps: AuthDeps
    store: FakeAccountStore
    clock: Clock
    sent: list[Message] = field(default_factory=list)
    queued: list[Job] = field(default_factory=list)


def make_world(lifetimes: Lifetimes | None = None, limits: Limits | None = None) -> World:
    from chalicelib.settings import get_settings

    settings = get_settings()
    settings = type(settings)(**{**settings.__dict__, "lifetimes": lifetimes or Lifetimes(),
                                 "limits": limits or Limits(), "public_base_url": "https://app.example"})
    store, clock = FakeAccountStore(), Clock()
    sent: list[Message] = []
    queued: list[Job] = []
    deps = AuthDeps(
        settings=settings, store=store, hasher=FakeHasher(), is_common_password=lambda p: p == "password123",
        send=sent.append, enqueue=queued.extend, now=clock,
        issue_access_token=lambda account_id, session_id, now, lang: f"access:{account_id}:{session_id}",
        hmac_keys=lambda: [b"k" * 32],
    )
    return World(deps, store, clock, sent, queued)

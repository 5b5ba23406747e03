"""DynamoDB reads and conditional writes of the accounts area: the AccountStorePort and DueStorePort on PynamoDB.

Rows become the plain values of accounts/values.py on the way out and rows again on the way in;
no PynamoDB record leaves this module.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.accounts.errors import UsernameTaken
from chalicelib.accounts.models import (
    AccountRecord,
    SessionRecord,
    ThrottleRecord,
    TokenDataAttribute,
    TokenRecord,
    UsernameRecord,
)
from chalicelib.accounts.tokens import token_hash
from chalicelib.accounts.values import Account, LoginCheck, LoginName, Session, Token, TokenData
from chalicelib.errors import StaleState
from chalicelib.platform.dynamo import cancellation, connection, lost_condition
from chalicelib.platform.jobs import SHARDS, shard_of

# The fields each value shares with its row (every attribute of the row but the due-index keys
# a store sets itself); tests/contract checks nothing of a row is lost on the way through.
ACCOUNT_FIELDS = tuple(f.name for f in fields(Account))
TOKEN_DATA_FIELDS = tuple(f.name for f in fields(TokenData))
SESSION_FIELDS = tuple(f.name for f in fields(Session))


def account_of(record: AccountRecord) -> Account:
    values: dict[str, Any] = {name: getattr(record, name) for name in ACCOUNT_FIELDS}
    values["password_history"] = list(values["password_history"] or [])
    for name in ("welcome_generation", "welcome_delivered_generation", "version"):
        values[name] = None if values[name] is None else int(values[name])  # NumberAttribute reads floats
    return Account(**values)


def account_record(account: Account) -> AccountRecord:
    values = {name: getattr(account, name) for name in ACCOUNT_FIELDS}
    if values["version"] is None:
        del values["version"]  # a new row: PynamoDB's save conditions on its absence
    return AccountRecord(**values)


def token_of(record: TokenRecord) -> Token:
    data = None
    if record.data is not None:
        raw: dict[str, Any] = {name: getattr(record.data, name) for name in TOKEN_DATA_FIELDS}
        raw["sent_at"] = list(raw["sent_at"] or [])
        data = TokenData(**raw)
    return Token(token_hash=record.token_hash, kind=record.kind, expires_at=record.expires_at,
                 account_id=record.account_id, used_at=record.used_at, attempts=int(record.attempts or 0),
                 data=data, version=None if record.version is None else int(record.version))


def token_record(token: Token) -> TokenRecord:
    data = None
    if token.data is not None:
        data = TokenDataAttribute(**{name: getattr(token.data, name) for name in TOKEN_DATA_FIELDS})  # type: ignore[no-untyped-call]  # pynamodb MapAttribute
    record = TokenRecord(token.token_hash, kind=token.kind, account_id=token.account_id, expires_at=token.expires_at,
                         expires_ttl=token.expires_at, used_at=token.used_at, attempts=token.attempts, data=data,
                         due_shard=shard_of(token.token_hash), due_at=token.expires_at)
    if token.version is not None:
        record.version = token.version
    return record


def session_of(record: SessionRecord) -> Session:
    values: dict[str, Any] = {name: getattr(record, name) for name in SESSION_FIELDS}
    values["used_hashes"] = list(values["used_hashes"] or [])
    return Session(**values)


def session_record(session: Session) -> SessionRecord:
    due = min(session.idle_expires_at, session.absolute_expires_at)
    values = {name: getattr(session, name) for name in SESSION_FIELDS}
    return SessionRecord(**values, expires_ttl=due, due_shard=shard_of(session.session_id), due_at=due)


class AccountStore:
    """PynamoDB-backed storage of the account use cases; every state change is a conditional write."""

    # --- login names -------------------------------------------------------------------------
    def login_name(self, username: str) -> LoginName | None:
        try:
            record = UsernameRecord.get(username)
        except UsernameRecord.DoesNotExist:
            return None
        return LoginName(record.username, record.account_id)

    # --- the password-check budget of a login name --------------------------------------------
    # One item per name in the throttles table, for known and unknown names alike (so both lock
    # the same way, and a name of nobody costs no record in the usernames table):
    #   count        checks reserved in the window (a reservation comes BEFORE argon2 runs)
    #   failed       checks that ended in a wrong password
    #   window_end   when the window's budget is given back
    #   locked_until set by the failure that spends the budget
    # Every change is one conditional UpdateItem, so parallel requests can't share a reservation.

    def reserve_login_check(self, username: str, now: datetime, limit: int,
                            window: timedelta) -> LoginCheck | None:
        """Reserve one password check: its number in the window, or None when the budget is spent."""
        record = ThrottleRecord(_login_key(username))
        not_locked = ThrottleRecord.locked_until.does_not_exist() | (ThrottleRecord.locked_until <= now)
        for _ in range(3):  # a window that ends between the two writes: start again
            try:  # the first check since the last window ended opens a new one
                record.update(actions=[ThrottleRecord.count.set(1), ThrottleRecord.failed.set(0),
                                       ThrottleRecord.window_end.set(now + window),
                                       ThrottleRecord.locked_until.remove(),
                                       ThrottleRecord.expires_ttl.set(now + window * 2)],
                              condition=(ThrottleRecord.window_end.does_not_exist()
                                         | (ThrottleRecord.window_end <= now)) & not_locked)
                return LoginCheck(1, 0)
            except UpdateError as exc:
                if not lost_condition(exc):
                    raise
            try:
                record.update(actions=[ThrottleRecord.count.add(1)],
                              condition=(ThrottleRecord.count < limit) & (ThrottleRecord.window_end > now)
                              & not_locked)
                return LoginCheck(int(record.count), int(record.failed or 0))  # the item after the write
            except UpdateError as exc:
                if not lost_condition(exc):
                    raise
            if self.login_lock(username, now, limit) is not None:
                return None
        return None

    def login_lock(self, username: str, now: datetime, limit: int) -> datetime | None:
        """Until when this name can't be checked (its lock, or its spent window's end); None if it can."""
        try:
            record = ThrottleRecord.get(_login_key(username), consistent_read=True)
        except ThrottleRecord.DoesNotExist:
            return None
        if record.locked_until and record.locked_until > now:
            return record.locked_until
        if record.window_end and record.window_end > now and int(record.count or 0) >= limit:
            return record.window_end
        return None

    def record_login_failure(self, username: str, check: LoginCheck, now: datetime, limit: int,
                             lock: timedelta) -> bool:
        """Count a wrong password; the check that spends the budget locks the name. True when it did."""
        actions: list[Any] = [ThrottleRecord.failed.add(1)]
        locks = check.number >= limit
        if locks:
            # The window ends with the lock, so the first check after it opens a fresh budget.
            actions += [ThrottleRecord.locked_until.set(now + lock), ThrottleRecord.window_end.set(now + lock),
                        ThrottleRecord.expires_ttl.set(now + lock * 2)]
        ThrottleRecord(_login_key(username)).update(actions=actions)
        return locks

    def release_login_check(self, username: str, check: LoginCheck) -> None:
        """A right password gives its check back, and forgives the failures before it when nothing
        else is in flight (all earlier checks ended as failures and none came since)."""
        record = ThrottleRecord(_login_key(username))
        if check.failed_before:
            try:
                record.update(actions=[ThrottleRecord.count.set(0), ThrottleRecord.failed.set(0)],
                              condition=(ThrottleRecord.count == check.number)
                              & (ThrottleRecord.failed == check.number - 1))
                return
            except UpdateError as exc:
                if not lost_condition(exc):
                    raise
        record.update(actions=[ThrottleRecord.count.add(-1)])

    # --- accounts ----------------------------------------------------------------------------
    def account(self, account_id: str) -> Account | None:
        try:
            return account_of(AccountRecord.get(account_id))
        except AccountRecord.DoesNotExist:
            return None

    def create_account(self, account: Account, usernames: dict[str, str]) -> None:
        """Create the account and claim its login names at once; UsernameTaken names the field."""
        fields_ = list(usernames)
        record = account_record(account)
        try:
            with TransactWrite(connection=connection(), client_request_token=uuid.uuid4().hex) as tx:
                tx.save(record, condition=AccountRecord.account_id.does_not_exist())
                for name in usernames.values():
                    # A record without account_id is only a lockout counter: the name is free.
                    tx.save(UsernameRecord(name, account_id=account.account_id),
                            condition=UsernameRecord.account_id.does_not_exist())
        except TransactWriteError as exc:
            why = cancellation(exc)
            # Position 0 is the account itself; each name after it is one login name.
            for index in why.failed_conditions:
                if index >= 1:
                    raise UsernameTaken(fields_[index - 1]) from exc
            if why.lost_race:
                raise StaleState() from exc
            raise
        account.version = int(record.version)

    def new_account(self, **values: Any) -> Account:
        """An account not yet stored (create_account stores it); kept for bench and test seeding."""
        return Account(**values)

    def save_account(self, account: Account) -> None:
        """Write the account if nobody changed it since it was read (its version)."""
        record = account_record(account)
        try:
            record.save()
        except PutError as exc:
            if lost_condition(exc):
                raise StaleState() from exc
            raise
        account.version = int(record.version)

    # --- tokens ------------------------------------------------------------------------------
    def put_token(self, hashed: str, *, kind: str, expires_at: datetime, account_id: str | None = None,
                  data: TokenData | None = None) -> Token:
        token = Token(hashed, kind, expires_at, account_id=account_id, data=data)
        record = token_record(token)
        try:
            record.save(condition=TokenRecord.token_hash.does_not_exist())
        except PutError as exc:
            if lost_condition(exc):
                raise StaleState() from exc  # the hash is taken: never for a fresh random token
            raise
        token.version = int(record.version)
        return token

    def token(self, token_hash: str) -> Token | None:
        try:
            return token_of(TokenRecord.get(token_hash))
        except TokenRecord.DoesNotExist:
            return None

    def use_token(self, token: Token, now: datetime) -> None:
        """Mark a token used, once: a second use (or a race) fails with StaleState."""
        record = TokenRecord(token.token_hash, version=token.version)
        try:
            record.update(actions=[TokenRecord.used_at.set(now)], condition=TokenRecord.used_at.does_not_exist())
        except UpdateError as exc:
            if lost_condition(exc):
                raise StaleState() from exc
            raise
        token.used_at, token.version = now, int(record.version)

    def save_token(self, token: Token) -> None:
        """Write the token if nobody changed it since it was read (its version)."""
        record = token_record(token)
        try:
            record.save()
        except PutError as exc:
            if lost_condition(exc):
                raise StaleState() from exc
            raise
        token.version = int(record.version)

    # --- sessions ----------------------------------------------------------------------------
    def put_session(self, session: Session) -> None:
        try:
            session_record(session).save(condition=SessionRecord.session_id.does_not_exist())
        except PutError as exc:
            if lost_condition(exc):
                raise StaleState() from exc  # the id is taken: never for a fresh uuid
            raise

    def session(self, session_id: str) -> Session | None:
        try:
            return session_of(SessionRecord.get(session_id))
        except SessionRecord.DoesNotExist:
            return None

    def rotate_session(self, session: Session, old_hash: str, new_hash: str, now: datetime,
                       idle_expires_at: datetime) -> None:
        """Swap the refresh hash only if it is still the one presented: one of two racers wins."""
        used = [*session.used_hashes, old_hash][-20:]
        due = min(idle_expires_at, session.absolute_expires_at)
        try:
            SessionRecord(session.session_id).update(
                actions=[
                    SessionRecord.refresh_hash.set(new_hash),
                    SessionRecord.used_hashes.set(used),  # type: ignore[arg-type]  # pynamodb types list items as attributes
                    SessionRecord.previous_hash.set(old_hash),
                    SessionRecord.rotated_at.set(now),
                    SessionRecord.last_used_at.set(now),
                    SessionRecord.idle_expires_at.set(idle_expires_at),
                    SessionRecord.expires_ttl.set(due),
                    SessionRecord.due_at.set(due),
                ],
                condition=SessionRecord.refresh_hash == old_hash,
            )
        except UpdateError as exc:
            if lost_condition(exc):
                raise StaleState() from exc
            raise

    def delete_session(self, session_id: str, account_id: str | None = None) -> bool:
        condition = SessionRecord.session_id.exists()
        if account_id is not None:
            condition &= SessionRecord.account_id == account_id
        try:
            SessionRecord(session_id).delete(condition=condition, add_version_condition=False)
            return True
        except DeleteError as exc:
            if lost_condition(exc):
                return False
            raise

    def sessions_of(self, account_id: str) -> list[Session]:
        return [session_of(record) for record in SessionRecord.by_account.query(account_id)]

    def delete_sessions(self, account_id: str, keep: str | None = None) -> int:
        ended = 0
        with SessionRecord.batch_write() as batch:
            for record in SessionRecord.by_account.query(account_id):
                if record.session_id != keep:
                    batch.delete(record)
                    ended += 1
        return ended

    # --- throttles ---------------------------------------------------------------------------
    def hit(self, key: str, window: timedelta, now: datetime) -> int:
        """Count one event in the current fixed window of this key; returns the count so far."""
        start = int(now.timestamp()) // int(window.total_seconds())
        record = ThrottleRecord(f"{key}#{start}")
        record.update(actions=[ThrottleRecord.count.add(1), ThrottleRecord.expires_ttl.set(now + window * 2)],
                      add_version_condition=False)
        return int(record.count)


EXPIRED = "expired-"


def _row(account: Account) -> AccountRecord:
    # The version read goes along: PynamoDB's update moves it on (add 1) instead of resetting it to 1,
    # so a person's concurrent save of what the job just changed still fails as stale.
    return AccountRecord(account.account_id, version=account.version)


def _login_key(username: str) -> str:
    # Hashed: the throttles table holds no email or civil ID.
    return f"login#{token_hash(username)}"


class DueStore:
    """The expiry jobs' reads (due items of one shard, lazily, a page at a time) and conditional writes."""

    def __init__(self, page_size: int = 100) -> None:
        self.page_size = page_size

    def _due(self, index: Any, shard: str, range_attr: Any, now: datetime) -> Iterator[Any]:
        rows: Iterator[Any] = index.query(shard, range_key_condition=range_attr <= now, page_size=self.page_size)
        return rows

    def due_invites(self, shard: str, now: datetime) -> Iterator[Account]:
        rows = self._due(AccountRecord.by_invite_due, shard, AccountRecord.invite_due_at, now)
        return (account_of(row) for row in rows)

    def expire_invite(self, account: Account, now: datetime) -> bool:
        # It stays in the index under "expired-<shard>" (the job reads only "0" to "7"): that is the
        # admin listing of people who never activated, oldest first.
        return self._update(_row(account),
                            [AccountRecord.status.set("invite_expired"),
                             AccountRecord.invite_shard.set(f"{EXPIRED}{account.invite_shard}"),
                             AccountRecord.updated_at.set(now)],
                            (AccountRecord.status == "invited") & (AccountRecord.invite_due_at <= now))

    def never_activated(self) -> Iterator[Account]:
        """Accounts whose welcome link expired unused and who have not come in since."""
        for shard in range(SHARDS):
            for row in AccountRecord.by_invite_due.query(f"{EXPIRED}{shard}", page_size=self.page_size):
                yield account_of(row)

    def due_passwords(self, shard: str, now: datetime) -> Iterator[Account]:
        rows = self._due(AccountRecord.by_password_due, shard, AccountRecord.password_due_at, now)
        return (account_of(row) for row in rows)

    def _same_password(self, account: Account) -> Any:
        return AccountRecord.password_set_at == account.password_set_at

    def drop_temporary_password(self, account: Account, now: datetime) -> bool:
        # The hash stays so the right password still hears "expired, use Forgot password", not "wrong".
        return self._update(_row(account),
                            [AccountRecord.password_kind.set("temporary_expired"),
                             AccountRecord.password_shard.remove(), AccountRecord.password_due_at.remove(),
                             AccountRecord.updated_at.set(now)],
                            self._same_password(account) & (AccountRecord.password_kind == "temporary"))

    def mark_password_expired(self, account: Account, now: datetime) -> bool:
        return self._update(_row(account),
                            [AccountRecord.password_expired.set("yes"), AccountRecord.password_shard.remove(),
                             AccountRecord.password_due_at.remove(), AccountRecord.updated_at.set(now)],
                            self._same_password(account))

    def mark_reminded(self, account: Account, expires: datetime) -> bool:
        # The reminder is sent only by the run whose write this is: never two for one password.
        if account.password_set_at is None:
            return False  # no password, nothing to remind of
        return self._update(_row(account),
                            [AccountRecord.password_reminded_for.set(account.password_set_at),
                             AccountRecord.password_due_at.set(expires)],
                            self._same_password(account)
                            & (AccountRecord.password_reminded_for.does_not_exist()
                               | (AccountRecord.password_reminded_for != account.password_set_at)))

    def clear_password_due(self, account: Account) -> bool:
        return self._update(_row(account),
                            [AccountRecord.password_shard.remove(), AccountRecord.password_due_at.remove()],
                            self._same_password(account))

    def _update(self, record: Any, actions: list[Any], condition: Any) -> bool:
        try:
            record.update(actions=actions, condition=condition, add_version_condition=False)
        except UpdateError as exc:
            if lost_condition(exc):
                raise StaleState() from exc
            raise
        return True

    def due_tokens(self, shard: str, now: datetime) -> Iterator[Token]:
        return (token_of(row) for row in self._due(TokenRecord.by_due, shard, TokenRecord.due_at, now))

    def delete_due_token(self, token: Token, now: datetime) -> bool:
        return self._delete(TokenRecord(token.token_hash), TokenRecord.due_at <= now)

    def due_sessions(self, shard: str, now: datetime) -> Iterator[Session]:
        return (session_of(row) for row in self._due(SessionRecord.by_due, shard, SessionRecord.due_at, now))

    def delete_due_session(self, session: Session, now: datetime) -> bool:
        # A refresh since the index was read moved due_at on: then the session stays.
        return self._delete(SessionRecord(session.session_id), SessionRecord.due_at <= now)

    def _delete(self, record: Any, condition: Any) -> bool:
        try:
            record.delete(condition=condition, add_version_condition=False)
        except DeleteError as exc:
            if lost_condition(exc):
                raise StaleState() from exc
            raise
        return True


def contact_of(account_id: str) -> tuple[str | None, str | None, str | None] | None:
    """Where an account's receipts go: (email, phone, language), or None when there is no such account."""
    account = AccountStore().account(account_id)
    if account is None:
        return None
    return account.email, account.phone, account.language

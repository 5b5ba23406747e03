"""The account store's contract: the in-memory fake (tests/accounts/fakes.py) and AccountStore/DueStore on
moto pass the same tests.

Each port method's observable behaviour: what a read returns after a write, and the conditions each write
guards (StaleState for a changed version, a used token, a rotated refresh hash or an item no longer due;
UsernameTaken naming the field, with nothing written), the login-name budget and the fixed-window counters.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.accounts.errors import UsernameTaken
from chalicelib.accounts.values import Account, LoginCheck, Session, TokenData
from chalicelib.errors import StaleState
from chalicelib.platform.jobs import all_shards, shard_of
from tests.accounts.fakes import FakeAccountStore

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


@pytest.fixture(params=["fake", "moto"])
def stores(request):
    """(the AccountStorePort, the DueStorePort) of one implementation."""
    if request.param == "fake":
        fake = FakeAccountStore()
        return fake, fake
    request.getfixturevalue("aws")
    from chalicelib.accounts.store import AccountStore, DueStore

    return AccountStore(), DueStore(page_size=2)


@pytest.fixture
def store(stores):
    return stores[0]


@pytest.fixture
def due(stores):
    return stores[1]


def account(account_id: str = "acc1", **changes) -> Account:
    values = dict(account_id=account_id, status="active", source="self", created_at=NOW, updated_at=NOW,
                  email=f"{account_id}@example.com", civil_id="290051700011", phone="+96551234567",
                  name="Sara Ahmed", language="en", password_hash="h1", password_kind="permanent",
                  password_set_at=NOW, password_history=["h0"])
    values.update(changes)
    return Account(**values)


def session(session_id: str = "s1", account_id: str = "acc1", created: datetime = NOW, **changes) -> Session:
    values = dict(session_id=session_id, account_id=account_id, created_at=created.isoformat(), device_id="d1",
                  device_name="Phone", refresh_hash="r1", last_used_at=created,
                  idle_expires_at=created + timedelta(days=30), absolute_expires_at=created + timedelta(days=180),
                  language="en")
    values.update(changes)
    return Session(**values)


# --- accounts --------------------------------------------------------------------------------------

def test_a_created_account_reads_back_whole_with_its_first_version_and_its_login_names(store):
    created = account(activation_expires_at=NOW + timedelta(days=14), welcome_generation=2)
    store.create_account(created, {"civil_id": "290051700011", "email": "acc1@example.com"})

    assert created.version == 1
    assert store.account("acc1") == created
    assert store.login_name("acc1@example.com").account_id == "acc1"
    assert store.login_name("290051700011").account_id == "acc1"
    assert store.account("nobody") is None
    assert store.login_name("nobody@example.com") is None


def test_a_name_with_an_owner_is_refused_by_field_and_nothing_is_written(store):
    store.create_account(account("acc1"), {"email": "shared@example.com"})

    with pytest.raises(UsernameTaken) as taken:
        store.create_account(account("acc2", civil_id="290051700029"),
                             {"civil_id": "290051700029", "email": "shared@example.com"})

    assert taken.value.field == "email"
    assert store.account("acc2") is None
    assert store.login_name("290051700029") is None
    assert store.login_name("shared@example.com").account_id == "acc1"


def test_an_account_id_already_stored_is_a_stale_create(store):
    store.create_account(account("acc1"), {"email": "acc1@example.com"})

    with pytest.raises(StaleState):
        store.create_account(account("acc1", email="other@example.com"), {"email": "other@example.com"})

    assert store.account("acc1").email == "acc1@example.com"


def test_a_save_moves_the_version_on_and_a_save_of_an_older_read_is_stale(store):
    store.create_account(account(), {"email": "acc1@example.com"})
    first, second = store.account("acc1"), store.account("acc1")

    first.status = "invite_expired"
    store.save_account(first)
    assert first.version == 2
    second.name = "Someone Else"
    with pytest.raises(StaleState):
        store.save_account(second)

    stored = store.account("acc1")
    assert (stored.status, stored.name, stored.version) == ("invite_expired", "Sara Ahmed", 2)


def test_a_read_is_a_copy_until_it_is_saved(store):
    store.create_account(account(), {"email": "acc1@example.com"})
    read = store.account("acc1")
    read.password_history.append("h-unsaved")
    read.status = "invited"

    assert store.account("acc1").password_history == ["h0"]
    assert store.account("acc1").status == "active"


# --- the password-check budget of a login name ------------------------------------------------------

def test_a_name_gets_its_budget_of_checks_per_window_then_none(store):
    checks = [store.reserve_login_check("ali@example.com", NOW, 3, WINDOW) for _ in range(4)]

    assert checks[:3] == [LoginCheck(1, 0), LoginCheck(2, 0), LoginCheck(3, 0)]
    assert checks[3] is None
    assert store.login_lock("ali@example.com", NOW, 3) == NOW + WINDOW
    assert store.login_lock("other@example.com", NOW, 3) is None
    assert store.reserve_login_check("ali@example.com", NOW + WINDOW, 3, WINDOW) == LoginCheck(1, 0)


def test_the_failure_that_spends_the_budget_locks_the_name_until_the_lock_ends(store):
    lock = timedelta(minutes=30)
    for _ in range(2):
        check = store.reserve_login_check("ali@example.com", NOW, 3, WINDOW)
        assert store.record_login_failure("ali@example.com", check, NOW, 3, lock) is False
    check = store.reserve_login_check("ali@example.com", NOW, 3, WINDOW)
    assert check == LoginCheck(3, 2)

    assert store.record_login_failure("ali@example.com", check, NOW, 3, lock) is True
    assert store.login_lock("ali@example.com", NOW + WINDOW, 3) == NOW + lock
    assert store.reserve_login_check("ali@example.com", NOW + WINDOW, 3, WINDOW) is None
    assert store.reserve_login_check("ali@example.com", NOW + lock, 3, WINDOW) == LoginCheck(1, 0)


def test_a_right_password_gives_its_check_back_and_forgives_the_failures_before_it(store):
    lock = timedelta(minutes=30)
    wrong = store.reserve_login_check("ali@example.com", NOW, 3, WINDOW)
    store.record_login_failure("ali@example.com", wrong, NOW, 3, lock)
    right = store.reserve_login_check("ali@example.com", NOW, 3, WINDOW)
    assert right == LoginCheck(2, 1)

    store.release_login_check("ali@example.com", right)

    assert store.reserve_login_check("ali@example.com", NOW, 3, WINDOW) == LoginCheck(1, 0)
    store.release_login_check("ali@example.com", LoginCheck(1, 0))  # nothing failed before: just given back
    assert store.reserve_login_check("ali@example.com", NOW, 3, WINDOW) == LoginCheck(1, 0)


def test_a_counter_counts_in_fixed_windows(store):
    hour = timedelta(hours=1)
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    assert [store.hit("forgot:x", hour, start + timedelta(minutes=m)) for m in (0, 10, 59)] == [1, 2, 3]
    assert store.hit("forgot:x", hour, start + hour) == 1
    assert store.hit("forgot:y", hour, start) == 1


# --- tokens ------------------------------------------------------------------------------------------

def test_a_token_reads_back_with_its_data_and_a_taken_hash_is_refused(store):
    data = TokenData(civil_id="290051700011", phone="+96551234567", language="ar", code_hash="c1",
                     code_expires_at=NOW + timedelta(minutes=5), sent_at=[NOW])
    put = store.put_token("t1", kind="registration", expires_at=NOW + timedelta(hours=1), data=data)

    read = store.token("t1")
    assert read == put
    assert (read.kind, read.account_id, read.used_at, read.attempts, read.data) == ("registration", None, None, 0, data)
    assert store.token("t2") is None
    with pytest.raises(StaleState):
        store.put_token("t1", kind="reset", expires_at=NOW, account_id="acc1")


def test_a_token_is_used_once(store):
    store.put_token("t1", kind="reset", expires_at=NOW + timedelta(hours=24), account_id="acc1")
    first, racer = store.token("t1"), store.token("t1")

    store.use_token(first, NOW)
    assert first.used_at == NOW
    assert store.token("t1").used_at == NOW
    with pytest.raises(StaleState):
        store.use_token(racer, NOW)
    with pytest.raises(StaleState):
        store.use_token(store.token("t1"), NOW)


def test_a_token_save_of_an_older_read_is_stale(store):
    store.put_token("t1", kind="registration", expires_at=NOW + timedelta(hours=1), data=TokenData(phone="+965"))
    first, second = store.token("t1"), store.token("t1")

    first.attempts = 1
    store.save_token(first)
    second.attempts = 1
    with pytest.raises(StaleState):
        store.save_token(second)
    with pytest.raises(StaleState):
        store.use_token(second, NOW)  # changed since read: a guess counted meanwhile

    assert store.token("t1").attempts == 1
    assert store.token("t1").used_at is None


# --- sessions ----------------------------------------------------------------------------------------

def test_a_session_reads_back_and_a_taken_id_is_refused(store):
    store.put_session(session())

    assert store.session("s1") == session()
    assert store.session("s2") is None
    with pytest.raises(StaleState):
        store.put_session(session(account_id="acc2"))
    assert store.session("s1").account_id == "acc1"


def test_a_refresh_hash_rotates_only_from_the_current_one(store):
    store.put_session(session())
    read = store.session("s1")
    later = NOW + timedelta(minutes=5)

    store.rotate_session(read, "r1", "r2", later, later + timedelta(days=30))
    with pytest.raises(StaleState):
        store.rotate_session(read, "r1", "r3", later, later + timedelta(days=30))

    rotated = store.session("s1")
    assert (rotated.refresh_hash, rotated.previous_hash, rotated.rotated_at) == ("r2", "r1", later)
    assert rotated.used_hashes == ["r1"]
    assert (rotated.last_used_at, rotated.idle_expires_at) == (later, later + timedelta(days=30))


def test_a_session_is_deleted_only_by_its_account_and_once(store):
    store.put_session(session())

    assert store.delete_session("s1", "acc2") is False
    assert store.delete_session("s1", "acc1") is True
    assert store.delete_session("s1", "acc1") is False
    assert store.delete_session("s1") is False
    assert store.session("s1") is None


def test_an_accounts_sessions_are_listed_oldest_first_and_ended_but_the_one_kept(store):
    for n, sid in enumerate(["s2", "s1", "s3"]):
        store.put_session(session(sid, created=NOW + timedelta(minutes=n)))
    store.put_session(session("other", account_id="acc2"))

    assert [s.session_id for s in store.sessions_of("acc1")] == ["s2", "s1", "s3"]
    assert store.delete_sessions("acc1", keep="s1") == 2
    assert [s.session_id for s in store.sessions_of("acc1")] == ["s1"]
    assert [s.session_id for s in store.sessions_of("acc2")] == ["other"]


# --- the expiry jobs' store ----------------------------------------------------------------------------

def every_due(read, now):
    return [item for shard in all_shards() for item in read(shard, now)]


def test_invites_past_due_are_read_and_expired_once(store, due):
    for n, account_id in enumerate(["late", "later", "future"]):
        at = NOW + timedelta(hours=n - 2)  # late: due 2 h ago, later: 1 h ago, future: due now
        store.create_account(account(account_id, status="invited", source="hr", password_hash=None,
                                     password_kind=None, password_set_at=None, invite_shard=shard_of(account_id),
                                     invite_due_at=at), {"email": f"{account_id}@example.com"})
    store.create_account(account("future2", status="invited", invite_shard=shard_of("future2"),
                                 invite_due_at=NOW + timedelta(hours=1)), {"email": "future2@example.com"})

    read = every_due(due.due_invites, NOW - timedelta(minutes=30))
    assert sorted(a.account_id for a in read) == ["late", "later"]
    late = next(a for a in read if a.account_id == "late")

    assert due.expire_invite(late, NOW) is True
    with pytest.raises(StaleState):
        due.expire_invite(late, NOW)  # no longer invited
    stored = store.account("late")
    assert stored.status == "invite_expired"
    assert stored.updated_at == NOW
    assert [a.account_id for a in due.never_activated()] == ["late"]
    assert sorted(a.account_id for a in every_due(due.due_invites, NOW)) == ["future", "later"]


def test_an_invite_activated_since_it_was_read_is_not_expired(store, due):
    store.create_account(account("acc1", status="invited", invite_shard=shard_of("acc1"),
                                 invite_due_at=NOW - timedelta(hours=1)), {"email": "acc1@example.com"})
    [read] = every_due(due.due_invites, NOW)
    activated = store.account("acc1")
    activated.status, activated.invite_shard, activated.invite_due_at = "active", None, None
    store.save_account(activated)

    with pytest.raises(StaleState):
        due.expire_invite(read, NOW)
    assert store.account("acc1").status == "active"


def password_due_account(account_id: str, kind: str, due_at: datetime) -> Account:
    return account(account_id, password_kind=kind, password_set_at=NOW - timedelta(days=10),
                   password_shard=shard_of(account_id), password_due_at=due_at)


def test_a_temporary_password_is_dropped_once_and_only_the_one_read(store, due):
    store.create_account(password_due_account("acc1", "temporary", NOW - timedelta(days=3)),
                         {"email": "acc1@example.com"})
    [read] = every_due(due.due_passwords, NOW)

    assert due.drop_temporary_password(read, NOW) is True
    stored = store.account("acc1")
    assert (stored.password_kind, stored.password_shard, stored.password_due_at) == ("temporary_expired", None, None)
    with pytest.raises(StaleState):
        due.drop_temporary_password(read, NOW)
    assert every_due(due.due_passwords, NOW) == []

    # A new password since the read: the write no longer applies.
    store.create_account(password_due_account("acc2", "temporary", NOW - timedelta(days=3)),
                         {"email": "acc2@example.com"})
    [old] = every_due(due.due_passwords, NOW)
    changed = store.account("acc2")
    changed.password_set_at = NOW
    store.save_account(changed)
    for write in (due.drop_temporary_password, due.mark_password_expired):
        with pytest.raises(StaleState):
            write(old, NOW)
    with pytest.raises(StaleState):
        due.clear_password_due(old)


def test_a_reminder_is_marked_once_per_password(store, due):
    store.create_account(password_due_account("acc1", "permanent", NOW - timedelta(days=1)),
                         {"email": "acc1@example.com"})
    [read] = every_due(due.due_passwords, NOW)
    expires = NOW + timedelta(days=6)

    assert due.mark_reminded(read, expires) is True
    with pytest.raises(StaleState):
        due.mark_reminded(read, expires)
    stored = store.account("acc1")
    assert (stored.password_reminded_for, stored.password_due_at) == (read.password_set_at, expires)
    assert every_due(due.due_passwords, NOW) == []
    assert [a.account_id for a in every_due(due.due_passwords, expires)] == ["acc1"]


def test_a_password_is_marked_expired_or_taken_off_the_index(store, due):
    for account_id in ("acc1", "acc2"):
        store.create_account(password_due_account(account_id, "permanent", NOW - timedelta(hours=1)),
                             {"email": f"{account_id}@example.com"})
    reads = {a.account_id: a for a in every_due(due.due_passwords, NOW)}

    assert due.mark_password_expired(reads["acc1"], NOW) is True
    assert due.clear_password_due(reads["acc2"]) is True

    assert store.account("acc1").password_expired == "yes"
    assert (store.account("acc2").password_expired, store.account("acc2").password_due_at) == (None, None)
    assert every_due(due.due_passwords, NOW) == []
    # The jobs' writes move the version on: a person's save of an older read is stale.
    with pytest.raises(StaleState):
        store.save_account(replace(reads["acc1"], name="x"))


def test_tokens_past_their_life_are_read_and_deleted_once(store, due):
    store.put_token("old", kind="challenge", expires_at=NOW - timedelta(minutes=1), account_id="acc1")
    store.put_token("live", kind="reset", expires_at=NOW + timedelta(hours=1), account_id="acc1")

    [read] = every_due(due.due_tokens, NOW)
    assert read.token_hash == "old"
    assert due.delete_due_token(read, NOW) is True
    with pytest.raises(StaleState):
        due.delete_due_token(read, NOW)
    with pytest.raises(StaleState):
        due.delete_due_token(store.token("live"), NOW)  # not due yet
    assert store.token("old") is None
    assert store.token("live") is not None


def test_sessions_past_their_life_are_deleted_unless_a_refresh_moved_them_on(store, due):
    store.put_session(session("idle", created=NOW - timedelta(days=31)))
    store.put_session(session("busy", created=NOW - timedelta(days=31)))
    store.put_session(session("fresh", created=NOW))
    reads = {s.session_id: s for s in every_due(due.due_sessions, NOW)}
    assert sorted(reads) == ["busy", "idle"]

    busy = store.session("busy")
    store.rotate_session(busy, "r1", "r2", NOW, NOW + timedelta(days=30))

    assert due.delete_due_session(reads["idle"], NOW) is True
    with pytest.raises(StaleState):
        due.delete_due_session(reads["busy"], NOW)
    with pytest.raises(StaleState):
        due.delete_due_session(reads["idle"], NOW)
    assert store.session("idle") is None
    assert store.session("busy") is not None


def test_the_account_value_carries_every_attribute_of_the_stored_row(aws):
    # save_account writes the whole row from the value: an attribute the value lacked would be erased.
    from dataclasses import fields

    from chalicelib.accounts.models import AccountRecord, SessionRecord, TokenDataAttribute
    from chalicelib.accounts.values import Session, TokenData

    due_keys = {"expires_ttl", "due_shard", "due_at"}
    assert set(AccountRecord.get_attributes()) == {f.name for f in fields(Account)}
    assert set(SessionRecord.get_attributes()) - due_keys == {f.name for f in fields(Session)}
    assert set(TokenDataAttribute.get_attributes()) == {f.name for f in fields(TokenData)}

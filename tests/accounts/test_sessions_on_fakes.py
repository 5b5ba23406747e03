"""Login, lockout and refresh-token rotation on the in-memory store: the rules, in milliseconds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.accounts import sessions
from chalicelib.accounts.credentials import Challenge, Tokens
from chalicelib.accounts.errors import InvalidCredentials, LockedOut, RefreshReused, SessionEnded
from chalicelib.accounts.values import Account
from tests.accounts.fakes import World

PASSWORD = "Quiet-Harbour-42"


def resident(world: World, email: str = "sara@example.com", **changes: object) -> Account:
    now = world.clock()
    values: dict[str, object] = dict(account_id="acc1", status="active", source="self", email=email,
                                     civil_id="290051700011", name="Sara Ahmed", language="en",
                                     password_hash=world.deps.hasher.hash(PASSWORD), password_kind="permanent",
                                     password_set_at=now, created_at=now, updated_at=now)
    values.update(changes)
    account = Account(**values)  # type: ignore[arg-type]
    world.store.create_account(account, {"email": email})
    return account


def sign_in(world: World, password: str = PASSWORD) -> Tokens:
    result = sessions.login(world.deps, "sara@example.com", password, "d1", "Phone")
    assert isinstance(result, Tokens)
    return result


def test_the_right_password_signs_in_and_opens_a_session(world):
    resident(world)

    tokens = sign_in(world)

    assert [s.session_id for s in world.store.sessions_of("acc1")] == [tokens.session_id]
    assert tokens.access_token == f"access:acc1:{tokens.session_id}"


def test_five_wrong_passwords_lock_the_name_even_against_the_right_one_until_the_lock_ends(world):
    resident(world)
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            sign_in(world, "wrong-password")
    with pytest.raises(LockedOut) as locked:
        sign_in(world, "wrong-password")
    assert locked.value.headers["Retry-After"] == str(15 * 60)

    with pytest.raises(LockedOut):
        sign_in(world)
    world.clock.shift(timedelta(minutes=15))
    assert sign_in(world).session_id


def test_an_unknown_name_costs_the_same_hash_and_locks_the_same_way(world):
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            sessions.login(world.deps, "nobody@example.com", PASSWORD, "d1", "Phone")
    with pytest.raises(LockedOut):
        sessions.login(world.deps, "nobody@example.com", PASSWORD, "d1", "Phone")
    assert world.deps.hasher.dummy_verifies == 5  # type: ignore[attr-defined]


def test_a_right_password_forgives_the_failures_before_it(world):
    resident(world)
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            sign_in(world, "wrong-password")
    sign_in(world)

    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            sign_in(world, "wrong-password")


def test_an_expired_permanent_password_asks_for_a_new_one(world):
    resident(world)
    world.clock.shift(timedelta(days=90))

    result = sessions.login(world.deps, "sara@example.com", PASSWORD, "d1", "Phone")

    assert isinstance(result, Challenge) and result.reason == "expired"


def test_a_refresh_rotates_and_a_retry_within_the_grace_gets_the_same_successor(world):
    resident(world)
    first = sign_in(world)

    second = sessions.refresh(world.deps, first.refresh_token)
    world.clock.shift(timedelta(seconds=29))
    retried = sessions.refresh(world.deps, first.refresh_token)

    assert second.refresh_token != first.refresh_token
    assert retried.refresh_token == second.refresh_token
    assert world.store.session(first.session_id) is not None


def test_an_old_refresh_token_after_the_grace_ends_the_session(world):
    resident(world)
    first = sign_in(world)
    second = sessions.refresh(world.deps, first.refresh_token)
    world.clock.shift(timedelta(seconds=31))

    with pytest.raises(RefreshReused):
        sessions.refresh(world.deps, first.refresh_token)
    assert world.store.session(first.session_id) is None
    with pytest.raises(SessionEnded):
        sessions.refresh(world.deps, second.refresh_token)


def test_a_session_idle_for_thirty_days_ends(world):
    resident(world)
    tokens = sign_in(world)
    world.clock.shift(timedelta(days=30))

    with pytest.raises(SessionEnded):
        sessions.refresh(world.deps, tokens.refresh_token)
    assert world.store.session(tokens.session_id) is None

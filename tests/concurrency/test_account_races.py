"""Account races, many rounds each, on the linearizable moto server: the login budget and refresh rotation.

Twenty-one logins for one name released at once must not check more than five passwords (the
budget is reserved by a conditional write before argon2 runs), and two refreshes with one token
must both keep the person signed in. Each round uses a fresh account on the one server.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from chalicelib.accounts.errors import InvalidCredentials, LockedOut
from tests.fixtures_moto_server import race
from tests.support import NEW_PASSWORD

ROUNDS = 20


class CountingHasher:
    """The real hasher, counting every password check (a dummy check of an unknown name counts too)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.checks = 0
        self._lock = threading.Lock()

    def _count(self) -> None:
        with self._lock:
            self.checks += 1

    def verify(self, stored_hash: str, password: str) -> bool:
        self._count()
        return self.real.verify(stored_hash, password)

    def burn_dummy_verify(self, password: str) -> None:
        self._count()
        self.real.burn_dummy_verify(password)

    def hash(self, password: str) -> str:
        return self.real.hash(password)

    def needs_rehash(self, stored_hash: str) -> bool:
        return self.real.needs_rehash(stored_hash)


def _account(deps: Any, password_hash: str) -> Any:
    """A fresh active account with a permanent password; its email is its username."""
    now = datetime.now(UTC)
    account_id = uuid.uuid4().hex
    email = f"{account_id}@example.com"
    account = deps.store.new_account(
        account_id=account_id, status="active", source="self", email=email, phone="+96551234567", name="Sara Ahmed",
        language="en", password_hash=password_hash, password_kind="permanent", password_set_at=now,
        password_history=[], created_at=now, updated_at=now)
    deps.store.create_account(account, {"email": email})
    return account


def _deps(moto_server: Any) -> tuple[Any, CountingHasher, str]:
    from chalicelib.accounts.wiring import auth_deps

    deps = auth_deps()
    counting = CountingHasher(deps.hasher)
    deps.hasher = counting
    password_hash = counting.hash(NEW_PASSWORD)
    # Warm clients, as a warm Lambda has them: every table a login touches (the throttle item included).
    deps.store.login_name("warm@example.com"), deps.store.account("warm"), deps.hmac_keys()
    deps.store.login_lock("warm@example.com", datetime.now(UTC), 5)
    return deps, counting, password_hash


def test_twenty_one_parallel_wrong_logins_check_at_most_five_passwords_every_round(moto_server):
    from chalicelib.accounts import sessions

    deps, counting, password_hash = _deps(moto_server)
    for round_no in range(ROUNDS):
        email = _account(deps, password_hash).email
        counting.checks = 0

        outcomes = race(21, lambda i, email=email: sessions.login(deps, email, f"Wrong-Guess-{i}-x1", "d", "d"))

        assert counting.checks == 5, f"round {round_no}: {counting.checks} passwords checked"
        assert all(isinstance(o, InvalidCredentials | LockedOut) for o in outcomes), outcomes
        assert sum(isinstance(o, InvalidCredentials) for o in outcomes) == 4
        # Locked now: the right password is refused without being checked.
        late = race(1, lambda _i, email=email: sessions.login(deps, email, NEW_PASSWORD, "d", "d"))[0]
        assert isinstance(late, LockedOut) and counting.checks == 5


def test_the_right_password_among_twenty_wrong_ones_never_buys_them_more_checks(moto_server):
    from chalicelib.accounts import sessions
    from chalicelib.accounts.credentials import Tokens

    deps, counting, password_hash = _deps(moto_server)
    for round_no in range(ROUNDS):
        email = _account(deps, password_hash).email
        counting.checks = 0

        outcomes = race(21, lambda i, email=email: sessions.login(
            deps, email, NEW_PASSWORD if i == 10 else f"Wrong-Guess-{i}-x1", "d", "d"))

        signed_in = [o for o in outcomes if isinstance(o, Tokens)]
        # A right password that got a check signs in; refused, it was never checked.
        wrong_checks = counting.checks - len(signed_in)
        assert len(signed_in) <= 1 and isinstance(outcomes[10], Tokens | LockedOut), outcomes[10]
        assert wrong_checks <= 5, f"round {round_no}: {wrong_checks} wrong passwords checked"


def test_unknown_names_get_the_same_budget_under_parallel_logins(moto_server):
    from chalicelib.accounts import sessions

    deps, counting, _ = _deps(moto_server)
    for round_no in range(ROUNDS):
        name = f"ghost-{uuid.uuid4().hex}@example.com"
        counting.checks = 0

        outcomes = race(21, lambda i, name=name: sessions.login(deps, name, f"Wrong-Guess-{i}-x1", "d", "d"))

        assert counting.checks == 5, f"round {round_no}: {counting.checks} passwords checked"
        assert sum(isinstance(o, InvalidCredentials) for o in outcomes) == 4
        assert sum(isinstance(o, LockedOut) for o in outcomes) == 17


def test_two_concurrent_refreshes_never_sign_the_person_out_every_round(moto_server):
    from chalicelib.accounts import sessions
    from chalicelib.accounts.credentials import Tokens, start_session

    deps, _, password_hash = _deps(moto_server)
    account = _account(deps, password_hash)
    for round_no in range(ROUNDS):
        first = start_session(deps, account, f"phone-{round_no}", "phone", datetime.now(UTC))

        outcomes = race(2, lambda _i, token=first.refresh_token: sessions.refresh(deps, token))

        assert all(isinstance(o, Tokens) for o in outcomes), f"round {round_no}: {outcomes}"
        assert outcomes[0].refresh_token == outcomes[1].refresh_token
        # The session lives on: the successor both got refreshes again.
        assert isinstance(sessions.refresh(deps, outcomes[0].refresh_token), Tokens)

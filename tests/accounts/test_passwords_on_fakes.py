"""Password change and reset on the in-memory store: history, sessions ended, the reset message's language."""

from __future__ import annotations

from itertools import pairwise

import pytest

from chalicelib.accounts import passwords, sessions
from chalicelib.accounts.errors import WrongCurrentPassword
from chalicelib.accounts.password_policy import HISTORY_SIZE
from chalicelib.accounts.values import Account
from chalicelib.errors import ValidationFailed
from tests.accounts.fakes import World
from tests.accounts.test_sessions_on_fakes import PASSWORD, resident, sign_in


def change(world: World, session_id: str, current: str, new: str) -> None:
    passwords.change_password(world.deps, "acc1", session_id, current, new)


def test_a_changed_password_must_differ_from_the_last_five(world):
    resident(world)
    session_id = sign_in(world).session_id
    used = [PASSWORD] + [f"Harbour-Lights-{n}x" for n in range(1, HISTORY_SIZE + 1)]
    for current, new in pairwise(used):
        change(world, session_id, current, new)

    for old in used[-HISTORY_SIZE:]:
        with pytest.raises(ValidationFailed) as refused:
            change(world, session_id, used[-1], old)
        assert refused.value.fields["new_password"].rule == "reused_password"
    change(world, session_id, used[-1], used[0])  # six back: allowed again
    assert len(world.store.account("acc1").password_history) == HISTORY_SIZE - 1


def test_a_password_change_needs_the_current_one_and_signs_out_every_other_device(world):
    resident(world)
    here = sign_in(world).session_id
    there = sign_in(world).session_id

    with pytest.raises(WrongCurrentPassword):
        change(world, here, "not-the-password", "Harbour-Lights-9x")
    change(world, here, PASSWORD, "Harbour-Lights-9x")

    assert [s.session_id for s in world.store.sessions_of("acc1")] == [here]
    assert world.store.session(there) is None
    assert isinstance(sessions.login(world.deps, "sara@example.com", "Harbour-Lights-9x", "d", "P"),
                      sessions.Tokens)


def test_a_reset_message_speaks_the_accounts_language_and_hr_accounts_get_both(world):
    resident(world, language="ar")
    passwords.forgot_password(world.deps, "SARA@example.com")
    assert world.queued == [{"kind": "password_reset", "username": "sara@example.com"}]

    message = passwords.password_reset_message(world.deps, "sara@example.com")

    assert message is not None and message.to == "sara@example.com"
    assert message.template == "password_reset"
    hr: Account = Account(account_id="acc2", status="invited", source="hr", email="hr@example.com",
                          created_at=world.clock(), updated_at=world.clock(), language=None)
    world.store.create_account(hr, {"email": "hr@example.com"})
    both = passwords.password_reset_message(world.deps, "hr@example.com")
    assert both is not None
    arabic = passwords.password_reset_message(world.deps, "sara@example.com")
    assert arabic is not None and "إعادة" in arabic.text and "Reset" not in arabic.text
    assert "Reset" in both.text or "reset" in both.text

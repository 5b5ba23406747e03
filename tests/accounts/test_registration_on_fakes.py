"""Self-registration on the in-memory store: nothing tells whether a civil ID or email is taken until the
SMS code proves the phone, and then the owner hears of it."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.accounts import registration
from chalicelib.accounts.errors import UsernameTaken
from chalicelib.kernel.civil_id import compose_civil_id
from tests.accounts.fakes import World

CIVIL_ID = compose_civil_id(date(1985, 1, 2), "4321")


def body(**changes: str) -> dict[str, str]:
    values = dict(civil_id=CIVIL_ID, name="Sara Ahmed", phone="+96551234567", email="sara@example.com",
                  gender="female", language="en", city="Salmiya")
    values.update(changes)
    return values


def register(world: World, **changes: str) -> dict[str, object]:
    started = registration.start_registration(world.deps, body(**changes), "10.0.0.1")
    code = world.sent[-1].vars["code"]
    return registration.verify_registration(world.deps, str(started["registration_id"]), str(code))


def test_the_right_code_creates_the_account_and_texts_a_temporary_password(world):
    result = register(world)

    account = world.store.account(str(result["account_id"]))
    assert account is not None and account.password_kind == "temporary" and account.civil_id == CIVIL_ID
    assert world.store.login_name(CIVIL_ID).account_id == account.account_id
    assert [m.template for m in world.sent] == ["registration_code", "temporary_password"]


def test_a_taken_civil_id_gets_the_same_answer_and_sms_as_a_free_one(world):
    register(world)
    world.sent.clear()

    taken = registration.start_registration(world.deps, body(phone="+96551234568"), "10.0.0.2")
    free = registration.start_registration(world.deps, body(civil_id=compose_civil_id(date(1990, 5, 6), "1234"),
                                                            email="other@example.com", phone="+96551234569"),
                                           "10.0.0.3")

    assert sorted(taken) == sorted(free)
    assert (taken["code_expires_in"], taken["resend_after"]) == (free["code_expires_in"], free["resend_after"])
    assert [(m.channel, m.template) for m in world.sent] == [("sms", "registration_code")] * 2


def test_a_taken_name_shows_only_after_the_code_and_the_owner_is_told(world):
    register(world)
    world.sent.clear()
    started = registration.start_registration(world.deps, body(phone="+96551234568"), "10.0.0.2")

    with pytest.raises(UsernameTaken) as taken:
        registration.verify_registration(world.deps, str(started["registration_id"]), str(world.sent[-1].vars["code"]))

    assert taken.value.field == "civil_id"
    assert [(m.to, m.template) for m in world.sent[1:]] == [
        ("sara@example.com", "registration_attempt"), ("+96551234567", "registration_attempt")]

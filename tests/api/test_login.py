"""Login with email or civil ID, lockout that says nothing about who exists, and password expiry."""

from __future__ import annotations

from datetime import timedelta

from tests.support import NEW_PASSWORD


def test_login_takes_the_civil_id_or_the_email_in_any_case(api, resident):
    for username in (resident["civil_id"], "SARA@example.COM", " sara@example.com "):
        answer = api.login(username, NEW_PASSWORD)
        assert answer.status == 200, username
        assert answer.body["token_type"] == "Bearer" and answer.body["expires_in"] == 600


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(api, resident):
    wrong = api.login(resident["civil_id"], "Not-The-Password-1")
    unknown = api.login("nobody@example.com", "Not-The-Password-1")

    assert wrong.status == unknown.status == 401
    assert wrong.body == unknown.body
    assert wrong.body["error"]["code"] == "INVALID_CREDENTIALS"
    assert "19097" in wrong.body["error"]["message"] and "HR" in wrong.body["error"]["message"]


def test_five_failures_lock_the_username_for_fifteen_minutes_known_or_not(api, clock, resident):
    for username in (resident["civil_id"], "ghost@example.com"):
        answers = [api.login(username, "Not-The-Password-1") for _ in range(5)]
        assert [a.status for a in answers] == [401, 401, 401, 401, 429]
        locked = api.login(username, NEW_PASSWORD if username == resident["civil_id"] else "x")
        assert locked.status == 429 and locked.code == "LOGIN_LOCKED"
        assert 0 < int(locked.headers["Retry-After"]) <= 900

    clock.shift(timedelta(minutes=14))
    assert api.login(resident["civil_id"], NEW_PASSWORD).status == 429
    clock.shift(timedelta(minutes=1, seconds=1))
    assert api.login(resident["civil_id"], NEW_PASSWORD).status == 200


def test_a_locked_known_and_unknown_username_answer_alike(api, resident):
    known = [api.login(resident["civil_id"], "Not-The-Password-1") for _ in range(6)]
    unknown = [api.login("ghost@example.com", "Not-The-Password-1") for _ in range(6)]
    assert [(a.status, a.body) for a in known] == [(a.status, a.body) for a in unknown]


def test_a_success_resets_the_failure_count(api, resident):
    for _ in range(4):
        api.login(resident["civil_id"], "Not-The-Password-1")
    assert api.login(resident["civil_id"], NEW_PASSWORD).status == 200
    for _ in range(4):
        assert api.login(resident["civil_id"], "Not-The-Password-1").status == 401


def test_a_password_expires_after_ninety_days_with_a_challenge(api, clock, resident):
    clock.shift(timedelta(days=90) - timedelta(minutes=1))
    assert "access_token" in api.login(resident["civil_id"], NEW_PASSWORD).body

    clock.shift(timedelta(minutes=2))
    answer = api.login(resident["civil_id"], NEW_PASSWORD)
    assert answer.body["challenge"] == "NEW_PASSWORD_REQUIRED" and answer.body["reason"] == "expired"
    tokens = api.post("/v1/auth/challenge", {"challenge_token": answer.body["challenge_token"],
                                             "new_password": "Another-Fine-Day-9"})
    assert tokens.status == 200 and "access_token" in tokens.body


def test_password_expiry_can_be_turned_off(api, clock, resident, monkeypatch):
    from chalicelib.settings import reset_settings
    from chalicelib.wiring import reset_wiring

    monkeypatch.setenv("PASSWORD_MAX_AGE_DAYS", "0")
    reset_settings()
    reset_wiring()
    clock.shift(timedelta(days=400))
    assert "access_token" in api.login(resident["civil_id"], NEW_PASSWORD).body


def test_a_challenge_token_lives_five_minutes_and_works_once(api, clock, outbox, registration_body):
    started = api.post("/v1/auth/register", registration_body).body
    code = outbox.last(template="registration_code")["vars"]["code"]
    api.post("/v1/auth/register/verify", {"registration_id": started["registration_id"], "code": code})
    temporary = outbox.last(template="temporary_password")["vars"]["password"]

    challenge = api.login(registration_body["civil_id"], temporary).body["challenge_token"]
    clock.shift(timedelta(minutes=5, seconds=1))
    late = api.post("/v1/auth/challenge", {"challenge_token": challenge, "new_password": NEW_PASSWORD})
    assert late.status == 401 and late.code == "INVALID_TOKEN"

    challenge = api.login(registration_body["civil_id"], temporary).body["challenge_token"]
    clock.shift(timedelta(minutes=4))
    assert api.post("/v1/auth/challenge", {"challenge_token": challenge, "new_password": NEW_PASSWORD}).status == 200
    again = api.post("/v1/auth/challenge", {"challenge_token": challenge, "new_password": "Other-Pass-Word-5"})
    assert again.status == 401


def test_the_new_password_must_follow_the_policy_naming_the_rule(api, outbox, registration_body):
    started = api.post("/v1/auth/register", registration_body).body
    code = outbox.last(template="registration_code")["vars"]["code"]
    api.post("/v1/auth/register/verify", {"registration_id": started["registration_id"], "code": code})
    temporary = outbox.last(template="temporary_password")["vars"]["password"]
    challenge = api.login(registration_body["civil_id"], temporary).body["challenge_token"]

    for password, rule in (("short1", "min_length"), ("password123", "common_password"),
                           (f"x{registration_body['civil_id']}", "contains_civil_id"),
                           ("sara-secret-99", "contains_email"), (temporary, "reused_password")):
        answer = api.post("/v1/auth/challenge", {"challenge_token": challenge, "new_password": password})
        assert answer.status == 422, password
        assert answer.body["error"]["fields"]["new_password"]["rule"] == rule, password


def test_a_hash_made_with_older_parameters_is_upgraded_at_login(api, resident):
    from chalicelib.accounts.hashing import Argon2Hasher
    from chalicelib.accounts.wiring import auth_deps

    store = auth_deps().store
    account = store.account(resident["account_id"])
    account.password_hash = Argon2Hasher(memory_kib=19_456, time_cost=2).hash(NEW_PASSWORD)
    store.save_account(account)
    assert auth_deps().hasher.needs_rehash(store.account(resident["account_id"]).password_hash)

    assert api.login(resident["civil_id"], NEW_PASSWORD).status == 200
    upgraded = store.account(resident["account_id"]).password_hash
    assert not auth_deps().hasher.needs_rehash(upgraded)
    assert auth_deps().hasher.verify(upgraded, NEW_PASSWORD)


def test_signed_in_errors_speak_the_language_the_resident_chose(api, resident):
    access = resident["tokens"]["access_token"]
    answer = api.post("/v1/auth/password/change", {"current_password": "wrong-wrong-1", "new_password": "x"},
                      token=access)
    assert answer.body["error"]["message"] == "كلمة المرور الحالية غير صحيحة."
    english = api.post("/v1/auth/password/change", {"current_password": "wrong-wrong-1", "new_password": "x"},
                       token=access, lang="en")
    assert english.body["error"]["message"] == "Your current password is not right."


def test_once_the_budget_is_spent_no_password_is_checked_at_all(api, resident, monkeypatch):
    from chalicelib.accounts.wiring import auth_deps

    hasher = auth_deps().hasher
    checked = []
    monkeypatch.setattr(hasher, "verify", lambda stored, password: checked.append(password) or False)
    monkeypatch.setattr(hasher, "burn_dummy_verify", checked.append)
    for name in (resident["civil_id"], "ghost@example.com"):
        checked.clear()
        answers = [api.login(name, f"Wrong-{n}-Password") for n in range(12)]
        assert [a.status for a in answers] == [401] * 4 + [429] * 8
        assert len(checked) == 5, name


def test_a_successful_login_leaves_the_whole_budget_for_later_typos(api, resident):
    assert api.login(resident["civil_id"], NEW_PASSWORD).status == 200
    answers = [api.login(resident["civil_id"], "Not-The-Password-1") for _ in range(5)]
    assert [a.status for a in answers] == [401, 401, 401, 401, 429]

"""Self-registration of residents: civil ID, an SMS code, then a temporary password by SMS."""

from __future__ import annotations

from datetime import timedelta

from tests.support import NEW_PASSWORD


def start(api, body):
    answer = api.post("/v1/auth/register", body)
    assert answer.status == 201, answer.body
    return answer.body["registration_id"]


def test_a_resident_registers_verifies_the_code_and_first_logs_in_with_the_texted_password(api, outbox, clock,
                                                                                           registration_body):
    registration_id = start(api, registration_body)
    sms = outbox.last(template="registration_code")
    assert sms["channel"] == "sms" and sms["to"] == "+96551234567"
    assert sms["text"].startswith("رمز التحقق")  # the language they chose

    verified = api.post("/v1/auth/register/verify", {"registration_id": registration_id, "code": sms["vars"]["code"]})
    assert verified.status == 201
    assert verified.body["username"] == registration_body["civil_id"]
    temporary = outbox.last(template="temporary_password")
    assert temporary["to"] == "+96551234567"

    login = api.login(registration_body["civil_id"], temporary["vars"]["password"])
    assert login.body["challenge"] == "NEW_PASSWORD_REQUIRED" and login.body["reason"] == "temporary"
    tokens = api.post("/v1/auth/challenge", {"challenge_token": login.body["challenge_token"],
                                             "new_password": NEW_PASSWORD}).body
    me = api.get("/v1/me", token=tokens["access_token"])
    assert me.status == 200
    assert me.body["username"] == registration_body["civil_id"] and me.body["email"] == "sara@example.com"
    assert me.body["phone"] == "+96551234567" and me.body["status"] == "active"


def test_each_bad_field_is_named_with_its_rule(api):
    answer = api.post("/v1/auth/register", {"civil_id": "290051712345", "name": "", "phone": "2245 6789",
                                            "email": "not-an-email", "gender": "x", "language": "fr", "city": ""})
    assert answer.status == 422
    rules = {name: problem["rule"] for name, problem in answer.body["error"]["fields"].items()}
    assert set(rules) == {"civil_id", "name", "phone", "email", "gender", "language", "city"}
    assert rules["email"] == "invalid_email" and rules["name"] == "required"


def test_errors_come_in_arabic_when_asked(api):
    answer = api.post("/v1/auth/register", {"email": "x"}, lang="ar")
    assert "البريد" in answer.body["error"]["fields"]["email"]["message"]


def test_a_civil_id_or_email_already_registered_gets_a_clear_error(api, resident, registration_body):
    again = api.post("/v1/auth/register", registration_body)
    assert again.status == 409 and again.body["error"]["code"] == "USERNAME_TAKEN"
    assert "civil_id" in again.body["error"]["fields"]

    other_civil_id = dict(registration_body, civil_id=registration_body["civil_id"][:7] + "2222")
    other_civil_id["civil_id"] = _with_check_digit(other_civil_id["civil_id"][:11])
    again = api.post("/v1/auth/register", other_civil_id)
    assert again.status == 409 and "email" in again.body["error"]["fields"]


def _with_check_digit(first_eleven: str) -> str:
    from chalicelib.domain.civil_id import expected_check_digit

    for serial in range(10000):
        candidate = first_eleven[:7] + f"{serial:04d}"
        digit = expected_check_digit(candidate)
        if digit is not None:
            return candidate + str(digit)
    raise AssertionError


def test_the_code_works_until_five_minutes_and_not_a_minute_after(api, outbox, clock, registration_body):
    registration_id = start(api, registration_body)
    code = outbox.last(template="registration_code")["vars"]["code"]

    clock.shift(timedelta(minutes=5, seconds=60))
    late = api.post("/v1/auth/register/verify", {"registration_id": registration_id, "code": code})
    assert late.status == 400 and late.code == "CODE_EXPIRED"


def test_the_code_still_works_a_minute_before_it_expires(api, outbox, clock, registration_body):
    registration_id = start(api, registration_body)
    code = outbox.last(template="registration_code")["vars"]["code"]

    clock.shift(timedelta(minutes=4))
    assert api.post("/v1/auth/register/verify", {"registration_id": registration_id, "code": code}).status == 201


def test_five_wrong_codes_kill_the_code_even_for_the_right_one(api, outbox, registration_body):
    registration_id = start(api, registration_body)
    code = outbox.last(template="registration_code")["vars"]["code"]
    wrong = "000000" if code != "000000" else "111111"
    answers = [api.post("/v1/auth/register/verify", {"registration_id": registration_id, "code": wrong})
               for _ in range(5)]
    assert [a.body["error"]["tries_left"] for a in answers] == [4, 3, 2, 1, 0]

    right = api.post("/v1/auth/register/verify", {"registration_id": registration_id, "code": code})
    assert right.status == 400 and right.code == "CODE_LOCKED"


def test_resend_waits_for_the_cooldown_and_stops_at_the_hourly_cap(api, outbox, clock, registration_body):
    registration_id = start(api, registration_body)
    too_soon = api.post("/v1/auth/register/resend", {"registration_id": registration_id})
    assert too_soon.status == 429 and too_soon.code == "RESEND_TOO_SOON"
    assert int(too_soon.headers["Retry-After"]) > 0

    for _ in range(4):
        clock.shift(timedelta(seconds=61))
        assert api.post("/v1/auth/register/resend", {"registration_id": registration_id}).status == 200
    clock.shift(timedelta(seconds=61))
    capped = api.post("/v1/auth/register/resend", {"registration_id": registration_id})
    assert capped.status == 429 and capped.code == "RESEND_LIMIT"
    assert len(outbox.messages(template="registration_code")) == 5


def test_a_resent_code_replaces_the_old_one(api, outbox, clock, registration_body):
    registration_id = start(api, registration_body)
    old = outbox.last(template="registration_code")["vars"]["code"]
    clock.shift(timedelta(seconds=61))
    api.post("/v1/auth/register/resend", {"registration_id": registration_id})
    new = outbox.last(template="registration_code")["vars"]["code"]

    if old != new:
        stale = api.post("/v1/auth/register/verify", {"registration_id": registration_id, "code": old})
        assert stale.code == "CODE_INVALID"
    assert api.post("/v1/auth/register/verify", {"registration_id": registration_id, "code": new}).status == 201

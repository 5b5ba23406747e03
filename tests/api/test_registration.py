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


def _other_civil_ids(count: int, skip: str = "") -> list[str]:
    """Valid civil IDs of other people born the same day."""
    from datetime import date

    from chalicelib.kernel.civil_id import compose_civil_id

    found = []
    for serial in range(2000, 9999):
        try:
            candidate = compose_civil_id(date(1990, 5, 17), f"{serial:04d}")
        except ValueError:
            continue
        if candidate != skip:
            found.append(candidate)
        if len(found) == count:
            return found
    raise AssertionError


def test_registering_a_taken_civil_id_or_email_answers_exactly_like_a_free_one(api, outbox, resident,
                                                                               registration_body):
    free_civil_id, other_civil_id = _other_civil_ids(2, skip=registration_body["civil_id"])
    free = dict(registration_body, civil_id=free_civil_id, email="new@example.com", phone="5123 4999")
    taken_civil_id = dict(free, civil_id=registration_body["civil_id"], phone="5123 4888")
    taken_email = dict(free, civil_id=other_civil_id, email="SARA@example.com", phone="5123 4777")

    answers = [api.post("/v1/auth/register", body) for body in (free, taken_civil_id, taken_email)]

    assert [a.status for a in answers] == [201, 201, 201]
    assert len({tuple(sorted(a.body)) for a in answers}) == 1  # the same fields, nothing extra
    assert {a.body["code_expires_in"] for a in answers} == {300}
    texted = {m["to"] for m in outbox.messages(template="registration_code")}
    assert {"+96551234999", "+96551234888", "+96551234777"} <= texted


def test_a_taken_civil_id_shows_only_after_the_code_and_its_owner_is_told(api, outbox, resident,
                                                                          registration_body):
    again = dict(registration_body, phone="5123 4888", email="someone.else@example.com")
    registration_id = start(api, again)
    code = outbox.last(to="+96551234888", template="registration_code")["vars"]["code"]

    verified = api.post("/v1/auth/register/verify", {"registration_id": registration_id, "code": code})

    assert verified.status == 409 and verified.code == "USERNAME_TAKEN"
    assert "civil_id" in verified.body["error"]["fields"]
    assert "Forgot password" in verified.body["error"]["message"]
    notices = outbox.messages(template="registration_attempt")
    assert {(m["channel"], m["to"]) for m in notices} == {("email", "sara@example.com"), ("sms", "+96551234567")}
    assert all("civil ID" in m["text"] or "رقمك المدني" in m["text"] for m in notices)
    assert outbox.messages(to="+96551234888", template="temporary_password") == []
    # The owner's account still works as before.
    assert api.login(registration_body["civil_id"], NEW_PASSWORD).status == 200


def test_a_taken_email_shows_only_after_the_code_and_its_owner_is_told(api, outbox, resident, registration_body):
    other = dict(registration_body, civil_id=_other_civil_ids(1, skip=registration_body["civil_id"])[0],
                 phone="5123 4777", email="SARA@example.com")
    registration_id = start(api, other)
    code = outbox.last(to="+96551234777", template="registration_code")["vars"]["code"]

    verified = api.post("/v1/auth/register/verify", {"registration_id": registration_id, "code": code}, lang="ar")

    assert verified.status == 409 and "email" in verified.body["error"]["fields"]
    assert "نسيت كلمة المرور" in verified.body["error"]["message"]
    assert [m["channel"] for m in outbox.messages(to="sara@example.com", template="registration_attempt")] == ["email"]


def test_registrations_are_limited_per_phone_and_per_civil_id(api, outbox, registration_body):
    others = _other_civil_ids(6, skip=registration_body["civil_id"])
    for n in range(5):
        body = dict(registration_body, email=f"p{n}@example.com", civil_id=others[n])
        assert api.post("/v1/auth/register", body).status == 201
    sixth = api.post("/v1/auth/register", dict(registration_body, email="p6@example.com", civil_id=others[5]))
    assert sixth.status == 429 and sixth.code == "REGISTRATION_LIMIT"
    assert sixth.headers["Retry-After"] == "3600"

    for n in range(5):
        assert api.post("/v1/auth/register", dict(registration_body, phone=f"6123 400{n}")).status == 201
    same_civil_id = api.post("/v1/auth/register", dict(registration_body, phone="6123 4009"))
    assert same_civil_id.status == 429 and same_civil_id.code == "REGISTRATION_LIMIT"


def test_registrations_are_limited_per_source_address(api, registration_body):
    answers = []
    for n, civil_id in enumerate(_other_civil_ids(21)):
        body = dict(registration_body, phone=f"6{n:03d} 1234", civil_id=civil_id)
        answers.append(api.post("/v1/auth/register", body))
    assert [a.status for a in answers[:20]] == [201] * 20
    assert answers[20].status == 429 and answers[20].code == "REGISTRATION_LIMIT"


def test_the_stored_code_hash_needs_the_server_key(api, outbox, registration_body):
    """A leaked tokens table alone no longer lets anyone search the 10^6 codes offline."""
    import hashlib
    import hmac

    from chalicelib.accounts.tokens import token_hash
    from chalicelib.accounts.wiring import auth_deps

    registration_id = start(api, registration_body)
    code = outbox.last(template="registration_code")["vars"]["code"]
    stored = auth_deps().store.token(token_hash(registration_id))

    table_only = hmac.new(stored.token_hash.encode(), code.encode(), hashlib.sha256).hexdigest()
    assert stored.data.code_hash != table_only
    assert code not in {stored.data.code_hash, stored.token_hash}


def test_a_code_sent_before_the_key_rotated_still_verifies(api, outbox, registration_body):
    import boto3

    from chalicelib.accounts.hmac_keys import forget_hmac_keys
    from chalicelib.settings import get_settings

    registration_id = start(api, registration_body)
    code = outbox.last(template="registration_code")["vars"]["code"]
    manager = boto3.client("secretsmanager")
    name = f"{get_settings().secrets_prefix}accounts-hmac"
    manager.put_secret_value(SecretId=name, SecretString="rotated-" + "k" * 56)
    forget_hmac_keys()

    assert api.post("/v1/auth/register/verify", {"registration_id": registration_id, "code": code}).status == 201


def test_names_with_control_characters_are_refused_naming_the_rule(api, registration_body):
    for name in ("Sara\u202eAhmed", "Sara\u200bAhmed", "Sara\x00", "Sara\x1b[31m", "Sara\x07", "Sara\nAhmed"):
        answer = api.post("/v1/auth/register", dict(registration_body, name=name))
        assert answer.status == 422, name
        assert answer.body["error"]["fields"]["name"]["rule"] == "name_characters", name
    for name in ("سارة أحمد", "Sara O'Neil-Ahmed", "عبد الله الـعلي"):
        assert api.post("/v1/auth/register", dict(registration_body, name=name)).status == 201, name
    city = api.post("/v1/auth/register", dict(registration_body, city="Hawalli\u202e"))
    assert city.body["error"]["fields"]["city"]["rule"] == "control_characters"


def _with_check_digit(first_eleven: str) -> str:
    from chalicelib.kernel.civil_id import expected_check_digit

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

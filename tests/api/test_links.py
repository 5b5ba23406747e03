"""Welcome links, forgot password and reset links: expiry at use, single use, newest wins."""

from __future__ import annotations

from datetime import timedelta

from tests.support import NEW_PASSWORD, token_of

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def open_page(client, link):
    path = link.split("127.0.0.1:8000", 1)[-1] if "127.0.0.1:8000" in link else link.split("example.com", 1)[-1]
    return client.http.get(path)


def confirm_activation(client, link):
    return client.http.post("/activate", body=f"token={token_of(link)}", headers=FORM)


def test_the_welcome_email_goes_out_in_both_languages_with_a_link_to_the_public_url(invite, outbox):
    _, link = invite()
    welcome = outbox.last(template="welcome")
    assert welcome["to"] == "omar.k@acme.example" and welcome["links"] == [link]
    assert link.startswith("https://dev.api.example.com/activate?token=")
    assert "14" in welcome["text"] and "مرحبًا" in welcome["text"] and "Welcome" in welcome["text"]


def test_an_invited_person_activates_gets_a_temporary_password_and_signs_in(client, api, invite, outbox):
    _, link = invite()
    page = client.http.get(f"/activate?token={token_of(link)}")
    assert page.status_code == 200 and b'dir="rtl"' in page.body and b"<script" not in page.body

    done = confirm_activation(client, link)
    assert done.status_code == 200
    temporary = outbox.last(to="omar.k@acme.example", template="temporary_password")
    assert "7" in temporary["text"]

    challenge = api.login("Omar.K@ACME.example", temporary["vars"]["password"])
    assert challenge.body["reason"] == "temporary"
    tokens = api.post("/v1/auth/challenge", {"challenge_token": challenge.body["challenge_token"],
                                             "new_password": NEW_PASSWORD}).body
    me = api.get("/v1/me", token=tokens["access_token"]).body
    assert me["status"] == "active" and me["username"] == "omar.k@acme.example"


def test_a_welcome_link_works_once(client, invite):
    _, link = invite()
    assert confirm_activation(client, link).status_code == 200
    again = confirm_activation(client, link)
    assert again.status_code == 410
    assert b"Forgot password" in again.body and b"19097" in again.body


def test_a_welcome_link_lives_fourteen_days(client, clock, invite):
    _, link = invite()
    clock.shift(timedelta(days=14) - timedelta(minutes=1))
    assert client.http.get(f"/activate?token={token_of(link)}").status_code == 200

    clock.shift(timedelta(minutes=2))
    expired = confirm_activation(client, link)
    assert expired.status_code == 410 and b"expired" in expired.body


def test_a_temporary_password_stops_working_after_seven_days_and_forgot_password_gets_them_in(
        client, api, clock, invite, outbox):
    _, link = invite()
    confirm_activation(client, link)
    temporary = outbox.last(template="temporary_password")["vars"]["password"]

    clock.shift(timedelta(days=7) - timedelta(minutes=1))
    assert api.login("omar.k@acme.example", temporary).body["challenge"] == "NEW_PASSWORD_REQUIRED"
    clock.shift(timedelta(minutes=2))
    expired = api.login("omar.k@acme.example", temporary)
    assert expired.status == 401 and expired.code == "TEMPORARY_PASSWORD_EXPIRED"

    api.post("/v1/auth/password/forgot", {"username": "omar.k@acme.example"})
    reset_link = outbox.last(template="password_reset")["links"][0]
    reset = api.post("/v1/auth/password/reset", {"token": token_of(reset_link), "new_password": NEW_PASSWORD})
    assert reset.status == 200
    assert "access_token" in api.login("omar.k@acme.example", NEW_PASSWORD).body


def test_an_invited_person_whose_welcome_link_expired_is_never_stuck(api, clock, invite, outbox):
    invite()
    clock.shift(timedelta(days=20))
    api.post("/v1/auth/password/forgot", {"username": "OMAR.K@acme.example"})
    reset_link = outbox.last(template="password_reset")["links"][0]
    reset = api.post("/v1/auth/password/reset", {"token": token_of(reset_link), "new_password": NEW_PASSWORD})
    assert reset.status == 200
    tokens = api.login("omar.k@acme.example", NEW_PASSWORD).body
    assert api.get("/v1/me", token=tokens["access_token"]).body["status"] == "active"


def test_forgot_password_answers_the_same_for_everyone(api, resident, outbox):
    known = api.post("/v1/auth/password/forgot", {"username": resident["email"]})
    unknown = api.post("/v1/auth/password/forgot", {"username": "nobody@example.com"})
    garbage = api.post("/v1/auth/password/forgot", {"username": "???"})
    assert known.status == unknown.status == garbage.status == 202
    assert known.body == unknown.body == garbage.body
    assert [m["to"] for m in outbox.messages(template="password_reset")] == [resident["email"]]


def test_a_reset_link_lives_24_hours_works_once_and_a_newer_one_voids_it(api, clock, resident, outbox):
    api.post("/v1/auth/password/forgot", {"username": resident["civil_id"]})
    first = token_of(outbox.last(template="password_reset")["links"][0])
    api.post("/v1/auth/password/forgot", {"username": resident["civil_id"]})
    second = token_of(outbox.last(template="password_reset")["links"][0])

    voided = api.post("/v1/auth/password/reset", {"token": first, "new_password": "Brand-New-Idea-11"})
    assert voided.status == 401

    clock.shift(timedelta(hours=24, minutes=1))
    late = api.post("/v1/auth/password/reset", {"token": second, "new_password": "Brand-New-Idea-11"})
    assert late.status == 401 and late.body["error"]["reason"] == "expired"


def test_a_reset_link_works_a_minute_before_24_hours_once_and_signs_every_device_out(api, clock, resident, outbox):
    api.post("/v1/auth/password/forgot", {"username": resident["civil_id"]})
    token = token_of(outbox.last(template="password_reset")["links"][0])
    clock.shift(timedelta(hours=24) - timedelta(minutes=1))

    assert api.post("/v1/auth/password/reset", {"token": token, "new_password": "Brand-New-Idea-11"}).status == 200
    assert api.post("/v1/auth/refresh", {"refresh_token": resident["tokens"]["refresh_token"]}).status == 401
    again = api.post("/v1/auth/password/reset", {"token": token, "new_password": "Other-New-Idea-12"})
    assert again.status == 401 and again.body["error"]["reason"] == "used"


def test_a_self_registered_person_gets_the_reset_email_in_their_language(api, resident, outbox):
    api.post("/v1/auth/password/forgot", {"username": resident["civil_id"]})
    email = outbox.last(template="password_reset")
    assert email["subject"] == "إعادة تعيين كلمة المرور"
    assert "Reset" not in email["text"]


def test_reset_links_use_the_configured_url_not_the_host_header(client, resident, outbox):
    client.http.post("/v1/auth/password/forgot", body='{"username": "sara@example.com"}',
                     headers={"Content-Type": "application/json", "Host": "evil.example.net"})
    link = outbox.last(template="password_reset")["links"][0]
    assert link.startswith("https://dev.api.example.com/reset-password?token=")


def test_forgot_password_is_rate_limited_per_username(api, resident, outbox):
    for _ in range(8):
        assert api.post("/v1/auth/password/forgot", {"username": resident["civil_id"]}).status == 202
    assert len(outbox.messages(template="password_reset")) == 5


def test_the_reset_page_is_never_cached_and_sends_no_referrer(client, resident, api, outbox):
    api.post("/v1/auth/password/forgot", {"username": resident["civil_id"]})
    token = token_of(outbox.last(template="password_reset")["links"][0])
    page = client.http.get(f"/reset-password?token={token}")
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in page.headers["Cache-Control"]

    refused = client.http.post("/reset-password", headers=FORM,
                               body=f"token={token}&new_password=short&confirm_password=short")
    assert refused.status_code == 422 and b"8" in refused.body
    done = client.http.post("/reset-password", headers=FORM,
                            body=f"token={token}&new_password=Brand-New-Idea-11&confirm_password=Brand-New-Idea-11")
    assert done.status_code == 200
    assert api.login(resident["civil_id"], "Brand-New-Idea-11").status == 200


def test_forgot_password_does_the_same_work_for_a_known_and_an_unknown_username(api, resident):
    from devstack.counting import count_aws_calls

    with count_aws_calls() as known:
        api.post("/v1/auth/password/forgot", {"username": resident["email"]})
    with count_aws_calls() as unknown:
        api.post("/v1/auth/password/forgot", {"username": "nobody@example.com"})
    # The account is looked up by the sender, after the answer: the request itself can't be timed apart.
    assert known == unknown
    assert known[("dynamodb", "GetItem")] == 0

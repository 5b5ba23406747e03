"""Device sessions: refresh rotation, reuse detection, sliding and absolute expiry, sign-out."""

from __future__ import annotations

import itertools
from datetime import timedelta

from tests.support import NEW_PASSWORD


def refresh(api, token):
    return api.post("/v1/auth/refresh", {"refresh_token": token})


def test_refresh_rotates_the_token_and_the_old_one_then_ends_the_session(api, clock, resident):
    first = resident["tokens"]["refresh_token"]
    rotated = refresh(api, first)
    assert rotated.status == 200
    assert rotated.body["refresh_token"] != first
    assert rotated.body["session_id"] == resident["tokens"]["session_id"]

    clock.shift(timedelta(seconds=31))  # past the retry grace period
    replay = refresh(api, first)  # someone kept the old token
    assert replay.status == 401 and replay.code == "REFRESH_TOKEN_REUSED"
    # The whole family is gone: even the newest token no longer works.
    assert refresh(api, rotated.body["refresh_token"]).status == 401


def test_two_refreshes_with_one_token_have_one_writer_and_both_get_the_same_successor(api, resident,
                                                                                      monkeypatch):
    from chalicelib.accounts import sessions
    from chalicelib.accounts.wiring import auth_deps

    deps = auth_deps()
    token = resident["tokens"]["refresh_token"]
    session_id = resident["tokens"]["session_id"]
    # The loser read the session before the winner wrote: its conditional rotation fails.
    reads = [deps.store.session(session_id)]
    first = sessions.refresh(deps, token)
    real_read = deps.store.session
    monkeypatch.setattr(deps.store, "session", lambda sid: reads.pop() if reads else real_read(sid))

    second = sessions.refresh(deps, token)

    assert second.refresh_token == first.refresh_token
    assert refresh(api, first.refresh_token).status == 200  # the family lives on


def test_a_rotated_token_retried_within_the_grace_period_gets_the_same_successor(api, clock, resident):
    token = resident["tokens"]["refresh_token"]
    first = refresh(api, token)
    clock.shift(timedelta(seconds=29))
    retry = refresh(api, token)  # the app timed out and sent it again

    assert first.status == retry.status == 200
    assert retry.body["refresh_token"] == first.body["refresh_token"]
    assert retry.body["access_token"]
    me = api.get("/v1/me", token=retry.body["access_token"])
    assert me.status == 200
    assert refresh(api, first.body["refresh_token"]).status == 200  # not signed out


def test_a_rotated_token_after_the_grace_period_ends_the_session(api, clock, resident):
    token = resident["tokens"]["refresh_token"]
    newest = refresh(api, token).body["refresh_token"]
    clock.shift(timedelta(seconds=31))

    assert refresh(api, token).code == "REFRESH_TOKEN_REUSED"
    assert refresh(api, newest).status == 401


def test_the_grace_period_is_a_setting(api, clock, resident, monkeypatch):
    from chalicelib.settings import reset_settings
    from chalicelib.wiring import reset_wiring

    monkeypatch.setenv("REFRESH_RETRY_GRACE_SECONDS", "0")
    reset_settings()
    reset_wiring()
    token = resident["tokens"]["refresh_token"]
    refresh(api, token)
    clock.shift(timedelta(seconds=1))
    assert refresh(api, token).code == "REFRESH_TOKEN_REUSED"


def test_only_the_token_just_replaced_has_a_grace_period(api, clock, resident):
    token = resident["tokens"]["refresh_token"]
    second = refresh(api, token).body["refresh_token"]
    refresh(api, second)
    clock.shift(timedelta(seconds=5))

    assert refresh(api, token).code == "REFRESH_TOKEN_REUSED"  # two rotations ago: a replay


def test_the_table_holds_no_usable_refresh_token(api, resident):
    from chalicelib.accounts.models import SessionRecord

    session_id = resident["tokens"]["session_id"]
    secret = refresh(api, resident["tokens"]["refresh_token"]).body["refresh_token"].partition(".")[2]
    stored = SessionRecord.get(session_id).attribute_values  # the row as stored, every attribute

    assert not any(secret in str(value) for value in stored.values())


def test_refresh_slides_with_use_and_dies_after_thirty_idle_days(api, clock, resident):
    token = resident["tokens"]["refresh_token"]
    for _ in range(3):
        clock.shift(timedelta(days=30) - timedelta(minutes=1))
        answer = refresh(api, token)
        assert answer.status == 200
        token = answer.body["refresh_token"]
    clock.shift(timedelta(days=30, minutes=1))
    assert refresh(api, token).code == "SESSION_EXPIRED"


def test_refresh_dies_after_180_days_however_often_it_is_used(api, clock, resident):
    token = resident["tokens"]["refresh_token"]
    for _ in range(6):
        clock.shift(timedelta(days=29, hours=23))
        answer = refresh(api, token)
        assert answer.status == 200
        token = answer.body["refresh_token"]
    clock.shift(timedelta(days=1))  # 180 days and 18 hours after login
    assert refresh(api, token).status == 401


def test_each_device_has_its_own_session_listed_by_name(api, resident):
    api.login(resident["civil_id"], NEW_PASSWORD, device="tablet")
    listed = api.get("/v1/auth/sessions", token=resident["tokens"]["access_token"])
    assert listed.status == 200
    names = sorted(s["device_name"] for s in listed.body["sessions"])
    assert names == ["phone-1 name", "tablet name"]
    assert [s["current"] for s in listed.body["sessions"] if s["device_name"] == "phone-1 name"] == [True]


def test_revoking_one_device_ends_only_that_device(api, resident):
    tablet = api.login(resident["civil_id"], NEW_PASSWORD, device="tablet").body
    access = resident["tokens"]["access_token"]
    assert api.delete(f"/v1/auth/sessions/{tablet['session_id']}", token=access).status == 204

    assert refresh(api, tablet["refresh_token"]).status == 401
    assert refresh(api, resident["tokens"]["refresh_token"]).status == 200
    assert api.delete("/v1/auth/sessions/not-mine", token=access).status == 404


def test_someone_elses_session_id_is_not_found(api, resident, invite, outbox):
    _, link = invite("other@acme.example", "Other Person")
    from tests.support import token_of

    api.client.http.post("/activate", body=f"token={token_of(link)}",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    temporary = outbox.last(to="other@acme.example", template="temporary_password")["vars"]["password"]
    other = api.signed_in("other@acme.example", NEW_PASSWORD, temporary=temporary)

    answer = api.delete(f"/v1/auth/sessions/{other['session_id']}", token=resident["tokens"]["access_token"])
    assert answer.status == 404
    assert refresh(api, other["refresh_token"]).status == 200


def test_sign_out_everywhere_and_logout(api, resident):
    tablet = api.login(resident["civil_id"], NEW_PASSWORD, device="tablet").body
    assert api.post("/v1/auth/logout", token=tablet["access_token"]).status == 204
    assert refresh(api, tablet["refresh_token"]).status == 401
    assert refresh(api, resident["tokens"]["refresh_token"]).status == 200

    laptop = api.login(resident["civil_id"], NEW_PASSWORD, device="laptop").body
    assert api.delete("/v1/auth/sessions", token=laptop["access_token"]).status == 204
    assert refresh(api, laptop["refresh_token"]).status == 401
    listed = api.get("/v1/auth/sessions", token=laptop["access_token"])  # the access token lives its 15 minutes
    assert listed.body["sessions"] == []


def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(api, resident):
    tablet = api.login(resident["civil_id"], NEW_PASSWORD, device="tablet").body
    access = resident["tokens"]["access_token"]
    wrong = api.post("/v1/auth/password/change", {"current_password": "nope-nope-nope",
                                                  "new_password": "Fresh-Garden-Rain-3"}, token=access)
    assert wrong.status == 403 and wrong.code == "WRONG_CURRENT_PASSWORD"

    changed = api.post("/v1/auth/password/change", {"current_password": NEW_PASSWORD,
                                                    "new_password": "Fresh-Garden-Rain-3"}, token=access)
    assert changed.status == 200
    assert refresh(api, tablet["refresh_token"]).status == 401
    assert refresh(api, resident["tokens"]["refresh_token"]).status == 200
    assert api.login(resident["civil_id"], NEW_PASSWORD).status == 401
    assert api.login(resident["civil_id"], "Fresh-Garden-Rain-3").status == 200


def test_the_last_five_passwords_cannot_come_back(api, resident):
    access = resident["tokens"]["access_token"]
    history = [NEW_PASSWORD] + [f"Rotating-Word-{n}-xyz" for n in range(5)]
    for old, new in itertools.pairwise(history):
        assert api.post("/v1/auth/password/change", {"current_password": old, "new_password": new},
                        token=access).status == 200
    current = history[-1]
    for reused in history[-5:]:
        answer = api.post("/v1/auth/password/change", {"current_password": current, "new_password": reused},
                          token=access)
        assert answer.status == 422 and answer.body["error"]["fields"]["new_password"]["rule"] == "reused_password"
    sixth_back = api.post("/v1/auth/password/change", {"current_password": current, "new_password": history[0]},
                          token=access)
    assert sixth_back.status == 200

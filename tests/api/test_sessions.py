"""Device sessions: refresh rotation, reuse detection, sliding and absolute expiry, sign-out."""

from __future__ import annotations

import itertools
from datetime import timedelta

from tests.support import NEW_PASSWORD


def refresh(api, token):
    return api.post("/v1/auth/refresh", {"refresh_token": token})


def test_refresh_rotates_the_token_and_the_old_one_then_ends_the_session(api, resident):
    first = resident["tokens"]["refresh_token"]
    rotated = refresh(api, first)
    assert rotated.status == 200
    assert rotated.body["refresh_token"] != first
    assert rotated.body["session_id"] == resident["tokens"]["session_id"]

    replay = refresh(api, first)  # someone kept the old token
    assert replay.status == 401 and replay.code == "REFRESH_TOKEN_REUSED"
    # The whole family is gone: even the newest token no longer works.
    assert refresh(api, rotated.body["refresh_token"]).status == 401


def test_two_refreshes_with_one_token_have_exactly_one_winner(api, resident):
    from chalicelib.domain.tokens import new_token, token_hash
    from chalicelib.errors import StaleState
    from chalicelib.wiring import auth_deps

    store = auth_deps().store
    session_id, _, secret = resident["tokens"]["refresh_token"].partition(".")
    # Both requests read the session before either writes.
    first_read, second_read = store.session(session_id), store.session(session_id)
    now = first_read.last_used_at + timedelta(seconds=1)
    outcomes = []
    for record in (first_read, second_read):
        try:
            store.rotate_session(record, token_hash(secret), token_hash(new_token()), now,
                                 now + timedelta(days=30))
            outcomes.append("won")
        except StaleState:
            outcomes.append("lost")
    assert outcomes == ["won", "lost"]


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

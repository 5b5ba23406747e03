"""An HR-enrolled member logs in with the civil ID HR sent as with the email, and /v1/me shows it masked."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from chalicelib.kernel.civil_id import compose_civil_id
from tests.jobs.conftest import POLICY_NO, ROOT, HrDrop, csv_rows
from tests.support import NEW_PASSWORD, token_of

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
OMAR = compose_civil_id(date(1980, 1, 1), "0012")
OMAR_CORRECTED = compose_civil_id(date(1980, 1, 1), "0021")
MEMBER_PASSWORD = "Amber-Falcon-River-31"
ROW = "E1,principal,Omar Ali,عمر علي,1980-01-01,male,{email},{mobile},{civil_id},GOLD,2026-01-01,2026-12-31,"


@pytest.fixture
def policy(aws):
    from chalicelib.enrolment.policies import create_group_policy
    from chalicelib.enrolment.store import EnrolmentStore

    data = json.loads((ROOT / "examples" / "policies" / f"{POLICY_NO}.json").read_text(encoding="utf-8"))
    return create_group_policy(EnrolmentStore(), data, datetime.now(UTC))


@pytest.fixture
def drop(client):
    return HrDrop(client)


def omar(civil_id: str = OMAR, email: str = "omar@acme.example", mobile: str = "+965 9988 7766") -> str:
    return ROW.format(email=email, mobile=mobile, civil_id=civil_id)


def activated(api, outbox, email: str, password: str = NEW_PASSWORD) -> dict:
    """The member opens the welcome link, then logs in with the emailed temporary password: their tokens."""
    link = outbox.last(to=email, template="welcome")["links"][0]
    assert api.client.http.post("/activate", body=f"token={token_of(link)}", headers=FORM).status_code == 200
    temporary = outbox.last(to=email, template="temporary_password")["vars"]["password"]
    return api.signed_in(email, password, temporary=temporary)


def me(api, tokens: dict) -> dict:
    answer = api.get("/v1/me", token=tokens["access_token"])
    assert answer.status == 200, answer.body
    return answer.body


def test_an_hr_member_logs_in_with_the_civil_id_hr_sent_and_with_the_email_into_one_account(
        drop, policy, api, outbox):
    report = drop(csv_rows(omar()))
    assert report["status"] == "completed" and report["rows"][0]["outcome"] == "created"
    account_id = me(api, activated(api, outbox, "omar@acme.example"))["account_id"]

    # As a member types it: plain, with spaces or dashes, in Arabic-Indic digits.
    arabic = OMAR.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    spaced = f"{OMAR[:4]} {OMAR[4:8]}-{OMAR[8:]}"
    for username in (OMAR, spaced, arabic, "Omar@ACME.example"):
        answer = api.login(username, NEW_PASSWORD)
        assert answer.status == 200, (username, answer.body)
        assert me(api, answer.body)["account_id"] == account_id


def test_me_shows_the_civil_id_masked_the_phone_hr_gave_and_every_login_name(drop, policy, api, outbox):
    drop(csv_rows(omar()))

    shown = me(api, activated(api, outbox, "omar@acme.example"))

    assert shown["civil_id_masked"] == "••••••••" + OMAR[-4:]
    assert shown["phone"] == "+96599887766"
    assert shown["username"] == "omar@acme.example"
    assert shown["usernames"] == ["omar@acme.example", OMAR]
    assert shown["civil_id"] == OMAR  # kept for the apps that read it: the member's own number


def test_a_residents_me_lists_the_civil_id_then_the_email(api, resident):
    shown = me(api, resident["tokens"])
    assert shown["usernames"] == [resident["civil_id"], "sara@example.com"]
    assert shown["civil_id_masked"] == "••••••••" + resident["civil_id"][-4:]


def test_a_civil_id_that_already_opens_a_residents_account_is_not_taken_and_the_row_is_enrolled(
        drop, policy, api, outbox, resident):
    report = drop(csv_rows(omar(civil_id=resident["civil_id"], email="sara.work@acme.example")))

    (row,) = report["rows"]
    assert row["outcome"] == "created" and report["status"] == "completed"
    assert [(e["column"], e["rule"]) for e in row["errors"]] == [("national_id", "civil_id_login_taken")]
    assert resident["civil_id"] not in drop.csv_report("staff.csv")  # the note does not repeat the number
    # The HR member signs in with the email only; the civil ID with their own password is refused.
    tokens = activated(api, outbox, "sara.work@acme.example", password=MEMBER_PASSWORD)
    shown = me(api, tokens)
    assert shown["account_id"] != resident["account_id"]
    assert shown["civil_id"] is None and shown["usernames"] == ["sara.work@acme.example"]
    assert api.login(resident["civil_id"], MEMBER_PASSWORD).status == 401
    # The resident's login is untouched: the civil ID still opens her own account, with her password.
    mine = api.login(resident["civil_id"], NEW_PASSWORD)
    assert mine.status == 200 and me(api, mine.body)["account_id"] == resident["account_id"]


def test_when_hr_corrects_the_civil_id_the_old_one_no_longer_logs_in_and_the_new_one_does(
        drop, policy, api, outbox):
    drop(csv_rows(omar(civil_id=OMAR)), "v1.csv")
    account_id = me(api, activated(api, outbox, "omar@acme.example"))["account_id"]

    report = drop(csv_rows(omar(civil_id=OMAR_CORRECTED)), "v2.csv")

    assert report["rows"][0]["outcome"] == "updated" and report["rows"][0]["errors"] == []
    old = api.login(OMAR, NEW_PASSWORD)
    unknown = api.login(compose_civil_id(date(1980, 1, 1), "0039"), NEW_PASSWORD)
    assert old.status == 401 and old.body == unknown.body
    new = api.login(OMAR_CORRECTED, NEW_PASSWORD)
    assert new.status == 200 and me(api, new.body)["account_id"] == account_id
    assert api.login("omar@acme.example", NEW_PASSWORD).status == 200


def test_a_civil_id_hr_released_can_be_registered_by_its_holder(drop, policy, api, outbox, registration_body):
    first = compose_civil_id(date(1990, 5, 17), "1234")  # the registration_body's civil ID, mistyped by HR
    assert registration_body["civil_id"] == first
    drop(csv_rows(omar(civil_id=first)), "v1.csv")
    activated(api, outbox, "omar@acme.example")
    assert api.login(first, NEW_PASSWORD).status == 200  # Omar's login while HR's file says so
    drop(csv_rows(omar(civil_id=OMAR)), "v2.csv")

    started = api.post("/v1/auth/register", registration_body)
    code = outbox.last(template="registration_code")["vars"]["code"]
    verified = api.post("/v1/auth/register/verify", {"registration_id": started.body["registration_id"],
                                                     "code": code})

    assert verified.status == 201, verified.body


def test_an_unknown_civil_id_and_a_members_with_a_wrong_password_get_the_same_answers(drop, policy, api, outbox):
    drop(csv_rows(omar()))
    activated(api, outbox, "omar@acme.example")
    ghost = compose_civil_id(date(1980, 1, 1), "0039")
    assert api.login(OMAR, NEW_PASSWORD).status == 200  # a login name of the member's, with its own budget

    known = [api.login(OMAR, "Not-The-Password-1") for _ in range(6)]
    unknown = [api.login(ghost, "Not-The-Password-1") for _ in range(6)]

    assert [(a.status, a.body) for a in known] == [(a.status, a.body) for a in unknown]
    assert [a.status for a in known] == [401, 401, 401, 401, 429, 429]
    # The budget is per name: the civil ID locked, the email still takes the right password.
    assert api.login("omar@acme.example", NEW_PASSWORD).status == 200


def test_two_employees_with_one_civil_id_in_a_file_give_it_to_the_first_and_enrol_both(drop, policy, api, outbox):
    report = drop(csv_rows(omar(), omar(email="twin@acme.example").replace("E1,", "E2,", 1)))

    first, second = report["rows"]
    assert first["outcome"] == second["outcome"] == "created" and first["errors"] == []
    assert [e["rule"] for e in second["errors"]] == ["civil_id_login_taken"]
    tokens = activated(api, outbox, "omar@acme.example")
    assert me(api, api.login(OMAR, NEW_PASSWORD).body)["account_id"] == me(api, tokens)["account_id"]


def test_the_same_file_again_is_unchanged_and_a_member_enrolled_before_gains_the_civil_id_login(
        drop, policy, api, outbox):
    drop(csv_rows(omar(civil_id="", mobile="")), "before.csv")  # HR's first file had no civil ID
    tokens = activated(api, outbox, "omar@acme.example")
    assert me(api, tokens)["usernames"] == ["omar@acme.example"]

    with_id = drop(csv_rows(omar()), "with-id.csv")
    again = drop(csv_rows(omar()), "again.csv")

    assert with_id["rows"][0]["outcome"] == "updated" and again["rows"][0]["outcome"] == "unchanged"
    assert api.login(OMAR, NEW_PASSWORD).status == 200
    # A later file without the column takes nothing away.
    drop(csv_rows(omar(civil_id="", mobile="")), "without.csv")
    assert api.login(OMAR, NEW_PASSWORD).status == 200
    assert me(api, tokens)["phone"] == "+96599887766"


def test_applied_report_lines_name_the_person(drop, policy):
    report = drop(csv_rows(omar()))
    assert report["rows"][0]["name"] == "Omar Ali"


def test_hr_swapping_two_employees_civil_ids_never_hands_one_login_to_the_other(drop, policy, api, outbox):
    mona = "E2,principal,Mona Ali,منى علي,1982-01-01,female,mona@acme.example,,{civil_id},GOLD,2026-01-01,2026-12-31,"
    drop(csv_rows(omar(civil_id=OMAR), mona.format(civil_id=OMAR_CORRECTED)), "v1.csv")
    omar_id = me(api, activated(api, outbox, "omar@acme.example"))["account_id"]
    mona_id = me(api, activated(api, outbox, "mona@acme.example", password=MEMBER_PASSWORD))["account_id"]

    # HR's next file swaps the two numbers (one of the files was wrong).
    swapped = drop(csv_rows(omar(civil_id=OMAR_CORRECTED), mona.format(civil_id=OMAR)), "v2.csv")

    assert [r["outcome"] for r in swapped["rows"]] == ["updated", "updated"]
    # Each number was the other's login when the file was read: neither takes it; the next upload does.
    assert [[e["rule"] for e in r["errors"]] for r in swapped["rows"]] == [["civil_id_login_taken"]] * 2
    assert api.login(OMAR, NEW_PASSWORD).status == 401 and api.login(OMAR_CORRECTED, MEMBER_PASSWORD).status == 401
    assert api.login("omar@acme.example", NEW_PASSWORD).status == 200

    again = drop(csv_rows(omar(civil_id=OMAR_CORRECTED), mona.format(civil_id=OMAR)), "v3.csv")

    assert [r["errors"] for r in again["rows"]] == [[], []]
    assert me(api, api.login(OMAR_CORRECTED, NEW_PASSWORD).body)["account_id"] == omar_id
    assert me(api, api.login(OMAR, MEMBER_PASSWORD).body)["account_id"] == mona_id

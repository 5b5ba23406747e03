"""E-cards through the API: who the account sees, signed URLs to drawn cards, drawn once, drawn again on change."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest

from devstack.counting import count_aws_calls
from tests.api.cards_support import (
    AHMAD,
    FATIMA,
    JOHN,
    YOUSEF,
    Renders,
    create_policy,
    csv_rows,
    enrol_family,
    hr_upload,
    object_key,
    stored,
    url_query,
)


@pytest.fixture
def family(aws, api, clock):
    create_policy()
    return enrol_family(api, AHMAD, FATIMA, YOUSEF)


@pytest.fixture
def renders(monkeypatch):
    return Renders(monkeypatch)


def test_the_listing_shows_the_principal_then_each_dependent_with_plan_dates_and_status(family):
    cards = family.cards()

    assert [c["name"]["en"] for c in cards] == [
        "Ahmad Khalid Al-Mutairi", "Fatima Ali Al-Mutairi", "Yousef Ahmad Al-Mutairi"]
    assert [c["relationship"] for c in cards] == ["principal", "spouse", "child"]
    ahmad = cards[0]
    assert ahmad["member_id"] == family.members["Ahmad Khalid Al-Mutairi"]
    assert ahmad["name"]["ar"] == "أحمد خالد المطيري"
    assert ahmad["plan"] == {"code": "GOLD", "en": "Gold", "ar": "ذهبي"}
    assert ahmad["policy_number"] == "GP-ACME-2026" and ahmad["kind"] == "group"
    assert (ahmad["valid_from"], ahmad["valid_to"]) == ("2026-01-01", "2026-12-31")
    assert {c["status"] for c in cards} == {"active"}
    assert all(c["formats"] == ["png", "pdf"] for c in cards)


def test_me_lists_the_same_people_as_the_cards(family):
    me = family.get("/v1/me")

    assert me.status == 200, me.body
    assert me.body["people"] == family.cards()


def test_someone_elses_member_id_answers_exactly_like_one_that_does_not_exist(family, api):
    john = enrol_family(api, JOHN)
    someone_else = family.members["Fatima Ali Al-Mutairi"]

    answers = [john.card(member_id) for member_id in (someone_else, "7Q2M9XK4TB3VZ", "R-290062501634")]

    assert {a.status for a in answers} == {404}
    assert answers[0].body == answers[1].body == answers[2].body
    assert answers[0].code == "NOT_FOUND"
    assert [c["member_id"] for c in john.cards()] == [john.members["John Smith"]]


def test_the_png_card_is_1012_by_638_behind_a_url_valid_five_minutes(family, clock):
    from PIL import Image

    answer = family.card(family.members["Ahmad Khalid Al-Mutairi"], "png")

    assert answer.status == 200, answer.body
    assert answer.headers["Cache-Control"] == "private, no-store"
    query = url_query(answer.body["url"])
    assert query["X-Amz-Expires"] == "300"
    assert answer.body["expires_in"] == 300
    assert datetime.fromisoformat(answer.body["expires_at"]) == datetime.now(UTC) + timedelta(minutes=5)
    assert object_key(answer.body["url"]).endswith(".png")
    body, head = stored(answer.body["url"])
    assert head["ContentType"] == "image/png"
    with Image.open(io.BytesIO(body)) as image:
        assert (image.format, image.size) == ("PNG", (1012, 638))


def test_the_pdf_card_is_one_page_of_the_same_design(family):
    answer = family.card(family.members["Ahmad Khalid Al-Mutairi"], "pdf")

    assert answer.status == 200, answer.body
    body, head = stored(answer.body["url"])
    assert head["ContentType"] == "application/pdf"
    assert body.startswith(b"%PDF-") and body.count(b"/Type /Page\n") + body.count(b"/Type /Page\r") <= 1
    assert b"/Count 1" in body
    png = family.card(family.members["Ahmad Khalid Al-Mutairi"], "png").body["url"]
    # The same content hash, another format: one design, two files.
    assert object_key(png)[:-4] == object_key(answer.body["url"])[:-4]


def test_an_unknown_format_is_refused_naming_the_field(family):
    answer = family.card(family.members["Ahmad Khalid Al-Mutairi"], "gif")

    assert answer.status == 422 and answer.body["error"]["fields"]["format"]["rule"] == "one_of"


def test_an_unchanged_card_is_never_drawn_twice_and_costs_two_dynamodb_reads(family, renders):
    ahmad = family.members["Ahmad Khalid Al-Mutairi"]
    first = family.card(ahmad)
    assert first.status == 200 and len(renders) == 1

    with count_aws_calls() as calls:
        second = family.card(ahmad)

    assert second.status == 200 and len(renders) == 1
    assert object_key(second.body["url"]) == object_key(first.body["url"])
    # The member and its policy's names; one HEAD to S3; signing the URL makes no request at all.
    assert dict(calls) == {("dynamodb", "GetItem"): 2, ("s3", "HeadObject"): 1}


def test_an_hr_change_makes_the_next_request_draw_the_new_card(family, renders):
    ahmad = family.members["Ahmad Khalid Al-Mutairi"]
    before = object_key(family.card(ahmad).body["url"])

    hr_upload(csv_rows(AHMAD.replace("GOLD", "SILVER")))
    after = family.card(ahmad)

    assert len(renders) == 2 and renders.drawn[-1][1].plan.en == "Silver"
    assert object_key(after.body["url"]) != before
    assert family.cards()[0]["plan"]["code"] == "SILVER"


def test_a_renewal_draws_a_card_with_the_new_dates(family, renders):
    ahmad = family.members["Ahmad Khalid Al-Mutairi"]
    family.card(ahmad)

    hr_upload(csv_rows(AHMAD.replace("2026-12-31", "2027-12-31")))
    family.card(ahmad)

    assert len(renders) == 2 and renders.drawn[-1][1].valid_to == date(2027, 12, 31)


def test_a_terminated_persons_card_is_gone_with_a_clear_code_and_listed_as_terminated(family):
    fatima = family.members["Fatima Ali Al-Mutairi"]
    assert family.card(fatima).status == 200

    hr_upload(csv_rows(FATIMA.replace("2026-12-31,", "2026-02-28,terminate")))
    answer = family.card(fatima)

    assert answer.status == 410 and answer.code == "COVERAGE_TERMINATED"
    assert "19097" in answer.body["error"]["message"]
    arabic = family.get(f"/v1/cards/{fatima}", lang="ar")
    assert arabic.status == 410 and "انتهى" in arabic.body["error"]["message"]
    listed = {c["member_id"]: c for c in family.cards()}[fatima]
    assert (listed["status"], listed["card_available"], listed["formats"]) == ("terminated", False, [])


def test_after_the_last_covered_day_the_card_is_listed_as_expired_and_still_opens(family, clock):
    clock.move_to(datetime(2027, 1, 1, 9, 0, tzinfo=UTC))  # noon in Kuwait, the day after 31 December

    cards = family.cards()

    assert {c["status"] for c in cards} == {"expired"}
    assert family.card(family.members["Ahmad Khalid Al-Mutairi"]).status == 200


def test_the_under_16_note_changes_on_the_16th_birthday_in_kuwait_time(family, clock, renders):
    from chalicelib.cards.card import IdNote

    yousef = family.members["Yousef Ahmad Al-Mutairi"]  # born 2 March 2010
    # 23:59:59 on 1 March in Kuwait (UTC+3): still 15.
    clock.move_to(datetime(2026, 3, 1, 20, 59, 59, tzinfo=UTC))
    listed = {c["member_id"]: c for c in family.cards()}
    before = family.card(yousef)
    assert listed[yousef]["id_note"] == "parent_id"
    assert renders.drawn[-1][1].id_note is IdNote.PARENT_ID
    assert renders.drawn[-1][1].id_note_text.en.startswith("Under 16")

    # Midnight in Kuwait: the birthday. The card changes, so it is drawn again.
    clock.move_to(datetime(2026, 3, 1, 21, 0, 0, tzinfo=UTC))
    listed = {c["member_id"]: c for c in family.cards()}
    after = family.card(yousef)
    assert listed[yousef]["id_note"] == "own_id"
    assert renders.drawn[-1][1].id_note is IdNote.OWN_ID
    assert object_key(after.body["url"]) != object_key(before.body["url"])
    assert len(renders) == 2
    # An adult's card never carries the parent note.
    assert {c["member_id"]: c for c in family.cards()}[family.members["Ahmad Khalid Al-Mutairi"]][
        "id_note"] == "own_id"


def test_a_card_still_in_use_is_kept_from_the_lifecycle_rule_without_drawing_it_again(family, clock, renders):
    from chalicelib.cards.store import CARD_OBJECT_DAYS

    ahmad = family.members["Ahmad Khalid Al-Mutairi"]
    key = object_key(family.card(ahmad).body["url"])

    clock.shift(timedelta(days=CARD_OBJECT_DAYS - 2))
    with count_aws_calls() as calls:
        family.card(ahmad)
    assert calls[("s3", "CopyObject")] == 0

    clock.shift(timedelta(days=2))
    with count_aws_calls() as calls:
        again = family.card(ahmad)
    # Copied onto itself: a new LastModified restarts the rule's count; nothing drawn.
    assert calls[("s3", "CopyObject")] == 1 and len(renders) == 1
    assert object_key(again.body["url"]) == key
    _, head = stored(again.body["url"])
    assert head["ContentType"] == "image/png"


def test_the_cards_bucket_expires_superseded_cards_by_a_lifecycle_rule(aws):
    import boto3

    from chalicelib.cards.store import CARD_OBJECT_DAYS
    from chalicelib.settings import get_settings

    rules = boto3.client("s3").get_bucket_lifecycle_configuration(Bucket=get_settings().cards_bucket)["Rules"]
    cards = [r for r in rules if r.get("Filter", {}).get("Prefix") == "cards/"]
    assert [r["Expiration"]["Days"] for r in cards] == [CARD_OBJECT_DAYS]


def test_a_paid_residence_policy_shows_as_a_card_and_draws(aws, api, clock):
    from chalicelib.kernel.civil_id import compose_civil_id
    from chalicelib.premiums.models import PeriodMap, ResidencePolicyRecord
    from tests.api.cards_support import Holder

    civil_id = compose_civil_id(date(1990, 5, 17), "1234")
    now = datetime.now(UTC)
    # As the payments code leaves it once a premium is captured.
    ResidencePolicyRecord(
        civil_id, policy_id="pol123", account_id="acct-resident", insured_name="Priya Menon",
        category="private_sector_employee", status="active", start_date="2026-03-01", end_date="2027-03-01",
        periods=[PeriodMap(start="2026-03-01", end="2027-03-01", payment_id="pay1", status="active",
                           category="private_sector_employee", amount_fils=50000, account_id="acct-resident")],
        created_at=now, updated_at=now,
    ).save()
    resident = Holder(api, "acct-resident")

    cards = resident.cards()

    assert len(cards) == 1
    card = cards[0]
    assert card["member_id"] == f"R-{civil_id}" and card["kind"] == "residence"
    assert (card["valid_from"], card["valid_to"], card["status"]) == ("2026-03-01", "2027-02-28", "active")
    assert card["date_of_birth"] == "1990-05-17"
    # Issued before policy numbers and Arabic names existed: neither is made up, the internal id never shown.
    assert card["policy_number"] is None and card["name"] == {"en": "Priya Menon", "ar": ""}
    answer = resident.card(card["member_id"], "png")
    assert answer.status == 200, answer.body
    assert stored(answer.body["url"])[0].startswith(b"\x89PNG")


def test_importing_the_app_loads_no_imaging_qr_shaping_or_crypto_library_for_other_routes():
    import os
    import subprocess
    import sys

    from tests.api.cards_support import ROOT

    code = (
        "import sys\n"
        "import app\n"
        "heavy = {'PIL', 'segno', 'bidi', 'arabic_reshaper', 'zxingcpp', 'cryptography'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"

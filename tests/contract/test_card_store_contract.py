"""The cards' adapters' contract: the in-memory fakes and the real ones on moto pass the same tests.

People (InsuredPeople on the members, group-policy and residence-policy tables; FakePeople on
values): an account's people read back as stored, only the account's own people covered, anyone
found by member id. Card objects (CardStore on S3; FakeCardObjects): absent until put, stored
bytes read back, a signed URL naming the object and the file and living 5 minutes, an object
near the lifecycle's age refreshed by `ready` rather than lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import unquote

import pytest

from chalicelib.cards.card import GroupCover, ResidenceCover
from chalicelib.cards.insured import (
    RESIDENCE_NETWORK,
    RESIDENCE_PLAN,
    CoverKind,
    InsuredPerson,
    residence_member_id,
)
from chalicelib.cards.ports import CardObjects, PeopleReader
from chalicelib.cards.store import REFRESH_AFTER, URL_SECONDS
from chalicelib.errors import Text
from chalicelib.kernel.civil_id import parse_civil_id
from chalicelib.kernel.relationship import Relationship
from tests.cards.fakes import FakeCardObjects, FakePeople

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
POLICY_NO = "GP-ACME-2026"
EMPLOYER = Text("Acme Logistics Co.", "شركة أكمي للخدمات اللوجستية")
PLANS = {"GOLD": {"name_en": "Gold", "name_ar": "الذهبية", "network_en": "Network A", "network_ar": "الشبكة أ"}}
CIVIL_ID = "288020122596"


def group_person(member_id: str, account_id: str | None, name: str = "Ahmad Ali",
                 relationship: Relationship = Relationship.PRINCIPAL, terminated: bool = False) -> InsuredPerson:
    return InsuredPerson(
        member_id=member_id, account_id=account_id, kind=CoverKind.GROUP, name=Text(name, "أحمد علي"),
        date_of_birth=date(1980, 1, 1), relationship=relationship, cover=GroupCover(POLICY_NO, EMPLOYER),
        plan_code="GOLD", plan=Text("Gold", "الذهبية"), network=Text("Network A", "الشبكة أ"),
        valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31), terminated=terminated, card_since=NOW)


def residence_person(account_id: str) -> InsuredPerson:
    from chalicelib.premiums.rules import CATEGORIES_BY_CODE

    category = next(iter(CATEGORIES_BY_CODE.values()))
    return InsuredPerson(
        member_id=residence_member_id(CIVIL_ID), account_id=account_id, kind=CoverKind.RESIDENCE,
        name=Text("Priya Menon", "بريا مينون"), date_of_birth=parse_civil_id(CIVIL_ID, today=date.max).birth_date,
        relationship=Relationship.PRINCIPAL, cover=ResidenceCover(category.label, "RP-1"), plan_code="RESIDENCE",
        plan=RESIDENCE_PLAN, network=RESIDENCE_NETWORK, valid_from=date(2026, 3, 1), valid_to=date(2027, 2, 28),
        card_since=NOW)


@dataclass
class People:
    reader: PeopleReader
    add: object  # (*InsuredPerson) -> None: stores what the reader reads back


def _store_on_tables(*people: InsuredPerson) -> None:
    """Writes the records each person is read from: the inverse of cards/people.py."""
    from chalicelib.enrolment.models import GroupPolicyRecord, MemberRecord
    from chalicelib.premiums.models import ResidencePolicyRecord
    from chalicelib.premiums.rules import CATEGORIES_BY_CODE

    for p in people:
        if isinstance(p.cover, GroupCover):
            GroupPolicyRecord(p.cover.policy_number, employer_en=p.cover.employer.en, employer_ar=p.cover.employer.ar,
                              plans=PLANS, created_at=NOW).save()
            MemberRecord(p.member_id, policy_no=p.cover.policy_number, employee_no="E1",
                         relationship=p.relationship.value, name_en=p.name.en, name_ar=p.name.ar,
                         date_of_birth=p.date_of_birth.isoformat(), gender="male", plan=p.plan_code,
                         coverage_start=p.valid_from.isoformat(), coverage_end=p.valid_to.isoformat(),
                         status="terminated" if p.terminated else "active", fingerprint="fp",
                         account_id=p.account_id, created_at=NOW, updated_at=NOW, card_since=p.card_since).save()
        else:
            code = next(c.code for c in CATEGORIES_BY_CODE.values() if c.label == p.cover.category)
            ResidencePolicyRecord(p.member_id.removeprefix("R-"), policy_id="pol-internal",
                                  policy_number=p.cover.policy_number, account_id=p.account_id,
                                  insured_name=p.name.en, insured_name_ar=p.name.ar or None, category=code,
                                  status="cancelled" if p.terminated else "active",
                                  start_date=p.valid_from.isoformat(), updated_at=p.card_since,
                                  end_date=(p.valid_to + timedelta(days=1)).isoformat()).save()


@pytest.fixture(params=["fake", "moto"])
def people(request) -> People:
    if request.param == "fake":
        fake = FakePeople()
        return People(fake, fake.add)
    request.getfixturevalue("aws")
    from chalicelib.cards.people import InsuredPeople

    return People(InsuredPeople(), _store_on_tables)


@pytest.fixture(params=["fake", "moto"])
def objects(request) -> CardObjects:
    if request.param == "fake":
        return FakeCardObjects(clock=datetime.now(UTC))
    request.getfixturevalue("aws")
    from chalicelib.cards.store import CardStore

    return CardStore()


def test_an_accounts_people_read_back_as_stored_group_members_and_residence_policies_alike(people):
    family = [group_person("7Q2M9XK4TB3VZ", "acc1"),
              group_person("8R3N0YM5VC4W0", "acc1", "Sara Ali", Relationship.SPOUSE),
              residence_person("acc1")]
    people.add(*family, group_person("9S4P1ZN6WD5X1", "acc2", "Someone Else"))  # type: ignore[operator]

    found = people.reader.of_account("acc1")

    assert sorted(found, key=lambda p: p.member_id) == sorted(family, key=lambda p: p.member_id)
    assert people.reader.of_account("acc-nobody") == []


def test_a_person_is_covered_only_for_their_own_account_and_found_by_anyone(people):
    ahmad = group_person("7Q2M9XK4TB3VZ", "acc1", terminated=True)
    resident = residence_person("acc1")
    people.add(ahmad, resident)  # type: ignore[operator]

    assert people.reader.covered("acc1", ahmad.member_id) == ahmad
    assert people.reader.covered("acc1", resident.member_id) == resident
    assert people.reader.covered("acc2", ahmad.member_id) is None
    assert people.reader.covered("acc2", resident.member_id) is None
    assert people.reader.find(ahmad.member_id) == ahmad and people.reader.find(resident.member_id) == resident
    for nobody in ("0000000000000", "R-288020122590", "x" * 200, ""):
        assert people.reader.find(nobody) is None and people.reader.covered("acc1", nobody) is None


def test_a_card_is_absent_until_put_and_its_bytes_read_back(objects):
    key = "cards/7Q2M9XK4TB3VZ/abc123.png"
    now = datetime.now(UTC)

    assert objects.ready(key, now) is False
    objects.put(key, b"\x89PNG card", {"kid": "k1", "member": "7Q2M9XK4TB3VZ"})

    assert objects.ready(key, now) is True
    assert objects.get(key) == b"\x89PNG card"  # type: ignore[attr-defined]


def test_a_signed_url_names_the_card_and_its_file_and_lives_five_minutes(objects):
    key = "cards/7Q2M9XK4TB3VZ/abc123.pdf"
    objects.put(key, b"%PDF card")
    now = datetime.now(UTC)

    signed = objects.signed_url(key, now, "card-7Q2M9XK4TB3VZ.pdf")

    assert key in signed.url and 'filename="card-7Q2M9XK4TB3VZ.pdf"' in unquote(signed.url)
    assert signed.expires_at == now + timedelta(seconds=URL_SECONDS)


def test_a_card_near_the_lifecycles_age_is_refreshed_by_ready_and_stays_readable(objects):
    key = "cards/7Q2M9XK4TB3VZ/abc123.png"
    objects.put(key, b"\x89PNG card")
    later = datetime.now(UTC) + REFRESH_AFTER + timedelta(hours=1)

    assert objects.ready(key, later) is True

    assert objects.get(key) == b"\x89PNG card"  # type: ignore[attr-defined]
    # Refreshed: asked again a little later, the object is young and nothing is copied again.
    assert objects.ready(key, later + timedelta(minutes=1)) is True

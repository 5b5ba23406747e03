"""Listing, handing out and verifying e-cards, on the in-memory people and card store."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, date, datetime

import pytest

from chalicelib.cards.card import CardContent, GroupCover
from chalicelib.cards.crl import RevocationList
from chalicelib.cards.insured import CoverKind, InsuredPerson
from chalicelib.cards.payload import generate_keypair, load_private_key, load_public_key
from chalicelib.cards.ports import CardDeps, ShcIssuer
from chalicelib.cards.use_cases import CardTerminated, card_url, list_cards, verify_card
from chalicelib.errors import NotFound, Text
from chalicelib.kernel.relationship import Relationship
from chalicelib.platform.signing_keys import derive_es256_key
from tests.cards.fakes import FakeCardObjects, FakePeople

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
KEYPAIR = generate_keypair("3f9a1c0b7d2e4a65")
SHC_KEY = derive_es256_key("card-secret-" + "x" * 52)


def person(member_id: str, name: str, relationship: Relationship = Relationship.PRINCIPAL, *,
           account_id: str = "acc1", born: date = date(1980, 1, 1), **changes: object) -> InsuredPerson:
    base = InsuredPerson(
        member_id=member_id, account_id=account_id, kind=CoverKind.GROUP, name=Text(name, "اسم"),
        date_of_birth=born, relationship=relationship,
        cover=GroupCover("GP-ACME-2026", Text("Acme", "أكمي")), plan_code="GOLD", plan=Text("Gold", "الذهبية"),
        network=Text("Network A", "الشبكة أ"), valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31))
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


class Drawings:
    """The renderer: remembers each QR text it was given, returns a few bytes."""

    def __init__(self) -> None:
        self.qr_texts: list[str] = []

    def __call__(self, content: CardContent, qr_text: str, fmt: str, /) -> bytes:
        self.qr_texts.append(qr_text)
        return f"{fmt}:{content.member_id}".encode()


class NoRevocations:
    """ports.RevocationLists with nothing revoked (revocation has its own tests)."""

    def read(self, kid: str) -> RevocationList:
        return RevocationList(kid)

    def add(self, kid: str, entries: Iterable[str]) -> RevocationList:
        raise AssertionError("nothing is revoked here")


@pytest.fixture
def world():
    """Cards as drawn now: a SMART Health Card QR (qr_format "shc"); the Ed25519 keys verify EC1 cards."""
    people, objects, drawings = FakePeople(), FakeCardObjects(clock=NOW), Drawings()
    shc = ShcIssuer(iss="https://api.example", signing_key=lambda: SHC_KEY,
                    key=lambda kid: SHC_KEY if kid == SHC_KEY.kid else None, all_keys=lambda: [SHC_KEY],
                    revocations=NoRevocations())
    deps = CardDeps(people=people, objects=objects, render=drawings,
                    signing_key=lambda: (KEYPAIR.kid, load_private_key(KEYPAIR.private_key_pem)),
                    public_key=lambda kid: load_public_key(KEYPAIR.public_key) if kid == KEYPAIR.kid else None,
                    public_keys=lambda: {KEYPAIR.kid: load_public_key(KEYPAIR.public_key)}, now=lambda: NOW,
                    shc=shc, qr_format="shc")
    return deps, people, objects, drawings


def test_an_account_lists_its_principal_first_then_dependents_with_todays_status(world):
    deps, people, _, _ = world
    people.add(person("C1", "Omar Ali", Relationship.CHILD, born=date(2015, 5, 5)), person("P1", "Ahmad Ali"),
               person("S1", "Sara Ali", Relationship.SPOUSE, terminated=True), person("X1", "Other", account_id="acc2"))

    cards = list_cards(deps, "acc1")

    assert [c["member_id"] for c in cards] == ["P1", "S1", "C1"]
    assert [c["status"] for c in cards] == ["active", "terminated", "active"]
    assert cards[2]["id_note"] == "parent_id" and cards[1]["formats"] == []


def test_a_card_is_drawn_once_and_drawn_again_only_when_what_it_prints_changes(world):
    deps, people, objects, drawings = world
    people.add(person("P1", "Ahmad Ali"))

    first = card_url(deps, "acc1", "P1", "png")
    again = card_url(deps, "acc1", "P1", "png")
    people.add(person("P1", "Ahmad Ali", plan=Text("Silver", "الفضية")))
    changed = card_url(deps, "acc1", "P1", "png")

    assert objects.puts == 2 and len(drawings.qr_texts) == 2
    assert first["url"] == again["url"] != changed["url"]
    assert first["expires_in"] == 300 and first["status"] == "active"


def test_someone_elses_card_is_not_found_and_a_terminated_one_is_gone(world):
    deps, people, objects, _ = world
    people.add(person("X1", "Other", account_id="acc2"), person("T1", "Ended", terminated=True))

    with pytest.raises(NotFound):
        card_url(deps, "acc1", "X1", "pdf")
    with pytest.raises(CardTerminated):
        card_url(deps, "acc1", "T1", "pdf")
    assert objects.puts == 0


def test_a_drawn_cards_qr_verifies_as_genuine_until_the_record_changes(world):
    deps, people, _, drawings = world
    people.add(person("P1", "Ahmad Ali"))
    card_url(deps, "acc1", "P1", "png")
    (qr_text,) = drawings.qr_texts

    checked = verify_card(deps, qr_text)
    people.add(person("P1", "Ahmad Ali", valid_to=date(2027, 12, 31)))
    after_renewal = verify_card(deps, qr_text)

    assert qr_text.startswith("shc:/") and checked["format"] == "shc" and not checked["revoked"]
    assert checked["genuine"] and checked["status"] == "active" and checked["matches_current_record"]
    assert checked["card"]["member_id"] == "P1" and checked["card"]["issued_at"] == NOW.isoformat()
    assert checked["card"]["kid"] == SHC_KEY.kid
    assert after_renewal["genuine"] and not after_renewal["matches_current_record"]


def test_a_card_drawn_before_the_switch_to_smart_health_cards_still_verifies(world):
    deps, people, _, drawings = world
    people.add(person("P1", "Ahmad Ali"))
    card_url(dataclasses.replace(deps, qr_format="ec1"), "acc1", "P1", "png")  # as cards were drawn before
    (printed,) = drawings.qr_texts

    checked = verify_card(deps, printed)

    assert printed.startswith("EC1:") and checked["format"] == "ec1"
    assert checked["genuine"] and checked["status"] == "active" and checked["card"]["kid"] == KEYPAIR.kid

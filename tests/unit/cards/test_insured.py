"""The status of an insured person's cover on a day, and what their card prints."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from chalicelib.cards.card import GroupCover, IdNote
from chalicelib.cards.insured import (
    CardStatus,
    CoverKind,
    InsuredPerson,
    card_order,
    claims_for,
    residence_civil_id,
    residence_member_id,
)
from chalicelib.errors import Text
from chalicelib.kernel.relationship import Relationship

PERSON = InsuredPerson(
    member_id="7Q2M9XK4TB3VZ", account_id="acct-1", kind=CoverKind.GROUP,
    name=Text("Yousef Ahmad", "يوسف أحمد"), date_of_birth=date(2010, 3, 2), relationship=Relationship.CHILD,
    cover=GroupCover("GP-ACME-2026", Text("ACME", "أكمي")), plan_code="GOLD", plan=Text("Gold", "ذهبي"),
    network=Text("Network A", "الشبكة أ"), valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31),
)


@pytest.mark.parametrize(("today", "status"), [
    (date(2025, 12, 31), CardStatus.UPCOMING),
    (date(2026, 1, 1), CardStatus.ACTIVE),
    (date(2026, 12, 31), CardStatus.ACTIVE),  # the last covered day is printed and covered
    (date(2027, 1, 1), CardStatus.EXPIRED),
])
def test_the_status_follows_the_printed_dates(today, status):
    assert PERSON.status(today) is status


def test_termination_wins_over_dates_still_in_the_future():
    assert replace(PERSON, terminated=True).status(date(2026, 6, 1)) is CardStatus.TERMINATED


def test_the_card_of_a_child_carries_the_parent_id_note_until_the_16th_birthday():
    assert PERSON.card_content(date(2026, 3, 1)).id_note is IdNote.PARENT_ID
    assert PERSON.card_content(date(2026, 3, 2)).id_note is IdNote.OWN_ID
    # The note is printed, so the card's key changes with it.
    assert PERSON.card_content(date(2026, 3, 1)).content_key() != PERSON.card_content(date(2026, 3, 2)).content_key()


def test_a_card_drawn_from_unchanged_details_has_the_same_key_on_another_day():
    assert PERSON.card_content(date(2026, 4, 1)).object_key("png") == PERSON.card_content(
        date(2026, 9, 1)).object_key("png")


def test_claims_match_the_record_until_a_printed_detail_changes():
    claims = claims_for(PERSON.card_content(date(2026, 4, 1)), datetime(2026, 4, 1, tzinfo=UTC))
    assert PERSON.matches(claims)
    assert not replace(PERSON, plan=Text("Silver", "فضي")).matches(claims)
    assert not replace(PERSON, valid_to=date(2027, 12, 31)).matches(claims)


def test_a_residence_member_id_names_its_civil_id_and_never_looks_like_a_group_id():
    member_id = residence_member_id("290051712345")
    assert residence_civil_id(member_id) == "290051712345"
    assert residence_civil_id("7Q2M9XK4TB3VZ") is None


def test_cards_list_group_cover_principal_first_then_residence():
    principal = replace(PERSON, relationship=Relationship.PRINCIPAL, name=Text("Zaid", "زيد"))
    residence = replace(PERSON, kind=CoverKind.RESIDENCE, relationship=Relationship.PRINCIPAL,
                        name=Text("Anna", "آنا"))
    assert sorted([residence, PERSON, principal], key=card_order) == [principal, PERSON, residence]


def test_a_refunded_residence_policy_is_cancelled_and_an_hr_termination_is_terminated():
    from chalicelib.cards.card import ResidenceCover

    resident = replace(PERSON, kind=CoverKind.RESIDENCE, cover=ResidenceCover(Text("Study", "دراسة"), None),
                       terminated=True)

    assert resident.status(date(2026, 6, 1)) is CardStatus.CANCELLED and CardStatus.CANCELLED.ended
    assert replace(PERSON, terminated=True).status(date(2026, 6, 1)) is CardStatus.TERMINATED
    assert not CardStatus.ACTIVE.ended and not CardStatus.EXPIRED.ended


def test_a_name_known_only_in_arabic_sorts_by_its_arabic_and_an_empty_arabic_name_is_signed_as_empty():
    arabic_only = replace(PERSON, name=Text("", "بريا"), member_id="B")
    latin_only = replace(PERSON, name=Text("Zed", ""), member_id="A")

    assert sorted([arabic_only, latin_only], key=card_order) == [latin_only, arabic_only]
    claims = claims_for(latin_only.card_content(date(2026, 3, 1)), datetime(2026, 3, 1, tzinfo=UTC))
    assert (claims.name_en, claims.name_ar) == ("Zed", "") and latin_only.matches(claims)


@pytest.mark.parametrize(("insured_name", "insured_name_ar", "en", "ar"), [
    ("Priya Menon", "بريا مينون", "Priya Menon", "بريا مينون"),
    ("Priya Menon", None, "Priya Menon", ""),  # never the Latin name in the Arabic slot
    ("بريا مينون", None, "", "بريا مينون"),  # paid before the Arabic field: typed in Arabic
])
def test_a_residence_card_prints_each_name_in_its_own_slot_or_leaves_the_slot_empty(
        insured_name, insured_name_ar, en, ar):
    from chalicelib.cards.people import residence_name

    assert residence_name(insured_name, insured_name_ar) == Text(en, ar)

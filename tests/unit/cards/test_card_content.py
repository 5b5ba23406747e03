"""What goes on a card: the ID note by age, and the content key the drawing is stored under."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import fields, replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from chalicelib.cards.card import (
    ID_NOTE_TEXT,
    CardContent,
    IdNote,
    id_note_for,
    is_under_16,
    sixteenth_birthday,
)
from chalicelib.errors import Text
from chalicelib.kernel.relationship import Relationship

ROOT = Path(__file__).resolve().parents[3]
BORN = date(2010, 6, 15)


def test_the_day_before_the_16th_birthday_the_card_asks_for_a_parents_id():
    assert id_note_for(BORN, date(2026, 6, 14)) is IdNote.PARENT_ID


def test_on_the_16th_birthday_the_card_asks_for_the_persons_own_id():
    assert id_note_for(BORN, date(2026, 6, 15)) is IdNote.OWN_ID
    assert id_note_for(BORN, date(2026, 6, 16)) is IdNote.OWN_ID


def test_a_baby_and_an_adult_get_the_notes_a_provider_expects():
    assert id_note_for(date(2026, 2, 1), date(2026, 3, 1)) is IdNote.PARENT_ID
    assert id_note_for(date(1970, 1, 1), date(2026, 3, 1)) is IdNote.OWN_ID


def test_someone_born_on_29_february_turns_16_on_29_february_when_that_year_has_one():
    assert sixteenth_birthday(date(2008, 2, 29)) == date(2024, 2, 29)
    assert is_under_16(date(2008, 2, 29), date(2024, 2, 28))
    assert not is_under_16(date(2008, 2, 29), date(2024, 2, 29))


def test_someone_born_on_29_february_turns_16_on_1_march_of_a_common_year():
    # 2100 is not a leap year, so the 16th birthday of a 2084 leapling has no 29 Feb.
    born = date(2084, 2, 29)
    assert sixteenth_birthday(born) == date(2100, 3, 1)
    assert id_note_for(born, date(2100, 2, 28)) is IdNote.PARENT_ID
    assert id_note_for(born, date(2100, 3, 1)) is IdNote.OWN_ID


def test_both_notes_read_in_english_and_arabic():
    assert "valid ID" in ID_NOTE_TEXT[IdNote.OWN_ID].en
    assert "parent" in ID_NOTE_TEXT[IdNote.PARENT_ID].en
    assert "الوالدين" in ID_NOTE_TEXT[IdNote.PARENT_ID].ar
    assert "16" in ID_NOTE_TEXT[IdNote.PARENT_ID].ar


def test_the_same_content_always_has_the_same_key(group_card):
    assert group_card().content_key() == group_card().content_key()
    assert len(group_card().content_key()) == 64


_KEY_IN_A_FRESH_PROCESS = """
from datetime import date
from chalicelib.cards.card import CardContent, GroupCover, IdNote
from chalicelib.errors import Text
card = CardContent(
    insurer=Text("Insurer", "المؤمن"), member_id="M1", name=Text("Ali", "علي"),
    date_of_birth=date(2000, 1, 2), cover=GroupCover("P1", Text("Co", "شركة")),
    plan=Text("Gold", "ذهبية"), network=Text("A", "أ"), valid_from=date(2026, 1, 1),
    valid_to=date(2026, 12, 31), id_note=IdNote.OWN_ID,
)
print(card.content_key())
"""


def test_the_key_is_the_same_in_another_process_with_another_hash_seed():
    # Lambdas are many processes: a key depending on hash seeds or set order would
    # make each of them draw the card again.
    keys = set()
    for seed in ("1", "98765"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        out = subprocess.run(
            [sys.executable, "-c", _KEY_IN_A_FRESH_PROCESS],
            env=env, capture_output=True, text=True, check=True,
        )
        keys.add(out.stdout.strip())
    here: dict[str, object] = {}
    exec(_KEY_IN_A_FRESH_PROCESS.replace("print(card.content_key())", ""), here)
    assert keys == {here["card"].content_key()}


def _changed(value: object) -> object:
    if isinstance(value, IdNote):
        return IdNote.OWN_ID if value is IdNote.PARENT_ID else IdNote.PARENT_ID
    if isinstance(value, Relationship):
        return Relationship.SPOUSE if value is not Relationship.SPOUSE else Relationship.CHILD
    if isinstance(value, str):
        return value + "X"
    if isinstance(value, Text):
        return Text(value.en, value.ar + "ي")
    if isinstance(value, date):
        return value + timedelta(days=1)
    return replace(value, policy_number="OTHER")  # type: ignore[type-var]


@pytest.mark.parametrize("name", [f.name for f in fields(CardContent)])
def test_changing_anything_printed_gives_a_new_key(group_card, name):
    card = group_card()
    changed = replace(card, **{name: _changed(getattr(card, name))})
    assert changed.content_key() != card.content_key()


def test_a_different_employer_or_residence_category_gives_a_new_key(group_card, residence_card):
    card = group_card()
    employer = replace(card.cover, employer=Text("Other Co.", "شركة أخرى"))
    assert replace(card, cover=employer).content_key() != card.content_key()
    resident = residence_card()
    category = replace(resident.cover, category=Text("Domestic worker", "عمالة منزلية"))
    assert replace(resident, cover=category).content_key() != resident.content_key()


def test_a_new_signing_key_gives_a_new_key_so_rotation_redraws_the_qr(group_card):
    card = group_card()
    assert card.content_key(signing_kid="k1") != card.content_key(signing_kid="k2")


def test_the_object_key_keeps_png_and_pdf_apart_under_the_member(group_card):
    card = group_card()
    png, pdf = card.object_key("png"), card.object_key("pdf")
    assert png == f"cards/{card.member_id}/{card.content_key()}.png"
    assert pdf.endswith(".pdf") and png[:-4] == pdf[:-4]
    with pytest.raises(ValueError):
        card.object_key("gif")

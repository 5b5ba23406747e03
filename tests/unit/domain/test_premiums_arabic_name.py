"""The optional Arabic name of an application: Arabic letters only, the name rule's limits, or left out."""

from __future__ import annotations

import pytest

from chalicelib.errors import FieldErrors
from chalicelib.premiums.rules import check_arabic_name


def check(value: object) -> tuple[str | None, str | None]:
    errors = FieldErrors()
    name = check_arabic_name(value, field="insured_name_ar", errors=errors)
    problem = errors.problems.get("insured_name_ar")
    return name, problem.rule if problem else None


@pytest.mark.parametrize("value", [None, "", "   "])
def test_left_out_it_is_no_name_and_no_error(value):
    assert check(value) == (None, None)


@pytest.mark.parametrize(("value", "stored"), [
    ("  محمد   عبدالله ", "محمد عبدالله"),
    ("مُحَمَّد", "مُحَمَّد"),  # harakat
    ("عبـــدالله", "عبـــدالله"),  # tatweel
    ("آل-سعيد", "آل-سعيد"),
])
def test_arabic_letters_marks_spaces_and_hyphens_are_kept(value, stored):
    assert check(value) == (stored, None)


@pytest.mark.parametrize(("value", "rule"), [
    ("Ahmed Ali", "arabic_script"),
    ("أحمد Ali", "arabic_script"),
    ("أحمد é", "arabic_script"),
    ("...", "arabic_script"),
    ("أحمد\u200bعلي", "name_characters"),  # zero width: two names that look alike
    ("أحمد\u202eعلي", "name_characters"),  # a bidi override
    ("أحمد\x00", "name_characters"),
    ("أحمد ٣", "name_characters"),  # digits, Arabic-Indic too
    ("أ" * 101, "too_long"),
    (7, "name_characters"),
])
def test_anything_else_is_refused_with_the_rule_it_broke(value, rule):
    assert check(value) == (None, rule)


def test_the_refusal_says_arabic_name_in_both_languages():
    errors = FieldErrors()
    check_arabic_name("Ahmed", field="insured_name_ar", errors=errors)
    text = errors.problems["insured_name_ar"].text
    assert "Arabic" in text.en and "“A”" in text.en and "بالعربية" in text.ar

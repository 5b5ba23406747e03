"""Row rules: what HR writes becomes an insured person, or errors naming column and rule."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.enrolment.rules import (
    Action,
    FamilyCheck,
    Gender,
    normalize_employee_no,
    parse_date,
)
from chalicelib.kernel.relationship import Relationship

from .conftest import CHILD, PRINCIPAL, parse, valid


def test_a_valid_principal_row_becomes_normalized_values() -> None:
    row = valid(
        PRINCIPAL
        | {
            "employee_no": " e1001 ",
            "gender": "M",
            "email": " Ahmad.AlMutairi@ACME.example ",
            "mobile": "9988 7766",
            "plan": "gold",
            "coverage_start": "01/01/2026",
            "action": "",
        }
    )

    assert row.employee_no == "E1001"
    assert row.relationship is Relationship.PRINCIPAL
    assert row.gender is Gender.MALE
    assert row.email == "ahmad.almutairi@acme.example"
    assert row.mobile == "+96599887766"
    assert row.plan == "GOLD"
    assert row.coverage_start == date(2026, 1, 1)
    assert row.action is Action.UPSERT


@pytest.mark.parametrize(
    ("text", "gender"),
    [("male", Gender.MALE), ("F", Gender.FEMALE), ("ذكر", Gender.MALE), ("أنثى", Gender.FEMALE)],
)
def test_gender_is_read_in_english_letters_and_arabic(text: str, gender: Gender) -> None:
    assert valid(PRINCIPAL | {"gender": text}).gender is gender


def test_arabic_names_are_kept_letter_for_letter_with_only_surrounding_spaces_removed() -> None:
    name = "مُحَمَّد  إبراهيم عبد الله آل ـصباح"  # diacritics, double space, tatweel, hamza forms

    row = valid(PRINCIPAL | {"name_ar": f"  {name}\t"})

    assert row.name_ar == name


def test_a_dependent_needs_no_email_and_an_expatriate_no_arabic_name() -> None:
    row = valid(CHILD | {"email": "", "name_ar": ""})

    assert row.email is None and row.name_ar == ""


def test_a_newborn_without_civil_id_yet_is_enrolled() -> None:
    assert valid(CHILD | {"national_id": ""}).national_id is None


def test_terminate_is_an_action_and_empty_means_upsert() -> None:
    assert valid(PRINCIPAL | {"action": "Terminate"}).action is Action.TERMINATE
    assert valid(PRINCIPAL | {"action": " "}).action is Action.UPSERT


def test_employee_numbers_that_excel_stripped_of_leading_zeros_stay_the_same_employee() -> None:
    assert normalize_employee_no("000123") == normalize_employee_no("123") == "123"
    assert normalize_employee_no("e-0012 ") == "E-0012"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-02-28", date(2026, 2, 28)),
        ("28/02/2026", date(2026, 2, 28)),
        ("1/2/2026", date(2026, 2, 1)),
        ("٢٠٢٦-٠٢-٢٨", date(2026, 2, 28)),
        ("2026-02-30", None),
        ("31/04/2026", None),
        ("02-28-2026", None),
        ("2026/02/28", None),
        ("28 Feb 2026", None),
    ],
)
def test_dates_are_real_dates_as_iso_or_day_month_year(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


BAD_ROWS = [
    # (what HR wrote, the column reported, the rule)
    (PRINCIPAL | {"employee_no": " "}, "employee_no", "required"),
    (PRINCIPAL | {"relationship": "cousin"}, "relationship", "invalid_relationship"),
    (PRINCIPAL | {"name_en": ""}, "name_en", "required"),
    (PRINCIPAL | {"name_en": "x" * 101}, "name_en", "too_long"),
    (PRINCIPAL | {"date_of_birth": "1984-02-30"}, "date_of_birth", "invalid_date"),
    (PRINCIPAL | {"date_of_birth": "03/12/84"}, "date_of_birth", "invalid_date"),
    (PRINCIPAL | {"date_of_birth": "2026-11-23"}, "date_of_birth", "future_date"),
    (PRINCIPAL | {"gender": "x"}, "gender", "invalid_gender"),
    (PRINCIPAL | {"email": ""}, "email", "required"),
    (PRINCIPAL | {"email": "ahmad at acme"}, "email", "invalid_email"),
    (CHILD | {"email": "not-an-email"}, "email", "invalid_email"),
    (PRINCIPAL | {"mobile": "2245 6789"}, "mobile", "invalid_mobile"),
    (PRINCIPAL | {"mobile": "+44 7700 900123"}, "mobile", "invalid_mobile"),
    (PRINCIPAL | {"national_id": "2.84031E+11"}, "national_id", "invalid_national_id"),
    (PRINCIPAL | {"national_id": "284031201073"}, "national_id", "invalid_national_id"),
    (PRINCIPAL | {"plan": "PLATINUM"}, "plan", "unknown_plan"),
    (PRINCIPAL | {"plan": ""}, "plan", "required"),
    (PRINCIPAL | {"coverage_start": "2026-13-01"}, "coverage_start", "invalid_date"),
    (PRINCIPAL | {"coverage_end": "2025-12-31"}, "coverage_end", "coverage_end_before_start"),
    (PRINCIPAL | {"coverage_end": "2026-01-01"}, "coverage_end", "coverage_end_before_start"),
    (PRINCIPAL | {"action": "delete"}, "action", "invalid_action"),
]


@pytest.mark.parametrize(("raw", "column", "rule"), BAD_ROWS, ids=[r for _, _, r in BAD_ROWS])
def test_each_bad_row_kind_is_reported_with_its_column_rule_and_both_languages(
    raw: dict[str, str], column: str, rule: str
) -> None:
    result = parse(raw, line=7)

    assert isinstance(result, tuple)
    assert [(e.line, e.column, e.rule) for e in result] == [(7, column, rule)]
    assert result[0].text.en and result[0].text.ar
    assert result[0].text.en != result[0].text.ar


def test_the_unknown_plan_error_names_the_policys_plans() -> None:
    (error,) = parse(PRINCIPAL | {"plan": "Platinum"})  # type: ignore[misc]

    assert "Platinum" in error.text.en and "GOLD, SILVER" in error.text.en
    assert "GOLD, SILVER" in error.text.ar


def test_every_problem_of_a_row_is_reported_at_once() -> None:
    result = parse(PRINCIPAL | {"gender": "?", "email": "", "plan": "BRONZE"})

    assert isinstance(result, tuple)
    assert [e.column for e in result] == ["gender", "email", "plan"]


def test_a_dependent_whose_principal_is_in_neither_the_file_nor_the_table_is_an_error() -> None:
    family = FamilyCheck()
    orphan = valid(CHILD | {"employee_no": "E404"}, line=3)
    enrolled_before = valid(CHILD | {"employee_no": "E500"}, line=4)
    asked: list[frozenset[str]] = []

    def principals_on_file(employee_nos: frozenset[str]) -> set[str]:
        asked.append(employee_nos)
        return {"E500"} & employee_nos

    assert family.add(orphan) is None
    assert family.add(enrolled_before) is None
    errors = family.missing_principals(principals_on_file)

    assert asked == [frozenset({"E404", "E500"})]  # one batched question
    assert [(e.line, e.column, e.rule) for e in errors] == [(3, "employee_no", "principal_missing")]
    assert "E404" in errors[0].text.en and "E404" in errors[0].text.ar


def test_a_principal_listed_after_its_dependents_in_the_file_counts() -> None:
    family = FamilyCheck()
    family.add(valid(CHILD, line=2))
    family.add(valid(PRINCIPAL, line=3))

    assert family.missing_principals(set()) == []


def test_a_dependent_of_a_principal_row_with_errors_is_reported_too() -> None:
    family = FamilyCheck()
    assert isinstance(parse(PRINCIPAL | {"email": ""}, line=2), tuple)  # never added
    family.add(valid(CHILD, line=3))

    assert [e.line for e in family.missing_principals(set())] == [3]


def test_the_same_person_twice_in_one_file_is_an_error_on_the_second_row() -> None:
    family = FamilyCheck()
    assert family.add(valid(PRINCIPAL, line=2)) is None
    assert family.add(valid(CHILD, line=3)) is None

    again = family.add(valid(PRINCIPAL | {"email": "other@acme.example"}, line=9))
    child_again = family.add(valid(CHILD | {"name_en": "Youssef"}, line=10))

    assert again is not None and (again.line, again.column, again.rule) == (9, "employee_no", "duplicate")
    assert "2" in again.text.en and "2" in again.text.ar
    assert child_again is not None and child_again.column == "national_id"


@pytest.mark.parametrize(
    "char",
    ["\u202e", "\u200b", "\u200d", "\u2066", "\x00", "\x1b", "\x07", "\n", "7"],
    ids=["right-to-left-override", "zero-width-space", "zero-width-joiner", "isolate", "nul", "esc", "bel",
         "line-break", "digit"],
)
@pytest.mark.parametrize("column", ["name_en", "name_ar"])
def test_a_name_with_a_control_or_invisible_character_is_a_row_error_naming_column_and_rule(
        column: str, char: str) -> None:
    name = PRINCIPAL[column]
    middle = len(name) // 2

    errors = parse(PRINCIPAL | {column: name[:middle] + char + name[middle:]})

    assert isinstance(errors, tuple)
    (error,) = errors
    assert (error.column, error.rule) == (column, "name_characters")
    code = f"U+{ord(char):04X}"
    assert column in error.text.en and code in error.text.en and "letters" in error.text.en
    assert column in error.text.ar and code in error.text.ar and "حروف" in error.text.ar


@pytest.mark.parametrize(
    ("column", "name"),
    [("name_ar", "عبد-الله آل ـصباح"), ("name_ar", "مُحَمَّد إبراهيم"), ("name_en", "Sean O'Brien-Smith"),
     ("name_en", "Smith, John"), ("name_en", "Zoë D’Souza Jr.")],
)
def test_arabic_letters_spaces_hyphens_apostrophes_and_an_hr_comma_stay_in_names(column: str, name: str) -> None:
    assert getattr(valid(PRINCIPAL | {column: name}), column) == name

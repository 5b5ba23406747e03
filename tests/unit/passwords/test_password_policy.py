"""The new-password rules: each refusal names the field and the rule, in English and Arabic."""

from __future__ import annotations

import re

import pytest

from chalicelib.accounts.password_policy import (
    HISTORY_SIZE,
    MAX_LENGTH,
    MESSAGES,
    MIN_LENGTH,
    RULE_COMMON,
    RULE_CONTAINS_CIVIL_ID,
    RULE_CONTAINS_EMAIL,
    RULE_CONTAINS_NAME,
    RULE_CONTROL_CHARACTERS,
    RULE_MAX_LENGTH,
    RULE_MIN_LENGTH,
    RULE_REQUIRED,
    RULE_REUSED,
    check_new_password,
    reused_password_error,
)
from chalicelib.errors import ValidationFailed

ARABIC = re.compile("[\u0600-\u06ff]")
CIVIL_ID = "290051712348"
EMAIL = "Fatima.Alenezi@example.com"
NAME = "Fatima Alenezi"
STRONG = "Blue-camel drinks tea 7"


class FakeCommonList:
    """A tiny common-password list that remembers what it was asked."""

    def __init__(self, words: set[str] | None = None) -> None:
        self.words = words if words is not None else {"password1", "qwerty123"}
        self.asked: list[str] = []

    def __call__(self, password: str) -> bool:
        self.asked.append(password)
        return password.casefold() in self.words


def refusal(password: object, field: str = "new_password", **context: object) -> tuple[str, str, str]:
    """The rule, English and Arabic message of the refusal of `password`."""
    context.setdefault("is_common", FakeCommonList())
    with pytest.raises(ValidationFailed) as caught:
        check_new_password(password, field=field, **context)
    assert list(caught.value.fields) == [field]
    en = caught.value.body("en")["error"]["fields"][field]
    ar = caught.value.body("ar")["error"]["fields"][field]
    assert en["rule"] == ar["rule"] == caught.value.fields[field].rule
    return en["rule"], en["message"], ar["message"]


def accept(password: str, **context: object) -> None:
    context.setdefault("is_common", FakeCommonList())
    check_new_password(password, email=EMAIL, civil_id=CIVIL_ID, name=NAME, **context)


def test_a_strong_password_passes_every_rule():
    accept(STRONG)


def test_a_password_of_7_characters_is_refused_as_too_short():
    rule, en, ar = refusal("a" * 7)
    assert rule == RULE_MIN_LENGTH
    assert "at least 8" in en and "7" in en
    assert "8" in ar and "7" in ar and ARABIC.search(ar)


def test_passwords_of_8_and_128_characters_are_accepted():
    accept("tG5#kq9!")
    accept(("tG5#kq9!" * 16)[:MAX_LENGTH])


def test_a_password_of_129_characters_is_refused_as_too_long():
    rule, en, ar = refusal("tG5#kq9!" * 16 + "x")
    assert rule == RULE_MAX_LENGTH
    assert "at most 128" in en and "129" in en
    assert "128" in ar and "129" in ar


def test_length_counts_characters_not_bytes():
    # 8 Arabic letters are 16 bytes of UTF-8, and still 8 characters.
    accept("سمكةزرقا")
    assert refusal("سمكةزرق")[0] == RULE_MIN_LENGTH


@pytest.mark.parametrize(
    "password",
    ["good\x00password", "good\npassword", "good\tpassword", "good\x7fpassword", "good\ud800password"],
    ids=["NUL", "line break", "tab", "DEL", "lone surrogate"],
)
def test_control_characters_are_refused(password):
    rule, en, ar = refusal(password)
    assert rule == RULE_CONTROL_CHARACTERS
    assert "control characters" in en and ARABIC.search(ar)


def test_spaces_and_arabic_direction_marks_are_allowed():
    accept("my long passphrase\u200f here")


@pytest.mark.parametrize("password", [None, "", 12345678], ids=["missing", "empty", "not text"])
def test_a_missing_password_is_refused_as_required(password):
    assert refusal(password)[0] == RULE_REQUIRED


def test_a_password_containing_the_whole_email_in_any_case_is_refused():
    rule, en, ar = refusal("x" + EMAIL.upper() + "1", email=EMAIL)
    assert rule == RULE_CONTAINS_EMAIL
    assert "email" in en and ARABIC.search(ar)


def test_a_password_containing_the_part_before_the_at_is_refused():
    assert refusal("2024FATIMA.alenezi!", email=EMAIL)[0] == RULE_CONTAINS_EMAIL


def test_a_part_before_the_at_shorter_than_4_characters_is_not_a_reason_to_refuse():
    check_new_password("alibaba rocks 9", email="ali@example.com", is_common=FakeCommonList())


def test_a_password_containing_the_civil_id_is_refused():
    rule, en, ar = refusal(f"me{CIVIL_ID}!", civil_id=CIVIL_ID)
    assert rule == RULE_CONTAINS_CIVIL_ID
    assert "civil ID" in en and "المدني" in ar


def test_the_civil_id_typed_in_arabic_indic_digits_is_refused_too():
    arabic_digits = CIVIL_ID.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert refusal(f"me{arabic_digits}!", civil_id=CIVIL_ID)[0] == RULE_CONTAINS_CIVIL_ID


def test_a_password_containing_a_name_of_4_or_more_letters_is_refused():
    rule, en, ar = refusal("alenezi-2026-blue", name=NAME)
    assert rule == RULE_CONTAINS_NAME
    assert "name" in en and "اسمك" in ar


def test_a_name_part_in_arabic_is_found_as_well():
    assert refusal("فاطمة-2026-blue", name="فاطمة العنزي")[0] == RULE_CONTAINS_NAME


@pytest.mark.parametrize("password", ["password1", "qwerty123", "QWERTY123"])
def test_a_common_password_is_refused(password):
    rule, en, ar = refusal(password)
    assert rule == RULE_COMMON
    assert "common" in en and "شائعة" in ar


def test_the_common_list_is_not_consulted_when_a_cheaper_rule_already_failed():
    common = FakeCommonList()
    refusal("short", is_common=common)
    refusal(f"{CIVIL_ID}abc", civil_id=CIVIL_ID, is_common=common)
    assert common.asked == []


def test_the_refusal_names_the_field_the_caller_chose():
    rule, _, _ = refusal("short", field="password")
    assert rule == RULE_MIN_LENGTH


def test_a_refusal_never_repeats_the_password():
    password = f"x{CIVIL_ID}y"
    with pytest.raises(ValidationFailed) as caught:
        check_new_password(password, civil_id=CIVIL_ID, is_common=FakeCommonList())
    for lang in ("en", "ar"):
        assert password not in str(caught.value.body(lang))
        assert CIVIL_ID not in str(caught.value.body(lang))


def test_every_rule_has_a_message_in_english_and_in_arabic():
    rules = {RULE_REQUIRED, RULE_CONTROL_CHARACTERS, RULE_MIN_LENGTH, RULE_MAX_LENGTH, RULE_CONTAINS_EMAIL,
             RULE_CONTAINS_CIVIL_ID, RULE_CONTAINS_NAME, RULE_COMMON, RULE_REUSED}
    assert set(MESSAGES) == rules
    for text in MESSAGES.values():
        assert text.en.isascii() and text.en.endswith(".")
        assert ARABIC.search(text.ar)


def test_the_reused_password_error_names_the_field_and_the_last_5():
    error = reused_password_error("new_password")
    assert error.status == 422
    en = error.body("en")["error"]["fields"]["new_password"]
    ar = error.body("ar")["error"]["fields"]["new_password"]
    assert en["rule"] == ar["rule"] == RULE_REUSED
    assert f"last {HISTORY_SIZE}" in en["message"]
    assert str(HISTORY_SIZE) in ar["message"] and ARABIC.search(ar["message"])


def test_the_limits_are_those_of_issue_3():
    assert (MIN_LENGTH, MAX_LENGTH, HISTORY_SIZE) == (8, 128, 5)

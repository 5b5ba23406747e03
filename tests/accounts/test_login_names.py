"""What a member types as a login name becomes the name stored, whoever stored it; how /v1/me shows a civil ID."""

from __future__ import annotations

from datetime import date

from chalicelib.accounts.credentials import normalize_username
from chalicelib.accounts.rules import masked_civil_id, sign_in_names
from chalicelib.kernel.civil_id import compose_civil_id, parse_civil_id

CIVIL_ID = compose_civil_id(date(1984, 3, 12), "0107")


def test_a_civil_id_typed_any_way_kernel_civil_id_accepts_is_the_login_name_hr_and_registration_store():
    arabic = CIVIL_ID.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    persian = CIVIL_ID.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    for typed in (CIVIL_ID, f" {CIVIL_ID} ", f"{CIVIL_ID[:4]} {CIVIL_ID[4:]}", f"{CIVIL_ID[:6]}-{CIVIL_ID[6:]}",
                  f"{CIVIL_ID[:6]}\u00a0{CIVIL_ID[6:]}", f"{CIVIL_ID[:6]}\t{CIVIL_ID[6:]}", arabic, persian):
        assert normalize_username(typed) == parse_civil_id(typed, today=date(2026, 3, 1)).number == CIVIL_ID


def test_digits_of_other_scripts_or_the_wrong_length_are_no_login_name():
    fullwidth = CIVIL_ID.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for typed in (fullwidth, CIVIL_ID[:-1], CIVIL_ID + "0", "²" * 12):
        assert normalize_username(typed) is None


def test_an_email_is_its_lower_case():
    assert normalize_username(" Omar@ACME.example ") == "omar@acme.example"


def test_a_civil_id_on_screen_shows_its_last_four_digits_only():
    assert masked_civil_id(CIVIL_ID) == "••••••••" + CIVIL_ID[-4:]
    assert masked_civil_id(None) is None


def test_the_login_names_of_an_account_start_with_the_one_it_was_made_with():
    assert sign_in_names("self", "sara@example.com", CIVIL_ID) == [CIVIL_ID, "sara@example.com"]
    assert sign_in_names("hr", "omar@acme.example", CIVIL_ID) == ["omar@acme.example", CIVIL_ID]
    assert sign_in_names("hr", "omar@acme.example", None) == ["omar@acme.example"]

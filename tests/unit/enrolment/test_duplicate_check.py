"""The duplicate check of a long file: small digests, merged in slices, saved and restored at hand-overs."""

from __future__ import annotations

import gzip
import json

import pytest

from chalicelib.enrolment.rules import DuplicateCheck, EnrolmentRow, identity_keys

from .conftest import CHILD, PRINCIPAL, valid


def principal(n: int, line: int) -> EnrolmentRow:
    return valid(PRINCIPAL | {"employee_no": f"E{n}", "email": f"p{n}@acme.example"}, line=line)


@pytest.fixture
def small_recent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DuplicateCheck, "RECENT", 64)  # many merges over a few thousand rows


@pytest.mark.usefixtures("small_recent")
def test_a_duplicate_anywhere_later_names_the_first_line_across_merges_and_hand_overs() -> None:
    check = DuplicateCheck()
    for n in range(3000):
        assert check.add(principal(n, line=n + 2)) is None
        if n % 1000 == 999:  # a hand-over: saved as JSON, restored by a fresh invocation
            check = DuplicateCheck.restored(json.loads(json.dumps(check.state())))

    for n, line in ((0, 2), (1234, 1236), (2999, 3001)):
        again = check.add(principal(n, line=9000 + n))
        assert again is not None and again.rule == "duplicate" and again.line == 9000 + n
        assert str(line) in again.text.en and str(line) in again.text.ar
    assert check.add(principal(3000, line=20000)) is None
    assert len(check) == 3001


def test_the_saved_state_is_about_12_bytes_a_row_whatever_the_names() -> None:
    check = DuplicateCheck()
    rows = 10_000
    for n in range(rows):
        child = CHILD | {"employee_no": f"E{n}", "name_en": "Abdulrahman Mohammed Abdullah Al-Shammari",
                         "national_id": ""}
        assert check.add(valid(child, line=n + 2)) is None

    saved = json.dumps(check.state()).encode()

    assert len(saved) < rows * 12 * 4 / 3 + 100  # base64 of an 8-byte digest and a 4-byte line
    assert len(gzip.compress(saved)) < rows * 12


def test_a_state_saved_before_digests_is_restored_with_the_same_answers() -> None:
    first, child = principal(7, line=2), valid(CHILD, line=3)
    old = {"seen": [[list(identity_keys(first)[0]), 2], [list(identity_keys(child)[0]), 3]],
           "principals": ["E7"], "waiting": []}

    check = DuplicateCheck.restored(old)

    again = check.add(valid(CHILD | {"name_en": "Someone Else"}, line=40))
    assert again is not None and again.column == "national_id" and "3" in again.text.en
    assert check.add(principal(8, line=41)) is None

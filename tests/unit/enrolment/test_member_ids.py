"""Member ids (card numbers) stay the same across uploads; fingerprints spot unchanged rows."""

from __future__ import annotations

import io

from chalicelib.enrolment.hr_csv import open_hr_csv
from chalicelib.enrolment.rules import (
    EnrolmentRow,
    is_member_id,
    member_id_candidates,
    resolve_member_id,
    row_fingerprint,
)

from .conftest import CHILD, EXAMPLES, POLICY_NO, PRINCIPAL, parse, valid


def ids_of(data: bytes) -> dict[tuple[str, str], str]:
    """Member id by (employee_no, English name), as the service would resolve them."""
    out = {}
    for line, raw in open_hr_csv(io.BytesIO(data)):
        row = parse(raw, line)
        assert isinstance(row, EnrolmentRow)
        out[(row.employee_no, row.name_en)] = member_id_candidates(POLICY_NO, row)[0]
    return out


def test_every_person_in_the_example_gets_a_distinct_well_formed_member_id() -> None:
    ids = ids_of((EXAMPLES / "acme-2026.csv").read_bytes())

    assert len(ids) == 15
    assert len(set(ids.values())) == 15
    assert all(is_member_id(i) and len(i) == 13 for i in ids.values())


def test_the_same_people_get_the_same_ids_on_a_later_upload_in_another_order_and_encoding() -> None:
    first = ids_of((EXAMPLES / "acme-2026.csv").read_bytes())
    lines = (EXAMPLES / "acme-2026-cp1256.csv").read_bytes().split(b"\r\n")
    reordered = b"\r\n".join([lines[0], *reversed([line for line in lines[1:] if line])])

    assert ids_of(reordered) == first


def test_a_principal_keeps_the_card_when_hr_corrects_name_email_or_plan() -> None:
    before = member_id_candidates(POLICY_NO, valid(PRINCIPAL))
    after = member_id_candidates(
        POLICY_NO,
        valid(PRINCIPAL | {"name_en": "Ahmed K. Almutairi", "email": "a@acme.example", "plan": "SILVER"}),
    )

    assert after == before


def test_a_dependent_keeps_the_card_when_spelling_case_or_relationship_are_corrected() -> None:
    before = member_id_candidates(POLICY_NO, valid(CHILD | {"national_id": ""}))
    after = member_id_candidates(
        POLICY_NO,
        valid(CHILD | {"national_id": "", "name_en": "AL MUTAIRI, yousef ahmad", "relationship": "son"}),
    )

    assert after == before


def test_a_child_enrolled_before_its_civil_id_keeps_its_card_when_the_civil_id_arrives() -> None:
    newborn = valid(CHILD | {"national_id": ""})
    (first_id,) = member_id_candidates(POLICY_NO, newborn)
    with_civil_id = member_id_candidates(POLICY_NO, valid(CHILD))

    assert with_civil_id[1] == first_id
    assert resolve_member_id(with_civil_id, existing={first_id}) == first_id
    assert resolve_member_id(with_civil_id, existing=set()) == with_civil_id[0]


def test_different_people_and_different_policies_get_different_ids() -> None:
    ahmad = member_id_candidates(POLICY_NO, valid(PRINCIPAL))[0]

    assert member_id_candidates(POLICY_NO, valid(PRINCIPAL | {"employee_no": "E1002"}))[0] != ahmad
    assert member_id_candidates("GP-OTHER-2026", valid(PRINCIPAL))[0] != ahmad
    twin = valid(CHILD | {"national_id": "", "name_en": "Yaqoub Ahmad Al-Mutairi"})
    assert member_id_candidates(POLICY_NO, twin) != member_id_candidates(
        POLICY_NO, valid(CHILD | {"national_id": ""})
    )


def test_a_mistyped_member_id_is_recognised_by_its_check_character() -> None:
    member_id = member_id_candidates(POLICY_NO, valid(PRINCIPAL))[0]
    typo = member_id[:3] + ("0" if member_id[3] != "0" else "1") + member_id[4:]

    assert is_member_id(member_id)
    assert not is_member_id(typo)
    assert not is_member_id(member_id[:-1])
    assert not is_member_id(member_id.lower())


def test_a_row_written_differently_but_meaning_the_same_has_the_same_fingerprint() -> None:
    plain = valid(PRINCIPAL | {"mobile": "99887766"}, line=2)
    cosmetic = valid(
        PRINCIPAL
        | {
            "gender": "M",
            "plan": "gold",
            "email": "AHMAD@acme.example",
            "mobile": "+965 9988-7766",
            "date_of_birth": "12/03/1984",
            "name_ar": " أحمد خالد المطيري ",
        },
        line=40,
    )

    assert row_fingerprint(cosmetic) == row_fingerprint(plain)


def test_a_real_change_changes_the_fingerprint() -> None:
    base = row_fingerprint(valid(PRINCIPAL))
    changes = [
        {"plan": "SILVER"},
        {"coverage_end": "2026-06-30"},
        {"action": "terminate"},
        {"email": "new@acme.example"},
        {"name_ar": "احمد خالد المطيري"},  # one hamza less is a different spelling on the card
        {"mobile": "99887766"},
    ]

    fingerprints = {row_fingerprint(valid(PRINCIPAL | change)) for change in changes}

    assert base not in fingerprints
    assert len(fingerprints) == len(changes)


def test_fingerprints_are_the_same_across_uploads_of_the_example_file() -> None:
    def fingerprints(data: bytes) -> list[str]:
        rows = [parse(raw, line) for line, raw in open_hr_csv(io.BytesIO(data))]
        return [row_fingerprint(r) for r in rows if isinstance(r, EnrolmentRow)]

    utf8 = fingerprints((EXAMPLES / "acme-2026.csv").read_bytes())

    assert utf8 == fingerprints((EXAMPLES / "acme-2026-cp1256.csv").read_bytes())
    assert len(set(utf8)) == 15

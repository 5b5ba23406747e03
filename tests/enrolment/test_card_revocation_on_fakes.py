"""Which HR rows put a member's cards on the revocation list, and from which second (cards feature's CRL).

A card no longer holds when its person's cover ended (terminate) or when what it prints changed (a
reissue: name, birth date, plan, dates); an email, phone or gender change prints nothing new.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from chalicelib.enrolment.use_cases import enrol_file
from tests.enrolment.support import KEY, NOW, enrolment_on_fakes, principal_line


class Revocations:
    """revoke_cards as the cards feature offers it: records each call's member -> moment."""

    def __init__(self) -> None:
        self.calls: list[dict[str, datetime]] = []

    def __call__(self, member_ids=(), *, issued_before=None) -> object:
        assert not list(member_ids)  # enrolment names each member's own moment
        self.calls.append(dict(issued_before or {}))
        return None

    @property
    def revoked(self) -> dict[str, datetime]:
        return {m: t for call in self.calls for m, t in call.items()}


def enrol(*lines: str, store=None, at: datetime = NOW):
    deps, store, _ = enrolment_on_fakes(*lines, store=store)
    revocations = Revocations()
    deps = replace(deps, revoke_cards=revocations, now=lambda: at)
    result = enrol_file(deps, store.bucket, KEY)
    return result, store, revocations


def test_a_new_member_revokes_nothing_and_their_card_starts_now():
    result, store, revocations = enrol(principal_line("E1", "a@acme.example"))

    assert result.totals["created"] == 1 and revocations.calls == []
    (member,) = store.member_rows.values()
    assert member.card_since == NOW and member.card_fingerprint


def test_a_changed_name_reissues_the_card_revoking_those_drawn_before_the_change():
    _, store, _ = enrol(principal_line("E1", "a@acme.example"))
    (member,) = store.member_rows.values()
    later = NOW + timedelta(days=3, microseconds=400_000)

    result, store, revocations = enrol(principal_line("E1", "a@acme.example", name="Ahmad Ali Hasan"),
                                       store=store, at=later)

    assert result.totals["updated"] == 1
    # Cards drawn before this moment are revoked (the CRL keeps its whole second: one drawn after, holds).
    assert revocations.revoked == {member.member_id: later}
    assert store.member_rows[member.member_id].card_since == later


def test_a_changed_plan_reissues_the_card_too():
    _, store, _ = enrol(principal_line("E1", "a@acme.example"))
    later = NOW + timedelta(days=1)

    _, store, revocations = enrol(principal_line("E1", "a@acme.example", plan="SILVER"), store=store, at=later)

    assert list(revocations.revoked.values()) == [later]


def test_a_new_email_prints_nothing_new_so_no_card_is_revoked():
    _, store, _ = enrol(principal_line("E1", "a@acme.example"))
    (member,) = store.member_rows.values()

    result, store, revocations = enrol(principal_line("E1", "b@acme.example"), store=store, at=NOW + timedelta(days=1))

    assert result.totals["updated"] == 1 and revocations.calls == []
    assert store.member_rows[member.member_id].card_since == NOW  # the card drawn before holds: served again


def test_a_terminated_member_has_every_card_up_to_the_next_second_revoked():
    _, store, _ = enrol(principal_line("E1", "a@acme.example"))
    (member,) = store.member_rows.values()
    later = NOW + timedelta(days=2)

    _, store, revocations = enrol(principal_line("E1", "a@acme.example", action="terminate"), store=store, at=later)

    assert revocations.revoked == {member.member_id: later + timedelta(seconds=1)}
    assert store.member_rows[member.member_id].card_since == NOW  # the card it ended keeps its start


def test_cover_restored_after_a_termination_starts_a_new_card_without_a_new_revocation():
    _, store, _ = enrol(principal_line("E1", "a@acme.example"))
    _, store, _ = enrol(principal_line("E1", "a@acme.example", action="terminate"), store=store,
                        at=NOW + timedelta(days=1))
    (member,) = store.member_rows.values()
    restored = NOW + timedelta(days=2)

    result, store, revocations = enrol(principal_line("E1", "a@acme.example"), store=store, at=restored)

    member = store.member_rows[member.member_id]
    assert result.totals["updated"] == 1 and member.status == "active"
    assert revocations.calls == []  # its cards were revoked when it ended; the new one holds
    assert member.card_since == restored


def test_the_same_file_again_revokes_nothing():
    _, store, _ = enrol(principal_line("E1", "a@acme.example"))

    result, _, revocations = enrol(principal_line("E1", "a@acme.example"), store=store, at=NOW + timedelta(days=1))

    assert result.totals["unchanged"] == 1 and revocations.calls == []

"""Reads who an account covers from the members and residence-policy tables, as `InsuredPerson` values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from chalicelib.cards.card import GroupCover, ResidenceCover
from chalicelib.cards.insured import (
    RESIDENCE_NETWORK,
    RESIDENCE_PLAN,
    CoverKind,
    InsuredPerson,
    residence_civil_id,
    residence_member_id,
)
from chalicelib.enrolment import GroupPolicyRecord, MemberRecord
from chalicelib.errors import Text, ValidationFailed
from chalicelib.kernel.arabic_text import has_arabic
from chalicelib.kernel.civil_id import parse_civil_id
from chalicelib.kernel.kuwait_time import kuwait_today
from chalicelib.kernel.relationship import Relationship
from chalicelib.premiums import CATEGORIES_BY_CODE, ResidencePolicyRecord


class InsuredPeople:
    """The people behind cards: by account (listing) and by member id (one card, verification)."""

    def of_account(self, account_id: str) -> list[InsuredPerson]:
        """Everyone the account covers: its group members (one query, one batch read of their
        policies) and the residence policies it paid (one query)."""
        members = list(MemberRecord.by_account.query(account_id))
        policies = _policies({m.policy_no for m in members})
        people = [_member(m, policies.get(m.policy_no)) for m in members]
        people += [_residence(p) for p in ResidencePolicyRecord.by_account.query(account_id) if p.policy_id]
        return people

    def covered(self, account_id: str, member_id: str) -> InsuredPerson | None:
        """The person if `account_id` covers them, else None (whether or not they exist).

        A group member costs two reads (the member, then their policy's names); the policy is
        only read once the member is known to be the caller's, so someone else's member id
        costs the same one read as an id that does not exist.
        """
        civil_id = residence_civil_id(member_id)
        if civil_id is not None:
            policy = _residence_policy(civil_id)
            if policy is None or policy.account_id != account_id:
                return None
            return _residence(policy)
        member = _member_record(member_id)
        if member is None or member.account_id != account_id:
            return None
        return _member(member, _policy(member.policy_no))

    def find(self, member_id: str) -> InsuredPerson | None:
        """Whoever holds `member_id`, for a provider's verification (no account involved)."""
        civil_id = residence_civil_id(member_id)
        if civil_id is not None:
            policy = _residence_policy(civil_id)
            return _residence(policy) if policy is not None else None
        member = _member_record(member_id)
        return _member(member, _policy(member.policy_no)) if member is not None else None


def _member_record(member_id: str) -> MemberRecord | None:
    # The id comes from a URL or a QR code: anything DynamoDB would refuse as a key is simply nobody.
    if not member_id or len(member_id) > 64:
        return None
    try:
        return MemberRecord.get(member_id)
    except MemberRecord.DoesNotExist:
        return None


def _residence_policy(civil_id: str) -> ResidencePolicyRecord | None:
    if not civil_id.isdecimal() or len(civil_id) != 12:
        return None
    try:
        record = ResidencePolicyRecord.get(civil_id)
    except ResidencePolicyRecord.DoesNotExist:
        return None
    # An item with no policy id is a first payment still in flight: nothing is insured yet.
    return record if record.policy_id else None


def _policy(policy_no: str) -> GroupPolicyRecord | None:
    try:
        return GroupPolicyRecord.get(policy_no)
    except GroupPolicyRecord.DoesNotExist:
        return None


def _policies(policy_nos: Iterable[str]) -> dict[str, GroupPolicyRecord]:
    keys = sorted(set(policy_nos))
    return {p.policy_no: p for p in GroupPolicyRecord.batch_get(keys)} if keys else {}


def _plans(policy: GroupPolicyRecord | None) -> Mapping[str, Any]:
    if policy is None or policy.plans is None:
        return {}
    plans: Mapping[str, Any] = policy.plans.as_dict()  # type: ignore[no-untyped-call]  # PynamoDB's MapAttribute.as_dict is unannotated
    return plans


def _member(record: MemberRecord, policy: GroupPolicyRecord | None) -> InsuredPerson:
    plan = _plans(policy).get(record.plan) or {}
    code = record.plan
    # A policy edited after enrolment could lose a plan: the card still prints the code.
    employer = Text(policy.employer_en, policy.employer_ar) if policy is not None else Text("—", "—")
    return InsuredPerson(
        member_id=record.member_id,
        account_id=record.account_id,
        kind=CoverKind.GROUP,
        # HR may leave name_ar empty: the Arabic slot stays empty, never the English name in it.
        name=Text(record.name_en, record.name_ar or ""),
        date_of_birth=date.fromisoformat(record.date_of_birth),
        relationship=Relationship(record.relationship),
        cover=GroupCover(record.policy_no, employer),
        plan_code=code,
        plan=Text(plan.get("name_en") or code, plan.get("name_ar") or code),
        network=Text(plan.get("network_en") or "—", plan.get("network_ar") or "—"),
        valid_from=date.fromisoformat(record.coverage_start),
        valid_to=date.fromisoformat(record.coverage_end),
        terminated=record.status == "terminated",
        terminated_on=kuwait_today(record.terminated_at)
        if record.status == "terminated" and record.terminated_at is not None else None,
        # Since when the printed details hold (a member stored before this was kept: its last change).
        card_since=record.card_since or record.updated_at,
    )


def _residence(record: ResidencePolicyRecord) -> InsuredPerson:
    category = CATEGORIES_BY_CODE.get(record.category or "")
    label = category.label if category is not None else Text(record.category or "—", record.category or "—")
    start, end = _residence_dates(record)
    return InsuredPerson(
        member_id=residence_member_id(record.insured_civil_id),
        account_id=record.account_id,
        kind=CoverKind.RESIDENCE,
        name=residence_name(record.insured_name, record.insured_name_ar),
        date_of_birth=_birth_date(record.insured_civil_id),
        relationship=Relationship.PRINCIPAL,
        # The number people read; a policy issued before numbers existed has none until its next
        # payment, and its card prints none (the member id R-<civil ID> still names the person).
        cover=ResidenceCover(label, record.policy_number),
        plan_code="RESIDENCE",
        plan=RESIDENCE_PLAN,
        network=RESIDENCE_NETWORK,
        valid_from=start,
        # The residence tables store an exclusive end (the first day not covered); the card
        # prints the last covered day, as the group cards do.
        valid_to=end - timedelta(days=1),
        # A refund cancels the policy: its card must stop verifying as active.
        terminated=record.status != "active",
        # A payment or refund changes what the card prints (dates, number, status) and stamps the record.
        card_since=record.updated_at or record.created_at,
    )


def residence_name(insured_name: str | None, insured_name_ar: str | None) -> Text:
    """The card's two name slots, each in its own script or empty.

    `insured_name` is the Latin name; policies paid before the Arabic field existed may hold an
    Arabic name there, which then goes to the Arabic slot and leaves the Latin one empty.
    """
    name = insured_name or ""
    if has_arabic(name):
        return Text("", insured_name_ar or name)
    return Text(name, insured_name_ar or "")


def _residence_dates(record: ResidencePolicyRecord) -> tuple[date, date]:
    """The cover's first day and exclusive end: the active span, else the periods a refund cancelled.

    A refund of every period leaves no active span (start_date and end_date are what the next
    payment is checked against, so they are removed), yet the card still says what was bought and
    cancelled; those dates are in the periods.
    """
    if record.start_date and record.end_date:
        return date.fromisoformat(record.start_date), date.fromisoformat(record.end_date)
    periods = sorted((p.end, p.start) for p in record.periods or [])
    if not periods:
        # Stored data gone wrong (a paid policy always has a period): refuse rather than invent dates.
        raise ValueError(f"residence policy {record.policy_id} has neither dates nor periods")
    end, start = periods[-1]
    return date.fromisoformat(start), date.fromisoformat(end)


def _birth_date(civil_id: str) -> date:
    try:
        # Any "today" after the birth will do: the date is read from the number's digits.
        return parse_civil_id(civil_id, today=date.max).birth_date
    except ValidationFailed as exc:
        # Paid policies were validated when applied for; a bad one here is stored data gone wrong.
        raise ValueError(f"residence policy with an invalid civil ID ending {civil_id[-4:]}") from exc

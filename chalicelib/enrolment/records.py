"""How enrolment's decisions become stored records and write conditions."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from chalicelib.accounts import AccountRecord, UsernameRecord
from chalicelib.enrolment.models import MemberRecord
from chalicelib.enrolment.rules import EnrolmentRow
from chalicelib.platform import messages


def member(existing: MemberRecord | None, member_id: str, policy_no: str, row: EnrolmentRow, fingerprint: str,
           account_id: str | None, now: datetime) -> MemberRecord:
    record = existing if existing is not None else MemberRecord(member_id, created_at=now)
    record.policy_no = policy_no
    record.employee_no = row.employee_no
    record.relationship = row.relationship.value
    record.name_en = row.name_en
    record.name_ar = row.name_ar or None
    record.date_of_birth = row.date_of_birth.isoformat()
    record.gender = row.gender.value
    record.email = row.email
    record.mobile = row.mobile
    record.national_id = row.national_id
    record.plan = row.plan
    record.coverage_start = row.coverage_start.isoformat()
    record.coverage_end = row.coverage_end.isoformat()
    record.status = "active"
    record.terminated_at = None
    record.fingerprint = fingerprint
    record.account_id = account_id
    record.updated_at = now
    return record


def new_condition() -> Any:
    return MemberRecord.member_id.does_not_exist()


def invited_account(account_id: str, email: str, name: str, now: datetime) -> AccountRecord:
    return AccountRecord(account_id, status="invited", source="hr", email=email, name=name, password_history=[],
                         welcome_generation=1, created_at=now, updated_at=now)


def new_account_condition() -> Any:
    return AccountRecord.account_id.does_not_exist()


def username(name: str, account_id: str) -> UsernameRecord:
    return UsernameRecord(name, account_id=account_id, failed_count=0)


def free_name() -> Any:
    # A record without account_id is only a lockout counter: the name is free to claim.
    return UsernameRecord.account_id.does_not_exist()


def owned_by(account_id: str) -> Any:
    return UsernameRecord.account_id == account_id


def email_changed_messages(old_email: str, new_email: str, name: str) -> list[dict[str, Any]]:
    return [{"kind": "message", "message": asdict(messages.email_changed_email(to, name, old_email, new_email))}
            for to in (old_email, new_email)]

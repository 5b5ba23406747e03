"""How enrolment's decisions become stored records and write conditions (implements ports.Records).

The records are PynamoDB models and the conditions PynamoDB conditions; the use case only
hands them on to the store.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from pynamodb.expressions.condition import Condition

from chalicelib.accounts import AccountRecord, UsernameRecord
from chalicelib.enrolment.models import MemberRecord
from chalicelib.enrolment.ports import AccountRow, Job, MemberRow
from chalicelib.enrolment.rules import EnrolmentRow
from chalicelib.platform import messages


def member(existing: MemberRow | None, member_id: str, policy_no: str, row: EnrolmentRow, fingerprint: str,
           account_id: str | None, now: datetime, *, card_fingerprint: str, card_since: datetime | None = None,
           terminated: bool = False) -> MemberRecord:
    if existing is not None and not isinstance(existing, MemberRecord):
        raise TypeError(f"not a stored member: {type(existing).__name__}")
    # Updated in place: the record read carries the version its save is conditioned on.
    record = existing if existing is not None else MemberRecord(member_id, created_at=now)
    record.card_fingerprint = card_fingerprint
    if card_since is not None:
        record.card_since = card_since
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
    record.status = "terminated" if terminated else "active"
    record.terminated_at = now if terminated else None
    record.fingerprint = fingerprint
    record.account_id = account_id
    record.updated_at = now
    return record


def new_condition() -> Condition:
    return MemberRecord.member_id.does_not_exist()


def invited_account(account_id: str, email: str, name: str, now: datetime) -> AccountRecord:
    return AccountRecord(account_id, status="invited", source="hr", email=email, name=name, password_history=[],
                         welcome_generation=1, created_at=now, updated_at=now)


def new_account_condition() -> Condition:
    return AccountRecord.account_id.does_not_exist()


def username(name: str, account_id: str) -> UsernameRecord:
    return UsernameRecord(name, account_id=account_id, failed_count=0)


def free_name() -> Condition:
    # A record without account_id is only a lockout counter: the name is free to claim.
    return UsernameRecord.account_id.does_not_exist()


def owned_by(account_id: str) -> Condition:
    return UsernameRecord.account_id == account_id


def login_details(account: AccountRow) -> tuple[str, str | None, str | None]:
    """(source, civil ID login, phone) of a stored account, as the enrolment decisions read them."""
    if not isinstance(account, AccountRecord):
        raise TypeError(f"not a stored account: {type(account).__name__}")
    return account.source, account.civil_id, account.phone


def with_login_details(account: AccountRow, civil_id: str | None, phone: str | None, now: datetime) -> AccountRecord:
    """The account with the civil ID it logs in with (its login name is claimed in the same write) and
    the phone HR gave; saved on the version read, like every account write of enrolment."""
    if not isinstance(account, AccountRecord):
        raise TypeError(f"not a stored account: {type(account).__name__}")
    account.civil_id, account.phone, account.updated_at = civil_id, phone, now
    return account


def readdressed(account: AccountRow, email: str, now: datetime, *, reinvite: bool) -> AccountRecord:
    if not isinstance(account, AccountRecord):
        raise TypeError(f"not a stored account: {type(account).__name__}")
    account.email, account.updated_at = email, now
    if reinvite:
        account.welcome_generation = int(account.welcome_generation or 0) + 1
        account.activation_hash = None
    return account


def email_changed_messages(old_email: str, new_email: str, name: str) -> list[Job]:
    return [{"kind": "message", "message": asdict(messages.email_changed_email(to, name, old_email, new_email))}
            for to in (old_email, new_email)]

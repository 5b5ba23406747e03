"""In-memory enrolment adapters: the store, its record factories, a queue; they pass the store's contract suite.

Records are plain dataclasses and conditions small tuples; the store keeps copies, so a
record read and changed is not stored until it is written, as on DynamoDB. Versions guard
updates as PynamoDB's VersionAttribute does: a record changed since it was read loses.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from chalicelib.enrolment.hr_report import join_in_file_order
from chalicelib.enrolment.ports import ByteStream, GroupPolicy, Job, RowWrite
from chalicelib.enrolment.report_rules import INDEX_FOLDER, report_folder
from chalicelib.enrolment.rules import EnrolmentRow
from chalicelib.errors import StaleState

TRANSACTION_LIMIT = 100


@dataclass
class FakeMember:
    member_id: str
    created_at: datetime
    policy_no: str = ""
    employee_no: str = ""
    relationship: str = ""
    name_en: str = ""
    name_ar: str | None = None
    date_of_birth: str = ""
    gender: str = ""
    email: str | None = None
    mobile: str | None = None
    national_id: str | None = None
    plan: str = ""
    coverage_start: str = ""
    coverage_end: str = ""
    status: str = "active"
    fingerprint: str = ""
    account_id: str | None = None
    updated_at: datetime | None = None
    terminated_at: datetime | None = None
    card_fingerprint: str | None = None
    card_since: datetime | None = None
    version: int | None = None


@dataclass
class FakeAccount:
    account_id: str
    status: str
    email: str | None
    name: str | None
    created_at: datetime
    updated_at: datetime
    source: str = "hr"
    welcome_generation: float | None = None
    welcome_delivered_generation: float | None = None
    activation_hash: str | None = None
    version: int | None = None
    civil_id: str | None = None  # the civil ID the account logs in with (HR's, claimed as a login name)
    phone: str | None = None


@dataclass
class FakeName:
    username: str
    account_id: str | None


# Conditions: what the fake checks before a write (the real ones are PynamoDB conditions).
ABSENT = ("absent",)
FREE_NAME = ("free_name",)


class FakeRecords:
    """ports.Records on plain values."""

    def member(self, existing: object, member_id: str, policy_no: str, row: EnrolmentRow, fingerprint: str,
               account_id: str | None, now: datetime, *, card_fingerprint: str, card_since: datetime | None = None,
               terminated: bool = False) -> FakeMember:
        if existing is not None and not isinstance(existing, FakeMember):
            raise TypeError(type(existing).__name__)
        record = existing if existing is not None else FakeMember(member_id, created_at=now)
        record.policy_no, record.employee_no = policy_no, row.employee_no
        record.relationship, record.name_en, record.name_ar = row.relationship.value, row.name_en, row.name_ar or None
        record.date_of_birth, record.gender = row.date_of_birth.isoformat(), row.gender.value
        record.email, record.mobile, record.national_id = row.email, row.mobile, row.national_id
        record.plan = row.plan
        record.coverage_start, record.coverage_end = row.coverage_start.isoformat(), row.coverage_end.isoformat()
        record.status = "terminated" if terminated else "active"
        record.terminated_at = now if terminated else None
        record.fingerprint, record.account_id, record.updated_at = fingerprint, account_id, now
        record.card_fingerprint = card_fingerprint
        if card_since is not None:
            record.card_since = card_since
        return record

    def new_condition(self) -> object:
        return ABSENT

    def invited_account(self, account_id: str, email: str, name: str, now: datetime) -> FakeAccount:
        return FakeAccount(account_id, status="invited", email=email, name=name, created_at=now, updated_at=now,
                           welcome_generation=1)

    def new_account_condition(self) -> object:
        return ABSENT

    def readdressed(self, account: object, email: str, now: datetime, *, reinvite: bool) -> FakeAccount:
        if not isinstance(account, FakeAccount):
            raise TypeError(type(account).__name__)
        account.email, account.updated_at = email, now
        if reinvite:
            account.welcome_generation = int(account.welcome_generation or 0) + 1
            account.activation_hash = None
        return account

    def username(self, name: str, account_id: str) -> FakeName:
        return FakeName(name, account_id)

    def free_name(self) -> object:
        return FREE_NAME

    def owned_by(self, account_id: str) -> object:
        return ("owned_by", account_id)

    def email_changed_messages(self, old_email: str, new_email: str, name: str) -> list[Job]:
        return [{"kind": "message", "message": {"template": "email_changed", "to": to, "name": name}}
                for to in (old_email, new_email)]

    def login_details(self, account: object) -> tuple[str, str | None, str | None]:
        if not isinstance(account, FakeAccount):
            raise TypeError(type(account).__name__)
        return account.source, account.civil_id, account.phone

    def with_login_details(self, account: object, civil_id: str | None, phone: str | None,
                           now: datetime) -> FakeAccount:
        if not isinstance(account, FakeAccount):
            raise TypeError(type(account).__name__)
        account.civil_id, account.phone, account.updated_at = civil_id, phone, now
        return account


class FakeEnrolmentStore:
    """ports.EnrolmentStorage and PolicyStorage in memory; `fail_writes_with` makes every write raise it."""

    def __init__(self, bucket: str = "hr-bucket") -> None:
        self.bucket = bucket
        self.policies: dict[str, GroupPolicy] = {}
        self.member_rows: dict[str, FakeMember] = {}
        self.account_rows: dict[str, FakeAccount] = {}
        self.name_rows: dict[str, FakeName] = {}
        self.files: dict[tuple[str, str], bytes] = {}
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.fail_writes_with: Exception | None = None
        self.transactions = 0
        self.checkpoints: dict[str, tuple[str, str]] = {}  # key -> (JSON, version tag)
        self.run_objects: dict[str, bytes] = {}
        self.tags = 0
        self.ranged_reads = 0
        self.tokens: dict[str, tuple[str, int]] = {}  # token key -> (checkpoint key, seq)

    # --- reads ---------------------------------------------------------------------------------
    def policy(self, policy_no: str) -> GroupPolicy | None:
        return self.policies.get(policy_no)

    def put_policy(self, policy: Mapping[str, object], now: datetime) -> None:
        plans = policy["plans"]
        assert isinstance(plans, Mapping)
        self.policies[str(policy["policy_no"])] = GroupPolicy(str(policy["policy_no"]), frozenset(plans))

    def members(self, member_ids: Iterable[str]) -> dict[str, FakeMember]:
        return {i: copy.deepcopy(self.member_rows[i]) for i in set(member_ids) if i in self.member_rows}

    def login_names(self, usernames: Iterable[str]) -> dict[str, FakeName]:
        return {n: copy.deepcopy(self.name_rows[n]) for n in set(usernames) if n in self.name_rows}

    def accounts(self, account_ids: Iterable[str]) -> dict[str, FakeAccount]:
        return {i: copy.deepcopy(self.account_rows[i]) for i in set(account_ids) if i in self.account_rows}

    # --- writes --------------------------------------------------------------------------------
    def write(self, rows: Sequence[RowWrite]) -> None:
        if self.fail_writes_with is not None:
            raise self.fail_writes_with
        batch: list[RowWrite] = []
        for row in rows:
            if sum(map(len, batch)) + len(row) > TRANSACTION_LIMIT:
                self._commit(batch)
                batch = []
            batch.append(row)
        if batch:
            self._commit(batch)

    def _commit(self, rows: list[RowWrite]) -> None:
        """All or nothing: every condition is checked before anything changes."""
        self.transactions += 1
        for row in rows:
            for record, condition in row.saves:
                self._check(record, condition, saving=True)
            for record, condition in row.deletes:
                self._check(record, condition, saving=False)
        for row in rows:
            for record, _ in row.saves:
                self._put(record)
            for record, _ in row.deletes:
                self._table(record).pop(self._key(record), None)

    def _table(self, record: object) -> dict[str, object]:
        tables: dict[type, dict[str, object]] = {FakeMember: self.member_rows,  # type: ignore[dict]
                                                 FakeAccount: self.account_rows, FakeName: self.name_rows}
        return tables[type(record)]

    @staticmethod
    def _key(record: object) -> str:
        if isinstance(record, FakeMember):
            return record.member_id
        if isinstance(record, FakeAccount):
            return record.account_id
        assert isinstance(record, FakeName)
        return record.username

    def _check(self, record: object, condition: object, *, saving: bool) -> None:
        stored = self._table(record).get(self._key(record))
        if condition == ABSENT and stored is not None:
            raise StaleState()
        if condition == FREE_NAME and stored is not None and getattr(stored, "account_id", None) is not None:
            raise StaleState()
        if isinstance(condition, tuple) and condition[:1] == ("owned_by",) \
                and (stored is None or getattr(stored, "account_id", None) != condition[1]):
            raise StaleState()
        # The version guard PynamoDB's VersionAttribute adds to every save of a versioned record.
        if saving and isinstance(record, FakeMember | FakeAccount):
            stored_version = stored.version if isinstance(stored, FakeMember | FakeAccount) else None
            if stored_version != record.version:
                raise StaleState()

    def _put(self, record: object) -> None:
        if isinstance(record, FakeMember | FakeAccount):
            record.version = (record.version or 0) + 1
        self._table(record)[self._key(record)] = copy.deepcopy(record)

    # --- files and reports ---------------------------------------------------------------------
    def put_file(self, key: str, body: bytes) -> None:
        self.files[(self.bucket, key)] = body

    def open_file(self, bucket: str, key: str, version_id: str | None, start: int = 0) -> ByteStream:
        self.ranged_reads += bool(start)
        return io.BytesIO(self.files[(bucket, key)][start:])

    def put_report(self, key: str, body: BinaryIO, content_type: str, parts: Sequence[str] = ()) -> None:
        # As the real store: the parts and this body merged line by line in file order, not concatenated
        # (a dependent listed before her principal is reported by the last invocation, at her own row).
        if not parts:
            self.objects[key] = (body.read(), content_type)
            return
        joined = io.BytesIO()
        join_in_file_order([*(io.BytesIO(self.run_objects[p]) for p in parts), body], joined)
        self.objects[key] = (joined.getvalue(), content_type)

    # --- runs of several invocations -----------------------------------------------------------
    def load_checkpoint(self, key: str) -> tuple[dict[str, Any], str] | None:
        found = self.checkpoints.get(key)
        return (json.loads(found[0]), found[1]) if found is not None else None

    def save_checkpoint(self, key: str, body: Mapping[str, Any], expected: str | None) -> str | None:
        found = self.checkpoints.get(key)
        if (found[1] if found is not None else None) != expected:
            return None
        self.tags += 1
        self.checkpoints[key] = (json.dumps(body), f"tag-{self.tags}")
        return f"tag-{self.tags}"

    def put_run_object(self, key: str, body: BinaryIO) -> None:
        self.run_objects[key] = body.read()

    def run_object(self, key: str) -> bytes:
        return self.run_objects[key]

    def delete_run_objects(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.run_objects.pop(key, None)

    def continuation_token(self, bucket: str, key: str) -> tuple[str, int] | None:
        return self.tokens.get(key)

    def delete_continuation_token(self, bucket: str, key: str) -> None:
        self.tokens.pop(key, None)

    def report_index(self, policy_no: str) -> list[dict[str, object]]:
        prefix = report_folder(policy_no) + INDEX_FOLDER
        return [json.loads(self.objects[k][0]) for k in sorted(self.objects) if k.startswith(prefix)]

    def report(self, key: str) -> dict[str, object]:
        loaded: dict[str, object] = json.loads(self.objects[key][0])
        return loaded


@dataclass
class FakeQueue:
    """The sender's queue: what was enqueued, in order."""

    jobs: list[Job] = field(default_factory=list)

    def __call__(self, jobs: list[Job]) -> int:
        self.jobs.extend(jobs)
        return len(jobs)


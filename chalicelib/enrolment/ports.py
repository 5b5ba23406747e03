"""What enrolling an HR file needs from outside: the ports its adapters implement and the wiring picks.

The DynamoDB + S3 store (store.py), the record factories (records.py), the file readers (hr_csv.py,
and hr_xlsx.py for workbooks, which also picks between the two) and the report writer (hr_report.py)
implement these; so do the in-memory fakes of the tests, which pass the same contract suite
(tests/contract/test_enrolment_store_contract.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, Protocol

from chalicelib.enrolment.report_rules import ReportLine, Totals
from chalicelib.enrolment.rules import EnrolmentRow, FileProblem

# A stored record and a write condition belong to the adapter (PynamoDB models and conditions
# on DynamoDB, plain values in the fake): the use case only carries them from `Records` to
# `EnrolmentStorage.write`, so it needs to know nothing of them.
Stored = object
Condition = object
# An outbound job as the sender's queue takes it ({"kind": "welcome", ...}).
Job = dict[str, object]
# What a checkpoint holds, as JSON: each adapter reads back what it wrote there.
JsonObject = dict[str, object]


@dataclass(frozen=True)
class GroupPolicy:
    """An employer's group policy, as enrolment needs it: its number and plan codes."""

    policy_no: str
    plan_codes: frozenset[str]


@dataclass
class RowWrite:
    """Everything one HR row changes, written together or not at all."""

    saves: list[tuple[Stored, Condition | None]] = field(default_factory=list)  # (record, condition or None)
    deletes: list[tuple[Stored, Condition | None]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.saves) + len(self.deletes)


class MemberRow(Protocol):
    """A stored insured person, as the decisions read it."""

    @property
    def member_id(self) -> str: ...
    @property
    def relationship(self) -> str: ...
    @property
    def status(self) -> str: ...  # active | terminated
    @property
    def fingerprint(self) -> str: ...
    @property
    def card_fingerprint(self) -> str | None: ...  # None: stored before cards were fingerprinted
    @property
    def account_id(self) -> str | None: ...


class AccountRow(Protocol):
    """A stored account, as the decisions read it (who logs in, whether the welcome went out)."""

    @property
    def account_id(self) -> str: ...
    @property
    def status(self) -> str: ...  # invited | invite_expired | active
    @property
    def email(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def welcome_generation(self) -> float | None: ...
    @property
    def welcome_delivered_generation(self) -> float | None: ...


class LoginName(Protocol):
    """A login name and the account it opens (None: a lockout counter only, the name is free)."""

    @property
    def account_id(self) -> str | None: ...


class Records(Protocol):
    """Makes the records a row's decision writes, and the conditions that guard them."""

    def member(self, existing: MemberRow | None, member_id: str, policy_no: str, row: EnrolmentRow,
               fingerprint: str, account_id: str | None, now: datetime, *, card_fingerprint: str,
               card_since: datetime | None = None, terminated: bool = False) -> MemberRow:
        """`existing` updated (or a new record) to say what the row says; terminated ends cover now.

        `card_fingerprint` is what the card prints (rules.card_fingerprint); `card_since`, when given,
        is the moment a new card starts (cards drawn before it no longer hold)."""
        ...

    def new_condition(self) -> Condition:
        """No member with this id exists yet."""
        ...

    def invited_account(self, account_id: str, email: str, name: str, now: datetime) -> AccountRow: ...

    def new_account_condition(self) -> Condition: ...

    def readdressed(self, account: AccountRow, email: str, now: datetime, *, reinvite: bool) -> AccountRow:
        """The account under its new email; `reinvite` starts a new welcome generation (the old link dies)."""
        ...

    def username(self, name: str, account_id: str) -> Stored: ...

    def free_name(self) -> Condition:
        """Nobody's login name (absent, or only a lockout counter)."""
        ...

    def owned_by(self, account_id: str) -> Condition: ...

    def email_changed_messages(self, old_email: str, new_email: str, name: str) -> list[Job]: ...

    def login_details(self, account: AccountRow) -> tuple[str, str | None, str | None]:
        """(source, civil ID the account logs in with, phone) of a stored account."""
        ...

    def with_login_details(self, account: AccountRow, civil_id: str | None, phone: str | None,
                           now: datetime) -> AccountRow:
        """The account with the civil ID it logs in with (its login name claimed or released in the same
        transaction) and the phone HR gave."""
        ...


class ByteStream(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class EnrolmentStorage(Protocol):
    """What enrolment reads and writes: a policy, members, login names, accounts, the file and its reports."""

    def policy(self, policy_no: str) -> GroupPolicy | None: ...

    def members(self, member_ids: Iterable[str]) -> Mapping[str, MemberRow]:
        """One batched read; ids that are nobody are simply absent."""
        ...

    def login_names(self, usernames: Iterable[str]) -> Mapping[str, LoginName]: ...

    def accounts(self, account_ids: Iterable[str]) -> Mapping[str, AccountRow]: ...

    def write(self, rows: Sequence[RowWrite]) -> None:
        """All rows or, per transaction, none; a lost condition or a concurrent change raises StaleState."""
        ...

    def open_file(self, bucket: str, key: str, version_id: str | None, start: int = 0) -> ByteStream:
        """The file's bytes from `start` on (a ranged read); empty when `start` is its end."""
        ...

    def put_report(self, key: str, body: BinaryIO, content_type: str, parts: Sequence[str] = ()) -> None:
        """Store `body` under `key` joined with the run objects `parts` (a report written in parts), line by line
        in file order (`hr_report.join_in_file_order`): the report one invocation would have written."""
        ...

    # --- a file enrolled in several invocations (see continuation.py) ---
    def load_checkpoint(self, key: str) -> tuple[JsonObject, str] | None:
        """The checkpoint and its version tag, or None when there is none."""
        ...

    def save_checkpoint(self, key: str, body: Mapping[str, object], expected: str | None) -> str | None:
        """Write it only if the stored one still has the tag `expected` (None: only if there is none yet).

        The new tag, or None when the condition failed (another invocation got there first)."""
        ...

    def put_run_object(self, key: str, body: BinaryIO) -> None: ...

    def run_object(self, key: str) -> bytes: ...

    def delete_run_objects(self, keys: Sequence[str]) -> None: ...

    def continuation_token(self, bucket: str, key: str) -> tuple[str, int] | None:
        """(checkpoint key, sequence number) a token names; None when it is gone or is no token."""
        ...

    def delete_continuation_token(self, bucket: str, key: str) -> None: ...


class PolicyStorage(Protocol):
    """Where group policies are kept (the admin command creates them)."""

    def policy(self, policy_no: str) -> GroupPolicy | None: ...

    def put_policy(self, policy: Mapping[str, object], now: datetime) -> None: ...


class HrRows(Protocol):
    """An HR file (CSV or workbook) whose header was read: `(row number, cells by column)` pairs; may raise
    HrFileError. `encoding` is the CSV's text encoding, or "xlsx" for a workbook."""

    @property
    def encoding(self) -> str: ...
    @property
    def unknown_columns(self) -> Sequence[str]: ...
    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]: ...
    def position(self) -> JsonObject:
        """Where the next unread row starts, for `EnrolmentDeps.resume_csv` (JSON); valid between rows.

        Always `line` (the last row read) and `offset` (the byte the resumed read starts at: 0 for a
        workbook, read whole again); a workbook's also says `kind: "xlsx"`."""
        ...


class FinishedReport(Protocol):
    @property
    def json(self) -> BinaryIO: ...
    @property
    def csv(self) -> BinaryIO: ...
    @property
    def totals(self) -> Totals: ...
    @property
    def status(self) -> str: ...  # completed | completed_with_errors | rejected
    def close(self) -> None: ...


class Report(Protocol):
    """The report of one file, appended to row by row."""

    encoding: str | None
    unknown_columns: tuple[str, ...]

    @property
    def totals(self) -> Totals: ...
    def add(self, line: ReportLine) -> None: ...
    def add_file_problem(self, problem: FileProblem) -> None: ...
    def finish(self, *, finished_at: datetime) -> FinishedReport: ...
    def state(self) -> JsonObject:
        """What `EnrolmentDeps.resume_report` needs to go on with this report (JSON)."""
        ...
    def take_part(self) -> tuple[BinaryIO, BinaryIO]:
        """The JSON and CSV written since the last part; writing goes on."""
        ...


class RevokeCards(Protocol):
    """The cards feature's revoke_cards: each member's cards issued before their moment are revoked."""

    def __call__(self, member_ids: Iterable[str] = (), *,
                 issued_before: Mapping[str, datetime] | None = None) -> object: ...


class NewReport(Protocol):
    def __call__(self, *, file_name: str, policy_no: str, received_at: datetime) -> Report: ...


@dataclass
class EnrolmentDeps:
    store: EnrolmentStorage
    records: Records
    enqueue: Callable[[list[Job]], object]
    open_csv: Callable[[ByteStream], HrRows]  # the file reader: CSV or workbook (wiring: by the file's first bytes)
    new_report: NewReport
    now: Callable[[], datetime]
    # A file enrolled in several invocations: reading and reporting resumed where they stopped,
    # and the token that starts the next invocation.
    resume_csv: Callable[[ByteStream, Mapping[str, object]], HrRows] | None = None
    resume_report: Callable[[Mapping[str, object]], Report] | None = None
    continue_later: Callable[[str, int], None] | None = None  # (checkpoint key, sequence number)
    # The cards of members HR terminated, and those whose printed details HR changed (reissued), go on
    # the revocation list offline verifiers fetch (cards feature).
    revoke_cards: RevokeCards | None = None

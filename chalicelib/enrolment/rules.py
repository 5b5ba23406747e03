"""Rules that turn one row of an HR enrolment file into an insured person, or into errors.

Pure: no I/O, no clock. The file's policy (its plan codes) and "today" are passed in.

Member ids (the card number) are derived, not allocated; see `member_id_candidates` for
the scheme and why.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
import unicodedata
from array import array
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from chalicelib.errors import FieldErrors, Text
from chalicelib.kernel.civil_id import ascii_digits, check_civil_id
from chalicelib.kernel.names import RULE_CHARACTERS, name_problem
from chalicelib.kernel.phone import check_kuwait_mobile
from chalicelib.kernel.relationship import Relationship

# The reader puts the cells a row has beyond its header under this key, so the row can be
# refused here with the other row errors (an unquoted comma shifts every later column).
EXTRA_CELLS = "_extra_cells"
# The reader's limits, enforced while it reads so a hostile file costs linear time: a cell of
# an HR sheet is a name, a date or a code, and a row of 13 such cells is far below 64 KiB.
CELL_MAX_CHARS = 4 * 1024
ROW_MAX_CHARS = 64 * 1024
# The columns whose cells the reader cut at CELL_MAX_CHARS (comma-joined), and the mark of a
# line over ROW_MAX_CHARS whose cells beyond its start were never read: both are row errors.
OVERSIZED_CELLS = "_oversized_cells"
ROW_TOO_LONG = "_row_too_long"

NAME_MAX = 100

_E = TypeVar("_E", bound=StrEnum)


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"


class Action(StrEnum):
    UPSERT = "upsert"
    TERMINATE = "terminate"


# Spreadsheets come with the words people type; the canonical words come first.
_RELATIONSHIPS: dict[str, Relationship] = {
    "principal": Relationship.PRINCIPAL,
    "employee": Relationship.PRINCIPAL,
    "self": Relationship.PRINCIPAL,
    "موظف": Relationship.PRINCIPAL,
    "spouse": Relationship.SPOUSE,
    "wife": Relationship.SPOUSE,
    "husband": Relationship.SPOUSE,
    "زوج": Relationship.SPOUSE,
    "زوجة": Relationship.SPOUSE,
    "child": Relationship.CHILD,
    "son": Relationship.CHILD,
    "daughter": Relationship.CHILD,
    "ابن": Relationship.CHILD,
    "ابنة": Relationship.CHILD,
    "بنت": Relationship.CHILD,
    "parent": Relationship.PARENT,
    "father": Relationship.PARENT,
    "mother": Relationship.PARENT,
    "أب": Relationship.PARENT,
    "اب": Relationship.PARENT,
    "أم": Relationship.PARENT,
    "ام": Relationship.PARENT,
}

_GENDERS: dict[str, Gender] = {
    "male": Gender.MALE,
    "m": Gender.MALE,
    "ذكر": Gender.MALE,
    "female": Gender.FEMALE,
    "f": Gender.FEMALE,
    "أنثى": Gender.FEMALE,
    # Typed without the hamza or with a final yaa: common on Arabic keyboards.
    "انثى": Gender.FEMALE,
    "أنثي": Gender.FEMALE,
    "انثي": Gender.FEMALE,
}

_ACTIONS: dict[str, Action] = {
    "": Action.UPSERT,
    "upsert": Action.UPSERT,
    "terminate": Action.TERMINATE,
}

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DMY_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is SES's job.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True)
class RowError:
    """Why one row of the file was refused: the row, the column, a stable rule, the sentence."""

    line: int
    column: str
    rule: str
    text: Text


@dataclass(frozen=True)
class FileProblem:
    """Why a whole file (or the rest of it) could not be enrolled."""

    rule: str
    text: Text
    columns: tuple[str, ...] = ()
    line: int | None = None


class HrFileError(Exception):
    """The file (or the rest of it) cannot be enrolled; `problem` says why, in both languages."""

    def __init__(self, problem: FileProblem) -> None:
        self.problem = problem
        super().__init__(f"{problem.rule}: {problem.text.en}")


@dataclass(frozen=True)
class EnrolmentRow:
    """One insured person as HR's file describes them, validated and normalized."""

    line: int
    employee_no: str
    relationship: Relationship
    name_en: str
    name_ar: str
    date_of_birth: date
    gender: Gender
    email: str | None
    mobile: str | None
    national_id: str | None
    plan: str
    coverage_start: date
    coverage_end: date
    action: Action = Action.UPSERT

    @property
    def is_principal(self) -> bool:
        return self.relationship is Relationship.PRINCIPAL


RowResult = EnrolmentRow | tuple[RowError, ...]


# --- texts -------------------------------------------------------------------------------

_REQUIRED = Text("{column} is required.", "الحقل {column} مطلوب.")
_EMAIL_REQUIRED = Text(
    "email is required for a principal.", "البريد الإلكتروني (email) مطلوب للموظف الأساسي."
)
_TOO_LONG = Text("{column} is longer than {max} characters.", "الحقل {column} أطول من {max} حرفًا.")
_BAD_RELATIONSHIP = Text(
    "relationship must be principal, spouse, child or parent.",
    "صلة القرابة (relationship) يجب أن تكون principal أو spouse أو child أو parent.",
)
_BAD_DATE = Text(
    "{column} must be a real date written YYYY-MM-DD or DD/MM/YYYY.",
    "الحقل {column} يجب أن يكون تاريخًا صحيحًا بالصيغة YYYY-MM-DD أو DD/MM/YYYY.",
)
_FUTURE_BIRTH = Text(
    "date_of_birth cannot be in the future.",
    "تاريخ الميلاد (date_of_birth) لا يمكن أن يكون في المستقبل.",
)
_END_BEFORE_START = Text(
    "coverage_end must be after coverage_start.",
    "تاريخ نهاية التغطية (coverage_end) يجب أن يكون بعد تاريخ بدايتها (coverage_start).",
)
_BAD_GENDER = Text(
    "gender must be male or female (M/F, ذكر/أنثى).",
    "الجنس (gender) يجب أن يكون ذكر أو أنثى (male/female).",
)
_BAD_EMAIL = Text("email is not a valid email address.", "البريد الإلكتروني (email) غير صالح.")
_UNKNOWN_PLAN = Text(
    "plan {value} is not a plan of this policy ({plans}).",
    "الخطة (plan) {value} ليست من خطط هذه الوثيقة ({plans}).",
)
_BAD_ACTION = Text(
    "action must be upsert or terminate (or empty for upsert).",
    "الإجراء (action) يجب أن يكون upsert أو terminate (أو فارغًا ويعني upsert).",
)
_EXTRA_CELLS = Text(
    "The row has more cells than the header has columns; "
    "a value containing a comma must be in double quotes.",
    "عدد خلايا الصف أكثر من عدد الأعمدة في العناوين؛ "
    "القيمة التي تحتوي على فاصلة يجب أن توضع بين علامتي تنصيص.",
)
_CELL_TOO_LONG = Text(
    "{column} is longer than {max:,} characters; the row was not read.",
    "الحقل {column} أطول من {max:,} حرف؛ لم يُقرأ الصف.",
)
_ROW_TOO_LONG = Text(
    "The row is longer than {max:,} characters on one line; it was skipped. "
    "Check it for text pasted by mistake.",
    "الصف أطول من {max:,} حرف في سطر واحد؛ تم تخطيه. تحقق من وجود نص أُلصق فيه خطأً.",
)
_NAME_CHARACTERS = Text("{column}: {en}", "الحقل {column}: {ar}")
_NO_PRINCIPAL = Text(
    "No principal with employee_no {employee_no} in this file or already enrolled.",
    "لا يوجد موظف أساسي بالرقم الوظيفي {employee_no} في هذا الملف أو مسجل مسبقًا.",
)
_DUPLICATE = Text(
    "This person is already listed on row {first}.",
    "هذا الشخص مذكور مسبقًا في الصف {first}.",
)
_UNKNOWN_POLICY = Text(
    "No group policy {policy_no} exists; the file was not processed.",
    "لا توجد وثيقة تأمين جماعية برقم {policy_no}؛ لم تتم معالجة الملف.",
)


def unknown_policy_problem(policy_no: str) -> FileProblem:
    """The file-level problem for a file dropped under a policy number that does not exist."""
    return FileProblem("unknown_policy", _UNKNOWN_POLICY.format(policy_no=policy_no))


# --- one row -----------------------------------------------------------------------------


class _Row:
    """Reads cells of one raw row and collects errors, so every problem is reported at once."""

    def __init__(self, line: int, raw: Mapping[str, str]) -> None:
        self.line = line
        self.raw = raw
        self.errors: list[RowError] = []

    def cell(self, column: str) -> str:
        # Only surrounding whitespace goes: Arabic names must reach the card letter for letter.
        return (self.raw.get(column) or "").strip()

    def fail(self, column: str, rule: str, text: Text) -> None:
        self.errors.append(RowError(self.line, column, rule, text))

    def oversized(self) -> frozenset[str]:
        """Columns whose cells the reader cut: each one is an error, and only that."""
        cut = frozenset(c for c in (self.raw.get(OVERSIZED_CELLS) or "").split(",") if c)
        for column in sorted(cut):
            if column == EXTRA_CELLS:
                self.fail("", "too_many_cells", _EXTRA_CELLS)  # the whole row, not one column
            else:
                self.fail(column, "too_long", _CELL_TOO_LONG.format(column=column, max=CELL_MAX_CHARS))
        return cut

    def required(self, column: str) -> str | None:
        value = self.cell(column)
        if not value:
            self.fail(column, "required", _REQUIRED.format(column=column))
            return None
        return value

    def name(self, column: str, *, required: bool) -> str:
        value = self.required(column) if required else self.cell(column)
        if value and len(value) > NAME_MAX:
            self.fail(column, "too_long", _TOO_LONG.format(column=column, max=NAME_MAX))
        elif value:
            # The one person-name rule: a right-to-left override or a zero-width character
            # would print on the card as something else than what HR sees in the sheet.
            # "Smith, John" is how HR systems export names, so the comma is kept.
            _, problem = name_problem(value, max_length=NAME_MAX, also_allowed=",")
            if problem is not None and problem.rule == RULE_CHARACTERS:
                self.fail(column, RULE_CHARACTERS,
                          _NAME_CHARACTERS.format(column=column, en=problem.text.en, ar=problem.text.ar))
        # Stored as HR wrote it (only surrounding spaces go), as before the rule: re-uploads
        # of files enrolled then stay unchanged.
        return value or ""

    def date_cell(self, column: str) -> date | None:
        value = self.required(column)
        if value is None:
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.fail(column, "invalid_date", _BAD_DATE.format(column=column))
        return parsed

    def choice(self, column: str, words: Mapping[str, _E], rule: str, text: Text) -> _E | None:
        value = self.required(column)
        if value is None:
            return None
        chosen = words.get(value.casefold())
        if chosen is None:
            self.fail(column, rule, text)
        return chosen

    def email(self, *, required: bool) -> str | None:
        email = self.cell("email").lower() or None
        if email is None:
            if required:
                self.fail("email", "required", _EMAIL_REQUIRED)
        elif len(email) > 254 or not _EMAIL.fullmatch(email):
            self.fail("email", "invalid_email", _BAD_EMAIL)
        return email

    def adopt(self, column: str, rule: str, problems: FieldErrors) -> None:
        """Report a problem found by a shared domain checker, keeping its precise sentence."""
        for problem in problems.problems.values():
            self.fail(column, rule, problem.text)

    def mobile(self) -> str | None:
        text = self.cell("mobile")
        if not text:
            return None
        problems = FieldErrors()
        mobile = check_kuwait_mobile(text, field="mobile", errors=problems)
        if mobile is None:
            self.adopt("mobile", "invalid_mobile", problems)
            return None
        return mobile.e164

    def national_id(self, today: date) -> str | None:
        # Optional: a newborn has no civil ID for its first weeks, and HR enrols it anyway.
        text = self.cell("national_id")
        if not text:
            return None
        problems = FieldErrors()
        # Excel turns a 12-digit number into 2.84031E+11; this is where HR learns that.
        civil_id = check_civil_id(text, today=today, field="national_id", errors=problems)
        if civil_id is None:
            self.adopt("national_id", "invalid_national_id", problems)
            return None
        return civil_id.number

    def plan(self, plans: Collection[str]) -> str | None:
        value = self.required("plan")
        if value is None:
            return None
        # Codes are matched case-blind but stored as the policy spells them.
        plan = next((code for code in plans if code.upper() == value.upper()), None)
        if plan is None:
            listed = ", ".join(sorted(plans))
            self.fail("plan", "unknown_plan", _UNKNOWN_PLAN.format(value=value, plans=listed))
        return plan


def parse_date(value: str) -> date | None:
    """A real calendar date from YYYY-MM-DD or DD/MM/YYYY, else None."""
    text = ascii_digits(value.strip())
    if m := _ISO_DATE.fullmatch(text):
        year, month, day = (int(g) for g in m.groups())
    elif m := _DMY_DATE.fullmatch(text):
        day, month, year = (int(g) for g in m.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:  # 31/02/2020 and friends
        return None


def normalize_employee_no(value: str) -> str:
    """The employee number as the file's identity key: upper case, no spaces, no leading zeros.

    Excel drops leading zeros from number-looking cells on some exports and not on others,
    so "00123" and "123" must be the same employee or their cards would change.
    """
    text = "".join(ascii_digits(value).split()).upper()
    if text.isdigit():
        text = text.lstrip("0") or "0"
    return text


def parse_row(line: int, raw: Mapping[str, str], *, plans: Collection[str], today: date) -> RowResult:
    """Validate one raw row (canonical column -> cell text) into an `EnrolmentRow` or its errors."""
    row = _Row(line, raw)
    if ROW_TOO_LONG in raw:
        # Only the start of the line was read: its cells say nothing reliable.
        row.fail("", "row_too_long", _ROW_TOO_LONG.format(max=ROW_MAX_CHARS))
        return tuple(row.errors)
    if OVERSIZED_CELLS in raw:
        # A cut cell is not the value HR wrote: report the cut cells alone.
        row.oversized()
        return tuple(row.errors)
    if EXTRA_CELLS in raw:
        row.fail("", "too_many_cells", _EXTRA_CELLS)  # the whole row, not one column
    employee_no_text = row.required("employee_no")
    employee_no = normalize_employee_no(employee_no_text) if employee_no_text else None
    relationship = row.choice("relationship", _RELATIONSHIPS, "invalid_relationship", _BAD_RELATIONSHIP)
    name_en = row.name("name_en", required=True)
    # Expatriates often have no Arabic name on HR's records; the card falls back to English.
    name_ar = row.name("name_ar", required=False)
    date_of_birth = row.date_cell("date_of_birth")
    if date_of_birth is not None and date_of_birth > today:
        row.fail("date_of_birth", "future_date", _FUTURE_BIRTH)
    gender = row.choice("gender", _GENDERS, "invalid_gender", _BAD_GENDER)
    email = row.email(required=relationship is Relationship.PRINCIPAL)
    mobile = row.mobile()
    national_id = row.national_id(today)
    plan = row.plan(plans)
    coverage_start = row.date_cell("coverage_start")
    coverage_end = row.date_cell("coverage_end")
    if coverage_start and coverage_end and coverage_end <= coverage_start:
        row.fail("coverage_end", "coverage_end_before_start", _END_BEFORE_START)
    action = _ACTIONS.get(row.cell("action").casefold())
    if action is None:
        row.fail("action", "invalid_action", _BAD_ACTION)

    if row.errors:
        return tuple(row.errors)
    # Every None above has produced an error, so these hold; the asserts say so to mypy.
    assert employee_no and relationship and date_of_birth and gender and plan
    assert coverage_start and coverage_end and action
    return EnrolmentRow(
        line=line,
        employee_no=employee_no,
        relationship=relationship,
        name_en=name_en,
        name_ar=name_ar,
        date_of_birth=date_of_birth,
        gender=gender,
        email=email,
        mobile=mobile,
        national_id=national_id,
        plan=plan,
        coverage_start=coverage_start,
        coverage_end=coverage_end,
        action=action,
    )


# --- rules across rows -------------------------------------------------------------------


class DuplicateCheck:
    """The same person twice in one file, in memory that stays small however long the file is.

    Each person read is kept as the 64-bit digest of their natural key and the line they were
    first on: 12 bytes a row in two sorted arrays (2.4 MB for 200,000 rows), not a dict of
    tuples of strings (~400 bytes a row, and several times that while written out as JSON at
    each hand-over). Rows of the last few thousand wait in a small dict and are merged in by
    slices. Two different people share a digest with a chance of about n^2 / 2^65 (1e-9 for
    200,000 rows), less than two of them sharing a card number (60 bits of the same key).
    """

    RECENT = 8192  # rows held in the dict before they are merged into the arrays

    def __init__(self) -> None:
        self._digests = array("Q")  # sorted
        self._lines = array("I")  # the first line of each digest, in the same order
        self._recent: dict[int, int] = {}

    def add(self, row: EnrolmentRow) -> RowError | None:
        """Note a valid row; a person already listed earlier in the file is an error."""
        key = identity_keys(row)[0]
        digest = _key_digest(key)
        first = self.first_line(digest)
        if first is not None:
            # Point HR at the cell that made the two rows the same person.
            if row.is_principal:
                column = "employee_no"
            else:
                column = "national_id" if key[2] == "national_id" else "name_en"
            return RowError(row.line, column, "duplicate", _DUPLICATE.format(first=first))
        self._recent[digest] = row.line
        if len(self._recent) >= self.RECENT:
            self._merge()
        return None

    def first_line(self, digest: int) -> int | None:
        found = self._recent.get(digest)
        if found is not None:
            return found
        at = bisect_left(self._digests, digest)
        return self._lines[at] if at < len(self._digests) and self._digests[at] == digest else None

    def __len__(self) -> int:
        return len(self._digests) + len(self._recent)

    def _merge(self) -> None:
        digests, lines = array("Q"), array("I")
        start = 0
        for digest, line in sorted(self._recent.items()):
            at = bisect_left(self._digests, digest, start)
            digests += self._digests[start:at]
            lines += self._lines[start:at]
            digests.append(digest)
            lines.append(line)
            start = at
        digests += self._digests[start:]
        lines += self._lines[start:]
        self._digests, self._lines, self._recent = digests, lines, {}

    def state(self) -> dict[str, str]:
        """What it knows, as JSON (base64 of the little-endian arrays), for a file read in several invocations."""
        self._merge()
        return {"digests": _packed(self._digests), "lines": _packed(self._lines)}

    @classmethod
    def restored(cls, state: Mapping[str, Any]) -> DuplicateCheck:
        check = cls()
        if "seen" in state:  # saved before digests (a run handed over across the deploy)
            check._recent = {_key_digest(tuple(key)): line for key, line in state["seen"]}
            check._merge()
            return check
        check._digests, check._lines = _unpacked("Q", state["digests"]), _unpacked("I", state["lines"])
        return check


def _key_digest(key: tuple[str, ...]) -> int:
    return int.from_bytes(hashlib.blake2b(repr(key).encode(), digest_size=8).digest(), "little")


def _packed(values: array[int]) -> str:
    if sys.byteorder == "big":
        values = array(values.typecode, values)
        values.byteswap()
    return base64.b64encode(values.tobytes()).decode("ascii")


def _unpacked(typecode: str, text: str) -> array[int]:
    values = array(typecode)
    values.frombytes(base64.b64decode(text))
    if sys.byteorder == "big":
        values.byteswap()
    return values


class FamilyCheck(DuplicateCheck):
    """Checks that need more than one row: duplicates, and dependents without a principal.

    Feed it every valid row as the file streams by (`add`), then ask for `missing_principals`
    once at the end. It keeps the principals' employee numbers and the dependents read before
    their principal; the enrolment run needs neither (it asks the table) and uses DuplicateCheck.
    """

    def __init__(self) -> None:
        super().__init__()
        self._principals: set[str] = set()
        # Dependents read before their principal: (line, employee_no). Usually empty, since
        # HR sheets list the principal first.
        self._waiting: list[tuple[int, str]] = []

    def add(self, row: EnrolmentRow) -> RowError | None:
        duplicate = super().add(row)
        if duplicate is not None:
            return duplicate
        if row.is_principal:
            self._principals.add(row.employee_no)
        elif row.employee_no not in self._principals:
            self._waiting.append((row.line, row.employee_no))
        return None

    def missing_principals(
        self,
        principals_on_file: Collection[str] | Callable[[frozenset[str]], Iterable[str]],
    ) -> list[RowError]:
        """Errors for dependents whose principal is neither in this file nor already enrolled.

        `principals_on_file` is the set of employee numbers with an enrolled principal, or a
        callable that takes the employee numbers in question (one batch) and returns those
        that have one, so the caller can answer with one batched read.
        """
        open_ = {(line, no) for line, no in self._waiting if no not in self._principals}
        if not open_:
            return []
        asked = frozenset(no for _, no in open_)
        found = (
            set(principals_on_file(asked))
            if callable(principals_on_file)
            else asked & set(principals_on_file)
        )
        return [
            RowError(line, "employee_no", "principal_missing", _NO_PRINCIPAL.format(employee_no=no))
            for line, no in sorted(open_)
            if no not in found
        ]


# --- member ids and fingerprints -------------------------------------------------------------

# Crockford base32: no I, L, O, U, so a card number read aloud or typed is unambiguous.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_MEMBER_ID = re.compile(f"[{_ALPHABET}]{{13}}")
_MEMBER_ID_VERSION = "m1"


def _fold_name(name: str) -> str:
    """A spelling-tolerant form of an English name: no accents, case, punctuation, or order."""
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(sorted(word for word in _NON_ALNUM.split(ascii_.lower()) if word))


def identity_keys(row: EnrolmentRow) -> tuple[tuple[str, ...], ...]:
    """The natural keys that may identify this person within one policy, best first."""
    if row.is_principal:
        # One principal per employee number per policy: names and emails may change freely.
        return (("principal", row.employee_no),)
    by_name = (
        "dependent",
        row.employee_no,
        "name_dob",
        _fold_name(row.name_en),
        row.date_of_birth.isoformat(),
    )
    if row.national_id:
        return (("dependent", row.employee_no, "national_id", row.national_id), by_name)
    return (by_name,)


def _luhn32_check(payload: str) -> str:
    """The Luhn mod 32 check character, which catches any single typo and most swaps."""
    factor, total = 2, 0
    for char in reversed(payload):
        addend = factor * _ALPHABET.index(char)
        factor = 1 if factor == 2 else 2
        total += addend // 32 + addend % 32
    return _ALPHABET[(32 - total % 32) % 32]


def _member_id(policy_no: str, key: tuple[str, ...]) -> str:
    material = json.dumps([_MEMBER_ID_VERSION, policy_no.upper(), *key], ensure_ascii=False)
    number = int.from_bytes(hashlib.sha256(material.encode()).digest()[:8], "big") >> 4
    payload = "".join(_ALPHABET[(number >> shift) & 31] for shift in range(55, -1, -5))
    return payload + _luhn32_check(payload)


def member_id_candidates(policy_no: str, row: EnrolmentRow) -> tuple[str, ...]:
    """The member ids (card numbers) this person may hold, best first.

    Ids are derived: a hash of the policy number and the person's natural key, 12 Crockford
    base32 characters (60 bits) and a check character. The same person gets the same id on
    every upload with no allocation, no lookup table, and no race between two files of one
    policy processed at once (both derive the same id and meet on the same item).

    Natural keys: a principal is (policy, employee_no). A dependent is (policy, employee_no,
    national_id) when the row has a civil ID, else (policy, employee_no, folded name_en,
    date_of_birth). Relationship is left out so correcting "parent" to "spouse" keeps the card.

    The cost of deriving: if HR corrects a field of the key, the derived id changes. Two
    measures keep that rare. (1) A dependent with a civil ID has two candidates, the civil-ID
    id and the name+birth-date id: the service keeps the first that already exists and mints
    the first otherwise, so a child enrolled before it had a civil ID keeps its card when the
    civil ID arrives. (2) The name fold ignores case, accents, punctuation and word order.
    A corrected birth date or a re-spelled name of a dependent without civil ID still mints a
    new card; the old one is left as is (only `terminate` ends coverage).

    Allocation (random id stored against the natural key) would survive such corrections only
    with a matching step that guesses "same person", and it still needs a claim on the natural
    key to be race-free, i.e. the same key derivation plus a read per person. Derivation is
    recommended.
    """
    return tuple(_member_id(policy_no, key) for key in identity_keys(row))


def resolve_member_id(candidates: tuple[str, ...], existing: Collection[str]) -> str:
    """The id to use: the first candidate already enrolled, else the first candidate."""
    return next((c for c in candidates if c in existing), candidates[0])


def is_member_id(text: str) -> bool:
    """Whether text has the shape and check character of a member id (e.g. a typed card no.)."""
    return bool(_MEMBER_ID.fullmatch(text)) and _luhn32_check(text[:-1]) == text[-1]


def row_fingerprint(row: EnrolmentRow) -> str:
    """A short digest of everything stored about the person, to spot unchanged rows cheaply.

    Built from normalized values, so "M" vs "male" or "gold" vs "GOLD" is not a change; the
    row's line number is left out, so moving a row in the sheet is not a change either.
    """
    values = [
        "f1",  # bump when fields change, so every stored fingerprint differs once
        row.employee_no,
        row.relationship.value,
        row.name_en,
        row.name_ar,
        row.date_of_birth.isoformat(),
        row.gender.value,
        row.email or "",
        row.mobile or "",
        row.national_id or "",
        row.plan,
        row.coverage_start.isoformat(),
        row.coverage_end.isoformat(),
        row.action.value,
    ]
    material = json.dumps(values, ensure_ascii=False).encode()
    return hashlib.blake2b(material, digest_size=12).hexdigest()


def card_fingerprint(policy_no: str, row: EnrolmentRow) -> str:
    """A digest of what the person's card prints from the row: a change reissues the card.

    The card's QR carries these (name, birth date, relationship, plan, dates, policy); a change of
    them makes the cards drawn before no longer hold, and they go on the revocation list. An email,
    a phone or a gender changes nothing printed, so it revokes nothing.
    """
    values = ["c1", policy_no, row.relationship.value, row.name_en, row.name_ar, row.date_of_birth.isoformat(),
              row.plan, row.coverage_start.isoformat(), row.coverage_end.isoformat()]
    return hashlib.blake2b(json.dumps(values, ensure_ascii=False).encode(), digest_size=12).hexdigest()


def principal_member_id(policy_no: str, employee_no: str) -> str:
    """The member id of an employee number's principal (a principal's natural key is the employee no)."""
    return _member_id(policy_no, ("principal", employee_no))

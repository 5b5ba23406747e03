"""What an HR file's report says and where it is filed: row outcomes, totals, the upload, the S3 keys.

Pure values and naming: the report writer (hr_report.py) streams them into bodies, the
store puts the bodies under these keys, and the use case decides which line each row gets.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from chalicelib.enrolment.rules import RowError
from chalicelib.errors import Text

# 2: the CSV gained `name` and `value` columns, lines in file order and a summary with the totals at its end;
# the JSON a `name` on error rows and a `value` on each error, rows in file order.
REPORT_VERSION = 2

# An echoed cell is cut to this many characters: a hostile cell may be 4,096 long, and HR needs only
# enough of it to find it in their file.
ECHO_MAX = 100
# Shown as <U+XXXX> where they would hide or reorder text (a right-to-left override, a line break, a zero
# width space) or that a spreadsheet refuses (control characters).
_INVISIBLE = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"))

# Arabic stays readable in the JSON.
_to_json = json.JSONEncoder(ensure_ascii=False).encode


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    TERMINATED = "terminated"
    ERROR = "error"


def visible(text: str) -> str:
    """Text with every character that would hide or reorder what follows shown as <U+XXXX>."""
    if text.isprintable():
        return text
    return "".join(f"<U+{ord(ch):04X}>" if unicodedata.category(ch) in _INVISIBLE else ch for ch in text)


def echo(value: str) -> str:
    """A cell from HR's file as a report shows it back: every character visible, at most ECHO_MAX of them."""
    value = visible(value)
    return value if len(value) <= ECHO_MAX else value[:ECHO_MAX - 1] + "\u2026"


def _echoed_in_reason(error: RowError, cell: str) -> RowError:
    # A rule's sentence quotes the cell it refused (`plan X is not a plan of this policy`): the
    # report quotes it echoed, so a 4,096-character cell is not repeated whole in each language.
    value = cell.strip()
    shown = echo(value)
    if not value or shown == value:
        return error
    return replace(error, text=Text(error.text.en.replace(value, shown), error.text.ar.replace(value, shown)))


@dataclass(frozen=True)
class ReportLine:
    """What happened to one input row."""

    line: int
    employee_no: str
    relationship: str
    member_id: str | None
    outcome: Outcome
    errors: tuple[RowError, ...] = ()
    # On a refused row: the person's name and, for each error, the cell it names, as HR wrote them
    # (echoed: visible and cut), so HR can find the row and see what was wrong without the file.
    name: str = ""
    values: tuple[str, ...] = ()

    @classmethod
    def rejected(cls, line: int, raw: Mapping[str, str], errors: Iterable[RowError]) -> ReportLine:
        """The line for a row refused by validation, identified by its cells as HR wrote them."""
        errors = tuple(_echoed_in_reason(e, raw.get(e.column) or "") if e.column else e for e in errors)
        return cls(
            line=line,
            employee_no=echo((raw.get("employee_no") or "").strip()),
            relationship=echo((raw.get("relationship") or "").strip()),
            member_id=None,
            outcome=Outcome.ERROR,
            errors=errors,
            name=echo((raw.get("name_en") or "").strip() or (raw.get("name_ar") or "").strip()),
            values=tuple(echo(raw.get(e.column) or "") if e.column else "" for e in errors),
        )


@dataclass(frozen=True)
class Totals:
    """Counts of rows by outcome."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    terminated: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "terminated": self.terminated,
            "errors": self.errors,
        }


# What a report ends with, in both languages: the file's facts (CSV lines with outcome `summary`) and
# the counts (outcome `total`), so the CSV alone says what became of the file; the workbook's summary
# sheet is made from these lines.
SUMMARY_LABELS: dict[str, tuple[str, str]] = {
    "file": ("File", "الملف"),
    "policy_no": ("Policy", "الوثيقة"),
    "received_at": ("Received at", "وقت الاستلام"),
    "finished_at": ("Finished at", "وقت الانتهاء"),
    "encoding": ("Encoding", "الترميز"),
    "unknown_columns": ("Columns not used", "أعمدة لم تُستخدم"),
    "status": ("Status", "الحالة"),
}
TOTAL_LABELS: dict[str, tuple[str, str]] = {
    "rows": ("Rows", "الصفوف"),
    "created": ("Created", "أُضيفت"),
    "updated": ("Updated", "حُدّثت"),
    "unchanged": ("Unchanged", "دون تغيير"),
    "terminated": ("Terminated", "أُنهيت"),
    "errors": ("Rows with errors", "صفوف فيها أخطاء"),
}


@dataclass(frozen=True)
class Upload:
    """One upload of an HR file, as S3's notification names it: what a report is named after.

    `identity` is what tells two uploads of the same key apart: the object's version id (the
    HR bucket is versioned), else the notification's sequencer, else the ETag. A redelivery of
    the same notification (an SQS retry) is the same upload and rewrites the same report.
    """

    key: str
    uploaded_at: datetime
    identity: str


# Kept in a report's name: letters and digits of any script (Arabic file names stay readable)
# and a few separators. Anything else, "/" and ".." included, cannot leave the policy's folder.
_NAME_KEEP = frozenset(" -_.()")
_NAME_MAX = 80
_DOTS = re.compile(r"\.{2,}")
_POLICY_SEGMENT = re.compile(r"[A-Z0-9][A-Z0-9-]{2,39}")


def _safe_name(key: str) -> str:
    stem = key.rsplit("/", 1)[-1]
    stem, dot, suffix = stem.rpartition(".") if "." in stem else (stem, "", "")
    if suffix.lower() not in ("csv", "xlsx"):
        stem = f"{stem}{dot}{suffix}"
    kept = "".join(ch if ch.isalnum() or ch in _NAME_KEEP else "_" for ch in stem)
    kept = _DOTS.sub(".", kept)  # no ".." anywhere, even where no "/" is left to make it a path
    return " ".join(kept.split()).strip(" .")[:_NAME_MAX].strip(" .") or "file"


def report_folder(policy_no: str) -> str:
    """hr/reports/<POLICY_NO>/, or hr/reports/unknown/ for a folder name no policy can have."""
    return f"hr/reports/{policy_no if _POLICY_SEGMENT.fullmatch(policy_no) else 'unknown'}/"


def report_id(upload: Upload) -> str:
    """<UTC upload time>_<12 hex digits of key and identity>: sorts by time, differs per upload."""
    digest = hashlib.sha256(f"{upload.key}\0{upload.identity}".encode()).hexdigest()[:12]
    # Milliseconds too: S3's event time has them, and two uploads of one content (one ETag) in one
    # second are two uploads where a notification carries neither version id nor sequencer.
    at = upload.uploaded_at.astimezone(UTC)
    return f"{at:%Y%m%dT%H%M%S}{at.microsecond // 1000:03d}Z_{digest}"


def report_keys(policy_no: str, upload: Upload) -> tuple[str, str]:
    """The S3 keys of an upload's JSON and CSV reports: hr/reports/<POLICY_NO>/<id>_<name>.report.*.

    Named by the upload, not the file name alone: the same name dropped again, or in another
    folder, gets a report of its own instead of replacing the earlier one.
    """
    base = f"{report_folder(policy_no)}{report_id(upload)}_{_safe_name(upload.key)}.report"
    return f"{base}.json", f"{base}.csv"


def report_xlsx_key(csv_key: str) -> str | None:
    """The workbook made from a report's CSV (the store writes it beside the CSV); None for any other key."""
    return csv_key.removesuffix(".report.csv") + ".report.xlsx" if csv_key.endswith(".report.csv") else None


def index_key(policy_no: str, upload: Upload) -> str:
    """The policy's report index holds one small entry per report: hr/reports/<POLICY_NO>/index/<id>.json."""
    return f"{report_folder(policy_no)}{INDEX_FOLDER}{report_id(upload)}.json"


INDEX_FOLDER = "index/"


def index_entry(upload: Upload, policy_no: str, keys: tuple[str, str], status: str, totals: Totals,
                finished_at: datetime) -> bytes:
    """What the index says of one report: enough to list a policy's files without opening them."""
    return _to_json({
        "report_version": REPORT_VERSION,
        "policy_no": policy_no,
        "file": upload.key.rsplit("/", 1)[-1],
        "key": upload.key,
        "upload": upload.identity,
        "uploaded_at": upload.uploaded_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        "status": status,
        "totals": totals.as_dict(),
        "report_json": keys[0],
        "report_csv": keys[1],
        "report_xlsx": report_xlsx_key(keys[1]),
    }).encode()


def run_folder(policy_no: str, upload: Upload) -> str:
    """Where a file enrolled in several invocations keeps its checkpoint, report parts and state until done."""
    return f"hr/runs/{report_folder(policy_no).split('/')[2]}/{report_id(upload)}/"


def continuation_key(checkpoint_key: str, seq: int) -> str:
    """The token that starts invocation `seq` of a run: a .csv under hr/incoming/, so S3 queues it like a file."""
    _, _, policy, run = checkpoint_key.split("/")[:4]
    return f"hr/incoming/{policy}/{CONTINUE_FOLDER}{run}.{seq:04d}.csv"


CONTINUE_FOLDER = "_continue/"

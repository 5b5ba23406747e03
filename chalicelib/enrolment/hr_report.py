"""The report of one HR file: a JSON and a CSV body, written row by row into spooled temp files.

Both bodies are appended to as rows are enrolled and never held whole in memory beyond
`spool_bytes` each: past that they roll over to a temp file (Lambda's /tmp), which keeps
a 50,000-row report far from the function's memory limit.

JSON: the run's facts known at the start, then `rows`, then what is only known at the end
(`file_errors`, `encoding`, `unknown_columns`, `totals`, `status`); key order means nothing
to a JSON reader and lets the rows stream. CSV: UTF-8 with a BOM (without it Excel reads
UTF-8 as the local code page and the Arabic turns to mojibake), CRLF, one line per input
row, file-level problems as lines with outcome `file_error`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import BinaryIO

from chalicelib.enrolment.rules import FileProblem, RowError

REPORT_VERSION = 1
SPOOL_BYTES = 2 * 1024 * 1024
# Encoding and writing per row costs more than the row itself; text goes out in blocks.
_BLOCK = 64 * 1024

CSV_HEADER = (
    "line",
    "employee_no",
    "relationship",
    "member_id",
    "outcome",
    "column",
    "rule",
    "reason_en",
    "reason_ar",
)

# A cell starting with one of these is run as a formula when Excel opens the CSV; the
# values come from an uploaded file, so they are defused with a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# Arabic stays readable in the JSON; one encoder, since json.dumps with options builds one
# per call, which dominated the cost of a 50,000-row report.
_to_json = json.JSONEncoder(ensure_ascii=False).encode


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    TERMINATED = "terminated"
    ERROR = "error"


@dataclass(frozen=True)
class ReportLine:
    """What happened to one input row."""

    line: int
    employee_no: str
    relationship: str
    member_id: str | None
    outcome: Outcome
    errors: tuple[RowError, ...] = ()

    @classmethod
    def rejected(cls, line: int, raw: Mapping[str, str], errors: Iterable[RowError]) -> ReportLine:
        """The line for a row refused by validation, identified by its cells as HR wrote them."""
        return cls(
            line=line,
            employee_no=(raw.get("employee_no") or "").strip(),
            relationship=(raw.get("relationship") or "").strip(),
            member_id=None,
            outcome=Outcome.ERROR,
            errors=tuple(errors),
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


@dataclass(frozen=True)
class ReportBodies:
    """The finished report: both bodies rewound to their start, ready to upload."""

    json: BinaryIO
    csv: BinaryIO
    totals: Totals
    status: str

    def close(self) -> None:
        self.json.close()
        self.csv.close()


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
    if stem.lower().endswith(".csv"):
        stem = stem[:-4]
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


def index_key(policy_no: str, upload: Upload) -> str:
    """The policy's report index holds one small entry per report: hr/reports/<POLICY_NO>/index/<id>.json."""
    return f"{report_folder(policy_no)}{INDEX_FOLDER}{report_id(upload)}.json"


INDEX_FOLDER = "index/"


def index_entry(upload: Upload, policy_no: str, keys: tuple[str, str], bodies: ReportBodies,
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
        "status": bodies.status,
        "totals": bodies.totals.as_dict(),
        "report_json": keys[0],
        "report_csv": keys[1],
    }).encode()


class _TextSpool:
    """UTF-8 text appended in pieces, encoded in blocks into a spooled temp file."""

    def __init__(self, max_size: int, spool_dir: str | None) -> None:
        # Outlives this call: handed over in ReportBodies, closed by its owner.
        self.file: BinaryIO = tempfile.SpooledTemporaryFile(  # type: ignore[assignment]  # noqa: SIM115
            max_size=max_size, mode="w+b", dir=spool_dir
        )
        self.buffer = io.StringIO()

    def write(self, text: str) -> None:
        self.buffer.write(text)
        if self.buffer.tell() >= _BLOCK:
            self.flush()

    def flush(self) -> None:
        self.file.write(self.buffer.getvalue().encode())
        self.buffer.seek(0)
        self.buffer.truncate()

    def done(self) -> BinaryIO:
        self.flush()
        self.file.seek(0)
        return self.file


def _safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _error_json(error: RowError) -> dict[str, object]:
    return {
        "column": error.column,
        "rule": error.rule,
        "reason": {"en": error.text.en, "ar": error.text.ar},
    }


def _problem_json(problem: FileProblem) -> dict[str, object]:
    return {
        "rule": problem.rule,
        "columns": list(problem.columns),
        "line": problem.line,
        "reason": {"en": problem.text.en, "ar": problem.text.ar},
    }


@dataclass
class ReportWriter:
    """Appends report lines for one HR file and produces the JSON and CSV bodies at the end."""

    file_name: str
    policy_no: str
    received_at: datetime
    spool_bytes: int = SPOOL_BYTES
    spool_dir: str | None = None
    encoding: str | None = None
    unknown_columns: tuple[str, ...] = ()
    _problems: list[FileProblem] = field(default_factory=list, init=False)
    _counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0), init=False)

    def __post_init__(self) -> None:
        self._json = _TextSpool(self.spool_bytes, self.spool_dir)
        self._csv = _TextSpool(self.spool_bytes, self.spool_dir)
        self._cells = csv.writer(self._csv)  # CRLF line ends, as Excel expects
        self._rows = 0
        head = {
            "report_version": REPORT_VERSION,
            "file": self.file_name,
            "policy_no": self.policy_no,
            "received_at": self.received_at.isoformat(),
        }
        # Drop the closing brace: rows follow inside the same object.
        self._json.write(_to_json(head)[:-1] + ', "rows": [')
        self._csv.write("\ufeff")
        self._write_csv(CSV_HEADER)

    def _write_csv(self, cells: Iterable[object]) -> None:
        self._cells.writerow([_safe_cell(c) for c in cells])

    def add(self, line: ReportLine) -> None:
        """Append one input row's outcome to both bodies."""
        self._counts[line.outcome] += 1
        record = {
            "line": line.line,
            "employee_no": line.employee_no,
            "relationship": line.relationship,
            "member_id": line.member_id,
            "outcome": line.outcome.value,
            "errors": [_error_json(e) for e in line.errors],
        }
        separator = ",\n" if self._rows else "\n"
        self._json.write(separator + _to_json(record))
        self._rows += 1
        # One CSV line per input row, even with several errors: HR counts rows, not errors.
        errors = line.errors
        self._write_csv(
            (
                line.line,
                line.employee_no,
                line.relationship,
                line.member_id or "",
                line.outcome.value,
                "; ".join(e.column for e in errors),
                "; ".join(e.rule for e in errors),
                " ".join(e.text.en for e in errors),
                " ".join(e.text.ar for e in errors),
            )
        )

    def add_file_problem(self, problem: FileProblem) -> None:
        """Record a problem with the whole file (or the rest of it) in both bodies."""
        self._problems.append(problem)
        self._write_csv(
            (
                problem.line or "",
                "",
                "",
                "",
                "file_error",
                "; ".join(problem.columns),
                problem.rule,
                problem.text.en,
                problem.text.ar,
            )
        )

    @property
    def totals(self) -> Totals:
        c = self._counts
        return Totals(
            rows=self._rows,
            created=c[Outcome.CREATED],
            updated=c[Outcome.UPDATED],
            unchanged=c[Outcome.UNCHANGED],
            terminated=c[Outcome.TERMINATED],
            errors=c[Outcome.ERROR],
        )

    def finish(self, *, finished_at: datetime) -> ReportBodies:
        """Close the JSON document and rewind both bodies; the writer is done after this."""
        totals = self.totals
        if self._problems and not self._rows:
            status = "rejected"
        elif self._problems or totals.errors:
            status = "completed_with_errors"
        else:
            status = "completed"
        tail = {
            "file_errors": [_problem_json(p) for p in self._problems],
            "encoding": self.encoding,
            "unknown_columns": list(self.unknown_columns),
            "totals": totals.as_dict(),
            "status": status,
            "finished_at": finished_at.isoformat(),
        }
        closing = ("\n" if self._rows else "") + "], "
        self._json.write(closing + _to_json(tail)[1:])
        return ReportBodies(json=self._json.done(), csv=self._csv.done(), totals=totals, status=status)

"""The report of one HR file: a JSON and a CSV body, written row by row into spooled temp files.

Both bodies are appended to as rows are enrolled and never held whole in memory beyond
`spool_bytes` each: past that they roll over to a temp file (Lambda's /tmp), which keeps
a 50,000-row report far from the function's memory limit.

JSON: the run's facts known at the start, then `rows`, then what is only known at the end
(`file_errors`, `encoding`, `unknown_columns`, `totals`, `status`); key order means nothing
to a JSON reader and lets the rows stream. CSV: UTF-8 with a BOM (without it Excel reads
UTF-8 as the local code page and the Arabic turns to mojibake), CRLF, one line per input
row, file-level problems as lines with outcome `file_error`.

A file enrolled in several invocations has one report: each invocation but the last hands over
what it wrote as a part (`take_part`), saves `state()` with its checkpoint, and the next one
goes on with `ReportWriter.resumed(state)`; the report is the parts in order, then the last
invocation's bodies (the store joins them).
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from chalicelib.enrolment.report_rules import REPORT_VERSION, Outcome, ReportLine, Totals
from chalicelib.enrolment.rules import FileProblem, RowError

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

    resumed_rows: int | None = None  # set by `resumed`: a later part, with no head of its own

    def __post_init__(self) -> None:
        self._new_spools()
        self._rows = self.resumed_rows or 0
        if self.resumed_rows is not None:
            return
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

    def _new_spools(self) -> None:
        self._json = _TextSpool(self.spool_bytes, self.spool_dir)
        self._csv = _TextSpool(self.spool_bytes, self.spool_dir)
        self._cells = csv.writer(self._csv)  # CRLF line ends, as Excel expects

    @classmethod
    def resumed(cls, state: Mapping[str, Any], *, spool_bytes: int = SPOOL_BYTES,
                spool_dir: str | None = None) -> ReportWriter:
        """Goes on with a report whose earlier parts were handed over (`state()` of the writer before)."""
        writer = cls(state["file_name"], state["policy_no"], datetime.fromisoformat(state["received_at"]),
                     spool_bytes=spool_bytes, spool_dir=spool_dir, encoding=state["encoding"],
                     unknown_columns=tuple(state["unknown_columns"]), resumed_rows=state["rows"])
        writer._counts = {outcome: state["counts"][outcome.value] for outcome in Outcome}
        return writer

    def state(self) -> dict[str, Any]:
        """What `resumed` needs (JSON); only between rows, before any file problem."""
        if self._problems:
            raise ValueError("a report with a file problem is finished, not continued")
        return {"file_name": self.file_name, "policy_no": self.policy_no,
                "received_at": self.received_at.isoformat(), "encoding": self.encoding,
                "unknown_columns": list(self.unknown_columns), "rows": self._rows,
                "counts": {outcome.value: n for outcome, n in self._counts.items()}}

    def take_part(self) -> tuple[BinaryIO, BinaryIO]:
        """The JSON and CSV written since the last part (rewound; the caller closes them); writing goes on."""
        part = self._json.done(), self._csv.done()
        self._new_spools()
        return part

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

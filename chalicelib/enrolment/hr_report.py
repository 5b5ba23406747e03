"""The report of one HR file: a JSON and a CSV body written into spooled temp files, and a workbook.

Lines come from the use case in the order rows are settled, not read: a refused row at once, an
accepted one after its chunk is written, a dependent listed before its principal at the end. The
writer puts them back in file order (`_InFileOrder`: sorted runs on disk past `sort_bytes`, merged),
so HR reads the report top to bottom beside their file. Both bodies are never held whole in memory
beyond `spool_bytes` each: past that they roll over to a temp file (Lambda's /tmp), which keeps a
50,000-row report far from the function's memory limit.

JSON: the run's facts known at the start, then `rows`, then what is only known at the end
(`file_errors`, `encoding`, `unknown_columns`, `totals`, `status`); key order means nothing
to a JSON reader and lets the rows stream. CSV: UTF-8 with a BOM (without it Excel reads
UTF-8 as the local code page and the Arabic turns to mojibake), CRLF, one line per input
row in file order (a refused row with the person's name and the offending cells), a file-level
problem at its row (or after the rows when it has none), then the file's facts (outcome `summary`)
and the totals (outcome `total`). Every report row is one line of text with its line number first.

A file enrolled in several invocations has one report: each invocation but the last hands over
what it wrote as a part (`take_part`, its lines in file order), saves `state()` with its
checkpoint, and the next one goes on with `ReportWriter.resumed(state)`; the store joins the parts
and the last invocation's bodies line by line in file order (`join_in_file_order`) and makes the
workbook from the joined CSV (`write_report_xlsx`).
"""

from __future__ import annotations

import csv
import heapq
import io
import json
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from chalicelib.enrolment.report_rules import (
    REPORT_VERSION,
    SUMMARY_LABELS,
    TOTAL_LABELS,
    Outcome,
    ReportLine,
    Totals,
    echo,
    visible,
)
from chalicelib.enrolment.rules import FileProblem, RowError

SPOOL_BYTES = 2 * 1024 * 1024
# Report lines wait in memory up to about this much before they are sorted into a run on disk.
SORT_BYTES = 512 * 1024
# Runs merged into one past this many, so a long report never holds many files open.
_MAX_RUNS = 64
# Encoding and writing per row costs more than the row itself; text goes out in blocks.
_BLOCK = 64 * 1024

CSV_HEADER = (
    "line",
    "employee_no",
    "relationship",
    "name",
    "member_id",
    "outcome",
    "column",
    "rule",
    "value",
    "reason_en",
    "reason_ar",
)

# A cell starting with one of these is run as a formula when Excel opens the CSV; the
# values come from an uploaded file, so they are defused with a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# Arabic stays readable in the JSON; one encoder, since json.dumps with options builds one
# per call, which dominated the cost of a 50,000-row report.
_to_json = json.JSONEncoder(ensure_ascii=False).encode

# (line, order added, JSON row or None for a CSV-only line, CSV line)
_Entry = tuple[int, int, str | None, str]


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
    # Every character visible (a right-to-left override in a reason would reorder the cell), and one
    # report row one line of text: the store joins a report's parts line by line.
    text = visible("" if value is None else str(value))
    return "'" + text if text.startswith(_FORMULA_START) else text


def _error_json(error: RowError, value: str) -> dict[str, object]:
    return {
        "column": error.column,
        "rule": error.rule,
        "value": value,
        "reason": {"en": error.text.en, "ar": error.text.ar},
    }


def _problem_json(problem: FileProblem) -> dict[str, object]:
    return {
        "rule": problem.rule,
        "columns": list(problem.columns),
        "line": problem.line,
        "reason": {"en": problem.text.en, "ar": problem.text.ar},
    }


def _temp_file(spool_dir: str | None) -> BinaryIO:
    return tempfile.TemporaryFile(dir=spool_dir)  # closed by its reader


def _read_run(run: BinaryIO) -> Iterator[_Entry]:
    while header := run.readline():
        line, order, json_size, csv_size = map(int, header.split())
        json_text = run.read(json_size).decode() if json_size >= 0 else None
        yield line, order, json_text, run.read(csv_size).decode()


class _InFileOrder:
    """Report lines added in any order, given back by line number (then in the order added).

    Bounded memory: past `max_bytes` the lines held are sorted into a run in a temp file, and the
    runs are merged when the lines are taken.
    """

    def __init__(self, max_bytes: int, spool_dir: str | None) -> None:
        self._max_bytes, self._spool_dir = max_bytes, spool_dir
        self._held: list[_Entry] = []
        self._held_bytes = 0
        self._runs: list[BinaryIO] = []
        self._added = 0

    def add(self, line: int, json_text: str | None, csv_text: str) -> None:
        self._held.append((line, self._added, json_text, csv_text))
        self._added += 1
        # About 200 bytes of objects besides the text itself.
        self._held_bytes += 200 + len(csv_text) + len(json_text or "")
        if self._held_bytes >= self._max_bytes:
            self._held.sort()  # (line, order added) is unique: the texts are never compared
            self._runs.append(self._write_run(self._held))
            self._held, self._held_bytes = [], 0
            if len(self._runs) >= _MAX_RUNS:
                runs, self._runs = self._runs, []
                try:
                    self._runs.append(self._write_run(heapq.merge(*map(_read_run, runs))))
                finally:
                    for run in runs:
                        run.close()

    def _write_run(self, entries: Iterable[_Entry]) -> BinaryIO:
        run = _temp_file(self._spool_dir)
        for line, order, json_text, csv_text in entries:
            json_bytes = b"" if json_text is None else json_text.encode()
            csv_bytes = csv_text.encode()
            size = -1 if json_text is None else len(json_bytes)
            run.write(b"%d %d %d %d\n" % (line, order, size, len(csv_bytes)) + json_bytes + csv_bytes)
        run.seek(0)
        return run

    def take(self) -> Iterator[_Entry]:
        """Every line added since the last take, in file order."""
        held, runs = sorted(self._held), self._runs
        self._held, self._held_bytes, self._runs = [], 0, []
        try:
            yield from heapq.merge(*map(_read_run, runs), held)
        finally:
            for run in runs:
                run.close()


@dataclass
class ReportWriter:
    """Appends report lines for one HR file and produces the JSON and CSV bodies, in file order, at the end."""

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
    sort_bytes: int = SORT_BYTES

    def __post_init__(self) -> None:
        self._lines = _InFileOrder(self.sort_bytes, self.spool_dir)
        self._rows = self.resumed_rows or 0  # rows reported, by this invocation and the ones before
        self._written = self.resumed_rows or 0  # JSON rows written out (parts taken included)
        self._head_due = self.resumed_rows is None
        self._line_text = io.StringIO()
        self._cells = csv.writer(self._line_text)  # CRLF line ends, as Excel expects

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
        """The JSON and CSV of the lines added since the last part, in file order (rewound; the caller
        closes them); writing goes on."""
        json_part = _TextSpool(self.spool_bytes, self.spool_dir)
        csv_part = _TextSpool(self.spool_bytes, self.spool_dir)
        self._write_lines(json_part, csv_part)
        return json_part.done(), csv_part.done()

    def _csv_line(self, cells: Iterable[object]) -> str:
        self._line_text.seek(0)
        self._line_text.truncate()
        self._cells.writerow([_safe_cell(c) for c in cells])
        return self._line_text.getvalue()

    def _write_lines(self, json_body: _TextSpool, csv_body: _TextSpool) -> None:
        if self._head_due:
            head = {
                "report_version": REPORT_VERSION,
                "file": self.file_name,
                "policy_no": self.policy_no,
                "received_at": self.received_at.isoformat(),
            }
            # Drop the closing brace: rows follow inside the same object.
            json_body.write(_to_json(head)[:-1] + ', "rows": [')
            csv_body.write("\ufeff" + self._csv_line(CSV_HEADER))
            self._head_due = False
        for _, _, json_text, csv_text in self._lines.take():
            if json_text is not None:
                # The separator goes before a row: a part ends right after its last row.
                json_body.write((",\n" if self._written else "\n") + json_text)
                self._written += 1
            csv_body.write(csv_text)

    def add(self, line: ReportLine) -> None:
        """Append one input row's outcome to both bodies."""
        self._counts[line.outcome] += 1
        self._rows += 1
        errors = line.errors
        values = (*line.values, *("",) * (len(errors) - len(line.values)))
        record: dict[str, object] = {"line": line.line, "employee_no": line.employee_no,
                                     "relationship": line.relationship}
        if line.name:
            record["name"] = line.name
        record |= {"member_id": line.member_id, "outcome": line.outcome.value,
                   "errors": [_error_json(e, v) for e, v in zip(errors, values, strict=False)]}
        # One CSV line per input row, even with several errors: HR counts rows, not errors.
        csv_text = self._csv_line(
            (
                line.line,
                line.employee_no,
                line.relationship,
                line.name,
                line.member_id or "",
                line.outcome.value,
                "; ".join(e.column for e in errors),
                "; ".join(e.rule for e in errors),
                "; ".join(values) if any(values) else "",
                " ".join(e.text.en for e in errors),
                " ".join(e.text.ar for e in errors),
            )
        )
        self._lines.add(line.line, _to_json(record), csv_text)

    def add_file_problem(self, problem: FileProblem) -> None:
        """Record a problem with the whole file (or the rest of it): in the CSV at its row, or after the rows."""
        self._problems.append(problem)
        if problem.line:
            self._lines.add(problem.line, None, self._problem_line(problem))

    def _problem_line(self, problem: FileProblem) -> str:
        return self._csv_line(("" if problem.line is None else problem.line, "", "", "", "", "file_error",
                               "; ".join(problem.columns), problem.rule, "", problem.text.en, problem.text.ar))

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
        """Write the lines in file order, then the summary; rewind both bodies; the writer is done after this."""
        totals = self.totals
        if self._problems and not self._rows:
            status = "rejected"
        elif self._problems or totals.errors:
            status = "completed_with_errors"
        else:
            status = "completed"
        json_body = _TextSpool(self.spool_bytes, self.spool_dir)
        csv_body = _TextSpool(self.spool_bytes, self.spool_dir)
        self._write_lines(json_body, csv_body)
        for problem in self._problems:
            if not problem.line:
                csv_body.write(self._problem_line(problem))
        facts = {
            "file": echo(self.file_name),
            "policy_no": echo(self.policy_no),
            "received_at": self.received_at.isoformat(),
            "finished_at": finished_at.isoformat(),
            "encoding": self.encoding or "",
            "unknown_columns": "; ".join(echo(c) for c in self.unknown_columns),
            "status": status,
        }
        for key, value in facts.items():
            csv_body.write(self._csv_line(("", "", "", "", "", "summary", key, "", value, *SUMMARY_LABELS[key])))
        for key, count in totals.as_dict().items():
            csv_body.write(self._csv_line(("", "", "", "", "", "total", key, "", count, *TOTAL_LABELS[key])))
        tail = {
            "file_errors": [_problem_json(p) for p in self._problems],
            "encoding": self.encoding,
            "unknown_columns": list(self.unknown_columns),
            "totals": totals.as_dict(),
            "status": status,
            "finished_at": finished_at.isoformat(),
        }
        json_body.write("\n], " + _to_json(tail)[1:])
        return ReportBodies(json=json_body.done(), csv=csv_body.done(), totals=totals, status=status)


# --- joining a report written in parts --------------------------------------------------------

_JSON_ROW = b'{"line": '


def _csv_keyed(body: BinaryIO) -> Iterator[tuple[int, int, bytes]]:
    """(0 head | 1 row | 2 summary, line, text) for each line of a CSV body."""
    for text in body:
        if text[:1].isdigit():
            try:
                yield 1, int(text.split(b",", 1)[0]), text
                continue
            except ValueError:
                pass
        yield (0 if text.startswith((b"\xef\xbb\xbf", b"line,")) else 2), 0, text


def _json_keyed(body: BinaryIO) -> Iterator[tuple[int, int, bytes]]:
    """(0 head | 1 row | 2 tail, line, text) for each line of a JSON body, separators dropped."""
    for raw in body:
        text = raw.rstrip(b"\r\n")
        if text.startswith(_JSON_ROW):
            yield 1, int(text[len(_JSON_ROW):text.index(b",", len(_JSON_ROW))]), text.removesuffix(b",")
        elif text.startswith(b"]"):
            yield 2, 0, text
        elif text.strip(b", "):
            yield 0, 0, text


def join_in_file_order(bodies: Sequence[BinaryIO], out: BinaryIO) -> None:
    """One report from its parts and its last body (each in file order), merged line by line in file order.

    Not just concatenated: a dependent listed before its principal is reported only at the end of the
    file, by the last invocation, and belongs at its own row. The result is the report one invocation
    would have written. Each body is read once, a line at a time.
    """
    if not bodies:
        return
    is_json = bodies[0].read(1) == b"{"
    bodies[0].seek(0)
    merged = heapq.merge(*((_json_keyed if is_json else _csv_keyed)(b) for b in bodies),
                         key=lambda keyed: keyed[:2])  # stable: a tie keeps the order of the bodies
    if not is_json:
        for _, _, text in merged:
            out.write(text)
        return
    rows = 0
    for kind, _, text in merged:
        if kind == 1:
            out.write((b",\n" if rows else b"\n") + text)
            rows += 1
        else:
            out.write(b"\n" + text if kind == 2 else text)


# --- the workbook -----------------------------------------------------------------------------

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_XLSX_WIDTHS = {"line": 7, "employee_no": 14, "relationship": 13, "name": 30, "member_id": 16, "outcome": 12,
                "column": 18, "rule": 22, "value": 30, "reason_en": 70, "reason_ar": 70}
_XLSX_CELL_MAX = 32_767  # Excel's longest cell
_XLSX_ROWS_MAX = 1_048_576  # and most rows a sheet
_SUMMARY_KEPT = 1_000  # summary and file-error lines kept for the summary sheet (a report has a dozen)


def write_report_xlsx(csv_body: BinaryIO, out: BinaryIO) -> None:
    """The report's CSV as a workbook: a sheet of its rows in file order and a summary sheet.

    openpyxl's write-only mode streams the rows sheet to a temp file as it goes: a 50,000-row report
    never sits in memory as cells. The rows sheet reads left to right, like the codes in most columns;
    its Arabic column is right-aligned and right-to-left.
    """
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    maker = _ReportBook(book)
    reader_text = io.TextIOWrapper(csv_body, encoding="utf-8-sig", newline="")
    try:
        maker.rows(csv.reader(reader_text))
    finally:
        reader_text.detach()  # the body stays open: it is its owner's
    maker.summary()
    book.save(out)


class _ReportBook:
    """Fills a write-only workbook from a report's CSV lines: rows first, then the summary kept aside."""

    def __init__(self, book: Any) -> None:
        from openpyxl.styles import Alignment, Font, PatternFill

        self.rows_sheet, self.summary_sheet = book.create_sheet("Rows"), book.create_sheet("Summary")
        self.header_style = (Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F4E78"))
        self.error_style = (Font(color="9C0006"), PatternFill("solid", fgColor="FFC7CE"))
        self.rtl = Alignment(horizontal="right", readingOrder=2)  # readingOrder 2: right-to-left
        self.at: dict[str, int] = {}
        self.summary_lines: list[list[str]] = []
        self.file_errors: list[list[str]] = []
        self.left_out = 0  # report rows past the sheet's last row: the CSV has them

    @staticmethod
    def text(value: str) -> str:
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        # Control characters are refused by the format (the CSV echoes a cell's as <U+XXXX> already).
        shown: str = ILLEGAL_CHARACTERS_RE.sub(lambda m: f"<U+{ord(m.group()):04X}>", value)
        return shown[:_XLSX_CELL_MAX]

    def number(self, value: str) -> int | str:
        return int(value) if value.isdigit() and len(value) < 16 else self.text(value)

    def cell(self, sheet: Any, value: object, *, style: tuple[Any, Any] | None = None, arabic: bool = False) -> Any:
        from openpyxl.cell import WriteOnlyCell

        c = WriteOnlyCell(sheet, value=self.text(value) if isinstance(value, str) else value)
        if style is not None:
            c.font, c.fill = style
        if arabic:
            c.alignment = self.rtl
        return c

    def field(self, record: list[str], name: str) -> str:
        i = self.at.get(name, -1)
        return record[i] if 0 <= i < len(record) else ""

    def rows(self, reader: Iterator[list[str]]) -> None:
        from openpyxl.utils import get_column_letter

        sheet = self.rows_sheet
        header = next(reader, None) or list(CSV_HEADER)
        self.at = {name: i for i, name in enumerate(header)}
        arabic = {i for i, name in enumerate(header) if name.endswith("_ar")}
        for i, name in enumerate(header, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = _XLSX_WIDTHS.get(name, 16)
        sheet.freeze_panes = "A2"
        sheet.append([self.cell(sheet, name, style=self.header_style, arabic=i in arabic)
                      for i, name in enumerate(header)])
        line_at, outcome_at, written = self.at.get("line", -1), self.at.get("outcome", -1), 1
        for record in reader:
            outcome = self.field(record, "outcome")
            if outcome in ("summary", "total"):
                if len(self.summary_lines) < _SUMMARY_KEPT:
                    self.summary_lines.append(record)
                continue
            if outcome == "file_error" and len(self.file_errors) < _SUMMARY_KEPT:
                self.file_errors.append(record)
            if written == _XLSX_ROWS_MAX:
                self.left_out += 1
                continue
            failed = outcome in ("error", "file_error")
            sheet.append([
                None if not value
                else self.number(value) if i == line_at
                else self.cell(sheet, value, arabic=True) if i in arabic
                else self.cell(sheet, value, style=self.error_style) if failed and i == outcome_at
                else self.text(value)
                for i, value in enumerate(record)
            ])
            written += 1
        sheet.auto_filter.ref = f"A1:{get_column_letter(max(len(header), 1))}{written}"

    def summary(self) -> None:
        sheet = self.summary_sheet
        for column, width in zip("ABCDE", (26, 26, 40, 70, 70), strict=True):
            sheet.column_dimensions[column].width = width
        sheet.freeze_panes = "A2"
        sheet.append([self.cell(sheet, h, style=self.header_style, arabic=h in ("البند", "السبب"))
                      for h in ("Item", "البند", "Value", "Reason", "السبب")])
        for record in self.summary_lines:
            value = self.field(record, "value")
            flagged = self.field(record, "column") == "errors" and value not in ("", "0")
            shown = self.number(value) if self.field(record, "outcome") == "total" else value
            sheet.append([self.text(self.field(record, "reason_en")),
                          self.cell(sheet, self.field(record, "reason_ar"), arabic=True),
                          self.cell(sheet, shown, style=self.error_style if flagged else None)])
        if self.left_out:
            sheet.append(["Rows only in the CSV (past Excel's last row)",
                          self.cell(sheet, "صفوف في ملف CSV فقط (بعد آخر صف في Excel)", arabic=True),
                          self.cell(sheet, self.left_out, style=self.error_style)])
        if not self.file_errors:
            return
        sheet.append([])
        sheet.append([self.cell(sheet, "File errors", style=self.header_style),
                      self.cell(sheet, "أخطاء الملف", style=self.header_style, arabic=True)])
        for record in self.file_errors:
            line = self.field(record, "line")
            sheet.append([f"Row {line}" if line else "File",
                          self.cell(sheet, f"الصف {line}" if line else "الملف", arabic=True),
                          self.cell(sheet, self.field(record, "rule"), style=self.error_style),
                          self.text(self.field(record, "reason_en")),
                          self.cell(sheet, self.field(record, "reason_ar"), arabic=True)])

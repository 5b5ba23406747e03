"""HR teams live in Excel: the report as a workbook, read back with openpyxl as Excel would open it."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import openpyxl

from chalicelib.enrolment.hr_report import CSV_HEADER, ReportWriter, write_report_xlsx
from chalicelib.enrolment.report_rules import TOTAL_LABELS, Outcome, ReportLine
from chalicelib.enrolment.rules import FileProblem
from chalicelib.enrolment.use_cases import enrol_file
from chalicelib.errors import Text
from tests.enrolment.support import KEY, dependent_line, enrolment_on_fakes, principal_line

MB = 1024 * 1024
FINISHED = datetime(2026, 11, 22, 8, 1, tzinfo=UTC)


def report_csv_with_errors_in_the_middle() -> bytes:
    deps, store, _ = enrolment_on_fakes(
        principal_line("E1", "e1@acme.example"),
        principal_line("E2", "e2@acme.example", name="Hessa Al-Shammari").replace(",male,", ",?,"),
        dependent_line("E9", "child", "Sara Ahmad"),
        principal_line("E9", "e9@acme.example"),
        dependent_line("E404", "spouse", "Mona Nobody"),
        principal_line("E6", "e6@acme.example"),
    )
    result = enrol_file(deps, store.bucket, KEY)
    return store.objects[result.report_keys[1]][0]


def workbook_of(raw_csv: bytes, *, read_only: bool = True) -> openpyxl.Workbook:
    book = io.BytesIO()
    write_report_xlsx(io.BytesIO(raw_csv), book)
    book.seek(0)
    return openpyxl.load_workbook(book, read_only=read_only)


def test_the_workbook_has_the_csvs_rows_in_file_order_and_a_summary_whose_totals_are_the_csvs():
    raw_csv = report_csv_with_errors_in_the_middle()
    table = list(csv.reader(io.StringIO(raw_csv.decode("utf-8-sig"), newline="")))

    book = workbook_of(raw_csv)

    assert book.sheetnames == ["Rows", "Summary"]
    sheet_rows = [list(r) for r in book["Rows"].iter_rows(values_only=True)]
    assert tuple(sheet_rows[0]) == CSV_HEADER
    assert [r[0] for r in sheet_rows[1:]] == [2, 3, 4, 5, 6, 7]  # numbers, in file order
    csv_rows = [r for r in table[1:] if r[0]]
    for in_sheet, in_csv in zip(sheet_rows[1:], csv_rows, strict=True):
        cells = [("" if v is None else str(v)) for v in in_sheet]
        assert cells + [""] * (len(CSV_HEADER) - len(cells)) == in_csv  # a read-only sheet drops empty ends
    error = dict(zip(CSV_HEADER, sheet_rows[2], strict=True))
    assert (error["outcome"], error["value"], error["name"]) == ("error", "?", "Hessa Al-Shammari")
    assert "الجنس" in error["reason_ar"]

    summary = {r[0]: r[2] for r in book["Summary"].iter_rows(min_row=2, values_only=True) if r and r[0]}
    csv_totals = {r[CSV_HEADER.index("column")]: int(r[CSV_HEADER.index("value")]) for r in table
                  if r[CSV_HEADER.index("outcome")] == "total"}
    assert {key: summary[en] for key, (en, _) in TOTAL_LABELS.items()} == csv_totals
    assert csv_totals == {"rows": 6, "created": 4, "updated": 0, "unchanged": 0, "terminated": 0, "errors": 2}
    assert summary["File"] == "staff.csv" and summary["Policy"] == "GP-ACME-2026"
    assert summary["Encoding"] == "utf-8" and summary["Status"] == "completed_with_errors"
    assert summary["Received at"].startswith("2026-03-01T09:00:00")


def test_the_arabic_column_reads_right_to_left_in_a_left_to_right_sheet_with_a_styled_frozen_header():
    book = workbook_of(report_csv_with_errors_in_the_middle(), read_only=False)  # views and widths too

    rows = book["Rows"]
    arabic = CSV_HEADER.index("reason_ar") + 1
    assert rows.cell(3, arabic).alignment.readingOrder == 2 and rows.cell(3, arabic).alignment.horizontal == "right"
    assert rows.cell(3, 1).alignment.readingOrder in (0, None)  # the rest reads in its own direction
    assert not rows.sheet_view.rightToLeft
    assert rows.freeze_panes == "A2" and book["Summary"].freeze_panes == "A2"
    assert all(rows.cell(1, c).font.b for c in range(1, len(CSV_HEADER) + 1))
    assert rows.column_dimensions["K"].width >= 60 and rows.column_dimensions["A"].width <= 10
    assert rows.auto_filter.ref == f"A1:K{rows.max_row}"
    assert rows.cell(3, CSV_HEADER.index("outcome") + 1).fill.fgColor.rgb.endswith("FFC7CE")  # errors stand out


def test_file_errors_are_on_the_summary_sheet_and_control_characters_never_break_the_workbook():
    out = ReportWriter(file_name="staff.csv", policy_no="GP-ACME-2026", received_at=FINISHED)
    out.add(ReportLine(2, "E1\x01", "principal", "M2", Outcome.CREATED))
    out.add_file_problem(FileProblem("undecodable", Text("Bytes are not text.", "بايتات ليست نصًا."), line=3))
    raw_csv = out.finish(finished_at=FINISHED).csv.read()

    book = workbook_of(raw_csv)

    assert [r[:2] for r in book["Rows"].iter_rows(min_row=2, values_only=True)] == [(2, "E1<U+0001>"), (3, None)]
    summary = [r for r in book["Summary"].iter_rows(values_only=True) if r and r[0]]
    assert ("Row 3", "الصف 3", "undecodable", "Bytes are not text.", "بايتات ليست نصًا.") in summary


def test_rows_past_excels_last_row_are_counted_on_the_summary_sheet_not_dropped_silently(monkeypatch):
    from chalicelib.enrolment import hr_report

    monkeypatch.setattr(hr_report, "_XLSX_ROWS_MAX", 4)  # the header and 3 rows; Excel's is 1,048,576

    book = workbook_of(report_csv_with_errors_in_the_middle())

    assert [r[0] for r in book["Rows"].iter_rows(min_row=2, values_only=True)] == [2, 3, 4]
    summary = {r[0]: r[2] for r in book["Summary"].iter_rows(min_row=2, values_only=True) if r and r[0]}
    assert summary["Rows only in the CSV (past Excel's last row)"] == 3
    assert summary["Rows"] == 6


# Run in a fresh interpreter: its peak RSS is this work's alone (tracemalloc would make it four times slower).
_RSS_PROBE = """
import resource, sys
from datetime import UTC, datetime
from unittest import mock

import openpyxl

from chalicelib.enrolment.hr_report import ReportWriter, write_report_xlsx
from chalicelib.enrolment.report_rules import Outcome, ReportLine

at = datetime(2026, 11, 22, tzinfo=UTC)
out = ReportWriter(file_name="generated-50k.csv", policy_no="GP-BENCH-2026", received_at=at,
                   spool_bytes=1024 * 1024, spool_dir=sys.argv[1])
for line in range(2, 50_002):
    if line % 50:
        out.add(ReportLine(line, f"E{100000 + line}", "principal", "Y31DA3QZR1X04", Outcome.CREATED))
    else:
        out.add(ReportLine.rejected(line, {"employee_no": f"E{line}", "relationship": "principal",
                                           "name_en": "Ahmad Ali", "gender": "?"}, []))
report = out.finish(finished_at=at)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with mock.patch.object(openpyxl, "Workbook", wraps=openpyxl.Workbook) as made, open(sys.argv[2], "wb") as book:
    write_report_xlsx(report.csv, book)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(before, after, [call.kwargs for call in made.call_args_list])
"""


def test_a_50000_row_workbook_is_written_write_only_in_bounded_memory(tmp_path: Path):
    import subprocess
    import sys

    path = tmp_path / "report.xlsx"
    root = Path(__file__).resolve().parents[3]
    probe = subprocess.run([sys.executable, "-c", _RSS_PROBE, str(tmp_path), str(path)], cwd=root, check=True,
                           capture_output=True, text=True, timeout=300)
    before_kb, after_kb, made = probe.stdout.split(" ", 2)

    assert made.strip() == "[{'write_only': True}]"
    assert path.stat().st_size > 1 * MB
    grew = (int(after_kb) - int(before_kb)) * 1024
    # 50,000 rows as cells would be hundreds of MB; written row by row, openpyxl holds a few.
    assert grew < 20 * MB, f"peak RSS grew {grew / MB:.1f} MB"
    with zipfile.ZipFile(path) as book:  # opened by an independent reader: the sheet has every row
        assert book.read("xl/worksheets/sheet1.xml").count(b"<row ") == 50_001

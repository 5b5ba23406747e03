"""The HR clerk reads the report's CSV beside their file: one line per row in the file's order, the bad cell and
the person's name on each error line, the totals at the end."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import ClassVar

from chalicelib.enrolment.hr_report import CSV_HEADER, ReportWriter, join_in_file_order
from chalicelib.enrolment.report_rules import (
    ECHO_MAX,
    SUMMARY_LABELS,
    TOTAL_LABELS,
    Outcome,
    ReportLine,
)
from chalicelib.enrolment.rules import RowError
from chalicelib.enrolment.use_cases import enrol_file
from chalicelib.errors import Text
from tests.enrolment.support import KEY, POLICY_NO, dependent_line, enrolment_on_fakes, principal_line

RECEIVED = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
FINISHED = datetime(2026, 11, 22, 8, 1, tzinfo=UTC)


def table_of(raw_csv: bytes) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO(raw_csv.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == CSV_HEADER
    return [dict(zip(CSV_HEADER, row, strict=True)) for row in rows[1:]]


def totals_of(table: list[dict[str, str]]) -> dict[str, int]:
    return {line["column"]: int(line["value"]) for line in table if line["outcome"] == "total"}


class SettledOrder(ReportWriter):
    """The real writer, noting the order the use case settles rows in."""

    settled: ClassVar[list[int]] = []

    def add(self, line: ReportLine) -> None:
        SettledOrder.settled.append(line.line)
        super().add(line)


def test_a_file_with_errors_in_the_middle_is_reported_in_file_order_with_the_bad_cell_and_the_name():
    deps, store, _ = enrolment_on_fakes(
        principal_line("E1", "e1@acme.example"),                                   # line 2
        principal_line("E2", "e2@acme.example", name="Hessa Al-Shammari").replace(",male,", ",?,"),  # 3: bad gender
        dependent_line("E9", "child", "Sara Ahmad"),                               # 4: before her principal
        principal_line("E9", "e9@acme.example"),                                   # 5
        dependent_line("E404", "spouse", "Mona Nobody"),                           # 6: no such principal
        principal_line("E5", "e5@acme.example", plan="=HYPERLINK(\"x\")"),         # 7: unknown plan, a formula
        principal_line("E6", "e6@acme.example"),                                   # 8
    )
    SettledOrder.settled = []
    deps.new_report = SettledOrder

    result = enrol_file(deps, store.bucket, KEY)

    # The use case settles refused rows at once and a dependent before her principal at the end...
    assert SettledOrder.settled != sorted(SettledOrder.settled)
    table = table_of(store.objects[result.report_keys[1]][0])
    rows = [line for line in table if line["line"]]
    # ...and the report lists every row where it is in the file.
    assert [line["line"] for line in rows] == ["2", "3", "4", "5", "6", "7", "8"]
    assert [line["outcome"] for line in rows] == ["created", "error", "created", "created", "error", "error",
                                                  "created"]
    bad_gender, nobody, formula = rows[1], rows[4], rows[5]
    assert (bad_gender["column"], bad_gender["value"], bad_gender["name"]) == ("gender", "?", "Hessa Al-Shammari")
    assert (nobody["rule"], nobody["value"], nobody["name"]) == ("principal_missing", "E404", "Mona Nobody")
    assert formula["value"] == "'=HYPERLINK(\"x\")"  # echoed, and Excel does not run it
    # The end of the CSV tells the story without the JSON: the file's facts, then the totals.
    trailer = table[len(rows):]
    assert [line["outcome"] for line in trailer] == ["summary"] * len(SUMMARY_LABELS) + ["total"] * len(TOTAL_LABELS)
    assert totals_of(table) == result.totals == {"rows": 7, "created": 4, "updated": 0, "unchanged": 0,
                                                 "terminated": 0, "errors": 3}
    facts = {line["column"]: line["value"] for line in trailer if line["outcome"] == "summary"}
    assert facts["file"] == "staff.csv" and facts["policy_no"] == POLICY_NO
    assert facts["status"] == "completed_with_errors" and facts["encoding"] == "utf-8"
    # The JSON says the same, in the same order.
    document = json.loads(store.objects[result.report_keys[0]][0])
    assert [r["line"] for r in document["rows"]] == [2, 3, 4, 5, 6, 7, 8]
    assert document["rows"][1]["name"] == "Hessa Al-Shammari"
    assert document["rows"][1]["errors"][0]["value"] == "?"


def test_a_huge_hostile_cell_is_echoed_cut_and_visible_and_the_reason_quotes_it_cut_too():
    hostile = "=cmd|' /C calc'!A0\u202e" + "x" * 4000
    out = ReportWriter(file_name="staff.csv", policy_no=POLICY_NO, received_at=RECEIVED)
    raw = {"employee_no": "E1", "relationship": "principal", "name_en": "Ali\u200bBaba", "plan": hostile}
    error = RowError(2, "plan", "unknown_plan", Text(f"plan {hostile} is not a plan", f"الخطة {hostile} ليست"))
    out.add(ReportLine.rejected(2, raw, [error]))
    report = out.finish(finished_at=FINISHED)

    (line,) = [row for row in table_of(report.csv.read()) if row["line"]]
    assert line["value"].startswith("'=cmd|") and line["value"].endswith("\u2026")
    assert len(line["value"]) == 1 + ECHO_MAX  # the apostrophe that defuses it, then the cut cell
    assert "<U+202E>" in line["value"] and "\u202e" not in line["value"]
    assert line["name"] == "Ali<U+200B>Baba"
    assert len(line["reason_en"]) < 200 and len(line["reason_ar"]) < 200
    assert "\u202e" not in line["reason_ar"]


def lines_settled_as_the_use_case_does() -> list[list[ReportLine]]:
    """Three invocations' lines: each settles its refused rows first, and the last one the dependent of line 4,
    whose principal came later in the file."""
    def ok(n: int) -> ReportLine:
        return ReportLine(n, f"E{n}", "principal", f"M{n}", Outcome.CREATED)

    def bad(n: int) -> ReportLine:
        return ReportLine.rejected(n, {"employee_no": f"E{n}", "relationship": "principal", "name_en": f"Name {n}",
                                       "gender": "?"}, [])

    late = ReportLine(4, "E30", "child", "M4", Outcome.CREATED)
    return [
        [bad(6), ok(2), ok(3), ok(5), ok(7)],
        [bad(10), bad(12), ok(8), ok(9), ok(11)],
        [ok(13), ok(14), late],
    ]


def test_a_report_written_over_several_hand_overs_is_one_report_in_file_order_with_one_totals_block():
    invocations = lines_settled_as_the_use_case_does()
    one_go = ReportWriter(file_name="big.csv", policy_no=POLICY_NO, received_at=RECEIVED)
    for settled in invocations:
        for line in settled:
            one_go.add(line)
    whole = one_go.finish(finished_at=FINISHED)

    writer = ReportWriter(file_name="big.csv", policy_no=POLICY_NO, received_at=RECEIVED)
    json_parts, csv_parts = [], []
    for settled in invocations[:-1]:
        for line in settled:
            writer.add(line)
        part_json, part_csv = writer.take_part()
        json_parts.append(part_json)
        csv_parts.append(part_csv)
        writer = ReportWriter.resumed(json.loads(json.dumps(writer.state())))
    for line in invocations[-1]:
        writer.add(line)
    last = writer.finish(finished_at=FINISHED)
    joined_json, joined_csv = io.BytesIO(), io.BytesIO()
    join_in_file_order([*json_parts, last.json], joined_json)
    join_in_file_order([*csv_parts, last.csv], joined_csv)

    table = table_of(joined_csv.getvalue())
    assert [line["line"] for line in table if line["line"]] == [str(n) for n in range(2, 15)]
    assert [line["outcome"] for line in table].count("total") == len(TOTAL_LABELS)
    assert table[-1] == {**dict.fromkeys(CSV_HEADER, ""), "outcome": "total", "column": "errors", "value": "3",
                         "reason_en": "Rows with errors", "reason_ar": "صفوف فيها أخطاء"}
    assert totals_of(table) == {"rows": 13, "created": 10, "updated": 0, "unchanged": 0, "terminated": 0,
                                "errors": 3}
    document = json.loads(joined_json.getvalue())
    assert [r["line"] for r in document["rows"]] == list(range(2, 15))
    # Byte for byte what one invocation writes for the same lines.
    assert joined_csv.getvalue() == whole.csv.read()
    assert joined_json.getvalue() == whole.json.read()


def test_lines_past_the_memory_bound_are_sorted_on_disk_and_come_back_in_file_order(tmp_path):
    out = ReportWriter(file_name="big.csv", policy_no=POLICY_NO, received_at=RECEIVED, spool_dir=str(tmp_path),
                       sort_bytes=8 * 1024)
    # Refused rows settled first in each chunk of 100, as the use case does.
    for start in range(2, 3002, 100):
        chunk = range(start, start + 100)
        for n in chunk:
            if n % 7 == 0:
                out.add(ReportLine.rejected(n, {"employee_no": f"E{n}", "relationship": "x"}, []))
        for n in chunk:
            if n % 7:
                out.add(ReportLine(n, f"E{n}", "principal", f"M{n}", Outcome.UNCHANGED))
    report = out.finish(finished_at=FINISHED)

    table = table_of(report.csv.read())
    assert [int(line["line"]) for line in table if line["line"]] == list(range(2, 3002))
    assert [r["line"] for r in json.loads(report.json.read())["rows"]] == list(range(2, 3002))
    assert totals_of(table)["errors"] == len([n for n in range(2, 3002) if n % 7 == 0])

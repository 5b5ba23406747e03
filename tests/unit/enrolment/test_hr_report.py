"""The report HR gets for every file: JSON for machines, CSV that opens in Excel with Arabic."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from chalicelib.enrolment.hr_csv import open_hr_csv
from chalicelib.enrolment.hr_report import CSV_HEADER, ReportBodies, ReportWriter
from chalicelib.enrolment.report_rules import (
    SUMMARY_LABELS,
    TOTAL_LABELS,
    Outcome,
    ReportLine,
    Upload,
    index_key,
    report_keys,
)
from chalicelib.enrolment.rules import (
    EnrolmentRow,
    FamilyCheck,
    HrFileError,
    member_id_candidates,
    unknown_policy_problem,
)

from .conftest import CHILD, EXAMPLES, HEADER, POLICY_NO, PRINCIPAL, csv_text, parse

RECEIVED = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
FINISHED = datetime(2026, 11, 22, 8, 1, tzinfo=UTC)


def writer(name: str = "acme 2026.csv") -> ReportWriter:
    return ReportWriter(file_name=name, policy_no=POLICY_NO, received_at=RECEIVED)


def bodies_of(report: ReportBodies) -> tuple[dict, list[list[str]], bytes]:
    raw_csv = report.csv.read()
    document = json.loads(report.json.read().decode())
    table = list(csv.reader(io.StringIO(raw_csv.decode("utf-8-sig"), newline="")))
    return document, table, raw_csv


def report_for(data: bytes) -> ReportBodies:
    """What the service would write for a first upload: everyone valid is created."""
    out = writer()
    family = FamilyCheck()
    try:
        hr_csv = open_hr_csv(io.BytesIO(data))
    except HrFileError as exc:
        out.add_file_problem(exc.problem)
        return out.finish(finished_at=FINISHED)
    out.encoding, out.unknown_columns = hr_csv.encoding, hr_csv.unknown_columns
    for line, raw in hr_csv:
        result = parse(raw, line)
        if isinstance(result, EnrolmentRow):
            duplicate = family.add(result)
            if duplicate is None:
                member_id = member_id_candidates(POLICY_NO, result)[0]
                outcome = Outcome.TERMINATED if result.action == "terminate" else Outcome.CREATED
                out.add(ReportLine(line, result.employee_no, result.relationship, member_id, outcome))
                continue
            result = (duplicate,)
        out.add(ReportLine.rejected(line, raw, result))
    return out.finish(finished_at=FINISHED)


def test_the_example_file_report_has_one_line_per_row_and_totals() -> None:
    document, table, raw_csv = bodies_of(report_for((EXAMPLES / "acme-2026.csv").read_bytes()))

    assert document["file"] == "acme 2026.csv"
    assert document["policy_no"] == POLICY_NO
    assert document["totals"] == {
        "rows": 15,
        "created": 14,
        "updated": 0,
        "unchanged": 0,
        "terminated": 1,
        "errors": 0,
    }
    assert document["status"] == "completed"
    assert document["encoding"] == "utf-8-sig"
    assert document["unknown_columns"] == ["Department"]
    assert [r["line"] for r in document["rows"]] == list(range(2, 17))
    assert all(len(r["member_id"]) == 13 for r in document["rows"])
    assert raw_csv.startswith(b"\xef\xbb\xbf" + ",".join(CSV_HEADER).encode() + b"\r\n")
    assert [line[0] for line in table[1:16]] == [str(n) for n in range(2, 17)]
    assert len(table) == 16 + len(SUMMARY_LABELS) + len(TOTAL_LABELS)  # then the file's facts and totals


def test_a_row_with_errors_is_reported_with_columns_rules_and_both_languages() -> None:
    bad = PRINCIPAL | {"employee_no": "E2", "gender": "?", "plan": "BRONZE"}
    document, table, _ = bodies_of(report_for(csv_text([PRINCIPAL, bad]).encode()))

    row = document["rows"][1]
    assert row["line"] == 3 and row["employee_no"] == "E2" and row["outcome"] == "error"
    assert row["member_id"] is None
    assert [(e["column"], e["rule"]) for e in row["errors"]] == [
        ("gender", "invalid_gender"),
        ("plan", "unknown_plan"),
    ]
    assert "ذكر" in row["errors"][0]["reason"]["ar"]
    assert document["totals"]["errors"] == 1
    assert document["status"] == "completed_with_errors"

    line = dict(zip(CSV_HEADER, table[2], strict=True))
    assert line["line"] == "3" and line["outcome"] == "error"
    assert line["column"] == "gender; plan"
    assert line["rule"] == "invalid_gender; unknown_plan"
    assert "BRONZE" in line["reason_en"] and "BRONZE" in line["reason_ar"]
    assert "الجنس" in line["reason_ar"]  # Arabic survives the round trip through UTF-8 + BOM


def test_a_file_missing_a_column_gets_a_rejected_report_naming_it() -> None:
    header = [h for h in HEADER if h != "date_of_birth"]
    document, table, _ = bodies_of(report_for(csv_text([PRINCIPAL], header=header).encode()))

    assert document["status"] == "rejected"
    assert document["rows"] == []
    (problem,) = document["file_errors"]
    assert problem["rule"] == "missing_columns" and problem["columns"] == ["date_of_birth"]
    assert "date_of_birth" in problem["reason"]["ar"]
    assert table[1][CSV_HEADER.index("outcome")] == "file_error"
    assert table[1][CSV_HEADER.index("column")] == "date_of_birth"


def test_a_file_under_an_unknown_policy_gets_a_rejected_report() -> None:
    out = writer()
    out.add_file_problem(unknown_policy_problem("GP-NOPE-2026"))
    document, table, _ = bodies_of(out.finish(finished_at=FINISHED))

    assert document["status"] == "rejected"
    assert document["file_errors"][0]["rule"] == "unknown_policy"
    assert "GP-NOPE-2026" in document["file_errors"][0]["reason"]["en"]
    assert "GP-NOPE-2026" in table[1][CSV_HEADER.index("reason_ar")]


def test_an_undecodable_rest_of_file_keeps_the_rows_before_it_in_the_report() -> None:
    good = csv_text([PRINCIPAL, CHILD]).encode()
    bad = csv_text([CHILD | {"employee_no": "E9"}]).split("\r\n", 1)[1].encode("cp1256")
    out = writer()
    hr_csv = open_hr_csv(io.BytesIO(good + bad))
    with pytest.raises(HrFileError) as caught:
        for line, raw in hr_csv:
            out.add(ReportLine(line, raw["employee_no"], raw["relationship"], None, Outcome.CREATED))
    out.add_file_problem(caught.value.problem)
    document, _, _ = bodies_of(out.finish(finished_at=FINISHED))

    assert document["totals"]["rows"] == 2
    assert document["file_errors"][0]["line"] == 4
    assert document["status"] == "completed_with_errors"


def test_cells_that_excel_would_run_as_formulas_are_defused_in_the_csv() -> None:
    out = writer()
    out.add(ReportLine(2, '=HYPERLINK("x")', "principal", None, Outcome.ERROR))
    _, table, _ = bodies_of(out.finish(finished_at=FINISHED))

    assert table[1][1] == '\'=HYPERLINK("x")'


def test_a_large_report_rolls_over_to_a_temp_file_and_reads_back_whole(tmp_path) -> None:
    out = ReportWriter(
        file_name="big.csv",
        policy_no=POLICY_NO,
        received_at=RECEIVED,
        spool_bytes=64 * 1024,
        spool_dir=str(tmp_path),
    )
    for line in range(2, 5002):
        out.add(ReportLine(line, f"E{line}", "principal", None, Outcome.UNCHANGED))
    report = out.finish(finished_at=FINISHED)
    document, table, _ = bodies_of(report)
    report.close()

    assert document["totals"]["unchanged"] == 5000
    assert len(document["rows"]) == 5000 and len(table) == 5001 + len(SUMMARY_LABELS) + len(TOTAL_LABELS)


def upload(key: str, identity: str = "v1", at: datetime = RECEIVED) -> Upload:
    return Upload(key=key, uploaded_at=at, identity=identity)


def test_report_keys_sit_under_hr_reports_by_policy_named_by_upload_time_and_version_and_file_name() -> None:
    json_key, csv_key = report_keys(POLICY_NO, upload("hr/incoming/GP-ACME-2026/موظفين 2026.csv"))

    assert json_key.startswith("hr/reports/GP-ACME-2026/20261122T080000000Z_")
    assert json_key.endswith("_موظفين 2026.report.json")
    assert csv_key == json_key.removesuffix(".json") + ".csv"


def test_two_uploads_never_share_a_report_and_a_redelivered_one_keeps_its_own() -> None:
    same_name = [
        upload("hr/incoming/GP-ACME-2026/staff.csv", "v1"),
        upload("hr/incoming/GP-ACME-2026/staff.csv", "v2"),  # the same name dropped again
        upload("hr/incoming/GP-ACME-2026/march/staff.csv", "v1"),  # in another folder
        upload("hr/incoming/GP-ACME-2026/april/staff.csv", "v1"),
    ]

    keys = [report_keys(POLICY_NO, u) for u in same_name]

    assert len(set(keys)) == len(keys)
    assert len({index_key(POLICY_NO, u) for u in same_name}) == len(same_name)
    assert report_keys(POLICY_NO, same_name[0]) == keys[0]  # an SQS retry rewrites its own report


@pytest.mark.parametrize(
    ("policy_no", "key"),
    [
        (POLICY_NO, "hr/incoming/GP-ACME-2026/../../../etc/passwd.csv"),
        (POLICY_NO, "hr/incoming/GP-ACME-2026/a/..\\..\\b\u202e\x00vsc.csv"),
        ("..", "hr/incoming/../x.csv"),
        ("GP-ACME-2026/../GP-OTHER", "hr/incoming/GP-ACME-2026/x.csv"),
        (POLICY_NO, "hr/incoming/GP-ACME-2026/...."),
    ],
)
def test_no_key_or_policy_folder_lets_a_report_leave_its_policys_report_folder(policy_no: str, key: str) -> None:
    folder = "hr/reports/GP-ACME-2026/" if policy_no == POLICY_NO else "hr/reports/unknown/"

    for written in (*report_keys(policy_no, upload(key)), index_key(policy_no, upload(key))):
        assert written.startswith(folder)
        rest = written[len(folder):]
        assert "/" not in rest.removeprefix("index/") and ".." not in rest and "\\" not in rest
        assert rest.isprintable()


def test_a_report_written_in_parts_by_resumed_writers_is_byte_for_byte_the_report_written_in_one_go() -> None:
    lines = [ReportLine(line=n, employee_no=f"E{n}", relationship="principal", member_id=f"M{n}",
                        outcome=Outcome.CREATED if n % 3 else Outcome.UNCHANGED) for n in range(2, 40)]
    lines[5] = ReportLine.rejected(7, {"employee_no": "=E7", "relationship": "spouse"}, [])

    one_go = writer()
    one_go.encoding, one_go.unknown_columns = "utf-8-sig", ("Department",)
    for line in lines:
        one_go.add(line)
    expected = one_go.finish(finished_at=FINISHED)

    current = writer()
    current.encoding, current.unknown_columns = "utf-8-sig", ("Department",)
    json_parts: list[bytes] = []
    csv_parts: list[bytes] = []
    for start, stop in ((0, 1), (1, 13), (13, 13), (13, len(lines))):
        for line in lines[start:stop]:
            current.add(line)
        if stop < len(lines):
            part_json, part_csv = current.take_part()
            json_parts.append(part_json.read())
            csv_parts.append(part_csv.read())
            part_json.close()
            part_csv.close()
            current = ReportWriter.resumed(json.loads(json.dumps(current.state())))
    last = current.finish(finished_at=FINISHED)

    assert b"".join(json_parts) + last.json.read() == expected.json.read()
    assert b"".join(csv_parts) + last.csv.read() == expected.csv.read()
    assert last.totals == expected.totals
    assert last.status == expected.status

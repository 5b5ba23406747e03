"""HR drops an Excel workbook: its people are enrolled and reported as a CSV's would be, on moto end to end."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import datetime

import openpyxl
import pytest

from tests.enrolment.support import workbook

from .conftest import POLICY_NO
from .test_hr_report_handovers import chunks_per_invocation

COLUMNS = ["Employee No", "Relationship", "Name EN", "Name AR", "Date of Birth", "Gender", "Email", "Mobile",
           "Civil ID", "Plan", "Coverage Start", "Coverage End", "Action"]


@pytest.fixture(autouse=True)
def lambdas_time(aws, monkeypatch):
    """A whole invocation's time (Chalice's test client gives 3 s); the hand-over test sets its own budget."""
    from chalicelib.enrolment import jobs
    from chalicelib.enrolment.continuation import Budget

    monkeypatch.setattr(jobs, "budget_for", lambda context: Budget(lambda: 900.0))


def person(employee_no: object, relationship: str, name_en: str, name_ar: str, born: datetime, gender: str,
           email: str | None = None, civil_id: int | None = None, mobile: int | None = None) -> list[object]:
    return [employee_no, relationship, name_en, name_ar, born, gender, email, mobile, civil_id, "GOLD",
            datetime(2026, 1, 1), datetime(2026, 12, 31), None]


def xlsx(*rows: list[object]) -> bytes:
    return workbook(COLUMNS, rows)


class XlsxDrop:
    """Puts a workbook in the HR bucket and runs the handler on each message the queue gets: S3's
    notification of the workbook (the stack's rules name .xlsx and .XLSX), then every hand-over token."""

    def __init__(self, client) -> None:
        from chalicelib.platform.aws import client as aws_client
        from chalicelib.settings import get_settings

        self.client, self.settings = client, get_settings()
        self.s3, self.sqs = aws_client("s3"), aws_client("sqs")
        self.invocations = 0

    def __call__(self, body: bytes, name: str) -> dict:
        from chalicelib.enrolment.store import EnrolmentStore

        key = f"hr/incoming/{POLICY_NO}/{name}"
        self.s3.put_object(Bucket=self.settings.hr_bucket, Key=key, Body=body)
        url = self.sqs.get_queue_url(QueueName=self.settings.hr_queue)["QueueUrl"]
        while messages := self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                if "Records" in json.loads(message["Body"]):
                    self._invoke(message["Body"])
        (self.entry,) = [e for e in EnrolmentStore().report_index(POLICY_NO) if e["key"] == key]
        return self._read_json(self.entry["report_json"])

    def _invoke(self, body: str) -> None:
        self.invocations += 1
        self.client.lambda_.invoke("hr_file_arrived", self.client.events.generate_sqs_event(
            message_bodies=[body], queue_name=self.settings.hr_queue))

    def _read_json(self, key: str) -> dict:
        return json.loads(self.s3.get_object(Bucket=self.settings.hr_bucket, Key=key)["Body"].read())

    def csv_lines(self) -> list[dict[str, str]]:
        body = self.s3.get_object(Bucket=self.settings.hr_bucket, Key=self.entry["report_csv"])["Body"].read()
        return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))

    def workbook_lines(self) -> list[int]:
        body = self.s3.get_object(Bucket=self.settings.hr_bucket, Key=self.entry["report_xlsx"])["Body"].read()
        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
        return [r[0] for r in book["Rows"].iter_rows(min_row=2, max_col=1, values_only=True)]


@pytest.fixture
def drop_xlsx(client):
    return XlsxDrop(client)


def test_a_workbook_from_excel_enrols_the_family_with_civil_ids_dates_and_arabic_names_exactly(drop_xlsx, policy):
    from chalicelib.enrolment.models import MemberRecord

    book = xlsx(
        # The daughter is listed before her father, as HR sometimes sorts: she is settled at the end.
        person(7001, "child", "Noor Al-Rashidi", "نور الرشيدي", datetime(2015, 5, 5), "female"),
        person(7001, "principal", "Salem Al-Rashidi", "سالم بن عبدالله الرشيدي", datetime(1984, 3, 12), "male",
               "salem@acme.example", civil_id=284031201072, mobile=96550001234),
        [None] * 13,  # a blank row: skipped, still counted in the row numbers
        person(7001, "spouse", "Mariam Al-Rashidi", "مريم الرشيدي", datetime(1988, 7, 1), "female",
               civil_id=288070110008),
    )

    report = drop_xlsx(book, "STAFF March.XLSX")  # Windows' capitals: accepted

    assert report["status"] == "completed", [(r["line"], r.get("errors")) for r in report["rows"]]
    assert report["encoding"] == "xlsx" and report["file"] == "STAFF March.XLSX"
    assert [(r["line"], r["outcome"]) for r in report["rows"]] == [(2, "created"), (3, "created"), (5, "created")]
    salem = MemberRecord.get(report["rows"][1]["member_id"])
    assert salem.name_ar == "سالم بن عبدالله الرشيدي" and salem.national_id == "284031201072"
    assert salem.date_of_birth == "1984-03-12" and salem.mobile == "+96550001234"
    assert MemberRecord.get(report["rows"][0]["member_id"]).account_id == salem.account_id
    # The report is named after the upload, as a CSV's is, and is in file order in all three forms.
    assert drop_xlsx.entry["report_csv"].endswith("_STAFF March.report.csv")  # named after the upload
    assert [int(line["line"]) for line in drop_xlsx.csv_lines() if line["line"]] == [2, 3, 5]
    assert drop_xlsx.workbook_lines() == [2, 3, 5]


def test_a_workbook_too_big_for_one_invocation_gets_one_report_with_every_row_once(drop_xlsx, policy, monkeypatch):
    from moto.dynamodb.models import DynamoDBBackend

    from chalicelib.enrolment import jobs
    from devstack import moto_speedup

    monkeypatch.setattr(jobs, "budget_for", chunks_per_invocation(1))  # about 100 rows an invocation
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", moto_speedup.transact_write_items)
    rows = []
    for n in range(120):  # each child listed before her principal
        rows.append(person(f"E{n}", "child", f"Omar {chr(65 + n % 26)}", "عمر", datetime(2015, 5, 5), "male"))
        rows.append(person(f"E{n}", "principal", f"Person {chr(65 + n % 26)}", "شخص", datetime(1980, 1, 1),
                           "male", f"p{n}@acme.example"))

    report = drop_xlsx(xlsx(*rows), "big.xlsx")

    assert drop_xlsx.invocations >= 3
    assert [r["line"] for r in report["rows"]] == list(range(2, 2 + len(rows)))
    assert report["totals"]["rows"] == len(rows) and report["totals"]["created"] == len(rows)
    assert report["totals"]["errors"] == 0
    table = [int(line["line"]) for line in drop_xlsx.csv_lines() if line["line"]]
    assert table == list(range(2, 2 + len(rows)))


def test_an_error_cell_is_reported_on_its_row_and_column_and_the_other_rows_enrolled(drop_xlsx, policy):
    good = person("E1", "principal", "Good Person", "شخص جيد", datetime(1980, 1, 1), "male", "good@acme.example")
    broken = person("E2", "principal", "Lookup Failed", "بحث", "#N/A", "male", "e2@acme.example")

    report = drop_xlsx(xlsx(good, broken), "lookup.xlsx")

    rows = {r["line"]: r for r in report["rows"]}
    assert rows[2]["outcome"] == "created" and rows[3]["outcome"] == "error"
    assert [(e["column"], e["rule"]) for e in rows[3]["errors"]] == [("date_of_birth", "invalid_date")]
    (line,) = [line for line in drop_xlsx.csv_lines() if line["line"] == "3"]
    assert line["value"] == "#N/A" and line["column"] == "date_of_birth"


def test_a_zip_bomb_is_a_file_error_in_both_languages_and_nothing_is_unpacked(drop_xlsx, policy):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("xl/workbook.xml", b"<workbook/>")
        bomb.writestr("xl/worksheets/sheet1.xml", b"\0" * (64 * 1024 * 1024))

    report = drop_xlsx(out.getvalue(), "bomb.xlsx")

    assert report["status"] == "rejected" and report["rows"] == []
    (problem,) = report["file_errors"]
    assert problem["rule"] == "workbook_unpacks_too_big"
    assert "sheet1.xml" in problem["reason"]["en"] and "sheet1.xml" in problem["reason"]["ar"]


def test_a_password_protected_workbook_is_a_file_error_saying_to_save_it_without_the_password(drop_xlsx, policy):
    encrypted = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\0" * 512

    report = drop_xlsx(encrypted, "locked.xlsx")

    assert report["status"] == "rejected"
    (problem,) = report["file_errors"]
    assert problem["rule"] == "encrypted_workbook"
    assert "password" in problem["reason"]["en"] and "كلمة مرور" in problem["reason"]["ar"]


def test_files_of_other_types_are_ignored_and_get_no_report(client, policy):
    from chalicelib.enrolment.jobs import DroppedFile, handle_hr_file

    outcome = handle_hr_file(DroppedFile(bucket="b", key=f"hr/incoming/{POLICY_NO}/notes.txt", size=1, etag="",
                                         version_id=None))
    assert outcome["outcome"] == "ignored"

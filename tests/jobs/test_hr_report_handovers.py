"""A file too big for one invocation still gives HR one report in file order, as CSV, JSON and a workbook."""

from __future__ import annotations

import csv
import io
import itertools
import json

import openpyxl

from .conftest import POLICY_NO, csv_rows

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def chunks_per_invocation(chunks: int):
    """An invocation's budget that runs out after `chunks` chunks of 100 rows (asked once each), no waiting."""
    from chalicelib.enrolment.continuation import Budget

    def budget_for(context):
        asked = itertools.count()  # the first question is the claim's deadline, then one per chunk
        return Budget(lambda: float(chunks - next(asked)), margin_s=0.5)

    return budget_for


def principal(n: int) -> str:
    return (f"E{n},principal,Person {chr(65 + n % 26)},شخص,1980-01-01,male,p{n}@acme.example,,,GOLD,"
            "2026-01-01,2026-12-31,")


def child(n: int) -> str:
    return f"E{n},child,Omar {chr(65 + n % 26)},عمر,2015-05-05,male,,,,GOLD,2026-01-01,2026-12-31,"


def test_a_file_handed_over_between_invocations_gets_one_report_in_file_order_with_its_workbook(
        client, policy, monkeypatch):
    from moto.dynamodb.models import DynamoDBBackend

    from chalicelib.enrolment import jobs
    from chalicelib.enrolment.store import EnrolmentStore
    from chalicelib.platform.aws import client as aws_client
    from chalicelib.settings import get_settings
    from devstack import moto_speedup

    monkeypatch.setattr(jobs, "budget_for", chunks_per_invocation(1))  # about 100 rows an invocation
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", moto_speedup.transact_write_items)
    settings, s3, sqs = get_settings(), aws_client("s3"), aws_client("sqs")
    # Each child is listed before her principal, so the last invocation settles her; every 13th child is
    # refused (a gender no one has) as soon as it is read.
    rows = [line for n in range(110) for line in (child(n), principal(n))]
    refused_at = range(20, len(rows), 26)
    for at in refused_at:
        rows[at] = rows[at].replace(",male,", ",robot,")
    s3.put_object(Bucket=settings.hr_bucket, Key=f"hr/incoming/{POLICY_NO}/big.csv", Body=csv_rows(*rows).encode())
    url = sqs.get_queue_url(QueueName=settings.hr_queue)["QueueUrl"]
    invocations = 0
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            if "Records" in json.loads(message["Body"]):
                client.lambda_.invoke("hr_file_arrived", client.events.generate_sqs_event(
                    message_bodies=[message["Body"]], queue_name=settings.hr_queue))
                invocations += 1

    assert invocations >= 3
    (entry,) = EnrolmentStore().report_index(POLICY_NO)
    body = s3.get_object(Bucket=settings.hr_bucket, Key=entry["report_csv"])["Body"].read()
    lines = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    table = [line for line in lines if line["line"]]
    # Every row once, where it is in the file, though the children were settled last.
    assert [int(line["line"]) for line in table] == list(range(2, 2 + len(rows)))
    refused = [line for line in table if line["outcome"] == "error"]
    assert [int(line["line"]) for line in refused] == [at + 2 for at in refused_at]
    assert all(line["value"] == "robot" and line["name"].startswith(("Person ", "Omar ")) for line in refused)
    # One totals block, at the very end, equal to the index's.
    outcomes = [line["outcome"] for line in lines]
    assert outcomes[-6:] == ["total"] * 6 and outcomes.count("total") == 6
    totals = {line["column"]: int(line["value"]) for line in lines if line["outcome"] == "total"}
    assert totals == entry["totals"] and totals["rows"] == len(rows) and totals["errors"] == len(refused)
    report = json.loads(s3.get_object(Bucket=settings.hr_bucket, Key=entry["report_json"])["Body"].read())
    assert [r["line"] for r in report["rows"]] == list(range(2, 2 + len(rows)))

    # The workbook beside the CSV, listed in the index: the same rows in the same order, the same totals.
    assert entry["report_xlsx"] == entry["report_csv"].removesuffix(".csv") + ".xlsx"
    got = s3.get_object(Bucket=settings.hr_bucket, Key=entry["report_xlsx"])
    assert got["ContentType"] == XLSX
    book = openpyxl.load_workbook(io.BytesIO(got["Body"].read()), read_only=True)
    sheet_lines = [r[0] for r in book["Rows"].iter_rows(min_row=2, max_col=1, values_only=True)]
    assert sheet_lines == [int(line["line"]) for line in table]
    summary = {r[0]: r[2] for r in book["Summary"].iter_rows(min_row=2, values_only=True) if r and r[0]}
    assert summary["Rows"] == totals["rows"] and summary["Rows with errors"] == totals["errors"]
    assert summary["Created"] == totals["created"]

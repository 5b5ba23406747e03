"""An HR file put into the bucket reaches the handler through S3's notification and SQS."""

from __future__ import annotations

import json

import boto3

from chalicelib.enrolment.jobs import dropped_files
from chalicelib.settings import get_settings


def logged(capsys, event: str) -> list[dict]:
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == event]


def test_a_put_into_the_incoming_prefix_notifies_the_queue_and_the_handler_decodes_the_key(client, capsys):
    settings = get_settings()
    key = "hr/incoming/GP-ACME-2026/staff list مارس 2026.csv"
    boto3.client("s3").put_object(Bucket=settings.hr_bucket, Key=key, Body=b"employee_no\n1\n")
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=settings.hr_queue)["QueueUrl"]
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    notification = next(b for b in bodies if "Records" in json.loads(b))

    event = client.events.generate_sqs_event(message_bodies=[notification], queue_name=settings.hr_queue)
    client.lambda_.invoke("hr_file_arrived", event)

    (received,) = logged(capsys, "hr_file_received")
    assert received["key"] == key


def test_workbooks_and_upper_case_names_are_queued_like_csv_files(aws):
    settings = get_settings()
    s3 = boto3.client("s3")
    keys = ["hr/incoming/GP-1/staff.xlsx", "hr/incoming/GP-1/STAFF.XLSX", "hr/incoming/GP-1/STAFF.CSV"]
    for key in keys:
        s3.put_object(Bucket=settings.hr_bucket, Key=key, Body=b"x")
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=settings.hr_queue)["QueueUrl"]

    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    queued = [d.key for m in messages if "Records" in json.loads(m["Body"]) for d in dropped_files(m["Body"])]
    assert sorted(queued) == sorted(keys)


def test_files_outside_the_incoming_prefix_or_of_other_types_are_not_queued(aws):
    settings = get_settings()
    s3 = boto3.client("s3")
    s3.put_object(Bucket=settings.hr_bucket, Key="hr/reports/GP-1/x.report.csv", Body=b"x")
    s3.put_object(Bucket=settings.hr_bucket, Key="hr/incoming/GP-1/notes.txt", Body=b"x")
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=settings.hr_queue)["QueueUrl"]

    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert [m for m in messages if "Records" in json.loads(m["Body"])] == []


def test_s3_test_events_and_plus_encoded_keys_are_understood():
    test_event = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})
    assert list(dropped_files(test_event)) == []
    body = json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": {
        "bucket": {"name": "b"}, "object": {"key": "hr/incoming/GP-1/a+b%2Bc+%D9%85.csv", "size": 3}}}]})
    (dropped,) = dropped_files(body)
    assert dropped.key == "hr/incoming/GP-1/a b+c م.csv"


def test_the_checkpoints_of_finished_runs_expire_after_any_message_for_them_could_come(aws):
    from devstack.infra.storage import RUN_DAYS

    settings = get_settings()
    rules = boto3.client("s3").get_bucket_lifecycle_configuration(Bucket=settings.hr_bucket)["Rules"]
    runs = [r for r in rules if r.get("Filter", {}).get("Prefix", r.get("Prefix")) == "hr/runs/"]
    assert [r["Expiration"]["Days"] for r in runs] == [RUN_DAYS]
    retention = boto3.client("sqs").get_queue_attributes(
        QueueUrl=boto3.client("sqs").get_queue_url(QueueName=settings.hr_queue)["QueueUrl"],
        AttributeNames=["MessageRetentionPeriod"])["Attributes"]["MessageRetentionPeriod"]
    assert int(retention) < RUN_DAYS * 86400  # no copy of a run's message outlives its checkpoint
    # Nothing else in the bucket expires: HR's files and reports stay.
    assert not [r for r in rules if "Expiration" in r and r not in runs]

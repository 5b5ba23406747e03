"""Fixtures for HR enrolment: a group policy and a way to drop files as HR does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.platform.aws import client as aws_client

ROOT = Path(__file__).resolve().parents[2]
POLICY_NO = "GP-ACME-2026"


@pytest.fixture
def policy(aws):
    from datetime import UTC, datetime

    from chalicelib.enrolment.policies import create_group_policy
    from chalicelib.enrolment.store import EnrolmentStore

    data = json.loads((ROOT / "examples" / "policies" / f"{POLICY_NO}.json").read_text(encoding="utf-8"))
    return create_group_policy(EnrolmentStore(), data, datetime.now(UTC))


class HrDrop:
    """Puts a file in the HR bucket and runs the handler on the notification S3 queued, as Lambda would."""

    def __init__(self, client) -> None:
        from chalicelib.settings import get_settings

        self.client = client
        self.settings = get_settings()
        self.s3 = aws_client("s3")  # the cached clients: a new one under mock_aws reloads botocore's models
        self.sqs = aws_client("sqs")
        self.entries: dict[tuple[str, str], dict] = {}

    def __call__(self, body: bytes | str, name: str = "staff.csv", policy_no: str = POLICY_NO) -> dict:
        key = f"hr/incoming/{policy_no}/{name}"
        before = {e["report_json"] for e in self.index(policy_no)}
        self.s3.put_object(Bucket=self.settings.hr_bucket, Key=key,
                           Body=body.encode("utf-8") if isinstance(body, str) else body)
        url = self.sqs.get_queue_url(QueueName=self.settings.hr_queue)["QueueUrl"]
        messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        notifications = [m["Body"] for m in messages if "Records" in json.loads(m["Body"])]
        for m in messages:
            self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        event = self.client.events.generate_sqs_event(message_bodies=notifications, queue_name=self.settings.hr_queue)
        self.client.lambda_.invoke("hr_file_arrived", event)
        # Reports are named per upload: this drop's is the one entry the policy's index gained.
        (entry,) = [e for e in self.index(policy_no) if e["report_json"] not in before and e["key"] == key]
        self.entries[(policy_no, name)] = entry
        return self.report(name, policy_no)

    def index(self, policy_no: str = POLICY_NO) -> list[dict]:
        from chalicelib.enrolment.store import EnrolmentStore

        return EnrolmentStore().report_index(policy_no)

    def report(self, name: str, policy_no: str = POLICY_NO) -> dict:
        key = self.entries[(policy_no, name)]["report_json"]
        return json.loads(self.s3.get_object(Bucket=self.settings.hr_bucket, Key=key)["Body"].read())

    def csv_report(self, name: str, policy_no: str = POLICY_NO) -> str:
        key = self.entries[(policy_no, name)]["report_csv"]
        return self.s3.get_object(Bucket=self.settings.hr_bucket, Key=key)["Body"].read().decode("utf-8-sig")


@pytest.fixture
def drop(client):
    return HrDrop(client)


@pytest.fixture
def example() -> bytes:
    return (ROOT / "examples" / "hr" / "acme-2026.csv").read_bytes()


HEADER = ("employee_no,relationship,name_en,name_ar,date_of_birth,gender,email,mobile,national_id,plan,"
          "coverage_start,coverage_end,action\n")


def csv_rows(*rows: str) -> str:
    return HEADER + "".join(r + "\n" for r in rows)

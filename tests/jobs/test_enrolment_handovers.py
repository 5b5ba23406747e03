"""A big HR file enrolled through many hand-overs, driven as Lambda runs it (each queued message one invocation).

The file goes up as a multipart upload, as any client sends a file over 8 MB (the bench's 200,000-row file
is 31 MB): moto then tells the queue twice (ObjectCreated:Put and :CompleteMultipartUpload, 1 ms apart),
and the two notifications must make one run. Before, they made two: the second trailed the first through
the whole file, re-read every row (all unchanged: four batched reads a chunk and no write), queued every
invited principal's welcome again, and its report was never written because the first run finished first.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from .conftest import POLICY_NO

ROWS = 2000  # 20 chunks of 100 rows
CHUNKS_PER_INVOCATION = 2


def budget_every(chunks: int) -> Any:
    """An invocation's budget that runs out after `chunks` chunks (asked once each), without waiting."""
    from chalicelib.enrolment.continuation import Budget

    asked = itertools.count()  # the first question is the claim's deadline, then one per chunk
    return Budget(lambda: float(chunks - next(asked)), margin_s=0.5)


def test_a_file_told_twice_is_enrolled_once_through_many_hand_overs(aws: None, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses
    from datetime import UTC, datetime

    from boto3.s3.transfer import TransferConfig
    from moto.dynamodb.models import DynamoDBBackend

    from bench.hr_file import generate_hr_csv
    from chalicelib.enrolment import use_cases
    from chalicelib.enrolment.continuation import continue_from_token, start_file
    from chalicelib.enrolment.jobs import _is_continuation, dropped_files, upload
    from chalicelib.enrolment.policies import create_group_policy
    from chalicelib.enrolment.store import EnrolmentStore
    from chalicelib.enrolment.wiring import enrolment_deps
    from chalicelib.platform.aws import client as aws_client
    from chalicelib.settings import get_settings
    from devstack import moto_speedup
    from devstack.counting import count_aws_calls

    # moto's own TransactWriteItems deep-copies the table once per item (see test_enrolment.py).
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", moto_speedup.transact_write_items)
    root = Path(__file__).resolve().parents[2]
    policy = json.loads((root / "examples" / "policies" / f"{POLICY_NO}.json").read_text(encoding="utf-8"))
    create_group_policy(EnrolmentStore(), policy, datetime.now(UTC))
    plans = tuple(sorted(policy["plans"]))
    made = generate_hr_csv(tmp_path / "staff.csv", rows=ROWS, policy_no=POLICY_NO, plans=plans)
    settings, s3, sqs = get_settings(), aws_client("s3"), aws_client("sqs")
    key = f"hr/incoming/{POLICY_NO}/staff.csv"
    s3.upload_file(str(made.path), settings.hr_bucket, key, Config=TransferConfig(multipart_threshold=1))

    welcomes: list[dict[str, Any]] = []
    deps = dataclasses.replace(enrolment_deps(), enqueue=welcomes.extend)
    decided: Counter[int] = Counter()  # row -> how many times a chunk's plan decided it
    decide_row = use_cases._ChunkPlan._decide_row

    def counting(self: Any, p: Any, *args: Any) -> Any:
        decided[p.line] += 1
        return decide_row(self, p, *args)

    monkeypatch.setattr(use_cases._ChunkPlan, "_decide_row", counting)
    url = sqs.get_queue_url(QueueName=settings.hr_queue)["QueueUrl"]
    results: list[Any] = []
    invocations = 0
    with count_aws_calls() as calls:
        # Every message, to the queue's end (not only to the first report): as many invocations as SQS starts.
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", []):
            (message,) = messages
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            for dropped in dropped_files(message["Body"]):
                invocations += 1
                budget = budget_every(CHUNKS_PER_INVOCATION)
                if _is_continuation(dropped.key):
                    result = continue_from_token(deps, dropped.bucket, dropped.key, budget)
                else:
                    result = start_file(deps, dropped.bucket, dropped.key, dropped.version_id, upload(dropped), budget)
                if result is not None:
                    results.append(result)

    chunks = ROWS // 100
    print(f"invocations {invocations}, runs finished {len(results)}, welcome jobs {len(welcomes)} for "
          f"{made.new_principals} new principals, rows decided {sum(decided.values())}, BatchGetItem "
          f"{calls[('dynamodb', 'BatchGetItem')]}, DynamoDB requests per row {calls.of('dynamodb') / ROWS:.4f}")
    # Exactly one welcome job per new principal, each account once.
    assert len(welcomes) == made.new_principals
    assert len({job["account_id"] for job in welcomes}) == made.new_principals
    (result,) = results  # one run, one report
    assert invocations >= chunks // CHUNKS_PER_INVOCATION  # many hand-overs
    assert result.totals["rows"] == ROWS and result.totals["errors"] == 0
    assert result.totals["created"] + result.totals["terminated"] == ROWS
    # Each row decided and applied once, and reported once.
    assert set(decided.values()) == {1} and len(decided) == ROWS
    report = json.loads(s3.get_object(Bucket=settings.hr_bucket, Key=result.report_keys[0])["Body"].read())
    assert [r["line"] for r in report["rows"]] == list(range(2, ROWS + 2))
    assert len(EnrolmentStore().report_index(POLICY_NO)) == 1
    # DynamoDB requests flat: a chunk's batched reads (members in two pages, login names) and its
    # transactions, as in one invocation; nothing for the hand-overs (the policy is read once).
    # A chunk of 100 rows writes ~220 items (each member; each new principal's account and its two
    # login names, email and civil ID) in transactions of at most 100 items: 3 of them.
    assert calls[("dynamodb", "BatchGetItem")] == 3 * chunks
    assert calls[("dynamodb", "TransactWriteItems")] <= 3 * chunks
    assert calls.of("dynamodb") / ROWS <= 0.061

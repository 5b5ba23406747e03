"""The renewal reminder job at table size: 100,000 residence policies in the reminder index, 1,000 due today.

Items read are what DynamoDB reads (and bills) for the run: the `ScannedCount` of every Query plus one
per item a GetItem returns, counted on the responses. The job reads only its sparse due index's range
`reminder_due_on <= today`, so it should read the items due and nothing else (target: at most 1.05x).
`python -m bench renewals` runs this area alone (BENCH_JOB_RECORDS changes the table size).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from bench.environment import in_process_environment
from bench.rows import Row
from devstack.counting import count_aws_calls

LIVE = int(os.environ.get("BENCH_JOB_RECORDS", "100000"))
DUE = max(1, LIVE // 100)
TODAY = date(2027, 1, 30)


def _seed() -> None:
    from chalicelib.platform.jobs import shard_of
    from chalicelib.premiums.models import PeriodMap, ResidencePolicyRecord

    with ResidencePolicyRecord.batch_write() as batch:
        for n in range(LIVE):
            civil_id = f"2{n:011d}"
            # The due ones end in 30 days; the others later in the year (their first reminder still ahead).
            end = TODAY + timedelta(days=30 if n < DUE else 31 + n % 300)
            start = end.replace(year=end.year - 1)
            batch.save(ResidencePolicyRecord(
                civil_id, policy_id=f"pol{n}", policy_number=None, account_id=f"acct{n % 5000}",
                insured_name="Ahmed Ali", category="private_sector_employee", status="active",
                start_date=start.isoformat(), end_date=end.isoformat(),
                periods=[PeriodMap(start=start.isoformat(), end=end.isoformat(),
                                   payment_id=f"pay{n}", status="active", category="private_sector_employee",
                                   amount_fils=50_000, account_id=f"acct{n % 5000}")],
                passport_expiry="2031-01-01", renewal_years=1, reminder_queue=f"renewal-{shard_of(civil_id)}",
                reminder_due_on=(end - timedelta(days=30)).isoformat()))


@contextmanager
def items_read() -> Iterator[list[int]]:
    """DynamoDB items read inside the block: each Query's ScannedCount, one per item a GetItem returns."""
    from botocore.client import BaseClient

    total = [0]
    lock = threading.Lock()
    original = BaseClient._make_api_call

    def counting(self, operation_name, api_params):
        answer = original(self, operation_name, api_params)
        if self.meta.service_model.service_name == "dynamodb":
            read = int(answer.get("ScannedCount", 0)) if operation_name == "Query" else \
                (1 if operation_name == "GetItem" and answer.get("Item") else 0)
            with lock:
                total[0] += read
        return answer

    BaseClient._make_api_call = counting
    try:
        yield total
    finally:
        BaseClient._make_api_call = original


def run() -> list[Row]:
    in_process_environment()
    from moto import mock_aws

    from chalicelib.platform.jobs import SHARDS, JobRun
    from chalicelib.platform.messaging import enqueue, reset_queue_urls
    from chalicelib.premiums import renewals
    from chalicelib.premiums.store import REMINDER_PAGE, reset_connections
    from chalicelib.premiums.wiring import premium_deps
    from chalicelib.settings import reset_settings
    from devstack.provision import provision

    reset_settings()
    reset_queue_urls()
    premium_deps.cache_clear()
    with mock_aws():
        reset_connections()
        provision("dev", "me-south-1")
        _seed()
        at = datetime(TODAY.year, TODAY.month, TODAY.day, 6, tzinfo=UTC)
        run = JobRun("remind_renewals", out_of_time=lambda: False, at=at)
        with count_aws_calls() as calls, items_read() as read:
            started = time.perf_counter()
            renewals.send_due_reminders(premium_deps(), run, at, enqueue)
            seconds = time.perf_counter() - started
    ratio = read[0] / DUE
    target = round(1 + (DUE / REMINDER_PAGE + SHARDS) / DUE, 3)
    sends = calls[("sqs", "SendMessageBatch")] + calls[("sqs", "SendMessage")]
    return [
        Row("renewals", f"remind_renewals: DynamoDB items read / items due ({read[0]:,} / {DUE:,}; {LIVE:,} "
            "policies)", ratio, "ratio", "<= 1.05", ratio <= 1.05 and run.done == DUE),
        # One conditional write per item, plus a page per 100 items and one last (partial) page per shard.
        Row("renewals", f"remind_renewals: DynamoDB requests per due item ({calls[('dynamodb', 'Query')]} queries)",
            calls.of("dynamodb") / DUE, "requests", f"<= {target}", calls.of("dynamodb") / DUE <= target),
        Row("renewals", f"remind_renewals: SQS requests per due policy ({DUE * 2:,} messages)", sends / DUE,
            "requests", "<= 0.2", sends / DUE <= 0.2),
        Row("renewals", "remind_renewals: run time on moto in-process", seconds * 1000, "ms", "", None),
    ]

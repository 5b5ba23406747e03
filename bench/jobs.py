"""Scheduled jobs at table size: 100,000 live records of which 1,000 are due, per job.

Besides the items read, each job's requests per due item: one conditional write each (DynamoDB allows
no conditions in a batch) plus its share of the due-index pages; the expiry of passwords also sends
its reminders (half its due items here) ten to an SQS request. The run time is moto's in-process
(one interpreter, so the writes' thread pool overlaps little of it): the README turns the request
counts into time on DynamoDB.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.environment import in_process_environment
from bench.rows import Row
from devstack.counting import count_aws_calls

ROOT = Path(__file__).resolve().parent.parent
LIVE = int(os.environ.get("BENCH_JOB_RECORDS", "100000"))
DUE = max(1, LIVE // 100)
PAGE = 100


def _seed(kind: str, now: datetime) -> None:
    from chalicelib.accounts.models import AccountRecord, SessionRecord, TokenRecord
    from chalicelib.platform.jobs import shard_of

    past, future = now - timedelta(minutes=1), now + timedelta(days=3)
    model = {"invites": AccountRecord, "passwords": AccountRecord, "tokens": TokenRecord,
             "sessions": SessionRecord}[kind]
    with model.batch_write() as batch:
        for n in range(LIVE):
            key = f"{kind}-{n:06d}"
            due = past if n < DUE else future
            if kind == "invites":
                batch.save(AccountRecord(key, status="invited", source="hr", created_at=now, updated_at=now,
                                         version=1, invite_shard=shard_of(key), invite_due_at=due))
            elif kind == "passwords":
                # Half the due ones expire (reminded already), half get their reminder (6 days left).
                reminder = n < DUE // 2
                set_at = now - timedelta(days=84) if reminder else due - timedelta(days=90)
                batch.save(AccountRecord(key, status="active", source="hr", created_at=now, updated_at=now,
                                         version=1, password_kind="permanent", password_set_at=set_at,
                                         password_reminded_for=None if reminder else set_at,
                                         email=f"{key}@example.com", language="en",
                                         password_shard=shard_of(key), password_due_at=due))
            elif kind == "tokens":
                batch.save(TokenRecord(key, kind="challenge", expires_at=due, expires_ttl=due, version=1,
                                       due_shard=shard_of(key), due_at=due))
            else:
                batch.save(SessionRecord(key, account_id="a", created_at=now.isoformat(), device_id="d",
                                         device_name="d", refresh_hash="h", last_used_at=now, idle_expires_at=due,
                                         absolute_expires_at=future, expires_ttl=due, due_shard=shard_of(key),
                                         due_at=due))


def run() -> list[Row]:
    in_process_environment()
    from moto import mock_aws

    from chalicelib.accounts import expiry
    from chalicelib.accounts.store import DueStore
    from chalicelib.platform.messaging import enqueue, reset_queue_urls
    from chalicelib.settings import reset_settings
    from devstack.provision import provision

    rows: list[Row] = []
    jobs = {
        "invites": expiry.expire_invites,
        "passwords": lambda store, now, run: expiry.password_lifecycle(
            store, now, run, max_age_days=90, temporary_days=7, enqueue=enqueue),
        "tokens": expiry.purge_tokens,
        "sessions": expiry.purge_sessions,
    }
    for kind, job in jobs.items():
        reset_settings()
        reset_queue_urls()
        with mock_aws():
            provision("dev", "me-south-1")
            now = datetime.now(UTC)
            _seed(kind, now)
            read = 0

            class CountingStore(DueStore):
                def _due(self, index, shard, range_attr, at):
                    nonlocal read
                    for item in super()._due(index, shard, range_attr, at):
                        read += 1
                        yield item

            with count_aws_calls() as calls:
                started = time.perf_counter()
                result = job(CountingStore(page_size=PAGE), now, expiry.JobRun(kind, out_of_time=lambda: False))
                seconds = time.perf_counter() - started
        from chalicelib.platform.jobs import SHARDS, WORKERS

        limit = DUE + SHARDS * PAGE
        rows.append(Row("jobs", f"{kind}: items read / due ({LIVE:,} live)", read, "items",
                        f"<= {limit:,}", read <= limit and result.done == DUE))
        dynamodb = sum(n for (service, _), n in calls.items() if service == "dynamodb")
        per_item = dynamodb / DUE
        # One conditional write per item, plus a page per PAGE items and one last (partial) page per shard.
        target = round(1 + (DUE / PAGE + SHARDS) / DUE, 3)
        rows.append(Row("jobs", f"{kind}: DynamoDB requests per due item ({calls[('dynamodb', 'Query')]} queries)",
                        per_item, "requests", f"<= {target}", per_item <= target))
        if kind == "passwords":
            reminders = DUE // 2
            sends = calls[("sqs", "SendMessageBatch")] + calls[("sqs", "SendMessage")]
            rows.append(Row("jobs", f"{kind}: SQS requests per reminder ({reminders:,} reminders)", sends / reminders,
                            "requests", "10 a request", sends <= -(-reminders // 10)))
        rows.append(Row("jobs", f"{kind}: run time on moto in-process ({WORKERS} writes at a time)", seconds * 1000,
                        "ms", "", None))
    return rows

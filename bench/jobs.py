"""Scheduled jobs at table size: 100,000 live records of which 1,000 are due, per job."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.environment import in_process_environment
from bench.rows import Row

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
                set_at = due - timedelta(days=90)
                batch.save(AccountRecord(key, status="active", source="hr", created_at=now, updated_at=now,
                                         version=1, password_kind="permanent", password_set_at=set_at,
                                         password_reminded_for=set_at, password_shard=shard_of(key),
                                         password_due_at=due))
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
    from chalicelib.settings import reset_settings
    from devstack.counting import count_aws_calls
    from devstack.provision import provision

    rows: list[Row] = []
    jobs = {
        "invites": expiry.expire_invites,
        "passwords": lambda store, now, run: expiry.password_lifecycle(
            store, now, run, max_age_days=90, temporary_days=7, enqueue=lambda jobs: None),
        "tokens": expiry.purge_tokens,
        "sessions": expiry.purge_sessions,
    }
    for kind, job in jobs.items():
        reset_settings()
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
        from chalicelib.platform.jobs import SHARDS

        limit = DUE + SHARDS * PAGE
        rows.append(Row("jobs", f"{kind}: items read / due ({LIVE:,} live)", read, "items",
                        f"<= {limit:,}", read <= limit and result.done == DUE))
        rows.append(Row("jobs", f"{kind}: run time ({calls[('dynamodb', 'Query')]} queries)", seconds * 1000, "ms",
                        "", None))
    return rows

"""The daily check of the payment ledger's hash chains: any altered, missing, forged or reordered event.

IAM keeps the ledger append-only as far as it can (no UpdateItem, DeleteItem or BatchWriteItem for any
function), but PutItem can still overwrite an item: the chain is what shows that. Each find is one
error-level `ledger_chain_broken` line (the alarm's metric filter catches it); the job walks every stream
through the sparse "streams" index (Queries only), stops with a margin before its time limit and says
how far it got (`ledger_check_incomplete`); the next day's run starts at the next shard.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalice import Blueprint, Rate

from chalicelib.logs import log_alert
from chalicelib.platform.jobs import JobRun
from chalicelib.platform.schedule import scheduled

ledger_checks = Blueprint(__name__)

MARGIN_MS = 30_000  # a long stream is checked whole: more room than the expiry jobs need


def check_ledger(store: Any, out_of_time: Any = lambda: False, first_shard: int = 0) -> dict[str, int]:
    """Verify every stream the index lists; log each finding at error level. Returns the counts."""
    from chalicelib.premiums.ledger import verify_stream

    checked = findings = 0
    for stream in store.ledger_streams(first_shard):
        if out_of_time():
            log_alert("ledger_check_incomplete", checked=checked, next_stream=stream)
            return {"streams": checked, "findings": findings, "complete": 0}
        for finding in verify_stream(stream, store.ledger_items(stream)):
            findings += 1
            log_alert("ledger_chain_broken", stream=finding.stream, problem=finding.problem,
                      event_key=finding.event_key, detail=finding.detail)
        checked += 1
    return {"streams": checked, "findings": findings, "complete": 1}


@scheduled(ledger_checks, Rate(1, unit=Rate.DAYS), margin_ms=MARGIN_MS)
def verify_ledger(run: JobRun) -> dict[str, int]:
    """Every stream's hash chain, from a different shard each day."""
    from chalicelib.platform.jobs import SHARDS
    from chalicelib.premiums.wiring import premium_store

    first = datetime.now(UTC).timetuple().tm_yday % SHARDS  # each shard goes first one day in eight
    result = check_ledger(premium_store(), run.out_of_time, first)
    run.due = run.done = result["streams"]
    run.failed = result["findings"]
    run.stopped_early = not result["complete"]
    run.count("findings", result["findings"])
    return result

"""The daily check of the payment ledger's hash chains (premiums/ledger_check.py does the checking).

The job walks every stream through the sparse "streams" index (Queries only), stops with a margin
before its time limit, and the next day's run starts at the next shard.
"""

from __future__ import annotations

from chalice import Blueprint, Rate

from chalicelib.platform.jobs import JobRun
from chalicelib.platform.schedule import scheduled

ledger_checks = Blueprint(__name__)

MARGIN_MS = 30_000  # a long stream is checked whole: more room than the expiry jobs need


@scheduled(ledger_checks, Rate(1, unit=Rate.DAYS), margin_ms=MARGIN_MS)
def verify_ledger(run: JobRun) -> dict[str, int]:
    """Every stream's hash chain, from a different shard each day."""
    from chalicelib.platform.jobs import SHARDS
    from chalicelib.premiums.jobs import as_of
    from chalicelib.premiums.ledger_check import check_ledger
    from chalicelib.premiums.wiring import premium_store

    # Each shard goes first one day in eight: the run's day (run.at), so `make job AT=...` picks it too.
    first = as_of(run).timetuple().tm_yday % SHARDS
    result = check_ledger(premium_store(), run.out_of_time, first)
    run.due = run.done = result["streams"]
    run.failed = result["findings"]
    run.stopped_early = not result["complete"]
    run.count("findings", result["findings"])
    return result

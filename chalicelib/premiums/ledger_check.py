"""Checking the payment ledger's hash chains: every altered, missing, forged or reordered event is reported.

IAM keeps the ledger append-only as far as it can (no UpdateItem, DeleteItem or BatchWriteItem for any
function), but PutItem can still overwrite an item: the chain is what shows that. Each find is one
error-level `ledger_chain_broken` line (the alarm's metric filter catches it); a check that runs out
of time says how far it got (`ledger_check_incomplete`).
"""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.logs import log_alert
from chalicelib.premiums.ledger import verify_stream
from chalicelib.premiums.ports import LedgerReaderPort


def check_ledger(store: LedgerReaderPort, out_of_time: Callable[[], bool] = lambda: False,
                 first_shard: int = 0) -> dict[str, int]:
    """Verify every stream the store lists, from `first_shard`; log each finding at error level. The counts."""
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

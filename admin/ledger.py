"""`python -m admin verify-ledger`: every stream of the payment ledger, its hash chain checked.

The streams are found by a paginated Scan of the keys (admin code only: the app never Scans). A Scan,
unlike the "streams" index the daily job reads, also finds a stream whose head item is gone or that
was made up without one. Each stream is then read whole by Query and checked by the same code as the
job (chalicelib/premiums/ledger.py). One line per find; exit status 1 when there is any.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator


def streams_by_scan() -> Iterator[str]:
    """Every distinct stream in the table, each once (only the partition key is read)."""
    from chalicelib.platform.aws import client
    from chalicelib.premiums.models import LedgerRecord

    seen: set[str] = set()
    pages = client("dynamodb").get_paginator("scan").paginate(
        TableName=LedgerRecord.Meta.table_name, ProjectionExpression="#s", ExpressionAttributeNames={"#s": "stream"})
    for page in pages:
        for item in page.get("Items", []):
            stream = item["stream"]["S"]
            if stream not in seen:
                seen.add(stream)
                yield stream


def verify_ledger(out=None) -> int:
    from chalicelib.premiums.ledger import verify_stream
    from chalicelib.premiums.store import PremiumStore

    out = out or sys.stdout
    store = PremiumStore()
    streams = findings = 0
    for stream in streams_by_scan():
        streams += 1
        for finding in verify_stream(stream, store.ledger_items(stream)):
            findings += 1
            print(f"{finding.problem}\t{finding.stream}\t{finding.event_key or '-'}\t{finding.detail}", file=out)
    print(f"{streams} stream(s) checked, {findings} finding(s)", file=out)
    return 1 if findings else 0

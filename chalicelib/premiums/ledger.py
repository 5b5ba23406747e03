"""Ledger events: who changed what, when, for how much; appended with the change, never edited.

Each stream's events form a hash chain (see `verify_stream`), so an edit IAM could not stop is seen.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

# The events that open a stream: the first event of a new application, payment or policy.
STREAM_STARTS = frozenset({"application_created", "payment_started", "policy_created"})


@dataclass(frozen=True)
class LedgerEvent:
    """One state change of an application, payment or policy (its `stream`)."""

    stream: str  # application#<id> | payment#<id> | policy#<id>
    kind: str
    at: datetime
    actor: str  # account:<id> | gateway:<name> | reconciliation
    account_id: str | None = None
    application_id: str | None = None
    payment_id: str | None = None
    policy_id: str | None = None
    amount_fils: int | None = None
    from_status: str | None = None
    to_status: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


# --- the hash chain -----------------------------------------------------------------------------
# Each stream is a chain: its events carry `seq` (1, 2, ...), `prev_hash` (the hash of the event
# before, GENESIS for the first) and `hash`, the SHA-256 of the event's stored attributes (all but
# `hash` itself, canonically serialised). A per-stream head item, written in the same transaction
# with a condition on the head it read, holds the last seq and hash: two writers can't both append
# after the same event, and a missing last event is seen against it.

GENESIS = "0" * 64
HEAD_KEY = "#head"  # the head item's event_key: sorts before every event's ISO time
CHAIN_ATTRIBUTES = ("seq", "prev_hash", "hash")


def _canonical_value(typed: dict[str, Any]) -> Any:
    """One attribute as DynamoDB stores it ({"S": ...}, {"N": ...}), numbers in one spelling."""
    (kind, value), = typed.items()
    if kind == "N":
        number = Decimal(value)
        return {"N": str(int(number)) if number == number.to_integral_value() else str(number.normalize())}
    if kind == "M":
        return {"M": {k: _canonical_value(v) for k, v in value.items()}}
    if kind == "L":
        return {"L": [_canonical_value(v) for v in value]}
    return {kind: value}


def event_hash(item: dict[str, dict[str, Any]]) -> str:
    """SHA-256 over an event's stored attributes except `hash`: any change to any of them changes it."""
    body = {name: _canonical_value(value) for name, value in item.items() if name != "hash"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainFinding:
    """Something wrong with one stream: altered, missing, forged, reordered, unchained or head."""

    stream: str
    problem: str
    event_key: str | None
    detail: str


def _text(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    return next(iter(value.values())) if isinstance(value, dict) and value else None


def _number(item: dict[str, Any], name: str) -> int | None:
    text = _text(item, name)
    try:
        return int(Decimal(text)) if text is not None else None
    except (ArithmeticError, ValueError):
        return None


def verify_stream(stream: str, items: list[dict[str, dict[str, Any]]]) -> list[ChainFinding]:
    """Check one stream's items as stored (its head and events, in event_key order)."""
    findings: list[ChainFinding] = []

    def find(problem: str, key: str | None, detail: str) -> None:
        findings.append(ChainFinding(stream, problem, key, detail))

    head = next((i for i in items if _text(i, "event_key") == HEAD_KEY), None)
    events = sorted((i for i in items if _text(i, "event_key") != HEAD_KEY), key=lambda i: _text(i, "event_key") or "")
    last_seq, last_hash, seen = 0, GENESIS, set()
    for item in events:
        key = _text(item, "event_key")
        seq, prev, stored = _number(item, "seq"), _text(item, "prev_hash"), _text(item, "hash")
        if seq is None or prev is None or stored is None:
            find("unchained", key, "an event without seq, prev_hash or hash")
            continue
        if event_hash(item) != stored:
            find("altered", key, f"event {seq}'s attributes no longer give its hash")
        if seq in seen:
            find("forged", key, f"a second event {seq}")
            continue
        seen.add(seq)
        if seq < last_seq:
            find("reordered", key, f"event {seq} stored after event {last_seq}")
            continue
        if seq > last_seq + 1:
            find("missing", key, f"events {last_seq + 1} to {seq - 1} are missing before event {seq}")
        elif prev != last_hash:
            find("forged", key, f"event {seq} does not follow event {last_seq} (prev_hash differs)")
        last_seq, last_hash = seq, stored
    if head is None:
        if events:
            find("head", None, "the stream has events but no head")
        return findings
    head_seq, head_hash = _number(head, "seq"), _text(head, "hash")
    if head_seq is None or head_seq > last_seq:
        find("missing", None, f"the head names event {head_seq}; the last stored is {last_seq}")
    elif head_seq < last_seq:
        find("forged", None, f"events after the head's event {head_seq}")
    elif head_hash != last_hash:
        find("altered", None, f"the head's hash is not event {last_seq}'s")
    return findings

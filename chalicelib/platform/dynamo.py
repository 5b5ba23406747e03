"""What every DynamoDB store shares: model settings and indexes, the transaction connection, lost conditions."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

import botocore.session
import pynamodb.connection.base
from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.settings import get_settings

_sessions = threading.local()


def _shared_session() -> botocore.session.Session:
    """This thread's one botocore session, for every PynamoDB connection.

    PynamoDB gives each model's connection its own session, and each session loads botocore's
    endpoint rules and DynamoDB model from disk again: five times on a cold login. One per thread
    (botocore builds clients safely only within one thread) loads them once.
    """
    session: botocore.session.Session | None = getattr(_sessions, "session", None)
    if session is None:
        session = _sessions.session = botocore.session.get_session()
    return session


# PynamoDB has no setting for the session its connections use: its module-level factory is replaced.
pynamodb.connection.base.get_session = _shared_session  # type: ignore[attr-defined]  # not in its __all__


@cache
def connection() -> Connection:
    """The container's connection for TransactWrite (models keep their own for single-item calls)."""
    return Connection(region=get_settings().region)


def reset_connection() -> None:
    """Forget the cached connection (a test pointing at another endpoint)."""
    connection.cache_clear()


def lost_condition(exc: Exception) -> bool:
    """Whether a PynamoDB error is a condition (or a transaction's conditions) that did not hold."""
    return getattr(exc, "cause_response_code", None) in (
        "ConditionalCheckFailedException", "TransactionCanceledException")


@dataclass(frozen=True)
class Cancellation:
    """Why DynamoDB cancelled a transaction, item by item (the order the writes were added)."""

    failed_conditions: tuple[int, ...]  # positions whose condition did not hold
    conflict: bool  # another transaction held one of the items: retrying may succeed

    @property
    def lost_race(self) -> bool:
        """The state changed under us (a condition or a concurrent transaction), not a fault of the service."""
        return bool(self.failed_conditions) or self.conflict


def cancellation(exc: TransactWriteError) -> Cancellation:
    """Read the per-item reasons of a cancelled TransactWriteItems.

    Throttling, a validation error or a service fault is no lost race: callers re-raise those
    instead of telling a person that somebody else changed the data first.
    """
    reasons = getattr(exc, "cancellation_reasons", None) or []
    codes = [getattr(reason, "code", None) if reason is not None else None for reason in reasons]
    return Cancellation(failed_conditions=tuple(i for i, code in enumerate(codes) if code == "ConditionalCheckFailed"),
                        conflict="TransactionConflict" in codes)


class TableMeta:
    """What every model's Meta shares: the region, and failing fast."""

    region = get_settings().region
    # Lambda has a 29 s API budget: fail fast rather than retry for minutes.
    max_retry_attempts = 3
    connect_timeout_seconds = 3
    read_timeout_seconds = 10


def due_index(name: str, shard: str, due_at: str, projection: type = KeysOnlyProjection) -> Any:
    """A sparse index of what a scheduled job must do, by (shard, due time): see devstack/infra/data.due_index.

    Any: the index class is made here, so its attributes are only known at run time (PynamoDB queries it).
    """
    meta = type("Meta", (), {"index_name": name, "projection": projection()})
    attrs = {"Meta": meta, shard: UnicodeAttribute(hash_key=True), due_at: UTCDateTimeAttribute(range_key=True)}
    return type(f"Index_{name}", (GlobalSecondaryIndex,), attrs)()


def by_account_index(range_key: str) -> Any:
    """The "by_account" index every per-account table has: an account's items sorted by `range_key`."""
    meta = type("Meta", (), {"index_name": "by_account", "projection": AllProjection()})
    attrs = {"Meta": meta, "account_id": UnicodeAttribute(hash_key=True),
             range_key: UnicodeAttribute(range_key=True)}
    return type(f"ByAccount_{range_key}", (GlobalSecondaryIndex,), attrs)()

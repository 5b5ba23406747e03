"""What every DynamoDB store shares: the connection its transactions use, and how a lost condition looks."""

from __future__ import annotations

from functools import cache

from pynamodb.connection import Connection

from chalicelib.settings import get_settings


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

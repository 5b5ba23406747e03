"""AWS clients, built lazily on first use and cached per container (never at import time)."""

from __future__ import annotations

import os
from contextlib import suppress
from functools import cache
from typing import Any

from chalicelib.settings import get_settings


def client(service: str) -> Any:
    """The container's client of `service` in the stage's region (at AWS_ENDPOINT_URL when one is set)."""
    return _client(service, get_settings().region, os.environ.get("AWS_ENDPOINT_URL"))


@cache
def _client(service: str, region: str, endpoint: str | None) -> Any:
    # Keyed by region and endpoint, so a test pointing at another endpoint never gets a client of the last.
    import boto3
    from botocore.config import Config

    # Short timeouts and standard retries: a Lambda behind API Gateway has 29 s in all.
    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)
    return boto3.client(service, region_name=region, config=config)


def reset_clients() -> None:
    """Forget cached clients (a test that changes credentials or configuration)."""
    _client.cache_clear()


def secret_values(secret_id: str) -> list[str]:
    """A secret's current value, then its previous one while a rotation keeps it (AWSPREVIOUS)."""
    manager = client("secretsmanager")
    values = [manager.get_secret_value(SecretId=secret_id)["SecretString"]]
    with suppress(manager.exceptions.ResourceNotFoundException):  # never rotated
        values.append(manager.get_secret_value(SecretId=secret_id, VersionStage="AWSPREVIOUS")["SecretString"])
    return values

"""AWS clients, built lazily on first use and cached per container (never at import time)."""

from __future__ import annotations

from contextlib import suppress
from functools import cache
from typing import Any

from chalicelib.settings import get_settings


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    # Short timeouts and standard retries: a Lambda behind API Gateway has 29 s in all.
    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)
    return boto3.client(service, region_name=get_settings().region, config=config)


def reset_clients() -> None:
    """Forget cached clients (tests start a fresh moto account per test)."""
    client.cache_clear()


def secret_values(secret_id: str) -> list[str]:
    """A secret's current value, then its previous one while a rotation keeps it (AWSPREVIOUS)."""
    manager = client("secretsmanager")
    values = [manager.get_secret_value(SecretId=secret_id)["SecretString"]]
    with suppress(manager.exceptions.ResourceNotFoundException):  # never rotated
        values.append(manager.get_secret_value(SecretId=secret_id, VersionStage="AWSPREVIOUS")["SecretString"])
    return values

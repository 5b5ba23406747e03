"""Payment secrets from Secrets Manager, cached per container: the callback HMAC key and KNET's terminal.

The callback secret's AWSCURRENT value signs; AWSPREVIOUS, while it exists, still
verifies, so a rotation never rejects a callback signed a moment before it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import cast

from chalicelib.platform.aws import client, secret_values
from chalicelib.settings import get_settings

CACHE_SECONDS = 300
CALLBACK_SECRET = "payment-callback"
KNET_SECRET = "knet-terminal"  # JSON: tranportal_id, password, resource_key

_lock = threading.Lock()
_cache: dict[str, tuple[float, object]] = {}


def _secret_id(name: str) -> str:
    return f"{get_settings().secrets_prefix}{name}"


def _cached[T](name: str, load: Callable[[], T]) -> T:
    with _lock:
        hit = _cache.get(name)
        if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
            return cast(T, hit[1])  # stored by this function under this name: load's type
    value = load()
    with _lock:
        _cache[name] = (time.monotonic(), value)
    return value


def callback_secrets() -> list[bytes]:
    """The keys that verify gateway callbacks, the signing one first."""

    def load() -> list[bytes]:
        return [value.encode("utf-8") for value in secret_values(_secret_id(CALLBACK_SECRET))]

    return _cached(CALLBACK_SECRET, load)


def knet_terminal() -> dict[str, str]:
    """KNET's tranportal id, password and resource key, as the acquiring bank issued them."""

    def load() -> dict[str, str]:
        raw = client("secretsmanager").get_secret_value(SecretId=_secret_id(KNET_SECRET))["SecretString"]
        # The secret's shape is the deploy's promise (infra writes it); json.loads cannot say so.
        return cast(dict[str, str], json.loads(raw))

    return _cached(KNET_SECRET, load)


def forget_secrets() -> None:
    with _lock:
        _cache.clear()

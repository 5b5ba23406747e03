"""The accounts area's server HMAC keys from Secrets Manager, cached per container, current first."""

from __future__ import annotations

import threading
import time

from chalicelib.platform.aws import secret_values
from chalicelib.settings import get_settings

CACHE_SECONDS = 300
SECRET_NAME = "accounts-hmac"

_lock = threading.Lock()
_cache: dict[str, tuple[float, list[bytes]]] = {}


def accounts_hmac_keys() -> list[bytes]:
    """AWSCURRENT (which signs) then AWSPREVIOUS while a rotation keeps it (which still verifies)."""
    with _lock:
        hit = _cache.get(SECRET_NAME)
        if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
    keys = [value.encode("utf-8") for value in secret_values(f"{get_settings().secrets_prefix}{SECRET_NAME}")]
    with _lock:
        _cache[SECRET_NAME] = (time.monotonic(), keys)
    return keys


def forget_hmac_keys() -> None:
    with _lock:
        _cache.clear()

"""HMAC-SHA256 signatures for callback bodies, with a timestamp against replays.

Header value: `t=<unix seconds>,v1=<hex hmac>` (several v1 entries allowed, so a
sender can sign with the old and new secret while a secret rotates). The signed
string is `<t>.` followed by the raw body bytes, so a signature can be neither
moved to another body nor replayed after the tolerance window.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from chalicelib.premiums.gateway import CallbackRejected

SIGNATURE_HEADER = "X-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(CallbackRejected):
    """The signature header is missing, malformed, wrong or too old."""


def signature(body: bytes, secret: bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of `<timestamp>.<body>` under `secret`."""
    signed = str(int(timestamp)).encode("ascii") + b"." + body
    return hmac.new(secret, signed, hashlib.sha256).hexdigest()


def sign(body: bytes, secrets: bytes | Iterable[bytes], timestamp: int) -> str:
    """The signature header value for `body` sent at `timestamp`."""
    keys = [secrets] if isinstance(secrets, bytes) else list(secrets)
    if not keys:
        raise ValueError("at least one secret is needed to sign")
    parts = [f"t={int(timestamp)}"] + [f"{SCHEME}={signature(body, k, timestamp)}" for k in keys]
    return ",".join(parts)


def verify(
    body: bytes,
    header: str | None,
    secrets: bytes | Iterable[bytes],
    *,
    now: float,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> int:
    """Return the signed timestamp if `header` signs `body` under one of `secrets`, else raise."""
    timestamp, candidates = _parse_header(header)
    # Too far ahead is as suspect as too old: the sender's clock cannot be trusted to
    # stretch the replay window.
    if abs(now - timestamp) > tolerance_seconds:
        raise SignatureError("timestamp outside tolerance")
    keys = [secrets] if isinstance(secrets, bytes) else list(secrets)
    expected = [signature(body, k, timestamp) for k in keys]
    # compare_digest on every pair, no early exit: timing says nothing about which part matched.
    matched = False
    for candidate in candidates:
        for digest in expected:
            matched |= hmac.compare_digest(candidate, digest)
    if not matched:
        raise SignatureError("signature mismatch")
    return timestamp


def _parse_header(header: str | None) -> tuple[int, list[str]]:
    if not header:
        raise SignatureError("signature header missing")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise SignatureError("signature header malformed")
        if key == "t":
            if timestamp is not None or not value.isascii() or not value.isdecimal():
                raise SignatureError("signature timestamp malformed")
            timestamp = int(value)
        elif key == SCHEME:
            if not value.isascii():
                raise SignatureError("signature malformed")
            candidates.append(value.lower())
    if timestamp is None or not candidates:
        raise SignatureError("signature header incomplete")
    return timestamp, candidates

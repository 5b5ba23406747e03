"""Random secrets handed to people, and the only form in which we keep them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def new_token() -> str:
    """256 bits from the OS's CSPRNG, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored and looked up: the SHA-256 of the token, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_code() -> str:
    """A 6-digit SMS code."""
    return f"{secrets.randbelow(1_000_000):06d}"


def code_hash(key: bytes, registration_hash: str, code: str) -> str:
    """A code is only 6 digits: keyed by a server secret kept outside the table, so a leaked table
    can't be searched offline for the 10^6 codes, and bound to its registration."""
    return hmac.new(key, f"sms-code:{registration_hash}:{code}".encode(), hashlib.sha256).hexdigest()


def refresh_successor(key: bytes, session_id: str, secret: str) -> str:
    """The refresh token that replaces `secret`: derived, so a retry within the grace period gets
    the same one without the table ever holding a usable token."""
    digest = hmac.new(key, f"refresh-successor:{session_id}:{secret}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two hashes."""
    return a is not None and b is not None and hmac.compare_digest(a, b)


def temporary_password() -> str:
    """A temporary password that passes the policy: 4 groups, letters and digits, no look-alikes."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
    groups = ["".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4)]
    return "-".join(groups)

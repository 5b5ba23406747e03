"""Random secrets handed to people, and the only form in which we keep them."""

from __future__ import annotations

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


def code_hash(registration_hash: str, code: str) -> str:
    """A code is only 6 digits: bind its hash to its registration so a table leak is useless alone."""
    return hmac.new(registration_hash.encode(), code.encode(), hashlib.sha256).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two hashes."""
    return a is not None and b is not None and hmac.compare_digest(a, b)


def temporary_password() -> str:
    """A temporary password that passes the policy: 4 groups, letters and digits, no look-alikes."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
    groups = ["".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4)]
    return "-".join(groups)

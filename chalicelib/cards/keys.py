"""The Ed25519 keys that sign card QR codes: a Secrets Manager secret of their own, rotatable.

Derived like the access-token keys (adapters/signing_keys.py) but from a separate secret,
so rotating one never touches the other. AWSCURRENT signs new cards; AWSPREVIOUS keeps
verifying the cards (and screenshots of them) drawn before the last rotation.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.platform.signing_keys import KeyRing
from chalicelib.settings import get_settings

SECRET_NAME = "card-signing"


@cache
def card_keys() -> KeyRing:
    """The key ring of this container (cached: Secrets Manager is read at most every 5 minutes)."""
    return KeyRing(f"{get_settings().secrets_prefix}{SECRET_NAME}")


def signing_key() -> tuple[str, Any]:
    """The key id and private key that sign cards now."""
    current = card_keys().current()
    return current.kid, current.private


def public_key(kid: str) -> Any | None:
    """The public key of `kid`, or None for a key we never had or no longer keep."""
    pair = card_keys().find(kid)
    return pair.public if pair is not None else None


def public_keys() -> dict[str, Any]:
    """Every key a card in circulation may be signed with, by key id."""
    return {pair.kid: pair.public for pair in card_keys().all()}


def forget_card_keys() -> None:
    """Forget the cached key ring (tests, and after a rotation in the local stack)."""
    card_keys.cache_clear()

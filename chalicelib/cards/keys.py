"""The Ed25519 keys that sign card QR codes: a Secrets Manager secret of their own, rotatable.

Derived like the access-token keys (platform/signing_keys.py) but from a separate secret,
so rotating one never touches the other. AWSCURRENT signs new cards; AWSPREVIOUS keeps
verifying the cards (and screenshots of them) drawn before the last rotation.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from chalicelib.platform.signing_keys import Es256KeyPair, Es256KeyRing, KeyRing
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SECRET_NAME = "card-signing"


@cache
def card_keys() -> KeyRing:
    """The key ring of this container (cached: Secrets Manager is read at most every 5 minutes)."""
    return KeyRing(f"{get_settings().secrets_prefix}{SECRET_NAME}")


# The key ring holds Ed25519 keys untyped (platform/signing_keys.KeyPair: Any); they are typed here.
def signing_key() -> tuple[str, Ed25519PrivateKey]:
    """The key id and private key that sign cards now."""
    current = card_keys().current()
    private: Ed25519PrivateKey = current.private
    return current.kid, private


def public_key(kid: str) -> Ed25519PublicKey | None:
    """The public key of `kid`, or None for a key we never had or no longer keep."""
    pair = card_keys().find(kid)
    public: Ed25519PublicKey | None = pair.public if pair is not None else None
    return public


def public_keys() -> dict[str, Ed25519PublicKey]:
    """Every key a card in circulation may be signed with, by key id."""
    return {pair.kid: pair.public for pair in card_keys().all()}


@cache
def shc_keys() -> Es256KeyRing:
    """The P-256 keys of SMART Health Cards, derived from the same secret (one rotation for both)."""
    return Es256KeyRing(f"{get_settings().secrets_prefix}{SECRET_NAME}")


def shc_signing_key() -> Es256KeyPair:
    """The ES256 key that signs SMART Health Cards now."""
    return shc_keys().current()


def shc_key(kid: str) -> Es256KeyPair | None:
    """The ES256 key of `kid` (an RFC 7638 thumbprint), or None."""
    return shc_keys().find(kid)


def shc_all_keys() -> list[Es256KeyPair]:
    """Every ES256 key a card in circulation may be signed with (current first)."""
    ring = shc_keys()
    current = ring.current()
    return [current, *(pair for pair in ring.all() if pair.kid != current.kid)]


def forget_card_keys() -> None:
    """Forget the cached key rings (tests, and after a rotation in the local stack)."""
    card_keys.cache_clear()
    shc_keys.cache_clear()

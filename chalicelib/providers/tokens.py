"""Provider access tokens (RFC 9068 JWT access tokens: typ at+jwt, EdDSA with the access-token key ring)
and the HMAC key of civil IDs in the lookup log.

A provider token is told apart from a member's at every step: its header's typ is "at+jwt" (members'
are "JWT"), its audience is the FHIR base URL (members': the app's), its token_use "provider", and it
has no session id. The member verifier (accounts/jwt_tokens.py) refuses it on any of these; this one
refuses a member's token on all of them.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from datetime import datetime
from functools import cache
from typing import Any

from chalicelib.platform.aws import secret_values
from chalicelib.platform.signing_keys import KeyRing
from chalicelib.providers.rules import SCOPE, Provider
from chalicelib.settings import get_settings

TOKEN_TYPE = "at+jwt"
TOKEN_USE = "provider"
ALGORITHM = "EdDSA"
MAX_TOKEN_CHARS = 4096


@cache
def token_keys() -> KeyRing:
    # The access-token secret's keys: the authorizer already holds it, and rotating it rotates both kinds.
    return KeyRing(f"{get_settings().secrets_prefix}jwt-signing")


def audience() -> str:
    return f"{get_settings().public_base_url}/fhir"


def issue_provider_token(provider: Provider, now: datetime, lifetime_s: int, /) -> str:
    import jwt

    key = token_keys().current()
    issued = int(now.timestamp())
    claims = {
        "iss": get_settings().jwt_issuer, "aud": audience(), "sub": provider.client_id,
        "client_id": provider.client_id, "scope": SCOPE, "token_use": TOKEN_USE,
        "gen": provider.secret_version, "jti": uuid.uuid4().hex, "iat": issued, "exp": issued + lifetime_s,
    }
    token: str = jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": TOKEN_TYPE})
    return token


def _header(token: str) -> dict[str, Any] | None:
    head = token.split(".", 1)[0]
    if len(token) > MAX_TOKEN_CHARS or not head:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def is_provider_token(token: str) -> bool:
    """Whether a bearer token says it is a provider's (typ at+jwt); only verification says it is valid."""
    header = _header(token)
    return header is not None and header.get("typ") == TOKEN_TYPE


def verify_provider_token(token: str) -> dict[str, str] | None:
    """The authorizer context of a valid provider token (client id, scope, secret version), or None."""
    import jwt

    header = _header(token)
    if header is None or header.get("typ") != TOKEN_TYPE or header.get("alg") != ALGORITHM or "crit" in header:
        return None
    kid = header.get("kid")
    key = token_keys().find(kid) if isinstance(kid, str) else None
    if key is None:
        return None
    try:
        claims = jwt.decode(token, key.public, algorithms=[ALGORITHM], audience=audience(),
                            issuer=get_settings().jwt_issuer,
                            options={"require": ["exp", "iat", "iss", "aud", "sub", "client_id", "scope", "gen"]})
    except jwt.PyJWTError:
        return None
    if (claims.get("token_use") != TOKEN_USE or SCOPE not in str(claims.get("scope", "")).split()
            or not isinstance(claims.get("gen"), int) or claims["sub"] != claims["client_id"]
            or not isinstance(claims["sub"], str) or claims.get("iat", 0) > time.time() + 5):
        return None
    return {"kind": "provider", "client_id": claims["sub"], "scope": SCOPE, "secret_version": str(claims["gen"])}


_lock = threading.Lock()
_hmac_key: dict[str, tuple[float, bytes]] = {}
HMAC_CACHE_SECONDS = 300


def civil_id_hmac_key() -> bytes:
    """The current providers-hmac secret (cached per container)."""
    name = f"{get_settings().secrets_prefix}providers-hmac"
    with _lock:
        hit = _hmac_key.get(name)
        if hit is not None and time.monotonic() - hit[0] < HMAC_CACHE_SECONDS:
            return hit[1]
    key = secret_values(name)[0].encode("utf-8")
    with _lock:
        _hmac_key[name] = (time.monotonic(), key)
    return key


def forget_keys() -> None:
    token_keys.cache_clear()
    with _lock:
        _hmac_key.clear()

"""Access tokens: short-lived EdDSA JWTs with a kid, verified with no database read."""

from __future__ import annotations

import base64
import re
import time
from datetime import datetime
from functools import cache
from typing import Any

from chalicelib.accounts.errors import AccessTokenRejected
from chalicelib.platform.signing_keys import KeyRing
from chalicelib.settings import get_settings

ALGORITHM = "EdDSA"  # the only one accepted: no 'none', no HMAC-with-public-key confusion


@cache
def jwt_keys() -> KeyRing:
    return KeyRing(f"{get_settings().secrets_prefix}jwt-signing")


def issue_access_token(account_id: str, session_id: str, now: datetime, lang: str | None = None) -> str:
    import jwt

    settings = get_settings()
    key = jwt_keys().current()
    issued = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": account_id,
        "sid": session_id,
        "iat": issued,
        "exp": issued + settings.lifetimes.access_token_s,
        "token_use": "access",
    }
    if lang:
        claims["lang"] = lang
    token: str = jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid})
    return token


def verify_access_token(token: str) -> dict[str, Any]:
    """The token's claims, after checking its form, algorithm, signature, expiry, issuer and audience.

    A compact JWS (RFC 7515) with one algorithm, EdDSA over Ed25519 (RFC 8037), verified with
    cryptography's Ed25519 directly: PyJWT's import loads every algorithm it knows and cryptography's
    X.509 with them (about 60 ms of the authorizer's cold start), while only this one is accepted.
    PyJWT still issues the tokens, and tests/unit/tokens holds this verifier to PyJWT's verdicts.
    """
    from cryptography.exceptions import InvalidSignature

    if len(token) > MAX_TOKEN_CHARS:
        raise AccessTokenRejected("too long")
    parts = token.split(".")
    if len(parts) != 3:
        raise AccessTokenRejected("not a compact JWS")
    header = _json_object(_b64url(parts[0]))
    if header.get("alg") != ALGORITHM:
        raise AccessTokenRejected("algorithm")
    if "crit" in header:  # RFC 7515 4.1.11: extensions we don't understand make the token invalid
        raise AccessTokenRejected("critical header")
    kid = header.get("kid")
    key = jwt_keys().find(kid) if isinstance(kid, str) else None
    if key is None:
        raise AccessTokenRejected("unknown key")
    try:
        key.public.verify(_b64url(parts[2]), f"{parts[0]}.{parts[1]}".encode("ascii"))
    except InvalidSignature as exc:
        raise AccessTokenRejected("signature") from exc
    claims = _json_object(_b64url(parts[1]))
    _check_claims(claims)
    return claims


MAX_TOKEN_CHARS = 4096  # ours are about 400; anything longer is not worth decoding
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_REQUIRED = ("exp", "iat", "iss", "aud", "sub", "sid")


def _b64url(part: str) -> bytes:
    """base64url without padding (RFC 7515 2): any other character, or padding, is a malformed token."""
    if not _B64URL.fullmatch(part) or len(part) % 4 == 1:
        raise AccessTokenRejected("encoding")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _json_object(raw: bytes) -> dict[str, Any]:
    from chalicelib.errors import BadRequest
    from chalicelib.platform.http import parse_json

    try:
        value = parse_json(raw)  # I-JSON: UTF-8, no duplicate names (RFC 7515 5.2 asks for no duplicates)
    except BadRequest as exc:
        raise AccessTokenRejected("not JSON") from exc
    if not isinstance(value, dict):
        raise AccessTokenRejected("not a JSON object")
    return value


def _numeric_date(claims: dict[str, Any], name: str) -> int:
    """A NumericDate in whole seconds, as we issue them (a fraction, a string or a boolean is refused)."""
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise AccessTokenRejected(f"{name} is not a NumericDate in whole seconds")
    return value


def _check_claims(claims: dict[str, Any]) -> None:
    settings = get_settings()
    missing = [name for name in _REQUIRED if name not in claims]
    if missing:
        raise AccessTokenRejected(f"missing {missing[0]}")
    moment = time.time()
    if _numeric_date(claims, "exp") <= moment:
        raise AccessTokenRejected("expired")
    if _numeric_date(claims, "iat") > moment:
        raise AccessTokenRejected("issued in the future")
    if "nbf" in claims and _numeric_date(claims, "nbf") > moment:
        raise AccessTokenRejected("not yet valid")
    if claims["iss"] != settings.jwt_issuer:
        raise AccessTokenRejected("issuer")
    audience = claims["aud"]
    audiences = [audience] if isinstance(audience, str) else audience
    if (not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences)
            or settings.jwt_audience not in audiences):
        raise AccessTokenRejected("audience")
    if not all(isinstance(claims[name], str) and claims[name] for name in ("sub", "sid")):
        raise AccessTokenRejected("subject or session is not a string")
    if claims.get("token_use") != "access":
        raise AccessTokenRejected("not an access token")

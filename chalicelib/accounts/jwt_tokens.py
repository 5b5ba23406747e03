"""Access tokens: short-lived EdDSA JWTs with a kid, verified with no database read."""

from __future__ import annotations

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
    """The token's claims, after checking signature, algorithm, expiry, issuer and audience."""
    import jwt

    settings = get_settings()
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise AccessTokenRejected("algorithm")
        key = jwt_keys().find(str(header.get("kid", "")))
        if key is None:
            raise AccessTokenRejected("unknown key")
        claims: dict[str, Any] = jwt.decode(
            token, key.public, algorithms=[ALGORITHM], audience=settings.jwt_audience,
            issuer=settings.jwt_issuer, options={"require": ["exp", "iat", "iss", "aud", "sub", "sid"]},
        )
    except jwt.PyJWTError as exc:
        raise AccessTokenRejected(type(exc).__name__) from exc
    if claims.get("token_use") != "access":
        raise AccessTokenRejected("not an access token")
    return claims

"""Google Wallet: the "Save to Google Wallet" link, and the REST calls that update a saved object.

The link is https://pay.google.com/gp/v/save/<JWT>: RS256 with the service account's key (header
`kid` its key id), claims `iss` the service account email, `aud` "google", `typ` "savetowallet",
`iat`, `origins` (where the button may be shown) and `payload.genericObjects` (and the class, created
on first save). A card's change PATCHes its object at walletobjects.googleapis.com with an access token
the service account gets by the OAuth 2.0 JWT bearer grant (RFC 7523) for the wallet_object.issuer scope.
Calls go through an `HttpSender` (ports.py): senders.UrllibSender; `make run` and the tests write them down.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

from chalicelib.wallet.ports import HttpCall, HttpSender

SAVE_URL = "https://pay.google.com/gp/v/save/"
TOKEN_URL = "https://oauth2.googleapis.com/token"
OBJECTS_URL = "https://walletobjects.googleapis.com/walletobjects/v1/genericObject/"
SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
_access: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()


def save_jwt(config: Any, origins: list[str], objects: list[Mapping[str, Any]], classes: list[Mapping[str, Any]],
             now: float) -> str:
    """The signed JWT a "Save to Google Wallet" link carries."""
    import jwt

    claims = {"iss": config.client_email, "aud": "google", "typ": "savetowallet", "iat": int(now),
              "origins": origins, "payload": {"genericClasses": list(classes), "genericObjects": list(objects)}}
    headers = {"kid": config.private_key_id} if config.private_key_id else None
    return jwt.encode(claims, config.private_key, algorithm="RS256", headers=headers)


def access_token(config: Any, send: HttpSender, now: float) -> str:
    """An OAuth 2.0 access token of the service account (JWT bearer grant), kept until 5 minutes before it ends."""
    import jwt

    with _lock:
        cached = _access.get(config.client_email)
        if cached is not None and cached[0] > now:
            return cached[1]
    assertion = jwt.encode({"iss": config.client_email, "scope": SCOPE, "aud": TOKEN_URL, "iat": int(now),
                            "exp": int(now) + 3600}, config.private_key, algorithm="RS256",
                           headers={"kid": config.private_key_id} if config.private_key_id else None)
    body = urllib.parse.urlencode({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                   "assertion": assertion}).encode()
    status, answer = send(HttpCall("POST", TOKEN_URL, {"content-type": "application/x-www-form-urlencoded"}, body))
    if status != 200:
        raise ConnectionError(f"Google's token endpoint answered {status}")
    granted = json.loads(answer)
    token = str(granted["access_token"])
    with _lock:
        _access[config.client_email] = (now + int(granted.get("expires_in", 3600)) - 300, token)
    return token


def patch_object(object_id: str, changes: Mapping[str, Any], token: str) -> HttpCall:
    """The PATCH of one generic object (only the fields given change)."""
    return HttpCall("PATCH", OBJECTS_URL + urllib.parse.quote(object_id, safe=""),
                    {"authorization": f"Bearer {token}", "content-type": "application/json"},
                    json.dumps(changes, ensure_ascii=False).encode("utf-8"))

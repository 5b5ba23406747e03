"""Apple Push Notification service, as Wallet updates use it: an empty push to each registered device.

The request (Apple's "Sending notification requests to APNs"): HTTP/2 POST to api.push.apple.com
/3/device/<push token>, `apns-topic` the pass type identifier, `authorization: bearer <provider
token>`: a JWT signed ES256 with the team's APNs auth key (header `kid` the key id, claims `iss` the
team id and `iat`), reused up to 50 minutes (APNs refuses one older than an hour, and one renewed
more often than every 20 minutes). The body is `{}`: Wallet asks the web service what changed.

Sending goes through a `PushSender` (ports.py): senders.H2Sender opens TLS with ALPN h2 and speaks
HTTP/2 with the h2 library; `make run` and the tests put a sender that writes the request down.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from chalicelib.wallet.ports import Push

HOST = "api.push.apple.com"
TOKEN_SECONDS = 50 * 60
_tokens: dict[tuple[str, str], tuple[float, str]] = {}
_lock = threading.Lock()


def provider_token(team_id: str, key_id: str, key: Any, now: float | None = None) -> str:
    """The APNs provider token (ES256 JWT), cached per team and key for TOKEN_SECONDS."""
    import jwt

    moment = time.time() if now is None else now
    with _lock:
        cached = _tokens.get((team_id, key_id))
        if cached is not None and moment - cached[0] < TOKEN_SECONDS:
            return cached[1]
        token = jwt.encode({"iss": team_id, "iat": int(moment)}, key, algorithm="ES256", headers={"kid": key_id})
        _tokens[(team_id, key_id)] = (moment, token)
        return token


def pass_update_push(push_token: str, pass_type_id: str, provider: str, host: str = HOST) -> Push:
    """The push telling a device that a pass of `pass_type_id` changed."""
    return Push(host=host, path=f"/3/device/{push_token}",
                headers={"authorization": f"bearer {provider}", "apns-topic": pass_type_id,
                         "apns-push-type": "background", "apns-priority": "5"},
                body=b"{}")

"""The wallet part of the OpenAPI document (merged by chalicelib/health/openapi.py).

Apple's pass web service (/wallet/apple/v1/...) is Apple's contract ("Wallet Passes" web service
reference), documented here with the statuses it answers; its 401 is the pass's token missing or wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PKPASS = "application/vnd.apple.pkpass"
STATUS = {"type": "string", "enum": ["active", "upcoming", "expired", "terminated", "cancelled"]}


def openapi_paths(op: Callable[..., dict[str, Any]], s: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """Paths of the wallet routes, built with openapi.py's helpers."""

    def path(*names: str) -> list[dict[str, Any]]:
        return [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in names]

    apple_auth = [{"name": "Authorization", "in": "header", "required": True, "schema": {"type": "string"},
                   "description": "ApplePass <the pass's authenticationToken>"}]
    binary = {"type": "string", "format": "binary"}
    apple = op("The person's card as a signed Apple Wallet pass (.pkpass: pass.json in English and Arabic, the "
               "card's SMART Health Card QR, voided once the cover ended early). 404 for a member id the account "
               "does not cover; 503 WALLET_UNAVAILABLE while the pass certificate is not configured",
               auth=True, params=path("member_id"), out=binary, produces=PKPASS, errors=("404", "503"))
    google = op("A Save to Google Wallet link (https://pay.google.com/gp/v/save/<JWT signed RS256>) carrying the "
                "card as a generic object; 404 as for the card; 503 while Google Wallet is not configured",
                auth=True, params=path("member_id"), errors=("404", "503"),
                out=s(member_id="string", status=STATUS, url={"type": "string", "format": "uri"}))
    register = op("Apple: a device registers for a pass's updates (201 new, 200 already)", ok=("201", "Registered"),
                  params=[*path("device", "pass_type", "serial"), *apple_auth], body=s(pushToken="string"),
                  required=("pushToken",), errors=("401", "404", "422", "429"))
    register["responses"]["200"] = {"description": "Already registered (its push token refreshed)"}
    unregister = op("Apple: the pass was removed from the device", params=[*path("device", "pass_type", "serial"),
                                                                         *apple_auth], errors=("401", "404"))
    updated = op("Apple: the device's passes changed since the tag (204: none)",
                 params=[*path("device", "pass_type"),
                         {"name": "passesUpdatedSince", "in": "query", "required": False,
                          "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"}}],
                 out=s(serialNumbers={"type": "array", "items": {"type": "string"}}, lastUpdated="string"),
                 errors=("404", "422"))
    updated["responses"]["204"] = {"description": "No pass changed since the tag"}
    latest = op("Apple: the pass as it is now (304 when not modified since If-Modified-Since)",
                params=[*path("pass_type", "serial"), *apple_auth,
                        {"name": "If-Modified-Since", "in": "header", "required": False,
                         "schema": {"type": "string"}}],
                out=binary, produces=PKPASS, errors=("401", "404"))
    latest["responses"]["304"] = {"description": "Not modified"}
    log = op("Apple: devices report web service problems (logged, 50 lines at most)",
             body=s(logs={"type": "array", "items": {"type": "string"}}), required=("logs",), errors=())
    return {
        "/v1/cards/{member_id}/wallet/apple": {"get": apple},
        "/v1/cards/{member_id}/wallet/google": {"get": google},
        "/wallet/apple/v1/devices/{device}/registrations/{pass_type}/{serial}": {"post": register,
                                                                                  "delete": unregister},
        "/wallet/apple/v1/devices/{device}/registrations/{pass_type}": {"get": updated},
        "/wallet/apple/v1/passes/{pass_type}/{serial}": {"get": latest},
        "/wallet/apple/v1/log": {"post": log},
    }

"""The OpenAPI document of the mobile app's contract, built from small parts.

A test fails when a route is served that this document does not describe.
"""

from __future__ import annotations

from typing import Any

from chalicelib.cards import card_schema
from chalicelib.cards import openapi_paths as card_paths
from chalicelib.premiums import openapi_paths as premium_paths
from chalicelib.providers import openapi_paths as provider_paths
from chalicelib.settings import VERSION
from chalicelib.wallet import openapi_paths as wallet_paths

ERROR = {"$ref": "#/components/responses/Error"}
PAGE = {"$ref": "#/components/responses/Page"}
HTML = "text/html"


def _s(**props: Any) -> dict[str, Any]:
    """An object schema whose properties are given as name=type or name=schema."""
    properties = {k: ({"type": v} if isinstance(v, str) else v) for k, v in props.items()}
    return {"type": "object", "properties": properties}


def _op(summary: str, *, body: dict[str, Any] | None = None, ok: tuple[str, str] = ("200", "OK"),
        out: dict[str, Any] | None = None,
        auth: bool = False, errors: tuple[str, ...] = ("400", "422"), params: list[dict[str, Any]] | None = None,
        content: str = "application/json", produces: str = "application/json",
        required: tuple[str, ...] = ()) -> dict[str, Any]:
    """One operation; every status the edge itself can answer is documented whatever the route.

    400: a body that is not I-JSON (INVALID_JSON) or a parameter that is not text (INVALID_PARAMETER);
    401: a missing, invalid or expired token on a signed-in route; 415: a body of another media type;
    500: INTERNAL with a request id. `errors` adds the route's own. An HTML page answers its own
    errors (404, 410, 422) as pages; the edge's answer the JSON envelope.
    """
    op: dict[str, Any] = {"summary": summary, "parameters": [{"$ref": "#/components/parameters/AcceptLanguage"},
                                                            *(params or [])]}
    if body is not None:
        schema = {**body, "required": list(required)} if required else body
        op["requestBody"] = {"required": True, "content": {content: {"schema": schema}}}
    status, description = ok
    response: dict[str, Any] = {"description": description}
    if out is not None:
        response["content"] = {produces: {"schema": out}}
    page = produces == HTML
    own = {code: (PAGE if page else ERROR) for code in errors}
    edge = {"400": ERROR, "500": ERROR, **({"415": ERROR} if body is not None else {}),
            **({"401": ERROR} if auth else {})}
    op["responses"] = {status: response, **own, **{code: ref for code, ref in edge.items() if code not in own}}
    if auth:
        op["security"] = [{"bearer": []}]
    return op


TOKENS = _s(access_token="string", token_type="string", expires_in="integer", refresh_token="string",
            session_id="string")
CHALLENGE = _s(challenge={"type": "string", "enum": ["NEW_PASSWORD_REQUIRED"]},
               reason={"type": "string", "enum": ["temporary", "expired"]}, challenge_token="string",
               expires_in="integer")
NULLABLE_TEXT = {"type": "string", "nullable": True}
TOKEN_QUERY = [{"name": "token", "in": "query", "required": True, "schema": {"type": "string"}}]


def document() -> dict[str, Any]:
    auth = {
        "/v1/auth/register": {"post": _op(
            "Self-registration of a resident; sends a 6-digit code by SMS",
            body=_s(civil_id="string", name="string", phone="string", email="string",
                    gender={"type": "string", "enum": ["male", "female"]},
                    language={"type": "string", "enum": ["ar", "en"]}, city="string"),
            ok=("201", "Code sent"), out=_s(registration_id="string", code_expires_in="integer",
                                            resend_after="integer"), errors=("400", "409", "422", "429"),
            required=("civil_id", "name", "phone", "email", "gender", "language", "city"))},
        "/v1/auth/register/verify": {"post": _op(
            "The SMS code creates the account (username: civil ID) and texts a temporary password",
            body=_s(registration_id="string", code="string"), ok=("201", "Account created"),
            out=_s(account_id="string", username="string", status="string"), errors=("400", "409", "410", "422", "429"),
            required=("registration_id", "code"))},
        "/v1/auth/register/resend": {"post": _op(
            "A new code, after a cooldown and within an hourly cap", body=_s(registration_id="string"),
            out=_s(code_expires_in="integer", resend_after="integer"), errors=("400", "410", "422", "429"),
            required=("registration_id",))},
        "/v1/auth/login": {"post": _op(
            "Log in with email (any case) or civil ID: tokens, or a NEW_PASSWORD_REQUIRED challenge",
            body=_s(username="string", password="string", device_id="string", device_name="string"),
            out={"oneOf": [TOKENS, CHALLENGE]}, errors=("400", "401", "422", "429"),
            required=("username", "password"))},
        "/v1/auth/challenge": {"post": _op(
            "Answer a NEW_PASSWORD_REQUIRED challenge with a new password; signs in",
            body=_s(challenge_token="string", new_password="string", device_id="string", device_name="string"),
            out=TOKENS, errors=("400", "401", "422"), required=("challenge_token", "new_password"))},
        "/v1/auth/refresh": {"post": _op(
            "Rotate the refresh token; a reused one ends its session", body=_s(refresh_token="string"),
            out=TOKENS, errors=("400", "401", "422"), required=("refresh_token",))},
        "/v1/auth/logout": {"post": _op("End this device's session", ok=("204", "Signed out"), auth=True)},
        "/v1/auth/sessions": {
            "get": _op("Devices signed in", auth=True, out=_s(sessions={"type": "array", "items": _s(
                session_id="string", device_id="string", device_name="string", created_at="string",
                last_used_at="string", current="boolean")})),
            "delete": _op("Sign every device out, this one included", ok=("204", "Signed out"), auth=True),
        },
        "/v1/auth/sessions/{session_id}": {"delete": _op(
            "Sign one device out", ok=("204", "Signed out"), auth=True, errors=("404",),
            params=[{"name": "session_id", "in": "path", "required": True, "schema": {"type": "string"}}])},
        "/v1/auth/password/forgot": {"post": _op(
            "Always 202; emails (or texts) a reset link valid 24 hours if the account exists",
            body=_s(username={"type": "string", "description": "email or civil ID; `email` is read too"},
                    email="string"),
            ok=("202", "Accepted"), out=_s(status="string"))},
        "/v1/auth/password/reset": {"post": _op(
            "Set a new password with a reset link's token; ends every session",
            body=_s(token="string", new_password="string"), out=_s(status="string"), errors=("400", "401", "422"),
            required=("token", "new_password"))},
        "/v1/auth/password/change": {"post": _op(
            "Change the password with the current one; other devices are signed out",
            body=_s(current_password="string", new_password="string"), out=_s(status="string"), auth=True,
            errors=("400", "403", "422"), required=("current_password", "new_password"))},
        "/v1/me": {"get": _op("The signed-in account and the people it covers", auth=True, errors=("404",), out=_s(
            account_id="string", status="string", source={"type": "string", "enum": ["self", "hr"]},
            # An HR-enrolled account has no gender or city, and a civil ID and phone only when HR's file gave
            # them (the civil ID only once it is the account's login); a self-registered one may lack others.
            **{name: NULLABLE_TEXT for name in ("email", "civil_id", "phone", "name", "language", "gender", "city")},
            civil_id_masked={**NULLABLE_TEXT, "description": "the civil ID for showing on screen: its last 4 "
                             "digits, a bullet (U+2022) for each other one, e.g. ••••••••1234"},
            username={**NULLABLE_TEXT, "description": "the login name the account was made with: the civil ID "
                      "(self-registered) or the email (HR-enrolled)"},
            usernames={"type": "array", "items": {"type": "string"}, "description": "every login name the "
                       "account answers to, `username` first; an HR-enrolled member also logs in with the civil "
                       "ID HR sent, unless it already opens another account"},
            password_expires_at={"type": "string", "format": "date-time", "nullable": True},
            people={"type": "array", "items": card_schema(_s)}))},
    }
    pages = {
        "/activate": {
            "get": _op("Welcome link page (HTML, Arabic and English, no JavaScript)", params=TOKEN_QUERY,
                       out={"type": "string"}, produces=HTML, errors=("404", "410")),
            "post": _op("Confirm the welcome link: emails a temporary password valid 7 days",
                        body=_s(token="string"), content="application/x-www-form-urlencoded", required=("token",),
                        out={"type": "string"}, produces=HTML, errors=("404", "410")),
        },
        "/reset-password": {
            "get": _op("Reset link page (HTML, no JavaScript, never cached, no referrer)", params=TOKEN_QUERY,
                       out={"type": "string"}, produces=HTML, errors=("404", "410")),
            "post": _op("Set the new password from the reset page", body=_s(
                token="string", new_password="string", confirm_password="string"),
                required=("token", "new_password", "confirm_password"), content="application/x-www-form-urlencoded",
                out={"type": "string"}, produces=HTML,
                errors=("404", "410", "422")),
        },
    }
    meta = {
        "/v1/health": {"get": _op("Liveness and version", out=_s(status="string", version="string", stage="string"),
                                  errors=())},
        "/v1/openapi.json": {"get": _op("This contract, machine-readable", out={"type": "object"}, errors=())},
        # Links into the app (platform/app_links.py): what phones read to open /app/... in the app, and the
        # page such a link falls back to.
        "/.well-known/apple-app-site-association": {"get": _op(
            "Apple's app site association: the iOS app may open /app/* (404 while BRAND_IOS_APP_ID is unset)",
            out={"type": "object"}, errors=("404",))},
        "/.well-known/assetlinks.json": {"get": _op(
            "Android's Digital Asset Links: the app may open this domain's links (404 while unset)",
            out={"type": "array", "items": {"type": "object"}}, errors=("404",))},
        "/app/{section}/{item}/{action}": {"get": _op(
            "A screen of the app (a renewal reminder's /app/policies/<number>/renew): the phone opens it in "
            "the app; elsewhere this page in Arabic and English says to open it with the app, and where to get it",
            params=[{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                    for n in ("section", "item", "action")],
            out={"type": "string"}, produces=HTML, errors=())},
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Insurance e-card and premium API",
            "version": VERSION,
            "description": "The mobile app's contract. Amounts are integer fils (1 KWD = 1000 fils). Errors are "
                           '{"error": {"code", "message", "fields"}} in the language of Accept-Language (ar or en).',
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                                # Providers' client id and secret at POST /oauth2/token (RFC 6749 2.3.1).
                                "clientBasic": {"type": "http", "scheme": "basic"}},
            "parameters": {"AcceptLanguage": {"name": "Accept-Language", "in": "header", "required": False,
                                              "schema": {"type": "string", "enum": ["ar", "en"]}}},
            "schemas": {"Error": _s(error=_s(
                code={"type": "string", "example": "VALIDATION_FAILED"}, message="string",
                request_id={"type": "string", "description": "only on 500 INTERNAL"},
                fields={"type": "object", "additionalProperties": _s(rule="string", message="string")}))},
            "responses": {
                "Error": {"description": "An error in the envelope", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "Page": {"description": "A page that says what went wrong, in Arabic and English", "content": {
                    HTML: {"schema": {"type": "string"}}}},
            },
        },
        "paths": {**meta, **auth, **pages, **premium_paths(_op, _s), **card_paths(_op, _s),
                  **provider_paths(_op, _s), **wallet_paths(_op, _s)},
    }

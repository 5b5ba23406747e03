"""The e-card part of the OpenAPI document (merged by chalicelib/health/openapi.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DATE = {"type": "string", "format": "date"}
STATUS = {"type": "string", "enum": ["active", "upcoming", "expired", "terminated", "cancelled"],
          "description": "terminated (HR ended a group member's cover) and cancelled (a residence premium was "
                         "refunded) win over dates; expired once valid_to has passed (Kuwait time)"}
NAME = {"type": "object", "properties": {"en": {"type": "string"}, "ar": {"type": "string"}},
        "description": "each language's slot in its own script; \"\" when the name is not known in that "
                       "script (the card then prints the name once)"}


def card_schema(s: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """One insured person as GET /v1/cards and GET /v1/me list them."""
    label = s(en="string", ar="string")
    return s(
        member_id={"type": "string", "description": "the card number; residence cards are R-<civil ID>"},
        kind={"type": "string", "enum": ["group", "residence"]},
        name=NAME,
        relationship={"type": "string", "enum": ["principal", "spouse", "child", "parent"]},
        relationship_label=label,
        date_of_birth=DATE,
        policy_number={"type": "string", "nullable": True,
                       "description": "group: the employer's policy number; residence: RH-YY-XXXX-XXXX, null "
                                      "for a policy issued before numbers existed, until its next payment"},
        plan=s(code="string", en="string", ar="string"),
        network=label,
        valid_from=DATE,
        valid_to={**DATE, "description": "the last covered day (a cancelled residence policy: of the period "
                                         "its refunded premium had bought)"},
        status=STATUS,
        id_note={"type": "string", "enum": ["own_id", "parent_id"],
                 "description": "parent_id until the day the person turns 16"},
        card_available={"type": "boolean", "description": "false once terminated"},
        formats={"type": "array", "items": {"type": "string", "enum": ["png", "pdf"]}},
    )


def openapi_paths(op: Callable[..., dict[str, Any]], s: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """Paths of the cards and of the providers' verification, built with openapi.py's helpers."""
    member_id = [{"name": "member_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    fmt = [{"name": "format", "in": "query", "required": False,
            "schema": {"type": "string", "enum": ["png", "pdf"], "default": "png"}}]
    plan = {**s(en="string", ar="string"),
            "description": "the plan the QR signs (its English name), with the Arabic name on record of that "
                           "plan; ar is \"\" on a card signed before the person's plan changed"}
    claims = s(member_id="string", name=NAME, plan=plan, valid_from=DATE,
               valid_to=DATE, issued_at={"type": "string", "format": "date-time"},
               kid={"type": "string", "description": "the key that signed it: a JWK of GET /v1/verify/keys (EC1) "
                                                     "or of GET /.well-known/jwks.json (SMART Health Card)"},
               rid={"type": "string", "description": "SMART Health Cards only: the card's revocation id"})
    ec_jwk = s(kty={"type": "string", "enum": ["EC"]}, crv={"type": "string", "enum": ["P-256"]}, x="string",
               y="string", use={"type": "string", "enum": ["sig"]}, alg={"type": "string", "enum": ["ES256"]},
               kid={"type": "string", "description": "RFC 7638 thumbprint (base64url SHA-256)"},
               crlVersion={"type": "integer", "description": "the ctr of this key's revocation list"})
    crl_file = [{"name": "crl_file", "in": "path", "required": True,
                 "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]+\\.json$"},
                 "description": "<kid>.json"}]
    jwk = s(kty={"type": "string", "enum": ["OKP"]}, crv={"type": "string", "enum": ["Ed25519"]}, x="string",
            kid="string", alg={"type": "string", "enum": ["EdDSA"]}, use={"type": "string", "enum": ["sig"]})
    html = {"type": "string"}
    # The page's two forms: the text a QR scanner types, or a picture of the card (multipart).
    submit = op("The providers' page checks a card: the QR text (what a scanner types) or a picture of the card "
                "(PNG, JPEG or WebP, at most 5 MB and 40 megapixels, decoded on the server). 200 shows genuine or "
                "not, the status now, both names, member id, plan, dates and the ID to ask for; 413 and 422 are "
                "the page with the refusal in Arabic and English",
                body=s(qr={"type": "string", "maxLength": 7100}), content="application/x-www-form-urlencoded",
                required=("qr",), out=html, produces="text/html", errors=("413", "422"))
    submit["requestBody"]["content"]["multipart/form-data"] = {"schema": {
        **s(card_image={"type": "string", "format": "binary"}), "required": ["card_image"]}}
    return {
        "/verify": {
            "get": op("The providers' card check page (HTML, Arabic and English, no JavaScript, never cached)",
                      out=html, produces="text/html", errors=()),
            "post": submit,
        },
        "/v1/cards": {"get": op(
            "Everyone the account covers (principal, dependents, paid residence policies) and their card status",
            auth=True, errors=(), out=s(cards={"type": "array", "items": card_schema(s)}))},
        "/v1/cards/{member_id}": {"get": op(
            "A signed S3 URL, valid 5 minutes, of the person's card (PNG 1012x638 or one-page PDF). "
            "A member id the account does not cover is 404, like one that does not exist; a terminated "
            "person's card (or a cancelled residence policy's) is 410 COVERAGE_TERMINATED.",
            auth=True, params=[*member_id, *fmt], errors=("404", "410", "422"),
            out=s(member_id="string", format={"type": "string", "enum": ["png", "pdf"]},
                  url={"type": "string", "format": "uri"},
                  expires_at={"type": "string", "format": "date-time"}, expires_in="integer", status=STATUS))},
        "/v1/verify": {"post": op(
            "For providers, no sign-in: a card's QR payload in, whether we signed it and the cover's status "
            "now out. A changed or forged payload is an error (CARD_SIGNATURE_INVALID, CARD_KEY_UNKNOWN, "
            "CARD_PAYLOAD_MALFORMED, CARD_PAYLOAD_VERSION_UNSUPPORTED).",
            body=s(payload={"type": "string", "description": "the QR code's text: a SMART Health Card (shc:/ and "
                                                            "digits) or a card printed before them (EC1:...)"}),
            errors=("400", "422"), required=("payload",),
            out=s(genuine="boolean", format={"type": "string", "enum": ["shc", "ec1"]},
                  status={**STATUS, "enum": [*STATUS["enum"], "unknown"]},
                  revoked={"type": "boolean", "description": "the card is listed in its key's revocation list "
                                                             "(always false for EC1, which has none)"},
                  card=claims,
                  matches_current_record={"type": "boolean",
                                          "description": "false when the printed details changed since"},
                  checked_at={"type": "string", "format": "date-time"}))},
        "/v1/verify/keys": {"get": op(
            "The Ed25519 public keys (JWK set, RFC 8037) that sign card QR codes, current and previous, for "
            "offline verification: Ed25519 over b'EC1:' + the base45-decoded bytes before the last 64",
            errors=(), out=s(keys={"type": "array", "items": jwk}))},
        "/.well-known/jwks.json": {"get": op(
            "SMART Health Card issuer keys (iss = this API's base URL): the ES256 P-256 public keys, current and "
            "previous, each with its revocation list's version. CORS open; cached 5 minutes",
            errors=(), out=s(keys={"type": "array", "items": ec_jwk}))},
        "/.well-known/crl/{crl_file}": {"get": op(
            "The revocation list of one issuer key: rids of cards no longer valid (cover ended early), each with "
            "a .<seconds> suffix revoking only cards issued before then. An unknown kid is 404",
            params=crl_file, errors=("404",),
            out=s(kid="string", method={"type": "string", "enum": ["rid"]}, ctr="integer",
                  rids={"type": "array", "items": {"type": "string"}}))},
    }

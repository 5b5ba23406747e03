"""A card's QR as a SMART Health Card (spec.smarthealth.cards): ES256 JWS, raw DEFLATE, `shc:/` digits.

    shc:/<two digits per JWS character: ord(c) - 45>

The JWS header is {"alg": "ES256", "zip": "DEF", "kid": <RFC 7638 thumbprint>}; its payload is
the minified JSON {"iss", "nbf", "vc": {"type", "credentialSubject": {"fhirVersion", "fhirBundle"},
"rid"}} compressed with raw DEFLATE (no zlib header). Any SMART Health Card verifier can check a
card with nothing but `<iss>/.well-known/jwks.json`; `/v1/verify` does the same and adds the status now.

Only `cryptography` and `zlib` are used (the JOSE and FHIR libraries are the tests' independent
readers). The QR is one code, never chunked: chunking is deprecated by the spec.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from chalicelib.cards.card import CardContent
from chalicelib.cards.fhir_bundle import BundleFacts, BundleUnreadable, bundle_facts, card_bundle
from chalicelib.cards.payload import CardKeyUnknown, CardPayloadMalformed, CardSignatureInvalid, _b64, _unb64

PREFIX = "shc:/"
HEALTH_CARD_TYPE = "https://smarthealth.cards#health-card"
# SHC types say what is inside; an insurance card has no registered type, so only health-card is
# claimed (verifiers ignore types they do not know, and the bundle's C4DIC profiles say the rest).
CARD_TYPES = [HEALTH_CARD_TYPE]
FHIR_VERSION = "4.0.1"
# The spec keeps single-QR cards at or under 1195 JWS characters (version 22 at error level L).
MAX_QR_JWS_CHARS = 1195
# A signed payload inflating past this is not one of ours (nor any card): refuse, never allocate.
_MAX_INFLATED = 64 * 1024
_DIGITS_RE = re.compile(r"(?:[0-9]{2})+")
_RID_CHARS = 11  # base64url of HMAC-SHA-256's first 64 bits, as the spec recommends (<= 24)


class ShcKey(Protocol):
    """An ES256 signing key as cards need it (platform/signing_keys.Es256KeyPair is one)."""

    @property
    def kid(self) -> str: ...  # the RFC 7638 thumbprint
    @property
    def private(self) -> Any: ...  # cryptography EllipticCurvePrivateKey (P-256)
    @property
    def public(self) -> Any: ...
    @property
    def rid_key(self) -> bytes: ...  # the HMAC key of this key's cards' revocation ids

    def public_jwk(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class ShcClaims:
    """What a genuine SMART Health Card of ours says, read back for `/v1/verify`."""

    facts: BundleFacts
    issued_at: datetime
    kid: str
    rid: str
    iss: str


def revocation_id(rid_key: bytes, member_id: str) -> str:
    """The card's `vc.rid`: base64url of the first 64 bits of HMAC-SHA-256(member id), as the spec recommends.

    One-way (the CRL is public and must not list member ids), and one per person and key: which of a
    person's cards are revoked (their issue generation) is said by the CRL entry's `.<seconds>` suffix,
    every card issued before it. Not by the card's dates: the very update that ends a cover may change
    them, and a rid derived from the record as it is after the change would miss the cards drawn before.
    """
    mac = hmac.new(rid_key, member_id.encode(), hashlib.sha256).digest()
    return _b64(mac[:8])[:_RID_CHARS]


def sign_card(content: CardContent, issued_at: datetime, key: ShcKey, iss: str) -> str:
    """The `shc:/` QR text of a card, signed with `key`, as issued by `iss` (no trailing slash)."""
    payload = {
        "iss": iss,
        "nbf": int(issued_at.timestamp()),
        "vc": {
            "type": CARD_TYPES,
            "credentialSubject": {"fhirVersion": FHIR_VERSION, "fhirBundle": card_bundle(content, issued_at)},
            "rid": revocation_id(key.rid_key, content.member_id),
        },
    }
    return PREFIX + jws_to_numeric(sign_jws(payload, key))


def sign_jws(payload: dict[str, Any], key: ShcKey) -> str:
    """Compact JWS: ES256 over the minified, raw-DEFLATEd payload; the signature is raw r || s."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    header = {"alg": "ES256", "zip": "DEF", "kid": key.kid}
    minified = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)  # wbits -15: raw DEFLATE, as the spec says
    body = deflater.compress(minified) + deflater.flush()
    signing_input = f"{_b64(json.dumps(header, separators=(',', ':')).encode())}.{_b64(body)}"
    # Deterministic ECDSA (RFC 6979): the same card signed again is the same bytes, so the printed card,
    # its PDF and its wallet pass carry one identical QR (a random nonce would make each differ).
    signature = key.private.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(signature)
    return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def jws_to_numeric(jws: str) -> str:
    """Each JWS character as two digits, ord(c) - 45 (the spec's numeric mode)."""
    return "".join(f"{ord(c) - 45:02d}" for c in jws)


def numeric_to_jws(text: str) -> str:
    """The JWS of a single-chunk `shc:/` text, or CardPayloadMalformed."""
    text = text.strip()
    if not text.startswith(PREFIX) or not _DIGITS_RE.fullmatch(text[len(PREFIX):]):
        raise CardPayloadMalformed()  # chunked (shc:/1/2/...) cards are deprecated and never ours
    digits = text[len(PREFIX):]
    return "".join(chr(int(digits[i:i + 2]) + 45) for i in range(0, len(digits), 2))


def is_shc(text: str) -> bool:
    """True for a text that claims to be a SMART Health Card QR (any case of the scheme)."""
    return text.strip().lower().startswith(PREFIX)


def verify_card_qr(text: str, find_key: Any, iss: str) -> ShcClaims:
    """The claims of a genuine `shc:/` QR of ours, else a CardPayloadError saying why.

    `find_key(kid)` returns our ShcKey or None. The signature is checked before the
    payload is inflated or read.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    if text.strip().startswith("SHC:/"):
        text = "shc:/" + text.strip()[len(PREFIX):]  # some scanners upper-case the scheme
    parts = numeric_to_jws(text).split(".")
    if len(parts) != 3:
        raise CardPayloadMalformed()
    try:
        header = json.loads(_unb64(parts[0]))
        signature = _unb64(parts[2])
        body = _unb64(parts[1])
    except (ValueError, UnicodeDecodeError) as exc:
        raise CardPayloadMalformed() from exc
    if not isinstance(header, dict) or header.get("alg") != "ES256" or header.get("zip") != "DEF":
        raise CardPayloadMalformed()
    kid = header.get("kid")
    key = find_key(kid) if isinstance(kid, str) and len(kid) <= 64 else None
    if key is None or not isinstance(kid, str):
        raise CardKeyUnknown(details={"kid": str(kid)[:64]})
    if len(signature) != 64:
        raise CardSignatureInvalid()
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        key.public.verify(der, f"{parts[0]}.{parts[1]}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise CardSignatureInvalid() from exc
    return _read_payload(body, kid, iss)


def _read_payload(body: bytes, kid: str, iss: str) -> ShcClaims:
    # Past the signature: a payload that is not as we write it is our own old format or bug; refuse cleanly.
    try:
        inflater = zlib.decompressobj(-15)
        raw = inflater.decompress(body, _MAX_INFLATED)
        if inflater.unconsumed_tail or not inflater.eof:
            raise ValueError("payload too large or truncated")
        payload = json.loads(raw.decode("utf-8"))
        if payload["iss"] != iss:
            raise ValueError("another issuer's card signed with our key")
        vc = payload["vc"]
        nbf = payload["nbf"]
        if isinstance(nbf, bool) or not isinstance(nbf, int):
            raise ValueError("nbf must be integer seconds")
        facts = bundle_facts(vc["credentialSubject"]["fhirBundle"])
        return ShcClaims(facts=facts, issued_at=datetime.fromtimestamp(nbf, tz=UTC), kid=kid,
                         rid=str(vc.get("rid", "")), iss=str(payload["iss"]))
    except (zlib.error, ValueError, KeyError, TypeError, UnicodeDecodeError, BundleUnreadable) as exc:
        raise CardPayloadMalformed() from exc

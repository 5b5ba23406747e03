"""The signed QR payload of an e-card: compact, versioned, Ed25519, verifiable offline.

Text form:

    EC1:<base45(kid_length, kid, body, signature)>

- `kid_length` is one byte, `kid` its ASCII key id (the JWK "kid" of `GET /v1/verify/keys`).
- `body` is compact UTF-8 JSON whose positions are fixed by the version "EC1":
  [member_id, name_en, name_ar, plan, valid_from, valid_to, issued_at], dates ISO
  (YYYY-MM-DD), issued_at in Unix seconds.
- `signature` is the last 64 bytes: Ed25519 over b"EC1:" + everything before it, so
  the version and the key id are signed too.

Base45 (RFC 9285, as in the EU digital COVID certificate) only uses characters of
the QR alphanumeric mode, which packs them at 5.5 bits: the same bytes take about a
quarter fewer QR modules than base64 in byte mode, so a four-part name in both
languages still fits a version-11 code that reads at 4 px a module.

`cryptography` is imported inside the functions: cold starts of Lambdas that never
touch cards should not pay for it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.errors import AppError, Text

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

VERSION = "EC1"
_VERSION_RE = re.compile(r"EC\d+")
# Key ids travel in the QR and in JWKs: short and URL-safe.
_KID_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_BODY_FIELDS = 7
_SIGNATURE_BYTES = 64
_BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_BASE45_VALUE = {ch: i for i, ch in enumerate(_BASE45)}
_PREFIX = f"{VERSION}:".encode("ascii")


class CardPayloadError(AppError):
    """Base of the reasons a card's QR payload is refused."""

    status = 422
    code = "CARD_PAYLOAD_INVALID"
    text = Text("This card code is not valid.", "رمز هذه البطاقة غير صالح.")


class CardPayloadMalformed(CardPayloadError):
    status = 400
    code = "CARD_PAYLOAD_MALFORMED"
    text = Text(
        "This is not a card code issued by us, or it was not read completely.",
        "هذا ليس رمز بطاقة صادرًا عنا، أو لم تتم قراءته كاملًا.",
    )


class CardPayloadVersionUnsupported(CardPayloadError):
    status = 400
    code = "CARD_PAYLOAD_VERSION_UNSUPPORTED"
    text = Text(
        "This card code's format is not supported; ask for a newly issued card.",
        "صيغة رمز هذه البطاقة غير مدعومة؛ يرجى طلب بطاقة صادرة حديثًا.",
    )


class CardKeyUnknown(CardPayloadError):
    code = "CARD_KEY_UNKNOWN"
    text = Text(
        "This card was signed with a key we do not know; it cannot be trusted.",
        "هذه البطاقة موقعة بمفتاح غير معروف لدينا؛ لا يمكن الاعتماد عليها.",
    )


class CardSignatureInvalid(CardPayloadError):
    code = "CARD_SIGNATURE_INVALID"
    text = Text(
        "This card's signature does not match: the card may have been altered.",
        "توقيع هذه البطاقة غير مطابق: ربما تم تعديل البطاقة.",
    )


@dataclass(frozen=True)
class CardClaims:
    """What the QR asserts about the insured person; `kid` names the key that signed it."""

    member_id: str
    name_en: str
    name_ar: str
    plan: str
    valid_from: date
    valid_to: date
    issued_at: datetime
    kid: str = ""

    def covers(self, day: date) -> bool:
        """True when `day` falls inside the printed validity (status now is asked online)."""
        return self.valid_from <= day <= self.valid_to


@dataclass(frozen=True)
class SigningKeyPair:
    """A key id with its Ed25519 key pair, serialised for Secrets Manager."""

    kid: str
    private_key_pem: str
    public_key: str  # base64url of the 32 raw bytes, as in the JWK's "x"

    def to_secret(self) -> dict[str, str]:
        """The JSON-ready secret value."""
        return {"kid": self.kid, "private_key_pem": self.private_key_pem, "public_key": self.public_key}

    @classmethod
    def from_secret(cls, secret: Mapping[str, Any]) -> SigningKeyPair:
        """The key pair read back from a secret made by `to_secret`."""
        return cls(
            kid=_checked_kid(str(secret["kid"])),
            private_key_pem=str(secret["private_key_pem"]),
            public_key=str(secret["public_key"]),
        )


def sign_payload(claims: CardClaims, private_key: Ed25519PrivateKey | str | bytes, kid: str) -> str:
    """The QR text for `claims`, signed with `private_key` (object, PEM, or 32 raw bytes)."""
    kid = _checked_kid(kid)
    if claims.kid and claims.kid != kid:
        raise ValueError(f"claims carry kid {claims.kid!r} but are signed with {kid!r}")
    key = load_private_key(private_key)
    body = [
        claims.member_id,
        claims.name_en,
        claims.name_ar,
        claims.plan,
        claims.valid_from.isoformat(),
        claims.valid_to.isoformat(),
        _unix_seconds(claims.issued_at),
    ]
    # ensure_ascii=False: Arabic is 2 bytes a letter in UTF-8 but 6 as \uXXXX.
    body_bytes = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    signed_part = bytes([len(kid)]) + kid.encode("ascii") + body_bytes
    signature = key.sign(_PREFIX + signed_part)
    return f"{VERSION}:{base45_encode(signed_part + signature)}"


def verify_payload(
    text: str,
    public_keys: Mapping[str, Ed25519PublicKey | str | bytes]
    | Callable[[str], Ed25519PublicKey | str | bytes | None],
) -> CardClaims:
    """The claims of a genuine QR text, or a `CardPayloadError` saying why it is refused.

    `public_keys` is a mapping kid -> key, or a lookup function returning None for an
    unknown kid (so a key store can reload once after a rotation).
    """
    from cryptography.exceptions import InvalidSignature

    # Whitespace around a scanned or pasted code is noise; base45 never ends in a
    # space and the prefix shields its start, so no signed byte is lost.
    version, sep, data = text.strip().partition(":")
    if _VERSION_RE.fullmatch(version) and version != VERSION:
        raise CardPayloadVersionUnsupported(details={"version": version})
    if not sep or version != VERSION:
        raise CardPayloadMalformed()
    try:
        blob = base45_decode(data)
    except ValueError as exc:
        raise CardPayloadMalformed() from exc
    kid_length = blob[0] if blob else 0
    body_start = 1 + kid_length
    if len(blob) < body_start + 2 + _SIGNATURE_BYTES:
        raise CardPayloadMalformed()
    kid = blob[1:body_start].decode("ascii", errors="replace")
    if not _KID_RE.fullmatch(kid):
        raise CardPayloadMalformed()
    lookup = public_keys.get if isinstance(public_keys, Mapping) else public_keys
    public_key = lookup(kid)
    if public_key is None:
        raise CardKeyUnknown(details={"kid": kid})
    signed_part, signature = blob[:-_SIGNATURE_BYTES], blob[-_SIGNATURE_BYTES:]
    try:
        load_public_key(public_key).verify(signature, _PREFIX + signed_part)
    except InvalidSignature as exc:
        raise CardSignatureInvalid() from exc
    return replace(_parse_body(signed_part[body_start:]), kid=kid)


def _parse_body(body_bytes: bytes) -> CardClaims:
    # Only reached with a valid signature, so a bad body is our own bug or an
    # old format; still refuse it cleanly rather than crash the verify route.
    try:
        body = json.loads(body_bytes.decode("utf-8"))
        if not isinstance(body, list) or len(body) != _BODY_FIELDS:
            raise ValueError("wrong number of fields")
        member_id, name_en, name_ar, plan, valid_from, valid_to, issued_at = body
        if not all(isinstance(v, str) for v in (member_id, name_en, name_ar, plan)):
            raise ValueError("text fields must be strings")
        if isinstance(issued_at, bool) or not isinstance(issued_at, int):
            raise ValueError("issued_at must be integer seconds")
        return CardClaims(
            member_id=member_id,
            name_en=name_en,
            name_ar=name_ar,
            plan=plan,
            valid_from=date.fromisoformat(valid_from),
            valid_to=date.fromisoformat(valid_to),
            issued_at=datetime.fromtimestamp(issued_at, tz=UTC),
        )
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise CardPayloadMalformed() from exc


def generate_keypair(kid: str) -> SigningKeyPair:
    """A fresh Ed25519 key pair under `kid`, ready to store as a secret."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
    )

    key = Ed25519PrivateKey.generate()
    return SigningKeyPair(
        kid=_checked_kid(kid),
        private_key_pem=private_key_pem(key),
        public_key=_b64(public_key_raw(key.public_key())),
    )


def private_key_pem(key: Ed25519PrivateKey) -> str:
    """The private key as unencrypted PKCS#8 PEM (Secrets Manager encrypts it at rest)."""
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_key_raw(key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key."""
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def load_private_key(key: Ed25519PrivateKey | str | bytes) -> Ed25519PrivateKey:
    """An Ed25519 private key from an object, PEM text/bytes, or 32 raw bytes."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
    )

    if isinstance(key, Ed25519PrivateKey):
        return key
    if isinstance(key, bytes) and len(key) == 32:
        return Ed25519PrivateKey.from_private_bytes(key)
    pem = key.encode("ascii") if isinstance(key, str) else key
    loaded = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValueError("the card signing key must be Ed25519")
    return loaded


def load_public_key(key: Ed25519PublicKey | str | bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from an object, PEM, 32 raw bytes, or base64url of them."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PublicKey,
    )

    if isinstance(key, Ed25519PublicKey):
        return key
    if isinstance(key, bytes) and len(key) == 32:
        return Ed25519PublicKey.from_public_bytes(key)
    if isinstance(key, str) and not key.lstrip().startswith("-----"):
        return Ed25519PublicKey.from_public_bytes(_unb64(key))
    pem = key.encode("ascii") if isinstance(key, str) else key
    loaded = serialization.load_pem_public_key(pem)
    if not isinstance(loaded, Ed25519PublicKey):
        raise ValueError("card verification keys must be Ed25519")
    return loaded


def public_jwk(key: Ed25519PublicKey | str | bytes, kid: str) -> dict[str, str]:
    """The public key as an RFC 8037 JWK (OKP, Ed25519) with its key id."""
    raw = public_key_raw(load_public_key(key))
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64(raw),
        "kid": _checked_kid(kid),
        "alg": "EdDSA",
        "use": "sig",
    }


def public_jwks(public_keys: Mapping[str, Ed25519PublicKey | str | bytes]) -> dict[str, list[dict[str, str]]]:
    """The body of `GET /v1/verify/keys`: every key a card may still be signed with."""
    return {"keys": [public_jwk(key, kid) for kid, key in sorted(public_keys.items())]}


def public_keys_from_jwks(jwks: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """Verification keys by kid from a JWK set, as an offline verifier would load them."""
    keys: dict[str, Ed25519PublicKey] = {}
    for jwk in jwks.get("keys", []):
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and "kid" in jwk:
            keys[jwk["kid"]] = load_public_key(str(jwk["x"]))
    return keys


def _checked_kid(kid: str) -> str:
    if not _KID_RE.fullmatch(kid):
        raise ValueError(f"key id must be 1-32 of [A-Za-z0-9_-], got {kid!r}")
    return kid


def _unix_seconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("issued_at must be timezone-aware")
    return int(moment.timestamp())


def base45_encode(data: bytes) -> str:
    """RFC 9285 base45 of `data` (for offline verifiers written against this module)."""
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        value = data[i] * 256 + data[i + 1]
        out += [_BASE45[value % 45], _BASE45[value // 45 % 45], _BASE45[value // 2025]]
    if len(data) % 2:
        out += [_BASE45[data[-1] % 45], _BASE45[data[-1] // 45]]
    return "".join(out)


def base45_decode(text: str) -> bytes:
    """The bytes of an RFC 9285 base45 text, or ValueError."""
    # Strict RFC 9285: every group must be in range, so each byte string has exactly
    # one spelling and changing any character changes the bytes or fails here.
    if len(text) % 3 == 1:
        raise ValueError("base45 length")
    try:
        digits = [_BASE45_VALUE[ch] for ch in text]
    except KeyError as exc:
        raise ValueError("not base45") from exc
    out = bytearray()
    for i in range(0, len(digits), 3):
        group = digits[i : i + 3]
        value = sum(d * 45**k for k, d in enumerate(group))
        if len(group) == 3:
            if value > 0xFFFF:
                raise ValueError("base45 group out of range")
            out += value.to_bytes(2, "big")
        else:
            if value > 0xFF:
                raise ValueError("base45 group out of range")
            out.append(value)
    return bytes(out)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    # validate=True: a stray character is an error, not silently skipped.
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except binascii.Error as exc:
        raise ValueError("not base64url") from exc
    # The last character may carry unused bits ("A" and "B" can decode alike), and
    # "+" or "/" would slip through altchars: only the one canonical spelling counts,
    # so changing any character of the text always fails.
    if _b64(data) != text:
        raise ValueError("not canonical base64url")
    return data

"""The authorizer's verifier (chalicelib/accounts/jwt_tokens.py) against PyJWT, an independent implementation.

The verifier checks compact EdDSA JWS tokens with cryptography's Ed25519 itself (PyJWT's import costs
the cold authorizer about 60 ms). Generated tokens, good and bad in every part, get the same verdict
from both; where the verifier is stricter than PyJWT (a `crit` header, NumericDates that are not
whole numbers, "=" padding), it only ever refuses what PyJWT would accept, never the other way round.
"""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.accounts import jwt_tokens
from chalicelib.accounts.errors import AccessTokenRejected
from chalicelib.platform.signing_keys import derive_key
from chalicelib.settings import get_settings

CURRENT, PREVIOUS = derive_key("current-signing-secret"), derive_key("previous-signing-secret")
STRANGER = Ed25519PrivateKey.generate()
NOW = 1_780_000_000


class Ring:
    """The jwt-signing secret's key ring after one rotation: the current key signs, both verify."""

    def current(self):
        return CURRENT

    def find(self, kid: str):
        return {CURRENT.kid: CURRENT, PREVIOUS.kid: PREVIOUS}.get(kid)


@pytest.fixture(autouse=True)
def keys_and_time(monkeypatch):
    monkeypatch.setattr(jwt_tokens, "jwt_keys", Ring)
    import time_machine

    with time_machine.travel(NOW, tick=False):
        yield


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def pyjwt_accepts(token: str) -> bool:
    """PyJWT's verdict with the verifier's rules: EdDSA only, our key by kid, these claims, an access token."""
    try:
        header = jwt.get_unverified_header(token)
        key = Ring().find(header.get("kid")) if isinstance(header.get("kid"), str) else None
        if key is None:
            return False
        claims = jwt.decode(token, key.public, algorithms=["EdDSA"], audience=get_settings().jwt_audience,
                            issuer=get_settings().jwt_issuer,
                            options={"require": ["exp", "iat", "iss", "aud", "sub", "sid"]})
    except jwt.PyJWTError:
        return False
    return (claims.get("token_use") == "access" and isinstance(claims.get("sid"), str) and bool(claims["sid"])
            and bool(claims["sub"]))


def ours_accepts(token: str) -> bool:
    try:
        jwt_tokens.verify_access_token(token)
    except AccessTokenRejected:
        return False
    return True


def good_claims() -> dict:
    s = get_settings()
    return {"iss": s.jwt_issuer, "aud": s.jwt_audience, "sub": "acct-1", "sid": "sess-1", "iat": NOW - 60,
            "exp": NOW + 540, "token_use": "access"}


def test_a_token_we_issue_verifies_and_its_claims_come_back():
    from datetime import UTC, datetime

    token = jwt_tokens.issue_access_token("acct-9", "sess-9", datetime.fromtimestamp(NOW, UTC), "ar")
    claims = jwt_tokens.verify_access_token(token)
    assert (claims["sub"], claims["sid"], claims["lang"], claims["token_use"]) == ("acct-9", "sess-9", "ar", "access")
    assert pyjwt_accepts(token)


# Each claim: left alone, changed to a wrong value of the right type, removed, or given another type.
CLAIM_CHANGES = {
    "iss": ["https://someone-else.auth", None, 7],
    "aud": ["another-app", [], ["another-app"], "LIST", ["x", 3], None, 5],
    "sub": ["", None, 42, ["acct-1"]],
    "sid": ["", None, 42],
    "iat": [NOW + 1, NOW, NOW + 3600, None, "1780000000", 1.5, True],
    "exp": [NOW, NOW - 1, NOW + 1, None, "1790000000", NOW + 0.5, True],
    "nbf": [NOW + 1, NOW, NOW - 10, "x"],
    "token_use": ["refresh", None, 1],
}
STRICTER_VALUES = {"1780000000", "1790000000", "x", 1.5, NOW + 0.5, True}  # whole seconds only; PyJWT int()s them

claim_edits = st.dictionaries(st.sampled_from(sorted(CLAIM_CHANGES)),
                              st.integers(min_value=0, max_value=6), max_size=3)
header_edits = st.sampled_from(["none", "kid-previous", "kid-unknown", "kid-missing", "kid-number", "alg-none",
                                "alg-HS256", "alg-ES256", "typ-other", "crit-b64", "crit-other"])
body_edits = st.sampled_from(["none", "stranger-key", "swap-previous-key", "tamper-payload", "tamper-header",
                              "drop-signature", "short-signature", "padding", "bad-char", "extra-part",
                              "whitespace", "not-json-payload", "array-payload", "duplicate-claim"])


def build(claim_edit: dict[str, int], header_edit: str, body_edit: str) -> tuple[str, bool]:
    """A token and whether it strays into what only the verifier refuses (then PyJWT may accept it)."""
    claims, stricter = good_claims(), False
    for name, index in claim_edit.items():
        choices = CLAIM_CHANGES[name]
        value = choices[index % len(choices)]
        if value is None:
            claims.pop(name, None)
        elif value == "LIST":
            claims[name] = [get_settings().jwt_audience, "another-app"]
        else:
            claims[name] = value
            stricter |= name in ("iat", "exp", "nbf") and (value in STRICTER_VALUES or isinstance(value, bool))
    header = {"alg": "EdDSA", "typ": "JWT", "kid": CURRENT.kid}
    key = CURRENT.private
    if header_edit == "kid-previous":
        header["kid"], key = PREVIOUS.kid, PREVIOUS.private
    elif header_edit == "kid-unknown":
        header["kid"] = "0" * 16
    elif header_edit == "kid-missing":
        del header["kid"]
    elif header_edit == "kid-number":
        header["kid"] = 12
    elif header_edit.startswith("alg-"):
        header["alg"] = header_edit[4:]
    elif header_edit == "typ-other":
        header["typ"] = "at+jwt"
    elif header_edit.startswith("crit-"):
        header["crit"] = [header_edit[5:]]
        stricter = True
    if body_edit == "stranger-key":
        key = STRANGER
    elif body_edit == "swap-previous-key":
        key = PREVIOUS.private
    head = b64(json.dumps(header).encode())
    payload = b64(json.dumps(claims).encode())
    if body_edit == "not-json-payload":
        payload = b64(b"\xff\xfe not json")
    elif body_edit == "array-payload":
        payload = b64(b"[1, 2]")
    elif body_edit == "duplicate-claim":
        payload = b64(json.dumps(claims).replace('"sub": "acct-1"', '"sub": "acct-1", "sub": "acct-2"', 1).encode())
        stricter = stricter or '"sub": "acct-1"' in json.dumps(claims)  # PyJWT keeps the last one
    signature = b64(key.sign(f"{head}.{payload}".encode()))
    if header["alg"] in ("none", "HS256", "ES256"):
        signature = "" if header["alg"] == "none" else signature
    token = f"{head}.{payload}.{signature}"
    edits = {
        "tamper-payload": lambda t: t.replace(payload, b64(json.dumps({**claims, "sub": "acct-2"}).encode())),
        "tamper-header": lambda t: t.replace(head, b64(json.dumps({**header, "typ": "JWS"}).encode())),
        "drop-signature": lambda t: t.rsplit(".", 1)[0] + ".",
        "short-signature": lambda t: t[:-8],
        "padding": lambda t: t + "==",
        "bad-char": lambda t: t[:10] + "*" + t[11:],
        "extra-part": lambda t: t + ".e30",
        "whitespace": lambda t: t.replace(".", " .", 1),
    }
    stricter = stricter or body_edit == "padding"  # RFC 7515 2 drops the "=" padding; PyJWT allows it
    return edits.get(body_edit, lambda t: t)(token), stricter


@settings(max_examples=400, deadline=None)
@given(claim_edit=claim_edits, header_edit=header_edits, body_edit=body_edits)
def test_the_verifier_and_pyjwt_agree_on_every_generated_token(claim_edit, header_edit, body_edit):
    token, stricter = build(claim_edit, header_edit, body_edit)
    ours, theirs = ours_accepts(token), pyjwt_accepts(token)
    assert not ours or theirs, f"the verifier accepted what PyJWT refuses: {token}"
    if not stricter:
        assert ours == theirs, f"ours {ours}, PyJWT {theirs}: {token}"


def test_every_kind_of_bad_token_is_refused_and_a_good_one_accepted():
    """The generated cases above include these; named here so a reader sees each outcome."""
    assert ours_accepts(build({}, "none", "none")[0])
    assert ours_accepts(build({}, "kid-previous", "none")[0])  # signed before a rotation
    for header_edit in ("kid-unknown", "kid-missing", "alg-none", "alg-HS256", "crit-b64"):
        assert not ours_accepts(build({}, header_edit, "none")[0]), header_edit
    for body_edit in ("stranger-key", "swap-previous-key", "tamper-payload", "tamper-header", "drop-signature",
                      "padding", "extra-part", "whitespace", "not-json-payload", "duplicate-claim"):
        assert not ours_accepts(build({}, "none", body_edit)[0]), body_edit
    for claim, index in (("exp", 0), ("iat", 0), ("aud", 0), ("iss", 0), ("sub", 1), ("token_use", 0),
                         ("nbf", 0), ("exp", 4)):
        assert not ours_accepts(build({claim: index}, "none", "none")[0]), (claim, index)
    assert not ours_accepts("x" * 5000) and not ours_accepts("") and not ours_accepts("a.b.c")


def test_a_token_is_refused_the_second_it_expires():
    token = build({"exp": 2}, "none", "none")[0]  # exp = NOW + 1
    assert ours_accepts(token)
    import time_machine

    with time_machine.travel(NOW + 1, tick=False):
        assert time.time() == NOW + 1 and not ours_accepts(token) and not pyjwt_accepts(token)

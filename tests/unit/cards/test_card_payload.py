"""The QR payload: a provider trusts exactly what we signed, and nothing else."""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import replace
from datetime import date

import pytest
import segno

from chalicelib.cards.payload import (
    VERSION,
    CardClaims,
    CardKeyUnknown,
    CardPayloadError,
    CardPayloadMalformed,
    CardPayloadVersionUnsupported,
    CardSignatureInvalid,
    SigningKeyPair,
    base45_decode,
    base45_encode,
    load_private_key,
    public_jwks,
    public_keys_from_jwks,
    sign_payload,
    verify_payload,
)

QR_ALPHANUMERIC = string.digits + string.ascii_uppercase + " $%*+-./:"


@pytest.fixture
def claims(group_card, claims_for) -> CardClaims:
    return claims_for(group_card())


@pytest.fixture
def signed(claims) -> Callable[[SigningKeyPair], str]:
    def sign(keypair: SigningKeyPair) -> str:
        return sign_payload(claims, keypair.private_key_pem, keypair.kid)

    return sign


def test_a_signed_payload_verifies_back_to_the_same_claims(claims, signed, keypair):
    verified = verify_payload(signed(keypair), {keypair.kid: keypair.public_key})
    assert verified == replace(claims, kid=keypair.kid)
    assert verified.name_ar == "عبدالله محمد الرشيدي"
    assert verified.covers(date(2026, 6, 1)) and not verified.covers(date(2027, 1, 1))


def test_a_card_without_an_arabic_name_signs_it_as_empty_and_verifies_back(claims, keypair):
    no_arabic = replace(claims, name_ar="")

    payload = sign_payload(no_arabic, keypair.private_key_pem, keypair.kid)

    assert verify_payload(payload, {keypair.kid: keypair.public_key}) == replace(no_arabic, kid=keypair.kid)


def test_the_payload_is_versioned_and_uses_only_qr_alphanumeric_characters(signed, keypair):
    text = signed(keypair)
    assert text.startswith(f"{VERSION}:")
    assert set(text) <= set(QR_ALPHANUMERIC)
    # A four-part name in both languages still fits version 11 at level M, which the
    # card draws at 4 px a module.
    code = segno.make(text, error="m", micro=False)
    assert code.mode == "alphanumeric"
    assert code.version <= 11


def test_changing_any_single_character_is_rejected(signed, keypair):
    text = signed(keypair)
    keys = {keypair.kid: keypair.public_key}
    for i, ch in enumerate(text):
        other = "B" if ch == "A" else "A"
        tampered = text[:i] + other + text[i + 1 :]
        with pytest.raises(CardPayloadError):
            verify_payload(tampered, keys)


def test_a_changed_byte_in_the_body_is_a_signature_failure(signed, keypair):
    text = signed(keypair)
    blob = bytearray(base45_decode(text.removeprefix(f"{VERSION}:")))
    # The member id starts right after the length byte and the key id.
    at = 1 + blob[0] + len('["GP-')
    blob[at] ^= 0x01
    tampered = f"{VERSION}:{base45_encode(bytes(blob))}"
    with pytest.raises(CardSignatureInvalid) as caught:
        verify_payload(tampered, {keypair.kid: keypair.public_key})
    assert caught.value.code == "CARD_SIGNATURE_INVALID"


@pytest.mark.parametrize(
    ("raw", "text"),
    [(b"AB", "BB8"), (b"Hello!!", "%69 VD92EX0"), (b"base-45", "UJCLQE7W581"), (b"ietf!", "QED8WEX0")],
)
def test_base45_matches_the_rfc_9285_examples(raw, text):
    assert base45_encode(raw) == text
    assert base45_decode(text) == raw


@pytest.mark.parametrize("text", ["GGW", ":5", "A", "ab", "BB8X"])
def test_base45_refuses_out_of_range_or_foreign_characters(text):
    with pytest.raises(ValueError):
        base45_decode(text)


def test_a_payload_signed_with_another_key_under_our_key_id_is_rejected(
    claims, keypair, other_keypair
):
    forged = sign_payload(claims, other_keypair.private_key_pem, keypair.kid)
    with pytest.raises(CardSignatureInvalid):
        verify_payload(forged, {keypair.kid: keypair.public_key})


def test_a_key_id_we_do_not_publish_is_rejected(signed, keypair, other_keypair):
    with pytest.raises(CardKeyUnknown) as caught:
        verify_payload(signed(other_keypair), {keypair.kid: keypair.public_key})
    assert caught.value.body("en")["error"]["kid"] == other_keypair.kid


def test_a_future_version_is_refused_as_unsupported_not_as_forged(signed, keypair):
    text = signed(keypair).replace(f"{VERSION}:", "EC2:", 1)
    with pytest.raises(CardPayloadVersionUnsupported):
        verify_payload(text, {keypair.kid: keypair.public_key})


@pytest.mark.parametrize(
    "text", ["", "hello", "EC1", "EC1:", "EC1:BB8", "EC1:abc", "EC1:GGW", "https://x.y/z"]
)
def test_text_that_is_not_a_card_code_is_malformed(keypair, text):
    with pytest.raises(CardPayloadMalformed):
        verify_payload(text, {keypair.kid: keypair.public_key})


def test_every_refusal_has_a_stable_code_and_both_languages():
    for error in (
        CardPayloadMalformed(),
        CardPayloadVersionUnsupported(),
        CardKeyUnknown(),
        CardSignatureInvalid(),
    ):
        en, ar = error.body("en")["error"], error.body("ar")["error"]
        assert en["code"] == ar["code"] == error.code
        assert en["message"] != ar["message"]
        assert any("\u0600" <= ch <= "\u06ff" for ch in ar["message"])


def test_a_provider_verifies_offline_with_the_published_jwks(signed, keypair, other_keypair):
    jwks = public_jwks({keypair.kid: keypair.public_key, other_keypair.kid: other_keypair.public_key})
    assert [k["kid"] for k in jwks["keys"]] == sorted([keypair.kid, other_keypair.kid])
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and "d" not in k for k in jwks["keys"])
    keys = public_keys_from_jwks(jwks)
    assert verify_payload(signed(keypair), keys).kid == keypair.kid
    assert verify_payload(signed(other_keypair), keys).kid == other_keypair.kid


def test_a_key_pair_survives_the_round_trip_through_a_secret(claims, keypair):
    restored = SigningKeyPair.from_secret(keypair.to_secret())
    assert restored == keypair
    text = sign_payload(claims, load_private_key(restored.private_key_pem), restored.kid)
    assert verify_payload(text, {restored.kid: restored.public_key}).member_id == claims.member_id


def test_claims_need_a_timezone_aware_issue_time(claims, keypair):
    naive = replace(claims, issued_at=claims.issued_at.replace(tzinfo=None))
    with pytest.raises(ValueError):
        sign_payload(naive, keypair.private_key_pem, keypair.kid)


def test_claims_labelled_with_one_key_id_cannot_be_signed_under_another(claims, keypair):
    with pytest.raises(ValueError):
        sign_payload(replace(claims, kid="someone-else"), keypair.private_key_pem, keypair.kid)


def test_keys_can_come_from_a_lookup_that_knows_only_some_key_ids(signed, keypair, other_keypair):
    published = {keypair.kid: keypair.public_key}
    assert verify_payload(signed(keypair), published.get).kid == keypair.kid
    with pytest.raises(CardKeyUnknown):
        verify_payload(signed(other_keypair), published.get)

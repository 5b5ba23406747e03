"""Providers verify a card from its QR code: online with POST /v1/verify, offline with the published keys.

Cards drawn now carry a SMART Health Card (tests/api/test_shc_cards.py reads it as any verifier would);
the tests here on the EC1 payload itself (its Ed25519 keys, its bytes) use `ec1_family`, whose cards
are drawn as they were before the switch: those printed cards keep verifying.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devstack.counting import count_aws_calls
from tests.api.cards_support import (
    AHMAD,
    FATIMA,
    create_policy,
    csv_rows,
    enrol_family,
    hr_upload,
    qr_of_png,
    stored,
)


@pytest.fixture
def family(aws, api, clock):
    create_policy()
    return enrol_family(api, AHMAD, FATIMA)


@pytest.fixture
def ec1_family(family, monkeypatch):
    """The family, with cards drawn as before the switch to SMART Health Cards: an EC1 QR."""
    from chalicelib.cards import wiring

    monkeypatch.setattr(wiring, "QR_FORMAT", "ec1")
    wiring.card_deps.cache_clear()
    yield family
    wiring.card_deps.cache_clear()


def qr_of_card(holder, member_id: str) -> str:
    """What a provider's scanner reads off the card the app downloaded (the stored PNG)."""
    answer = holder.card(member_id, "png")
    assert answer.status == 200, answer.body
    return qr_of_png(stored(answer.body["url"])[0])


def verify(api, payload, lang: str | None = None):
    return api.post("/v1/verify", {"payload": payload}, lang=lang)


def flip_one_byte(payload: str, index: int) -> str:
    """The same payload with one byte of its signed content changed, still well-formed base45."""
    from chalicelib.cards.payload import base45_decode, base45_encode

    version, _, data = payload.partition(":")
    blob = bytearray(base45_decode(data))
    blob[index] ^= 0x01
    return f"{version}:{base45_encode(bytes(blob))}"


def test_the_qr_read_from_the_stored_png_verifies_as_genuine_and_active(family, api):
    ahmad = family.members["Ahmad Khalid Al-Mutairi"]
    payload = qr_of_card(family, ahmad)

    answer = verify(api, payload)  # no sign-in: a provider has no account

    assert answer.status == 200, answer.body
    assert answer.body["genuine"] is True and answer.body["status"] == "active"
    card = answer.body["card"]
    assert card["member_id"] == ahmad
    assert card["name"] == {"en": "Ahmad Khalid Al-Mutairi", "ar": "أحمد خالد المطيري"}
    assert (card["valid_from"], card["valid_to"]) == ("2026-01-01", "2026-12-31")
    assert card["plan"] == {"en": "Gold", "ar": "ذهبي"}
    assert datetime.fromisoformat(card["issued_at"]) == datetime.now(UTC).replace(microsecond=0)
    assert answer.body["matches_current_record"] is True


def test_the_published_keys_verify_a_card_offline(ec1_family, api):
    from chalicelib.cards.payload import public_keys_from_jwks, verify_payload

    payload = qr_of_card(ec1_family, ec1_family.members["Ahmad Khalid Al-Mutairi"])
    keys = api.get("/v1/verify/keys")

    assert keys.status == 200 and keys.headers["Cache-Control"] == "public, max-age=300"
    assert [(k["kty"], k["crv"], k["alg"]) for k in keys.body["keys"]] == [("OKP", "Ed25519", "EdDSA")]
    assert "d" not in keys.body["keys"][0]  # the public half only
    claims = verify_payload(payload, public_keys_from_jwks(keys.body))
    assert claims.name_en == "Ahmad Khalid Al-Mutairi" and claims.kid == keys.body["keys"][0]["kid"]


@pytest.mark.parametrize("index", [1, 25, 40, -70, -1], ids=["key id", "member id", "name", "issue time", "signature"])
def test_one_changed_byte_fails_with_a_clear_error(ec1_family, api, index):
    payload = qr_of_card(ec1_family, ec1_family.members["Ahmad Khalid Al-Mutairi"])

    answer = verify(api, flip_one_byte(payload, index))

    assert answer.status in (400, 422), answer.body
    assert answer.code in ("CARD_SIGNATURE_INVALID", "CARD_KEY_UNKNOWN", "CARD_PAYLOAD_MALFORMED")
    assert "genuine" not in answer.body


def test_a_changed_name_is_refused_as_an_altered_card_in_the_readers_language(ec1_family, api):
    payload = qr_of_card(ec1_family, ec1_family.members["Ahmad Khalid Al-Mutairi"])

    answer = verify(api, flip_one_byte(payload, 40), lang="ar")

    assert answer.status == 422 and answer.code == "CARD_SIGNATURE_INVALID"
    assert answer.body["error"]["message"] == "توقيع هذه البطاقة غير مطابق: ربما تم تعديل البطاقة."


def test_a_card_signed_with_another_key_is_refused(family, api):
    from chalicelib.cards.keys import card_keys
    from chalicelib.cards.payload import CardClaims, generate_keypair, sign_payload

    real_kid = card_keys().current().kid
    forger = generate_keypair(real_kid)  # a forger can copy our key id, not our key
    claims = CardClaims("7Q2M9XK4TB3VZ", "Forged Person", "شخص مزور", "Gold", datetime(2026, 1, 1).date(),
                        datetime(2026, 12, 31).date(), datetime.now(UTC))

    same_kid = verify(api, sign_payload(claims, forger.private_key_pem, real_kid))
    other = generate_keypair("0000000000000000")
    unknown_kid = verify(api, sign_payload(claims, other.private_key_pem, other.kid))

    assert (same_kid.status, same_kid.code) == (422, "CARD_SIGNATURE_INVALID")
    assert (unknown_kid.status, unknown_kid.code) == (422, "CARD_KEY_UNKNOWN")


def test_a_forged_or_garbled_payload_is_refused_before_anything_is_read(family, api):
    for payload in ("EC1:NOT-BASE45-!!", "hello", "EC9:ABC"):
        with count_aws_calls() as calls:
            answer = verify(api, payload)
        assert answer.status == 400, answer.body
        assert calls.of("dynamodb") == 0
    assert verify(api, "EC9:ABC").code == "CARD_PAYLOAD_VERSION_UNSUPPORTED"
    assert verify(api, "hello").code == "CARD_PAYLOAD_MALFORMED"
    missing = api.post("/v1/verify", {})
    assert missing.status == 422 and "payload" in missing.body["error"]["fields"]


def test_a_terminated_persons_screenshot_verifies_as_genuine_but_terminated(family, api):
    fatima = family.members["Fatima Ali Al-Mutairi"]
    screenshot = qr_of_card(family, fatima)

    hr_upload(csv_rows(FATIMA.replace("2026-12-31,", "2026-02-28,terminate")))
    answer = verify(api, screenshot)

    assert answer.status == 200, answer.body
    assert answer.body["genuine"] is True and answer.body["status"] == "terminated"


def test_an_old_card_after_a_plan_change_is_genuine_but_no_longer_matches_the_record(family, api):
    ahmad = family.members["Ahmad Khalid Al-Mutairi"]
    old = qr_of_card(family, ahmad)

    hr_upload(csv_rows(AHMAD.replace("GOLD", "SILVER")))

    assert verify(api, old).body["matches_current_record"] is False
    assert verify(api, qr_of_card(family, ahmad)).body["matches_current_record"] is True


def test_cards_drawn_before_a_key_rotation_still_verify_and_new_cards_use_the_new_key(ec1_family, api):
    import boto3

    from chalicelib.cards.keys import card_keys
    from chalicelib.settings import get_settings

    family = ec1_family
    ahmad = family.members["Ahmad Khalid Al-Mutairi"]
    old = qr_of_card(family, ahmad)
    old_kid = card_keys().current().kid

    boto3.client("secretsmanager").put_secret_value(
        SecretId=f"{get_settings().secrets_prefix}card-signing", SecretString="rotated-" + "y" * 56)
    card_keys().forget()

    new = qr_of_card(family, ahmad)  # the key id is part of the card's key: drawn again, signed anew
    new_answer = verify(api, new)
    old_answer = verify(api, old)
    assert new_answer.body["card"]["kid"] != old_kid
    assert old_answer.status == 200 and old_answer.body["card"]["kid"] == old_kid
    assert old_answer.body["genuine"] is True
    kids = {k["kid"] for k in api.get("/v1/verify/keys").body["keys"]}
    assert kids == {old_kid, new_answer.body["card"]["kid"]}

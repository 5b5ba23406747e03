"""Cards as SMART Health Cards, checked the way any verifier would: the QR read off the drawn card by
zxing-cpp, the JWS verified by jwcrypto against the issuer's published JWKS, the bundle read by
fhir.resources; then revocation through the issuer's CRL, and /v1/verify for both QR formats.

Every card here is the real drawing: cards/wiring.QR_FORMAT is "shc", and the renderer encodes the
text as the spec's two segments ("shc:/" in byte mode, the digits in numeric mode).
"""

from __future__ import annotations

import io
import json
import zlib

import pytest
import zxingcpp
from jwcrypto import jwk, jws
from PIL import Image

from tests.api.cards_support import (
    AHMAD,
    FATIMA,
    create_policy,
    csv_rows,
    enrol_family,
    hr_upload,
    object_key,
    stored,
)

C4DIC = "http://hl7.org/fhir/us/insurance-card/StructureDefinition/C4DIC-"


@pytest.fixture
def family(aws, api, clock):
    create_policy()
    return enrol_family(api, AHMAD, FATIMA)


def decode(image: Image.Image) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.QRCode]


def card_png(holder, member_id: str) -> bytes:
    answer = holder.card(member_id, "png")
    assert answer.status == 200, answer.body
    return stored(answer.body["url"])[0]


def card_pdf(holder, member_id: str) -> bytes:
    answer = holder.card(member_id, "pdf")
    assert answer.status == 200, answer.body
    return stored(answer.body["url"])[0]


def read_as_a_verifier(api, qr_text: str) -> dict:
    """What an independent verifier does with the scanned text: JWS from digits, keys from the
    issuer's JWKS, ES256 check (jwcrypto), raw inflate."""
    assert qr_text.startswith("shc:/")
    digits = qr_text[5:]
    compact = "".join(chr(int(digits[i:i + 2]) + 45) for i in range(0, len(digits), 2))
    token = jws.JWS()
    token.deserialize(compact)
    payload = json.loads(zlib.decompress(token.objects["payload"], wbits=-15))
    jwks = api.get("/.well-known/jwks.json")
    assert jwks.status == 200
    from chalicelib.settings import get_settings

    assert payload["iss"] == get_settings().public_base_url  # the stage's public URL: the keys live under it
    keys = jwk.JWKSet.from_json(json.dumps(jwks.body))
    token.verify(keys.get_key(token.jose_header["kid"]))  # raises unless signed by a published key
    return payload


def test_the_qr_of_the_drawn_card_is_a_smart_health_card_a_standard_verifier_accepts(family, api, capsys):
    from fhir.resources.R4B.bundle import Bundle

    ahmad = family.members["Ahmad Khalid Al-Mutairi"]
    (qr_text,) = decode(Image.open(io.BytesIO(card_png(family, ahmad))))

    payload = read_as_a_verifier(api, qr_text)

    bundle = payload["vc"]["credentialSubject"]["fhirBundle"]
    parsed = Bundle.model_validate(bundle)  # every entry's resource validated by its R4B model
    from fhirclient.models.bundle import Bundle as R4Bundle

    R4Bundle(bundle, strict=True)  # and by SMART on FHIR's strict FHIR 4.0.1 (R4) models
    profiles = {e.resource.get_resource_type(): e.resource.meta.profile for e in parsed.entry}
    assert profiles == {"Patient": [C4DIC + "Patient"], "Coverage": [C4DIC + "Coverage"],
                        "Organization": [C4DIC + "Organization"]}
    coverage = next(e.resource for e in parsed.entry if e.resource.get_resource_type() == "Coverage")
    assert coverage.identifier[0].value == ahmad and coverage.status == "active"
    patient = parsed.entry[0].resource
    assert [n.text for n in patient.name] == ["Ahmad Khalid Al-Mutairi", "أحمد خالد المطيري"]
    assert "https://smarthealth.cards#health-card" in payload["vc"]["type"] and len(payload["vc"]["rid"]) <= 24
    with capsys.disabled():
        from chalicelib.cards.render import qr_matrix

        side = len(qr_matrix(qr_text))
        print(f"\nSHC card of {ahmad}: {len(qr_text)} characters, QR version {(side - 17) // 4}")


def test_the_qr_still_reads_from_the_png_at_half_size(family):
    ahmad = family.members["Ahmad Khalid Al-Mutairi"]
    image = Image.open(io.BytesIO(card_png(family, ahmad)))
    (full,) = decode(image)

    # A screenshot shown at half size on another screen: modules of 3 px become 1.5 px, smoothed.
    half = image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)

    assert decode(half) == [full]


def test_the_qr_in_the_pdf_is_the_same_smart_health_card(family, api):
    from pypdf import PdfReader

    ahmad = family.members["Ahmad Khalid Al-Mutairi"]
    (png_text,) = decode(Image.open(io.BytesIO(card_png(family, ahmad))))
    # No rasteriser is installed: the PDF embeds the QR as one image, read here as it is placed.
    (image,) = PdfReader(io.BytesIO(card_pdf(family, ahmad))).pages[0].images

    (pdf_text,) = decode(image.image.convert("L"))

    assert read_as_a_verifier(api, pdf_text)["vc"] == read_as_a_verifier(api, png_text)["vc"]


def test_verify_answers_a_smart_health_card_with_who_it_is_for_and_the_status_now(family, api):
    ahmad = family.members["Ahmad Khalid Al-Mutairi"]
    (qr_text,) = decode(Image.open(io.BytesIO(card_png(family, ahmad))))

    answer = api.post("/v1/verify", {"payload": qr_text})

    assert answer.status == 200, answer.body
    body = answer.body
    assert (body["genuine"], body["format"], body["status"], body["revoked"]) == (True, "shc", "active", False)
    card = body["card"]
    assert card["member_id"] == ahmad
    assert card["name"] == {"en": "Ahmad Khalid Al-Mutairi", "ar": "أحمد خالد المطيري"}
    assert card["plan"] == {"en": "Gold", "ar": "ذهبي"}
    assert (card["valid_from"], card["valid_to"]) == ("2026-01-01", "2026-12-31")
    assert card["kid"] == api.get("/.well-known/jwks.json").body["keys"][0]["kid"]
    assert body["matches_current_record"] is True


def test_a_changed_or_foreign_smart_health_card_is_refused(family, api):
    (qr_text,) = decode(Image.open(io.BytesIO(card_png(family, family.members["Ahmad Khalid Al-Mutairi"]))))
    at = len(qr_text) - 200 | 1  # an odd index: the first digit of one JWS character, in the payload
    pair = int(qr_text[at:at + 2])
    altered = qr_text[:at] + f"{pair - 1 if pair > 0 else 1:02d}" + qr_text[at + 2:]

    for payload in (altered, "shc:/1/2/5676", "shc:/567"):
        answer = api.post("/v1/verify", {"payload": payload})
        assert answer.status in (400, 422), answer.body
        assert answer.code in ("CARD_SIGNATURE_INVALID", "CARD_PAYLOAD_MALFORMED")


def test_the_jwks_lists_current_and_previous_es256_keys_open_to_any_origin(family, api):
    import boto3

    from chalicelib.cards.wiring import forget
    from chalicelib.settings import get_settings

    before = api.get("/.well-known/jwks.json")
    boto3.client("secretsmanager").put_secret_value(
        SecretId=f"{get_settings().secrets_prefix}card-signing", SecretString="rotated-" + "y" * 56)
    forget()
    after = api.get("/.well-known/jwks.json")

    assert before.headers["Access-Control-Allow-Origin"] == "*"
    assert before.headers["Cache-Control"].startswith("public, max-age=")
    (old,) = before.body["keys"]
    assert {k: old[k] for k in ("kty", "crv", "use", "alg", "crlVersion")} == {
        "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "crlVersion": 1}
    assert "d" not in old and jwk.JWK(**{k: old[k] for k in ("kty", "crv", "x", "y")}).thumbprint() == old["kid"]
    assert [k["kid"] for k in after.body["keys"]][1:] == [old["kid"]]  # the new key first, the old one kept
    assert len(after.body["keys"]) == 2


def test_a_terminated_members_card_is_listed_in_the_crl_and_verifies_as_revoked(family, api):
    fatima = family.members["Fatima Ali Al-Mutairi"]
    (screenshot,) = decode(Image.open(io.BytesIO(card_png(family, fatima))))
    rid = read_as_a_verifier(api, screenshot)["vc"]["rid"]
    kid = api.get("/.well-known/jwks.json").body["keys"][0]["kid"]
    assert api.get(f"/.well-known/crl/{kid}.json").body == {"kid": kid, "method": "rid", "ctr": 1, "rids": []}

    hr_upload(csv_rows(FATIMA.replace("2026-12-31,", "2026-02-28,terminate")))  # HR's file revokes her card

    crl = api.get(f"/.well-known/crl/{kid}.json")
    assert crl.status == 200 and crl.headers["Access-Control-Allow-Origin"] == "*"
    assert crl.body["ctr"] == 2 and [r.partition(".")[0] for r in crl.body["rids"]] == [rid]
    assert api.get("/.well-known/jwks.json").body["keys"][0]["crlVersion"] == 2
    answer = api.post("/v1/verify", {"payload": screenshot})
    assert answer.status == 200, answer.body
    assert (answer.body["genuine"], answer.body["status"], answer.body["revoked"]) == (True, "terminated", True)
    ahmad = api.post("/v1/verify", {"payload": decode(Image.open(io.BytesIO(
        card_png(family, family.members["Ahmad Khalid Al-Mutairi"]))))[0]})
    assert (ahmad.body["status"], ahmad.body["revoked"]) == ("active", False)


def test_a_reissued_card_revokes_the_one_drawn_before_and_a_card_changed_back_is_drawn_anew(family, api, clock):
    from datetime import timedelta

    fatima = family.members["Fatima Ali Al-Mutairi"]
    (first,) = decode(Image.open(io.BytesIO(card_png(family, fatima))))
    kid = api.get("/.well-known/jwks.json").body["keys"][0]["kid"]

    clock.shift(timedelta(days=1))
    hr_upload(csv_rows(FATIMA.replace("Fatima Ali Al-Mutairi", "Fatima Ali Al-Otaibi")))  # HR corrects her name
    (second,) = decode(Image.open(io.BytesIO(card_png(family, fatima))))

    rid = read_as_a_verifier(api, second)["vc"]["rid"]
    assert read_as_a_verifier(api, first)["vc"]["rid"] == rid  # one rid per person; the stamp says which
    crl = api.get(f"/.well-known/crl/{kid}.json").body
    assert crl["ctr"] == 2 and [r.partition(".")[0] for r in crl["rids"]] == [rid]
    old, new = (api.post("/v1/verify", {"payload": text}).body for text in (first, second))
    assert (old["genuine"], old["status"], old["revoked"], old["matches_current_record"]) == (
        True, "active", True, False)
    assert (new["revoked"], new["matches_current_record"], new["card"]["name"]["en"]) == (
        False, True, "Fatima Ali Al-Otaibi")

    clock.shift(timedelta(days=1))
    hr_upload(csv_rows(FATIMA))  # and back: the first card's very content, but that card was revoked
    (third,) = decode(Image.open(io.BytesIO(card_png(family, fatima))))

    assert third != first  # drawn anew (signed now), not the revoked object served again
    third_answer = api.post("/v1/verify", {"payload": third}).body
    assert (third_answer["revoked"], third_answer["matches_current_record"]) == (False, True)
    assert api.post("/v1/verify", {"payload": second}).body["revoked"] is True
    assert api.get(f"/.well-known/crl/{kid}.json").body["ctr"] == 3


def test_a_new_email_revokes_no_card_and_the_same_card_is_served(family, api, clock):
    from datetime import timedelta

    ahmad = family.members["Ahmad Khalid Al-Mutairi"]
    before = family.card(ahmad, "png").body["url"]
    kid = api.get("/.well-known/jwks.json").body["keys"][0]["kid"]

    clock.shift(timedelta(days=1))
    hr_upload(csv_rows(AHMAD.replace("ahmad@acme.example", "ahmad.k@acme.example"), FATIMA))

    assert api.get(f"/.well-known/crl/{kid}.json").body == {"kid": kid, "method": "rid", "ctr": 1, "rids": []}
    assert object_key(family.card(ahmad, "png").body["url"]) == object_key(before)


def test_the_crl_of_an_unknown_key_or_a_wrong_file_name_is_not_found(family, api):
    kid = api.get("/.well-known/jwks.json").body["keys"][0]["kid"]

    for path in ("/.well-known/crl/AAAA.json", f"/.well-known/crl/{kid}", f"/.well-known/crl/{kid}.json.json"):
        assert api.get(path).status == 404, path


def test_an_ec1_card_printed_before_the_switch_still_verifies(aws, api, clock, monkeypatch):
    from chalicelib.cards import wiring

    assert wiring.QR_FORMAT == "shc"  # what cards drawn now carry
    create_policy()
    holder = enrol_family(api, AHMAD)
    ahmad = holder.members["Ahmad Khalid Al-Mutairi"]
    monkeypatch.setattr(wiring, "QR_FORMAT", "ec1")
    wiring.card_deps.cache_clear()
    (printed,) = decode(Image.open(io.BytesIO(card_png(holder, ahmad))))

    monkeypatch.setattr(wiring, "QR_FORMAT", "shc")
    wiring.card_deps.cache_clear()
    answer = api.post("/v1/verify", {"payload": printed})

    assert printed.startswith("EC1:")
    assert answer.status == 200 and (answer.body["format"], answer.body["status"]) == ("ec1", "active")
    wiring.card_deps.cache_clear()

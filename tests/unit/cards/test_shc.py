"""A card as a SMART Health Card: ES256 keys from the card secret, the JWS, the shc:/ digits, the FHIR bundle.

The JWS is checked with jwcrypto and the bundle with fhir.resources (R4B models, FHIR 4.0.1's
structures for these resources): readers written by others, not by this codebase.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import zlib
from datetime import UTC, datetime

import pytest
import segno
from jwcrypto import jwk, jws

from chalicelib.cards.fhir_bundle import COVERAGE_PROFILE, ORGANIZATION_PROFILE, PATIENT_PROFILE
from chalicelib.cards.payload import CardKeyUnknown, CardPayloadMalformed, CardSignatureInvalid
from chalicelib.cards.shc import (
    PREFIX,
    jws_to_numeric,
    numeric_to_jws,
    revocation_id,
    sign_card,
    verify_card_qr,
)
from chalicelib.errors import Text
from chalicelib.kernel.relationship import Relationship
from chalicelib.platform.signing_keys import derive_es256_key, derive_key

ISS = "https://api.insure.example.com"
ISSUED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
SECRET = "card-secret-" + "x" * 52
KEY = derive_es256_key(SECRET)
LONGEST = {
    "name": Text("Mohammed Abdulrahman Abdulaziz Al-Abdulmohsen Al-Shammari Al-Otaibi",
                 "محمد عبدالرحمن عبدالعزيز العبدالمحسن الشمري العتيبي"),
    "plan": Text("Platinum Plus International", "البلاتينية بلس الدولية"),
}


def _find(kid: str):
    return KEY if kid == KEY.kid else None


def _payload(qr_text: str) -> dict:
    token = jws.JWS()
    token.deserialize(numeric_to_jws(qr_text))
    return json.loads(zlib.decompress(token.objects["payload"], wbits=-15))


def _qr_version(qr_text: str, error: str = "m") -> int:
    """The version of the QR the spec's two segments make (byte "shc:/", numeric digits)."""
    segments = [(PREFIX, segno.consts.MODE_BYTE), (qr_text[len(PREFIX):], segno.consts.MODE_NUMERIC)]
    return int(segno.make(segments, error=error, micro=False, boost_error=False).version)


def test_the_es256_key_comes_from_the_card_secret_the_same_every_time_and_apart_from_ed25519():
    again, other = derive_es256_key(SECRET), derive_es256_key(SECRET + "!")

    assert again.kid == KEY.kid and again.rid_key == KEY.rid_key
    assert other.kid != KEY.kid and other.rid_key != KEY.rid_key
    assert KEY.private.private_numbers().private_value != int.from_bytes(
        derive_key(SECRET).private.private_bytes_raw(), "big")
    assert KEY.private.curve.name == "secp256r1"


def test_the_kid_is_the_rfc7638_thumbprint_jwcrypto_computes():
    public = KEY.public_jwk()

    assert jwk.JWK(**public).thumbprint() == KEY.kid  # SHA-256 by default
    assert (public["kty"], public["crv"], public["alg"], public["use"]) == ("EC", "P-256", "ES256", "sig")
    assert "d" not in public


def test_a_card_is_an_es256_jws_with_a_deflated_payload_that_jwcrypto_verifies(group_card):
    qr_text = sign_card(group_card(), ISSUED, KEY, ISS)
    token = jws.JWS()
    token.deserialize(numeric_to_jws(qr_text))

    token.verify(jwk.JWK(**KEY.public_jwk()))  # raises when the signature does not hold

    header = token.jose_header
    assert header == {"alg": "ES256", "zip": "DEF", "kid": KEY.kid}
    payload = json.loads(zlib.decompress(token.objects["payload"], wbits=-15))
    assert payload["iss"] == ISS and payload["nbf"] == int(ISSUED.timestamp())
    assert payload["vc"]["type"] == ["https://smarthealth.cards#health-card"]
    assert payload["vc"]["credentialSubject"]["fhirVersion"] == "4.0.1"
    assert qr_text.startswith("shc:/") and qr_text[5:].isdigit()


def test_the_numeric_form_is_two_digits_per_character_from_minus():
    assert jws_to_numeric("-X.z") == "00430177"
    assert numeric_to_jws("shc:/00430177") == "-X.z"
    for garbled in ("shc:/123", "shc:/1/2/0043", "SHC:/0043x", "ec1:0043"):
        with pytest.raises(CardPayloadMalformed):
            numeric_to_jws(garbled)


def test_the_bundle_is_valid_fhir_r4_declaring_the_carin_profiles_and_minimised_for_a_qr(group_card):
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.coverage import Coverage
    from fhir.resources.R4B.organization import Organization
    from fhir.resources.R4B.patient import Patient

    card = group_card()
    bundle = _payload(sign_card(card, ISSUED, KEY, ISS))["vc"]["credentialSubject"]["fhirBundle"]

    Bundle.model_validate(bundle)
    r4_bundle(bundle)  # FHIR 4.0.1 itself, strict: a wrong type, a missing required or an unknown element raises
    models = {"Patient": Patient, "Coverage": Coverage, "Organization": Organization}
    profiles = {"Patient": PATIENT_PROFILE, "Coverage": COVERAGE_PROFILE, "Organization": ORGANIZATION_PROFILE}
    for n, entry in enumerate(bundle["entry"]):
        resource = entry["resource"]
        models[resource["resourceType"]].model_validate(resource)
        assert entry["fullUrl"] == f"resource:{n}"
        assert resource["meta"] == {"profile": [profiles[resource["resourceType"]]]}
        assert "id" not in resource and "text" not in resource
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == [
        "Patient", "Coverage", "Organization", "Organization"]
    patient, coverage, insurer, employer = (e["resource"] for e in bundle["entry"])
    assert patient["name"][0] == {"use": "official", "text": card.name.en}
    assert patient["name"][1]["text"] == card.name.ar
    assert patient["birthDate"] == card.date_of_birth.isoformat()
    assert coverage["identifier"][0]["value"] == card.member_id
    assert coverage["period"] == {"start": "2026-01-01", "end": "2026-12-31"}
    assert coverage["payor"] == [{"reference": "resource:2"}]
    assert coverage["policyHolder"] == {"reference": "resource:3"}
    assert coverage["relationship"]["coding"][0]["code"] == "child" and "subscriber" not in coverage
    assert [(c["type"]["coding"][0]["code"], c["value"]) for c in coverage["class"]] == [
        ("plan", "Gold"), ("group", "GP-ACME-2026")]
    assert (insurer["name"], insurer["alias"]) == (card.insurer.en, [card.insurer.ar])
    assert (employer["name"], employer["alias"]) == (card.cover.employer.en, [card.cover.employer.ar])
    text = json.dumps(bundle)
    assert '"display"' not in text and '"div"' not in text


def r4_bundle(bundle: dict):
    """The bundle read by SMART on FHIR's own models, generated from FHIR 4.0.1: raises unless valid R4."""
    from fhirclient.models.bundle import Bundle

    return Bundle(bundle, strict=True)


def test_the_r4_reader_refuses_what_r4_does_not_allow_so_its_yes_means_something(group_card, residence_card):
    from fhirclient.models.fhirabstractbase import FHIRValidationError

    for card in (group_card(), residence_card()):
        bundle = _payload(sign_card(card, ISSUED, KEY, ISS))["vc"]["credentialSubject"]["fhirBundle"]
        read = r4_bundle(bundle)
        assert read.entry[1].resource.identifier[0].value == card.member_id
        coverage = bundle["entry"][1]["resource"]
        for broken in ({**coverage, "status": 1},  # a code must be a string
                       {**coverage, "benefitPeriod": {"start": "2026-01-01"}},  # an R5 element, not R4's
                       {k: v for k, v in coverage.items() if k != "payor"}):  # payor is 1..* in R4
            with pytest.raises(FHIRValidationError):
                r4_bundle({**bundle, "entry": [bundle["entry"][0], {**bundle["entry"][1], "resource": broken},
                                               *bundle["entry"][2:]]})


def test_a_residence_card_is_held_by_the_insured_person_with_no_employer(residence_card):
    bundle = _payload(sign_card(residence_card(), ISSUED, KEY, ISS))["vc"]["credentialSubject"]["fhirBundle"]

    coverage = bundle["entry"][1]["resource"]
    assert len(bundle["entry"]) == 3
    assert coverage["policyHolder"] == coverage["subscriber"] == {"reference": "resource:0"}
    assert coverage["relationship"]["coding"][0]["code"] == "self"


def test_a_card_reads_back_as_what_it_prints(group_card):
    card = group_card()
    claims = verify_card_qr(sign_card(card, ISSUED, KEY, ISS), _find, ISS)

    assert claims.facts.member_id == card.member_id and claims.facts.name == card.name
    assert claims.facts.plan_en == "Gold"
    assert (claims.facts.valid_from, claims.facts.valid_to) == (card.valid_from, card.valid_to)
    assert claims.issued_at == ISSUED and claims.kid == KEY.kid and claims.iss == ISS


def test_a_changed_digit_an_unknown_key_or_another_issuer_is_refused(group_card):
    qr_text = sign_card(group_card(), ISSUED, KEY, ISS)
    middle = len(qr_text) // 2 & ~1  # pairs start at odd indices after "shc:/": middle + 1 starts one
    # One payload character moved one place in the alphabet: still digits, still base64url (mostly).
    pair = int(qr_text[middle + 1:middle + 3])
    altered = qr_text[:middle + 1] + f"{pair + 1 if pair < 77 else pair - 1:02d}" + qr_text[middle + 3:]

    with pytest.raises((CardSignatureInvalid, CardPayloadMalformed)):
        verify_card_qr(altered, _find, ISS)
    with pytest.raises(CardKeyUnknown):
        verify_card_qr(qr_text, lambda kid: None, ISS)
    with pytest.raises(CardPayloadMalformed):
        verify_card_qr(qr_text, _find, "https://elsewhere.example")
    forger = dataclasses.replace(derive_es256_key("forger"), kid=KEY.kid)  # a kid can be copied, not a key
    with pytest.raises(CardSignatureInvalid):
        verify_card_qr(sign_card(group_card(), ISSUED, forger, ISS), _find, ISS)


def test_the_rid_is_short_base64url_one_way_and_one_per_person_and_key(group_card):
    rid = _payload(sign_card(group_card(), ISSUED, KEY, ISS))["vc"]["rid"]
    renewed = _payload(sign_card(group_card(valid_to=ISSUED.date().replace(year=2027)), ISSUED, KEY, ISS))["vc"]["rid"]

    assert rid == renewed == revocation_id(KEY.rid_key, group_card().member_id)
    assert len(rid) <= 24 and base64.urlsafe_b64decode(rid + "=")  # base64url alphabet
    assert group_card().member_id not in rid
    assert revocation_id(KEY.rid_key, "another member") != rid
    assert revocation_id(derive_es256_key("other").rid_key, group_card().member_id) != rid


def test_qr_versions_of_a_typical_and_the_longest_card(group_card, capsys):
    typical = sign_card(group_card(), ISSUED, KEY, ISS)
    longest = sign_card(group_card(name=LONGEST["name"], plan=LONGEST["plan"], relationship=Relationship.PRINCIPAL,
                                   cover=group_card().cover.__class__("GP-KNPC-REFINING-2026", Text(
                                       "Kuwait National Petroleum Company for Refining and Marketing",
                                       "شركة البترول الوطنية الكويتية للتكرير والتسويق"))), ISSUED, KEY, ISS)
    versions = {name: (len(numeric_to_jws(text)), _qr_version(text, "m"), _qr_version(text, "l"))
                for name, text in (("typical", typical), ("longest", longest))}
    with capsys.disabled():
        for name, (chars, at_m, at_l) in versions.items():
            print(f"\nSHC QR {name}: JWS {chars} chars, version {at_m} at level M, {at_l} at level L")

    assert versions["typical"][1] <= 28 and versions["longest"][1] <= 32
    # The spec's single-QR budget (version 22 at L, 1,195 JWS characters) fits Latin-only cards; both
    # scripts of every name cost more, and the card stays one QR rather than the deprecated chunks.
    assert versions["typical"][0] < 1400


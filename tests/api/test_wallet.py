"""The card in Apple Wallet and Google Wallet, read as a verifier would: the .pkpass unzipped, every
manifest hash checked, its PKCS #7 signature verified by OpenSSL against the configured chain (the
sandbox's WWDR), its barcode verified at /v1/verify; Apple's web service driven as a device does;
the Google link's JWT verified with the service account's public key by jwcrypto. Then a termination
reaches the passes: voided, and a push recorded for the registered device.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from jwcrypto import jwk, jwt

from devstack.wallet_sandbox import GOOGLE_ISSUER_ID, PASS_TYPE_ID, sandbox_material
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

PKPASS = "application/vnd.apple.pkpass"
DEVICE, PUSH_TOKEN = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", "ab" * 32


@pytest.fixture
def family(aws, api, clock):
    create_policy()
    return enrol_family(api, AHMAD, FATIMA)


def pkpass_of(client, holder, member_id: str) -> bytes:
    """The pass the app downloads for `holder` (anything with an access `token`)."""
    answer = client.http.get(f"/v1/cards/{member_id}/wallet/apple",
                             headers={"Authorization": f"Bearer {holder.token}", "Accept": PKPASS})
    assert answer.status_code == 200, answer.body
    assert answer.headers["Content-Type"] == PKPASS and "no-store" in answer.headers["Cache-Control"]
    return answer.body


def read_pass(body: bytes, tmp_path: Path) -> dict[str, bytes]:
    """Unzip, check every manifest hash, verify the signature with OpenSSL against the sandbox WWDR."""
    files = {info.filename: zipfile.ZipFile(io.BytesIO(body)).read(info)
             for info in zipfile.ZipFile(io.BytesIO(body)).infolist()}
    manifest = json.loads(files["manifest.json"])
    assert set(manifest) == set(files) - {"manifest.json", "signature"}
    for name, digest in manifest.items():
        assert hashlib.sha1(files[name], usedforsecurity=False).hexdigest() == digest, name
    for name, data in (("manifest.json", files["manifest.json"]), ("signature", files["signature"]),
                       ("wwdr.pem", sandbox_material()["wwdr_certificate"].encode())):
        (tmp_path / name).write_bytes(data)
    checked = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "signature"),
         "-content", str(tmp_path / "manifest.json"), "-CAfile", str(tmp_path / "wwdr.pem"), "-purpose", "any",
         "-out", "/dev/null"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0 and "Verification successful" in checked.stderr, checked.stderr
    return files


def strings(files: dict[str, bytes], lang: str) -> dict[str, str]:
    text = files[f"{lang}.lproj/pass.strings"].decode("utf-8")
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(" = ")
        out[json.loads(key)] = json.loads(value.rstrip(";"))
    return out


def test_the_apple_pass_is_a_signed_pkpass_whose_barcode_is_the_cards_smart_health_card(family, client, api,
                                                                                       tmp_path):
    ahmad = family.members["Ahmad Khalid Al-Mutairi"]

    files = read_pass(pkpass_of(client, family, ahmad), tmp_path)

    pass_json = json.loads(files["pass.json"])
    assert (pass_json["formatVersion"], pass_json["passTypeIdentifier"], pass_json["serialNumber"]) == (
        1, PASS_TYPE_ID, ahmad)
    assert pass_json["webServiceURL"].endswith("/wallet/apple") and len(pass_json["authenticationToken"]) >= 16
    assert pass_json["expirationDate"] == "2027-01-01T00:00:00+03:00" and "voided" not in pass_json
    (barcode,) = pass_json["barcodes"]
    assert barcode["format"] == "PKBarcodeFormatQR" and barcode["message"].startswith("shc:/")
    # The very QR of the printed card: read off the card's PNG by zxing, byte for byte the pass's.
    assert barcode["message"] == qr_of_png(stored(family.card(ahmad, "png").body["url"])[0])
    verified = api.post("/v1/verify", {"payload": barcode["message"]}).body
    assert (verified["genuine"], verified["status"], verified["revoked"]) == (True, "active", False)
    assert verified["card"]["member_id"] == ahmad
    en, ar = strings(files, "en"), strings(files, "ar")
    assert (en["name_value"], ar["name_value"]) == ("Ahmad Khalid Al-Mutairi", "أحمد خالد المطيري")
    assert (en["status_value"], ar["status_value"]) == ("Active", "ساري")
    fields = {f["key"]: f for group in pass_json["generic"].values() for f in group}
    assert fields["member_id"]["value"] == ahmad and fields["name"]["value"] == "name_value"
    assert {"icon.png", "icon@2x.png", "logo.png"} <= set(files)


def test_only_the_account_covering_the_person_gets_their_pass(family, client, api):
    stranger = enrol_family(api, AHMAD.replace("E1,", "E7,").replace("ahmad@", "other@"))
    fatima = family.members["Fatima Ali Al-Mutairi"]

    for path in (f"/v1/cards/{fatima}/wallet/apple", f"/v1/cards/{fatima}/wallet/google",
                 "/v1/cards/NOBODY00000000/wallet/apple"):
        answer = client.http.get(path, headers={"Authorization": f"Bearer {stranger.token}"})
        assert answer.status_code == 404, path
    assert client.http.get(f"/v1/cards/{fatima}/wallet/apple").status_code == 401


def web_service(client, method: str, path: str, token: str | None, body: dict | None = None,
                headers: dict[str, str] | None = None):
    # Devices send Accept: */* (API Gateway and Chalice answer a binary body only to a request accepting it).
    sent = {"Content-Type": "application/json", "Accept": "*/*", **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"ApplePass {token}"
    return getattr(client.http, method)(f"/wallet/apple/v1{path}", headers=sent,
                                        body=json.dumps(body) if body is not None else None)


def test_a_device_registers_lists_fetches_and_unregisters_as_apples_web_service_says(family, client, tmp_path,
                                                                                     clock):
    fatima = family.members["Fatima Ali Al-Mutairi"]
    token = json.loads(read_pass(pkpass_of(client, family, fatima), tmp_path)["pass.json"])["authenticationToken"]
    registration = f"/devices/{DEVICE}/registrations/{PASS_TYPE_ID}/{fatima}"

    assert web_service(client, "post", registration, token, {"pushToken": PUSH_TOKEN}).status_code == 201
    assert web_service(client, "post", registration, token, {"pushToken": PUSH_TOKEN}).status_code == 200
    assert web_service(client, "post", registration, "x" * 43, {"pushToken": PUSH_TOKEN}).status_code == 401
    assert web_service(client, "post", registration, None, {"pushToken": PUSH_TOKEN}).status_code == 401
    bad_token = web_service(client, "post", registration, token, {"pushToken": "not hex"})
    assert bad_token.status_code == 422 and "pushToken" in bad_token.body.decode()

    listed = web_service(client, "get", f"/devices/{DEVICE}/registrations/{PASS_TYPE_ID}", None)
    assert listed.status_code == 200
    tag = json.loads(listed.body)["lastUpdated"]
    assert json.loads(listed.body)["serialNumbers"] == [fatima]
    since = web_service(client, "get", f"/devices/{DEVICE}/registrations/{PASS_TYPE_ID}?passesUpdatedSince={tag}",
                        None)
    assert since.status_code == 204

    latest = web_service(client, "get", f"/passes/{PASS_TYPE_ID}/{fatima}", token)
    assert latest.status_code == 200 and latest.headers["Content-Type"] == PKPASS, latest.body
    modified = latest.headers["Last-Modified"]
    assert web_service(client, "get", f"/passes/{PASS_TYPE_ID}/{fatima}", token,
                       headers={"If-Modified-Since": modified}).status_code == 304
    assert web_service(client, "get", f"/passes/{PASS_TYPE_ID}/{fatima}", "wrong").status_code == 401

    assert web_service(client, "post", "/log", None, {"logs": ["Web service error: 500"]}).status_code == 200
    assert web_service(client, "delete", registration, token).status_code == 200
    assert web_service(client, "get", f"/devices/{DEVICE}/registrations/{PASS_TYPE_ID}", None).status_code == 204


def test_terminating_the_member_voids_the_pass_and_pushes_to_the_registered_device(family, client, tmp_path,
                                                                                   clock, outbox):
    fatima = family.members["Fatima Ali Al-Mutairi"]
    token = json.loads(read_pass(pkpass_of(client, family, fatima), tmp_path)["pass.json"])["authenticationToken"]
    registration = f"/devices/{DEVICE}/registrations/{PASS_TYPE_ID}/{fatima}"
    assert web_service(client, "post", registration, token, {"pushToken": PUSH_TOKEN}).status_code == 201
    tag = json.loads(web_service(client, "get", f"/devices/{DEVICE}/registrations/{PASS_TYPE_ID}", None).body)[
        "lastUpdated"]

    clock.shift(timedelta(days=2))
    hr_upload(csv_rows(FATIMA.replace("2026-12-31,", "2026-02-28,terminate")))
    outbox.messages()  # the sender drains the queue: the wallet job runs there

    pushes = [json.loads(p.read_text()) for p in sorted((outbox.folder / "wallet").glob("*-wallet-apns.json"))]
    assert [(p["path"], p["headers"]["apns-topic"], p["body"]) for p in pushes] == [
        (f"/3/device/{PUSH_TOKEN}", PASS_TYPE_ID, "{}")]
    changed = web_service(client, "get", f"/devices/{DEVICE}/registrations/{PASS_TYPE_ID}?passesUpdatedSince={tag}",
                          None)
    assert changed.status_code == 200 and json.loads(changed.body)["serialNumbers"] == [fatima]
    latest = web_service(client, "get", f"/passes/{PASS_TYPE_ID}/{fatima}", token)
    pass_json = json.loads(read_pass(latest.body, tmp_path)["pass.json"])
    assert pass_json["voided"] is True and "barcodes" not in pass_json
    assert strings(read_pass(latest.body, tmp_path), "en")["status_value"] == "Terminated"


def google_claims(url: str) -> dict:
    assert url.startswith("https://pay.google.com/gp/v/save/")
    key = jwk.JWK.from_pem(sandbox_material()["google_public_key"].encode())
    token = jwt.JWT(jwt=url.rsplit("/", 1)[1], key=key, algs=["RS256"])  # raises unless signed by that key
    return json.loads(token.claims)


def test_the_google_link_is_a_save_jwt_signed_by_the_service_account_and_a_change_updates_the_object(
        family, api, clock, outbox):
    fatima = family.members["Fatima Ali Al-Mutairi"]
    answer = family.get(f"/v1/cards/{fatima}/wallet/google")
    assert answer.status == 200 and answer.headers["Cache-Control"] == "private, no-store"

    claims = google_claims(answer.body["url"])

    assert (claims["aud"], claims["typ"], claims["iss"]) == ("google", "savetowallet",
                                                             "wallet@insure-sandbox.iam.gserviceaccount.com")
    (obj,) = claims["payload"]["genericObjects"]
    assert obj["id"] == f"{GOOGLE_ISSUER_ID}.{fatima}" and obj["state"] == "ACTIVE"
    assert obj["header"]["defaultValue"]["value"] == "Fatima Ali Al-Mutairi"
    assert obj["header"]["translatedValues"] == [{"language": "ar", "value": "فاطمة علي المطيري"}]
    verified = api.post("/v1/verify", {"payload": obj["barcode"]["value"]}).body
    assert (verified["genuine"], verified["card"]["member_id"]) == (True, fatima)

    clock.shift(timedelta(days=1))
    hr_upload(csv_rows(FATIMA.replace("2026-12-31,", "2026-02-28,terminate")))
    outbox.messages()

    folder = outbox.folder / "wallet"
    patches = [json.loads(p.read_text()) for p in sorted(folder.glob("*-wallet-google-wallet.json"))]
    assert [(p["method"], p["url"].rsplit("/", 1)[1], p["body"]["state"]) for p in patches] == [
        ("PATCH", f"{GOOGLE_ISSUER_ID}.{fatima}", "INACTIVE")]


def test_a_pass_token_is_the_passs_own(family, client, tmp_path):
    ahmad, fatima = family.members["Ahmad Khalid Al-Mutairi"], family.members["Fatima Ali Al-Mutairi"]
    token = json.loads(read_pass(pkpass_of(client, family, ahmad), tmp_path)["pass.json"])["authenticationToken"]

    # Ahmad's pass token opens nothing of Fatima's.
    assert web_service(client, "get", f"/passes/{PASS_TYPE_ID}/{fatima}", token).status_code == 401
    assert web_service(client, "post", f"/devices/{DEVICE}/registrations/{PASS_TYPE_ID}/{fatima}", token,
                       {"pushToken": PUSH_TOKEN}).status_code == 401
    assert base64.urlsafe_b64decode(token + "=")  # base64url of an HMAC, not the member id


def test_a_pass_is_registered_on_ten_devices_at_most(family, client, tmp_path):
    fatima = family.members["Fatima Ali Al-Mutairi"]
    token = json.loads(read_pass(pkpass_of(client, family, fatima), tmp_path)["pass.json"])["authenticationToken"]

    answers = [web_service(client, "post", f"/devices/device{n:02d}/registrations/{PASS_TYPE_ID}/{fatima}", token,
                           {"pushToken": PUSH_TOKEN}).status_code for n in range(11)]

    assert answers == [201] * 10 + [429]
    # One removed, one more fits; a removal of a device never registered changes no count.
    assert web_service(client, "delete", f"/devices/device03/registrations/{PASS_TYPE_ID}/{fatima}",
                       token).status_code == 200
    assert web_service(client, "delete", f"/devices/device99/registrations/{PASS_TYPE_ID}/{fatima}",
                       token).status_code == 200
    assert web_service(client, "post", f"/devices/device10/registrations/{PASS_TYPE_ID}/{fatima}", token,
                       {"pushToken": PUSH_TOKEN}).status_code == 201
    assert web_service(client, "post", f"/devices/device11/registrations/{PASS_TYPE_ID}/{fatima}", token,
                       {"pushToken": PUSH_TOKEN}).status_code == 429


def test_hostile_identifiers_and_bodies_get_4xx_never_a_500(family, client, tmp_path):
    fatima = family.members["Fatima Ali Al-Mutairi"]
    token = json.loads(read_pass(pkpass_of(client, family, fatima), tmp_path)["pass.json"])["authenticationToken"]
    long = "A" * 500

    assert web_service(client, "post", f"/devices/{long}/registrations/{PASS_TYPE_ID}/{fatima}", token,
                       {"pushToken": PUSH_TOKEN}).status_code == 404
    assert web_service(client, "get", f"/devices/{DEVICE}/registrations/{PASS_TYPE_ID}?passesUpdatedSince=-1",
                       None).status_code == 422
    assert web_service(client, "post", f"/devices/{DEVICE}/registrations/{PASS_TYPE_ID}/{fatima}", token,
                       {"pushToken": ["x"] * 1000}).status_code == 422
    assert web_service(client, "get", f"/passes/{PASS_TYPE_ID}/{fatima}", token,
                       headers={"If-Modified-Since": "not a date"}).status_code == 200  # unreadable: the pass
    assert web_service(client, "post", "/log", None, {"logs": ["x" * 100_000] * 3}).status_code == 200


def test_a_renewal_paid_reaches_the_residence_pass_with_its_new_end(api, client, clock, outbox, tmp_path):
    from tests.api.premium_support import INSURED, choose_on_page, make_payer

    payer = make_payer(api)
    choose_on_page(api, payer.started_payment(key="first"), "approved")
    member_id = f"R-{INSURED}"
    first = json.loads(read_pass(pkpass_of(client, payer, member_id), tmp_path)["pass.json"])
    registration = f"/devices/{DEVICE}/registrations/{PASS_TYPE_ID}/{member_id}"
    assert web_service(client, "post", registration, first["authenticationToken"],
                       {"pushToken": PUSH_TOKEN}).status_code == 201
    # What the first payment queued goes out now: moto's SQS stops at a message past its 14-day retention,
    # which would hide what comes after the clock's jump.
    outbox.messages()
    pushed_before = list((outbox.folder / "wallet").glob("*-wallet-apns.json"))

    clock.shift(timedelta(days=320))
    renewal = payer.confirmed_application(kind="renewal")
    choose_on_page(api, payer.pay(renewal, "second").body, "approved")
    outbox.messages()

    pushes = [json.loads(p.read_text()) for p in sorted((outbox.folder / "wallet").glob("*-wallet-apns.json"))
              if p not in pushed_before]
    assert [p["path"] for p in pushes] == [f"/3/device/{PUSH_TOKEN}"]
    latest = web_service(client, "get", f"/passes/{PASS_TYPE_ID}/{member_id}", first["authenticationToken"])
    renewed = json.loads(read_pass(latest.body, tmp_path)["pass.json"])
    assert renewed["expirationDate"] > first["expirationDate"]


def test_a_change_to_a_card_nobody_keeps_in_a_wallet_writes_nothing_to_the_wallet_table(family, clock, outbox):
    from chalicelib.wallet.models import WalletItem

    clock.shift(timedelta(days=1))
    hr_upload(csv_rows(FATIMA.replace("2026-12-31,", "2026-02-28,terminate")))
    outbox.messages()  # the sender ran the wallet job

    assert list(WalletItem.scan()) == []

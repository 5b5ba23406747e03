"""Self-made stand-ins for Apple's and Google's wallet credentials, for `make run` and the tests.

A "Sandbox WWDR" certificate authority issues the pass type ID certificate (as Apple's WWDR G4 does),
with an APNs auth key and a Google service account key beside them. Passes signed with them verify
against this chain (`openssl cms -verify -CAfile <wwdr>`), not Apple's: a real device refuses them,
which is the point of a sandbox. Made once per process; the secrets' JSON has the production shape.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache

PASS_TYPE_ID = "pass.com.example.insure.sandbox"
TEAM_ID = "SANDBOX123"
APNS_KEY_ID = "SANDBOXKEY"
GOOGLE_ISSUER_ID = "3388000000022000000"
GOOGLE_CLIENT_EMAIL = "wallet@insure-sandbox.iam.gserviceaccount.com"


@cache
def sandbox_material() -> dict[str, str]:
    """PEMs: wwdr_certificate, certificate, private_key, apns_private_key, google_private_key (+ its id)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID

    def pem_key(key: object) -> str:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,  # type: ignore[attr-defined]
                                 serialization.NoEncryption()).decode()

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Sandbox Worldwide Developer Relations G4"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Insure sandbox (not Apple)")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    pass_key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.USER_ID, PASS_TYPE_ID),
                         x509.NameAttribute(NameOID.COMMON_NAME, f"Pass Type ID: {PASS_TYPE_ID}"),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, TEAM_ID)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name).public_key(pass_key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    google_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "wwdr_certificate": ca.public_bytes(serialization.Encoding.PEM).decode(),
        "certificate": cert.public_bytes(serialization.Encoding.PEM).decode(),
        "private_key": pem_key(pass_key),
        "apns_private_key": pem_key(ec.generate_private_key(ec.SECP256R1())),
        "google_private_key": pem_key(google_key),
        "google_public_key": google_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
    }


def sandbox_secret(name: str) -> str | None:
    """The sandbox value of a wallet secret (by its name's last part), None for any other secret."""
    material = sandbox_material()
    if name.endswith("/apple-wallet"):
        return json.dumps({"pass_type_id": PASS_TYPE_ID, "team_id": TEAM_ID, "certificate": material["certificate"],
                           "private_key": material["private_key"], "wwdr_certificate": material["wwdr_certificate"],
                           "apns_key_id": APNS_KEY_ID, "apns_private_key": material["apns_private_key"]})
    if name.endswith("/google-wallet"):
        return json.dumps({"issuer_id": GOOGLE_ISSUER_ID, "client_email": GOOGLE_CLIENT_EMAIL,
                           "private_key_id": "sandbox-key-1", "private_key": material["google_private_key"]})
    return None

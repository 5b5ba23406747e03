"""A signed Apple Wallet pass (.pkpass): a zip of pass.json, its images and strings, manifest.json and signature.

manifest.json maps every other file to its SHA-1 (hex), as Apple's package format requires; `signature`
is a detached PKCS #7 (CMS SignedData, DER) of manifest.json signed with the pass type certificate's
key, carrying that certificate and Apple's WWDR intermediate (G4) so a device can build the chain to
Apple's root. cryptography's PKCS7SignatureBuilder makes it (SHA-256 digest, signing time attribute).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PassSigner:
    """The pass type ID certificate and its key, and Apple's WWDR intermediate, as cryptography objects."""

    certificate: Any  # x509.Certificate
    private_key: Any  # RSA or EC private key
    wwdr: Any  # x509.Certificate


def manifest(files: Mapping[str, bytes]) -> bytes:
    """manifest.json: file name -> SHA-1 hex of its bytes (Apple's format fixes SHA-1 here)."""
    digests = {name: hashlib.sha1(body, usedforsecurity=False).hexdigest() for name, body in sorted(files.items())}
    return json.dumps(digests, indent=1, sort_keys=True).encode()


def signature(manifest_json: bytes, signer: PassSigner) -> bytes:
    """A detached PKCS #7 signature of manifest.json (DER), with the signer's and the WWDR certificates."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    return (pkcs7.PKCS7SignatureBuilder()
            .set_data(manifest_json)
            .add_signer(signer.certificate, signer.private_key, hashes.SHA256())
            .add_certificate(signer.wwdr)
            .sign(Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]))


def pkpass(pass_json: Mapping[str, Any], assets: Mapping[str, bytes], signer: PassSigner) -> bytes:
    """The .pkpass bytes: pass.json and `assets` (images, <lang>.lproj/pass.strings), manifest, signature."""
    files = {"pass.json": json.dumps(pass_json, ensure_ascii=False, indent=1).encode("utf-8"), **assets}
    listed = manifest(files)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in sorted(files.items()):
            archive.writestr(_entry(name), body)
        archive.writestr(_entry("manifest.json"), listed)
        archive.writestr(_entry("signature"), signature(listed, signer))
    return out.getvalue()


def _entry(name: str) -> zipfile.ZipInfo:
    # A fixed timestamp: the same pass content zips to the same bytes but for the signature's time.
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info

"""The wallet's secrets, read from Secrets Manager and kept 5 minutes per container.

- `apple-wallet`: JSON {pass_type_id, team_id, certificate, private_key, wwdr_certificate, apns_key_id,
  apns_private_key}: the pass type ID certificate and key (PEM) Apple issued, Apple's WWDR G4
  intermediate (PEM), and the APNs auth key (.p8, PEM) that signs push provider tokens.
- `google-wallet`: JSON {issuer_id, client_email, private_key_id, private_key}: the Wallet issuer and
  the service account key (the service account's JSON key file, plus the issuer id).
- `wallet-pass-auth`: a random value; each pass's authenticationToken is an HMAC of its serial with it
  (nothing stored; AWSPREVIOUS keeps the tokens of passes issued before a rotation working).
Operations put Apple's and Google's values in; `make run` and the tests put a self-made chain in
(devstack/wallet_sandbox.py). A secret left empty makes that wallet unavailable (503), never a 500.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from chalicelib.platform.aws import secret_values
from chalicelib.settings import get_settings
from chalicelib.wallet.pkpass import PassSigner

APPLE_SECRET, GOOGLE_SECRET, AUTH_SECRET = "apple-wallet", "google-wallet", "wallet-pass-auth"
CACHE_SECONDS = 300


@dataclass(frozen=True)
class AppleConfig:
    pass_type_id: str
    team_id: str
    signer: PassSigner
    apns_key_id: str
    apns_key: Any  # EC P-256 private key (the .p8)


@dataclass(frozen=True)
class GoogleConfig:
    issuer_id: str
    client_email: str
    private_key_id: str
    private_key: Any  # RSA private key


class _Cached:
    """One secret's parsed value, reloaded after CACHE_SECONDS."""

    def __init__(self, name: str) -> None:
        self.name, self._lock, self._at = name, threading.Lock(), -1e9
        self._value: list[str] | None = None

    def get(self) -> list[str]:
        with self._lock:
            value = self._value
            if value is None or time.monotonic() - self._at > CACHE_SECONDS:
                value = secret_values(f"{get_settings().secrets_prefix}{self.name}")
                self._value, self._at = value, time.monotonic()
            return value

    def forget(self) -> None:
        with self._lock:
            self._value = None


_apple, _google, _auth = _Cached(APPLE_SECRET), _Cached(GOOGLE_SECRET), _Cached(AUTH_SECRET)


def apple_config() -> AppleConfig | None:
    """Apple's pass type, its signing chain and the APNs key; None while the secret is not filled in."""
    return _apple_config(_apple.get()[0])


@lru_cache(maxsize=2)
def _apple_config(raw: str) -> AppleConfig | None:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    values = _json(raw)
    needed = ("pass_type_id", "team_id", "certificate", "private_key", "wwdr_certificate")
    if not all(values.get(k) for k in needed):
        return None
    signer = PassSigner(certificate=x509.load_pem_x509_certificate(values["certificate"].encode()),
                        private_key=load_pem_private_key(values["private_key"].encode(), password=None),
                        wwdr=x509.load_pem_x509_certificate(values["wwdr_certificate"].encode()))
    apns_key = (load_pem_private_key(values["apns_private_key"].encode(), password=None)
                if values.get("apns_private_key") else None)
    return AppleConfig(values["pass_type_id"], values["team_id"], signer, values.get("apns_key_id", ""), apns_key)


def google_config() -> GoogleConfig | None:
    """The Google Wallet issuer and its service account key; None while the secret is not filled in."""
    return _google_config(_google.get()[0])


@lru_cache(maxsize=2)
def _google_config(raw: str) -> GoogleConfig | None:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    values = _json(raw)
    if not all(values.get(k) for k in ("issuer_id", "client_email", "private_key")):
        return None
    return GoogleConfig(values["issuer_id"], values["client_email"], values.get("private_key_id", ""),
                        load_pem_private_key(values["private_key"].encode(), password=None))


def pass_token(serial: str) -> str:
    """The authenticationToken of the pass with this serial (43 characters, base64url of an HMAC)."""
    return _token(_auth.get()[0], serial)


def token_matches(serial: str, token: str) -> bool:
    """Whether `token` is the pass's, under the current or the previous secret (constant time)."""
    return any(hmac.compare_digest(_token(value, serial), token) for value in _auth.get())


def forget_wallet_keys() -> None:
    for cached in (_apple, _google, _auth):
        cached.forget()


def _token(secret: str, serial: str) -> str:
    import base64

    mac = hmac.new(secret.encode(), f"apple-pass:{serial}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _json(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}  # a random value (a stack not given Apple's or Google's material): not configured
    return value if isinstance(value, dict) else {}

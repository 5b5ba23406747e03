"""Secrets Manager secrets: random values from which keys are derived, rotatable."""

from __future__ import annotations

import json

from devstack.infra import sub


def _random_secret(name: str, description: str) -> dict:
    """A 64-character random value made by CloudFormation (the local stack makes its own)."""
    return {
        "Type": "AWS::SecretsManager::Secret",
        "Properties": {
            "Name": sub(f"insure-${{Stage}}/{name}"),
            "Description": description,
            "GenerateSecretString": {"PasswordLength": 64, "ExcludePunctuation": True},
        },
    }


def resources() -> dict:
    return {
        # The HMAC key of payment-gateway callbacks (the sandbox signs with it; see premiums/payment_secrets.py).
        "PaymentCallbackSecret": _random_secret(
            "payment-callback", "HMAC-SHA256 key of the payment gateway's signed callbacks"),
        # The server key of the accounts area's HMACs: SMS codes are hashed with it (a leaked tokens
        # table alone can't be searched for the 10^6 codes) and a rotated refresh token's successor is
        # derived with it (a retry within the grace period gets the same successor). AWSPREVIOUS keeps
        # verifying after a rotation.
        "AccountsHmacSecret": _random_secret(
            "accounts-hmac", "HMAC key of SMS codes and refresh-token successors"),
        # Seed of the Ed25519 key that signs card QR codes (cards/keys.py): separate from the
        # token key, so each rotates alone; AWSPREVIOUS keeps old cards and their screenshots verifying.
        "CardSigningSecret": _random_secret("card-signing", "Seed of the Ed25519 key that signs e-card QR codes"),
        # The KNET terminal of prod; operations put the bank's values in it before the first payment.
        "KnetTerminalSecret": {
            "Type": "AWS::SecretsManager::Secret",
            "Condition": "IsProd",
            "Properties": {
                "Name": sub("insure-${Stage}/knet-terminal"),
                "Description": "KNET terminal: JSON with tranportal_id, password and resource_key from the bank",
                "SecretString": json.dumps({"tranportal_id": "", "password": "", "resource_key": ""}),
            },
        },
        # The key of the providers' HMACs: a civil ID a provider looked up that names nobody is logged
        # only as its HMAC (a 12-digit number's plain hash is searched in seconds).
        "ProvidersHmacSecret": _random_secret("providers-hmac", "HMAC key of civil IDs in the provider lookup log"),
        # Wallet passes (chalicelib/wallet/keys.py). Apple's pass type ID certificate and key, its WWDR G4
        # intermediate and the APNs auth key, and Google's Wallet issuer and service account key: operations
        # put Apple's and Google's values in (until then the wallets answer 503); make run puts a self-made chain.
        "AppleWalletSecret": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "Name": sub("insure-${Stage}/apple-wallet"),
                "Description": "Apple Wallet: JSON with pass_type_id, team_id, certificate, private_key, "
                               "wwdr_certificate (PEM) and apns_key_id, apns_private_key (.p8)",
                "SecretString": json.dumps({"pass_type_id": "", "team_id": "", "certificate": "", "private_key": "",
                                            "wwdr_certificate": "", "apns_key_id": "", "apns_private_key": ""}),
            },
        },
        "GoogleWalletSecret": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "Name": sub("insure-${Stage}/google-wallet"),
                "Description": "Google Wallet: JSON with issuer_id and the service account's client_email, "
                               "private_key_id and private_key",
                "SecretString": json.dumps({"issuer_id": "", "client_email": "", "private_key_id": "",
                                            "private_key": ""}),
            },
        },
        # Each pass's authenticationToken is an HMAC of its serial with this (nothing stored per pass).
        "WalletPassAuthSecret": _random_secret("wallet-pass-auth", "HMAC key of Apple Wallet passes' tokens"),
        # The access-token signing key is derived from this random value (see platform/signing_keys.py);
        # rotating the secret rotates the key, and AWSPREVIOUS keeps verifying until its tokens expire.
        "JwtSigningSecret": _random_secret("jwt-signing", "Seed of the Ed25519 key that signs access tokens"),
    }

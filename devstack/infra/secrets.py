"""Secrets Manager secrets: random values from which keys are derived, rotatable."""

from __future__ import annotations

import json

from devstack.infra import sub


def resources() -> dict:
    resources: dict = {}
    # The access-token signing key is derived from this random value (see adapters/signing_keys.py);
    # rotating the secret rotates the key, and AWSPREVIOUS keeps verifying until its tokens expire.
    # The HMAC key of payment-gateway callbacks (the sandbox signs with it; see adapters/payment_secrets.py).
    resources["PaymentCallbackSecret"] = {
        "Type": "AWS::SecretsManager::Secret",
        "Properties": {
            "Name": sub("insure-${Stage}/payment-callback"),
            "Description": "HMAC-SHA256 key of the payment gateway's signed callbacks",
            "GenerateSecretString": {"PasswordLength": 64, "ExcludePunctuation": True},
        },
    }
    # The server key of the accounts area's HMACs: SMS codes are hashed with it (a leaked tokens
    # table alone can't be searched for the 10^6 codes) and a rotated refresh token's successor is
    # derived with it (a retry within the grace period gets the same successor). AWSPREVIOUS keeps
    # verifying after a rotation.
    resources["AccountsHmacSecret"] = {
        "Type": "AWS::SecretsManager::Secret",
        "Properties": {
            "Name": sub("insure-${Stage}/accounts-hmac"),
            "Description": "HMAC key of SMS codes and refresh-token successors",
            "GenerateSecretString": {"PasswordLength": 64, "ExcludePunctuation": True},
        },
    }
    # Seed of the Ed25519 key that signs card QR codes (adapters/card_keys.py): separate from the
    # token key, so each rotates alone; AWSPREVIOUS keeps old cards and their screenshots verifying.
    resources["CardSigningSecret"] = {
        "Type": "AWS::SecretsManager::Secret",
        "Properties": {
            "Name": sub("insure-${Stage}/card-signing"),
            "Description": "Seed of the Ed25519 key that signs e-card QR codes",
            "GenerateSecretString": {"PasswordLength": 64, "ExcludePunctuation": True},
        },
    }
    # The KNET terminal of prod; operations put the bank's values in it before the first payment.
    resources["KnetTerminalSecret"] = {
        "Type": "AWS::SecretsManager::Secret",
        "Condition": "IsProd",
        "Properties": {
            "Name": sub("insure-${Stage}/knet-terminal"),
            "Description": "KNET terminal: JSON with tranportal_id, password and resource_key from the bank",
            "SecretString": json.dumps({"tranportal_id": "", "password": "", "resource_key": ""}),
        },
    }
    resources["JwtSigningSecret"] = {
        "Type": "AWS::SecretsManager::Secret",
        "Properties": {
            "Name": sub("insure-${Stage}/jwt-signing"),
            "Description": "Seed of the Ed25519 key that signs access tokens",
            "GenerateSecretString": {"PasswordLength": 64, "ExcludePunctuation": True},
        },
    }
    # API Gateway answers some requests itself (bad or missing token, unknown path, its own
    # failures): these give them the same error envelope as the app's own answers.
    return resources

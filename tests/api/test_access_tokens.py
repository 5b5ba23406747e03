"""The authorizer accepts only our unexpired EdDSA tokens, without touching the database."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from devstack.counting import count_aws_calls
from tests.support import NEW_PASSWORD


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def me(api, token):
    return api.get("/v1/me", token=token)


def test_a_valid_token_opens_protected_routes_and_a_missing_one_does_not(api, resident):
    assert me(api, resident["tokens"]["access_token"]).status == 200
    assert api.get("/v1/me").status in (401, 403)


def test_an_expired_token_is_refused_at_use(api, clock, resident):
    token = resident["tokens"]["access_token"]
    clock.shift(timedelta(minutes=9))
    assert me(api, token).status == 200
    clock.shift(timedelta(minutes=1, seconds=1))  # 10 minutes: the authorizer's cache adds at most 5
    assert me(api, token).status in (401, 403)


@pytest.mark.parametrize("forge", ["tampered", "unsigned", "wrong_key", "hmac_with_public_key", "other_audience"])
def test_forged_tokens_are_refused(api, resident, forge):
    token = resident["tokens"]["access_token"]
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(token)["kid"]
    if forge == "tampered":
        forged = f"{header}.{b64({**claims, 'sub': 'someone-else'})}.{signature}"
    elif forge == "unsigned":
        forged = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{payload}."
    elif forge == "wrong_key":
        forged = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": kid})
    elif forge == "hmac_with_public_key":
        from chalicelib.accounts.jwt_tokens import jwt_keys

        public_jwk = jwt_keys().current().public_jwk()["x"].encode()  # public: an attacker has it
        forged = jwt.encode(claims, public_jwk, algorithm="HS256", headers={"kid": kid})
    else:
        forged = jwt.encode({**claims, "aud": "another-app"}, _signing_key(), algorithm="EdDSA", headers={"kid": kid})
    assert me(api, forged).status in (401, 403)


def _signing_key():
    from chalicelib.accounts.jwt_tokens import jwt_keys

    return jwt_keys().current().private


def test_tokens_signed_before_a_key_rotation_verify_until_they_expire(api, resident):
    import boto3

    from chalicelib.accounts.jwt_tokens import jwt_keys
    from chalicelib.settings import get_settings

    old_token = resident["tokens"]["access_token"]
    secret_id = f"{get_settings().secrets_prefix}jwt-signing"
    boto3.client("secretsmanager").put_secret_value(SecretId=secret_id, SecretString="rotated-" + "x" * 56)
    jwt_keys().forget()

    new_token = api.login(resident["civil_id"], NEW_PASSWORD).body["access_token"]
    assert jwt.get_unverified_header(new_token)["kid"] != jwt.get_unverified_header(old_token)["kid"]
    assert me(api, old_token).status == 200
    assert me(api, new_token).status == 200


def test_login_refresh_and_authorized_requests_stay_within_their_dynamodb_budget(api, resident):
    with count_aws_calls() as calls:
        tokens = api.login(resident["civil_id"], NEW_PASSWORD).body
    # Reserve the password check (2 conditional writes: this name's window is already open from the
    # fixture's sign-in), read the name and the account, store the session, give the check back.
    assert calls.of("dynamodb") <= 6

    with count_aws_calls() as calls:
        api.post("/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert calls.of("dynamodb") <= 2

    with count_aws_calls() as calls:
        assert api.get("/v1/auth/sessions", token=tokens["access_token"]).status == 200
    # The authorizer itself reads nothing; the sessions listing is one query.
    assert calls.of("dynamodb") == 1

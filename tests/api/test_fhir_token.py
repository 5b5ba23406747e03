"""POST /oauth2/token: OAuth 2.0 client credentials with HTTP Basic client authentication (RFC 6749 4.4, 2.3.1)."""

from __future__ import annotations

import base64
from datetime import timedelta

import jwt
import pytest

from tests.api.fhir_support import ask_token, basic, call, new_provider

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def credentials(aws, clock):
    return new_provider()


def test_client_credentials_get_a_ten_minute_coverage_read_bearer_token_never_cached(client, credentials):
    reply = ask_token(client, *credentials)

    assert reply.status == 200, reply.body
    assert reply.body["token_type"] == "Bearer" and reply.body["expires_in"] == 600
    assert reply.body["scope"] == "coverage.read"
    assert reply.headers["Cache-Control"] == "no-store" and reply.headers["Pragma"] == "no-cache"
    header = jwt.get_unverified_header(reply.body["access_token"])
    claims = jwt.decode(reply.body["access_token"], options={"verify_signature": False})
    assert header["typ"] == "at+jwt" and header["alg"] == "EdDSA"
    assert claims["token_use"] == "provider" and claims["aud"].endswith("/fhir") and "sid" not in claims
    assert claims["sub"] == credentials[0] and claims["exp"] - claims["iat"] == 600


@pytest.mark.parametrize("authorization", [
    "wrong secret", "unknown client", "no header", "bearer", "not base64", "no colon",
])
def test_bad_client_authentication_is_401_invalid_client_with_www_authenticate(client, credentials, authorization):
    client_id, secret = credentials
    header = {
        "wrong secret": basic(client_id, secret + "x"),
        "unknown client": basic("prv-0123456789abcdef", secret),
        "no header": None,
        "bearer": f"Bearer {secret}",
        "not base64": "Basic %%%",
        "no colon": "Basic " + base64.b64encode(client_id.encode()).decode(),
    }[authorization]
    headers = {"Content-Type": FORM, **({"Authorization": header} if header else {})}

    reply = call(client, "POST", "/oauth2/token", raw="grant_type=client_credentials", headers=headers)

    assert reply.status == 401
    assert reply.body["error"] == "invalid_client"
    assert reply.headers["WWW-Authenticate"].startswith("Basic")
    assert reply.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(("form", "error"), [
    ("", "invalid_request"),
    ("grant_type=password&username=a&password=b", "unsupported_grant_type"),
    ("grant_type=authorization_code&code=x", "unsupported_grant_type"),
    ("grant_type=client_credentials&scope=coverage.write", "invalid_scope"),
    ("grant_type=client_credentials&grant_type=client_credentials", "invalid_request"),
    ("grant_type=client_credentials&client_secret=x", "invalid_request"),
    ("grant_type=client_credentials&client_id=someone-else", "invalid_request"),
    ("grant_type=client_credentials&x=" + "a" * 5000, "invalid_request"),
    ("%ff%fe=1", "invalid_request"),
])
def test_malformed_requests_are_400_with_the_rfc_6749_error(client, credentials, form, error):
    reply = ask_token(client, *credentials, form=form)

    assert reply.status == 400, reply.body
    assert reply.body["error"] == error and reply.body["error_description"]


def test_a_json_body_is_not_a_token_request(client, credentials):
    reply = call(client, "POST", "/oauth2/token", body={"grant_type": "client_credentials"},
                 headers={"Content-Type": "application/json", "Authorization": basic(*credentials)})

    assert reply.status == 415


def test_failures_are_throttled_and_forgiven_but_the_right_secret_is_never_locked_out(client, credentials, clock):
    client_id, secret = credentials
    for _ in range(10):
        assert ask_token(client, client_id, "guess-" + secret[:8]).status == 401

    throttled = ask_token(client, client_id, "guess-" + secret[:8])
    right = ask_token(client, client_id, secret)

    assert throttled.status == 429 and throttled.body["error"] == "temporarily_unavailable"
    assert 0 < int(throttled.headers["Retry-After"]) <= 900
    assert right.status == 200 and right.body["token_type"] == "Bearer"
    clock.shift(timedelta(minutes=15))
    assert ask_token(client, client_id, "guess-" + secret[:8]).status == 401


def test_a_rotated_secret_ends_the_old_secret_and_its_tokens(client, credentials):
    from chalicelib.providers.use_cases import rotate_provider_secret
    from chalicelib.providers.wiring import provider_deps
    from tests.api.fhir_support import provider_token, search
    from tests.log_audit import remember

    client_id, old = credentials
    token = provider_token(client, client_id, old)
    _, new = rotate_provider_secret(provider_deps(), client_id)
    remember("provider secret", new)

    assert ask_token(client, client_id, old).status == 401
    assert search(client, token, "287070201212").status == 401
    assert search(client, provider_token(client, client_id, new), "287070201212").status == 200

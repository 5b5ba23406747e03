"""The deployed API Gateway's own answers (resources.json) match what `make run` answers, envelope and all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chalice.local import ForbiddenError, NotAuthorizedError

from devstack.local_gateway import gateway_error

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def responses() -> dict:
    committed = json.loads((ROOT / "resources.json").read_text(encoding="utf-8"))
    return committed["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]


def answered(response: dict) -> dict:
    """The body a client receives: API Gateway substitutes $context variables into the template."""
    text = response["responseTemplates"]["application/json"].replace("$context.requestId", "req-1")
    return json.loads(text)["error"]


# chalice.local's refusal, and the gateway response type API Gateway uses for the same case.
SAME_CASE = {
    "UNAUTHORIZED": NotAuthorizedError({}, b""),
    "ACCESS_DENIED": ForbiddenError({"x-amzn-ErrorType": "AccessDeniedException"}, b""),
    "MISSING_AUTHENTICATION_TOKEN": ForbiddenError({"x-amzn-ErrorType": "UnauthorizedException"}, b""),
}


@pytest.mark.parametrize("response_type", SAME_CASE)
def test_the_gateway_answers_as_make_run_does(responses, response_type):
    local = gateway_error(SAME_CASE[response_type])
    deployed = responses[response_type]

    assert int(deployed["statusCode"]) == local.status
    error = answered(deployed)
    assert error["code"] == local.code
    # Gateway responses cannot read Accept-Language: both languages, English first.
    assert error["message"] == f"{local.text.en} / {local.text.ar}"
    assert error["request_id"] == "req-1"


@pytest.mark.parametrize("response_type", ["UNAUTHORIZED", "ACCESS_DENIED", "EXPIRED_TOKEN"])
def test_a_missing_denied_or_expired_token_is_401_with_a_bearer_challenge(responses, response_type):
    deployed = responses[response_type]

    assert deployed["statusCode"] == "401"
    assert answered(deployed)["code"] == "UNAUTHORIZED"
    assert deployed["responseParameters"]["gatewayresponse.header.WWW-Authenticate"] == "'Bearer'"


def test_every_gateway_answer_is_the_json_envelope(responses):
    for name, response in responses.items():
        error = answered(response)

        assert set(error) == {"code", "message", "request_id"}, name
        assert error["code"].isupper(), name
        assert response["responseParameters"]["gatewayresponse.header.Content-Type"] == "'application/json'", name


def test_unsupported_media_type_and_too_large_keep_their_status_with_their_own_code(responses):
    assert (responses["UNSUPPORTED_MEDIA_TYPE"]["statusCode"], answered(responses["UNSUPPORTED_MEDIA_TYPE"])["code"]) \
        == ("415", "UNSUPPORTED_MEDIA_TYPE")
    assert (responses["REQUEST_TOO_LARGE"]["statusCode"], answered(responses["REQUEST_TOO_LARGE"])["code"]) \
        == ("413", "PAYLOAD_TOO_LARGE")

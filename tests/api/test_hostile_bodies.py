"""Hostile input at the edge: whatever the body, query, path or header, the answer is never a 500.

A malformed body is 400 INVALID_JSON on every route that reads JSON; a body of the wrong shape
is a 422 naming the field. The bodies here are what an attacker (or a broken client) sends.
"""

from __future__ import annotations

import json

import pytest

from tests.api.premium_support import application_body, make_payer

# Every route that reads a JSON body; {id} parts need not exist, the body is read first.
JSON_ROUTES = [
    "/v1/auth/register", "/v1/auth/register/verify", "/v1/auth/register/resend", "/v1/auth/login",
    "/v1/auth/challenge", "/v1/auth/refresh", "/v1/auth/password/forgot", "/v1/auth/password/reset",
    "/v1/auth/password/change", "/v1/verify", "/v1/applications", "/v1/applications/app-x/confirm",
    "/v1/applications/app-x/pay", "/v1/payments/pay-x/refund",
]
FIELDS = ["username", "password", "registration_id", "code", "refresh_token", "token", "new_password",
          "challenge_token", "current_password", "payload", "insured_name", "reason"]


def _object_with(value: str) -> str:
    """A JSON object whose every field a route reads holds the same raw JSON value."""
    return "{" + ", ".join(f'"{name}": {value}' for name in FIELDS) + "}"


HOSTILE = {
    "objects nested 1,000 deep": '{"a": ' * 1000 + "1" + "}" * 1000,
    "arrays nested 1,000 deep": '{"username": ' + "[" * 1000 + "]" * 1000 + "}",
    "objects nested 100,000 deep": '{"a": ' * 100_000 + "1" + "}" * 100_000,
    "a lone high surrogate in every value": _object_with('"\\ud800"'),
    "a lone low surrogate inside text": _object_with('"abc\\udfffdef"'),
    "a lone surrogate as a key": '{"\\ud800": "x", "username": "a", "password": "b"}',
    "NaN": _object_with("NaN"),
    "Infinity": _object_with("-Infinity"),
    "a float beyond double range": _object_with("1e999"),
    "an integer beyond 2^53": _object_with("123456789012345678901234567890"),
    "an integer of 5,000 digits": _object_with("9" * 5000),
    "duplicate keys": '{"username": "a", "password": "b", "username": "c"}',
    "bytes that are not UTF-8": b'{"username": "\xff\xfe", "password": "\xc3"}',
    "UTF-16": '{"username": "a"}'.encode("utf-16"),
    "a byte order mark": b'\xef\xbb\xbf{"username": "a"}',
    "not JSON at all": "{username: a}",
    "a string instead of an object": '"username"',
    "an array instead of an object": '[{"username": "a"}]',
    "null": "null",
}


@pytest.fixture
def signed_in(api):
    return {"Authorization": f"Bearer {make_payer(api).token}", "Idempotency-Key": "key-1"}


def raw_post(client, path: str, body: str | bytes, headers: dict) -> tuple[int, dict]:
    response = client.http.post(path, body=body, headers={"Content-Type": "application/json", **headers})
    return response.status_code, json.loads(response.body)


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_malformed_body_is_400_invalid_json_on_every_json_route(client, signed_in, body):
    answers = {path: raw_post(client, path, body, signed_in) for path in JSON_ROUTES}

    assert {path: (status, answer["error"]["code"]) for path, (status, answer) in answers.items()} == {
        path: (400, "INVALID_JSON") for path in JSON_ROUTES}


def test_invalid_json_is_explained_in_the_callers_language(client, signed_in):
    status, answer = raw_post(client, "/v1/auth/login", '{"password": "\\ud800"}', {"Accept-Language": "ar"})

    assert status == 400
    assert answer["error"] == {"code": "INVALID_JSON", "message": "محتوى الطلب ليس JSON صالحًا."}


def test_a_surrogate_pair_is_text_and_still_reaches_the_rules(client):
    # An escaped emoji is two surrogates that make one character: valid text, so the login rules answer.
    status, answer = raw_post(client, "/v1/auth/login", '{"username": "\\ud83d\\ude00", "password": "x"}', {})

    assert status == 401
    assert answer["error"]["code"] != "INVALID_JSON"


def test_a_little_nesting_is_still_a_body_the_rules_judge(client, signed_in):
    status, answer = raw_post(client, "/v1/auth/login", json.dumps({"username": {"a": [{"b": [1]}]}}), {})

    assert status == 422
    assert answer["error"]["fields"]["username"]["rule"] == "required"


@pytest.mark.parametrize("wrong", [12, 1.5, True, {"x": [1]}, ["a"]], ids=["number", "float", "bool", "object", "list"])
def test_an_application_field_of_the_wrong_type_is_422_naming_it(client, signed_in, wrong):
    for field in ("insured_name", "sponsor_name", "insured_civil_id", "category", "kind", "passport_expiry"):
        status, answer = raw_post(client, "/v1/applications", json.dumps(application_body(**{field: wrong})),
                                  signed_in)

        assert status == 422, (field, answer)
        assert answer["error"]["fields"][field]["rule"] == "type"


def test_a_huge_password_is_a_failed_login_not_a_crash(client):
    status, answer = raw_post(client, "/v1/auth/login",
                              json.dumps({"username": "nobody@example.com", "password": "p" * 1_000_000}), {})
    _, usual = raw_post(client, "/v1/auth/login", json.dumps({"username": "nobody@example.com", "password": "p"}), {})

    assert status == 401
    assert answer["error"]["code"] == usual["error"]["code"]


def _event(method: str, path: str, resource: str, *, query: dict | None = None, headers: dict | None = None,
           params: dict | None = None) -> dict:
    """The API Gateway proxy event Lambda receives: JSON, so it may carry "\\ud800" that no HTTP request can."""
    headers = {"content-type": "application/json", **(headers or {})}
    return {
        "resource": resource, "path": path, "httpMethod": method, "body": "{}" if method == "POST" else None,
        "isBase64Encoded": False, "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "queryStringParameters": query, "pathParameters": params, "stageVariables": None,
        "requestContext": {"resourcePath": resource, "httpMethod": method, "path": path, "requestId": "req-1",
                           "identity": {"sourceIp": "192.0.2.1"},
                           # What API Gateway passes on after our authorizer allowed the token.
                           "authorizer": {"account_id": "acct-x", "session_id": "sess-x", "lang": "en",
                                          "principalId": "acct-x"}},
    }


class _Context:
    aws_request_id = "req-1"
    function_name = "insure-dev"


SURROGATE_EVENTS = {
    "query": lambda: _event("GET", "/activate", "/activate", query={"token": "abc\ud800"}),
    "path": lambda: _event("GET", "/v1/applications/app-\udc80", "/v1/applications/{application_id}",
                           params={"application_id": "app-\udc80"}),
    "header": lambda: _event("POST", "/v1/applications/app-x/pay", "/v1/applications/{application_id}/pay",
                             params={"application_id": "app-x"}, headers={"idempotency-key": "key-\ud800"}),
}


def test_a_lone_surrogate_in_a_lambda_events_body_text_is_400_invalid_json(app):
    event = _event("POST", "/v1/verify", "/v1/verify")
    event["body"] = '{"payload": "EC1:\ud800"}'  # the character itself, not the JSON escape

    response = app(event, _Context())

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["code"] == "INVALID_JSON"


@pytest.mark.parametrize("where", SURROGATE_EVENTS)
def test_a_lone_surrogate_in_a_query_path_or_header_is_refused_before_any_view_reads_it(app, where):
    response = app(SURROGATE_EVENTS[where](), _Context())

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["code"] == "INVALID_PARAMETER"

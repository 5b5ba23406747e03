"""The contract document describes every route the app serves, and is valid OpenAPI."""

from __future__ import annotations

import json

from openapi_spec_validator import validate


def test_the_openapi_document_is_served_and_valid(client):
    response = client.http.get("/v1/openapi.json")

    assert response.status_code == 200
    validate(json.loads(response.body))


def test_every_route_and_method_is_in_the_openapi_document(app, client):
    document = json.loads(client.http.get("/v1/openapi.json").body)
    served = {(path, method.lower()) for path, methods in app.routes.items() for method in methods}
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops
                  if method in {"get", "post", "put", "patch", "delete"}}

    assert served - documented == set(), "routes missing from chalicelib/openapi.json"
    assert documented - served == set(), "documented routes that the app does not serve"


def operations(document: dict):
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            yield f"{method.upper()} {path}", op


def test_every_body_names_its_required_fields(client):
    document = json.loads(client.http.get("/v1/openapi.json").body)
    # Bodies with nothing required: forgot password answers 202 to anything, pay reads only its header,
    # the payment gateway's callback is the gateway's own format, and a renewal is prefilled (it may
    # only change the passport's expiry or the years).
    optional = {"POST /v1/auth/password/forgot", "POST /v1/applications/{application_id}/pay",
                "POST /v1/payments/callback", "POST /v1/policies/{policy_id}/renew"}
    missing = []
    for name, op in operations(document):
        if "requestBody" in op and name not in optional:
            schema = next(iter(op["requestBody"]["content"].values()))["schema"]
            if not schema.get("required") or not set(schema["required"]) <= set(schema["properties"]):
                missing.append(name)

    assert missing == []


def test_every_operation_documents_what_the_edge_can_answer(client):
    document = json.loads(client.http.get("/v1/openapi.json").body)
    for name, op in operations(document):
        statuses = set(op["responses"])

        assert {"400", "500"} <= statuses, name  # INVALID_JSON / INVALID_PARAMETER, INTERNAL
        if "requestBody" in op:
            assert "415" in statuses, name
        if op.get("security"):
            assert "401" in statuses, name


def test_the_pages_answer_their_own_errors_as_html(client):
    document = json.loads(client.http.get("/v1/openapi.json").body)
    responses = document["components"]["responses"]
    for path in ("/activate", "/reset-password"):
        for method, op in document["paths"][path].items():
            assert list(op["responses"]["200"]["content"]) == ["text/html"], (method, path)
            for status in ("404", "410"):
                page = responses[op["responses"][status]["$ref"].rsplit("/", 1)[-1]]
                assert list(page["content"]) == ["text/html"], (method, path, status)

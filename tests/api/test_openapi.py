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

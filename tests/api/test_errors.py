"""The error envelope of PRODUCT.md, for every kind of failure a view can have."""

from __future__ import annotations

import json

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib.errors import FieldErrors, NotFound
from chalicelib.platform.http import ApiBlueprint, json_body, json_response
from chalicelib.platform.middleware import request_log

probe = ApiBlueprint(__name__)


@probe.route("/probe/validate", methods=["POST"])
def validate():
    body = json_body(probe.current_request)
    problems = FieldErrors()
    if not str(body.get("civil_id", "")).isdigit():
        problems.add("civil_id", "digits", "Use digits only.", "استخدم الأرقام فقط.")
    problems.raise_if_any()
    return json_response({"ok": True})


@probe.route("/probe/missing", methods=["GET"])
def missing():
    raise NotFound()


@probe.route("/probe/crash", methods=["GET"])
def crash():
    raise RuntimeError("database password is hunter2")


probe_app = Chalice(app_name="probe")
probe_app.register_middleware(request_log, "http")
probe_app.register_blueprint(probe)


@pytest.fixture
def probe_client():
    with Client(probe_app) as client:
        yield client


def post(client, path, body, **headers):
    return client.http.post(path, body=body, headers={"Content-Type": "application/json", **headers})


def test_a_validation_error_names_the_field_and_rule_in_english_by_default(probe_client):
    response = post(probe_client, "/probe/validate", json.dumps({"civil_id": "12ab"}))

    assert response.status_code == 422
    error = json.loads(response.body)["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert error["fields"]["civil_id"] == {"rule": "digits", "message": "Use digits only."}


def test_accept_language_ar_gives_arabic_messages(probe_client):
    response = post(probe_client, "/probe/validate", json.dumps({"civil_id": "x"}),
                    **{"Accept-Language": "ar-KW,ar;q=0.9,en;q=0.5"})

    error = json.loads(response.body)["error"]
    assert error["fields"]["civil_id"]["message"] == "استخدم الأرقام فقط."
    assert error["message"].startswith("بعض الحقول")
    assert response.headers["Content-Language"] == "ar"


def test_a_body_that_is_not_json_is_a_bad_request_not_a_crash(probe_client):
    response = post(probe_client, "/probe/validate", "{not json")

    assert response.status_code == 400
    assert json.loads(response.body)["error"]["code"] == "INVALID_JSON"


def test_a_domain_error_keeps_its_status_and_code(probe_client):
    response = probe_client.http.get("/probe/missing")

    assert response.status_code == 404
    assert json.loads(response.body)["error"]["code"] == "NOT_FOUND"


def test_an_unexpected_exception_answers_500_with_a_request_id_and_no_details(probe_client, capsys):
    response = probe_client.http.get("/probe/crash")

    assert response.status_code == 500
    error = json.loads(response.body)["error"]
    assert error["code"] == "INTERNAL"
    assert error["request_id"] == response.headers["X-Request-Id"]
    assert "hunter2" not in response.body.decode()
    assert "Traceback" not in response.body.decode()
    # The traceback goes to the log, tagged with the same request id.
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    crash_line = next(line for line in logged if line["event"] == "unhandled_exception")
    assert crash_line["request_id"] == error["request_id"]


def test_a_method_the_route_does_not_take_is_405_in_the_envelope_with_allow(probe_client):
    response = probe_client.http.delete("/probe/missing", headers={"Accept-Language": "ar"})

    assert response.status_code == 405
    error = json.loads(response.body)["error"]
    assert error == {"code": "METHOD_NOT_ALLOWED", "message": "هذا العنوان لا يقبل هذه الطريقة."}
    assert response.headers["Allow"] == "GET"
    assert response.headers["Content-Language"] == "ar"


def test_a_body_type_the_route_does_not_take_is_415_in_the_envelope(probe_client):
    response = probe_client.http.post("/probe/validate", body="civil_id=1", headers={"Content-Type": "text/csv"})

    assert response.status_code == 415
    error = json.loads(response.body)["error"]
    assert error["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "X-Request-Id" in response.headers

"""`make run`'s API server answers its own refusals in the error envelope, as the deployed gateway does.

The app is served by devstack.local_gateway on a free port in a thread, moto in-process, and
called over real HTTP: what a mobile app sees locally.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests

from tests.served import served

ARABIC_SIGN_IN = "يرجى تسجيل الدخول للمتابعة."


@pytest.fixture
def base_url(app) -> Iterator[str]:
    with served(app) as url:
        yield url


@pytest.fixture
def token_at():
    from chalicelib.accounts.jwt_tokens import issue_access_token
    from chalicelib.platform.clock import now

    def make(age: timedelta = timedelta(0)) -> str:
        return issue_access_token("acct-1", "sess-1", now() - age, "en")

    return make


def error_of(response: requests.Response) -> dict:
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()["error"]


def test_no_token_is_401_unauthorized_in_the_envelope(base_url):
    response = requests.get(f"{base_url}/v1/me", timeout=10)

    assert response.status_code == 401
    assert error_of(response) == {"code": "UNAUTHORIZED", "message": "Sign in to continue."}
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("authorization", ["Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer", ""])
def test_an_invalid_token_is_401_not_403(base_url, authorization):
    response = requests.get(f"{base_url}/v1/cards", headers={"Authorization": authorization}, timeout=10)

    assert response.status_code == 401
    assert error_of(response)["code"] == "UNAUTHORIZED"


def test_an_expired_token_is_401_so_the_app_refreshes(base_url, token_at):
    expired = token_at(timedelta(hours=2))

    response = requests.get(f"{base_url}/v1/me", headers={"Authorization": f"Bearer {expired}"}, timeout=10)

    assert response.status_code == 401
    assert error_of(response)["code"] == "UNAUTHORIZED"


def test_a_valid_token_still_gets_through(base_url, token_at):
    response = requests.get(f"{base_url}/v1/payments", headers={"Authorization": f"Bearer {token_at()}"},
                            timeout=10)

    assert response.status_code == 200
    assert response.json() == {"payments": []}


def test_the_401_speaks_the_callers_language(base_url):
    response = requests.get(f"{base_url}/v1/me", headers={"Accept-Language": "ar-KW,ar;q=0.9"}, timeout=10)

    assert response.status_code == 401
    assert error_of(response) == {"code": "UNAUTHORIZED", "message": ARABIC_SIGN_IN}
    assert response.headers["Content-Language"] == "ar"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer x"}], ids=["anonymous", "with a token"])
def test_an_unknown_path_is_404_not_found(base_url, headers):
    response = requests.get(f"{base_url}/v1/no-such-thing", headers={"Accept-Language": "ar", **headers}, timeout=10)

    assert response.status_code == 404
    assert error_of(response) == {"code": "NOT_FOUND", "message": "غير موجود."}


def test_a_wrong_method_is_405_in_the_envelope_with_allow(base_url):
    response = requests.delete(f"{base_url}/v1/health", timeout=10)

    assert response.status_code == 405
    assert error_of(response)["code"] == "METHOD_NOT_ALLOWED"
    assert response.headers["Allow"] == "GET"


def test_a_body_of_another_media_type_is_415_in_the_envelope(base_url):
    response = requests.post(f"{base_url}/v1/auth/login", data="username=a&password=b",
                             headers={"Content-Type": "text/plain", "Accept-Language": "ar"}, timeout=10)

    assert response.status_code == 415
    assert error_of(response)["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert response.headers["Content-Language"] == "ar"


def test_a_hostile_body_over_http_is_400_invalid_json(base_url):
    response = requests.post(f"{base_url}/v1/auth/login", data=b'{"username": "\\ud800", "password": "x"}',
                             headers={"Content-Type": "application/json"}, timeout=10)

    assert response.status_code == 400
    assert error_of(response)["code"] == "INVALID_JSON"

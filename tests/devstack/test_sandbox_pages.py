"""The sandbox's hosted page as `make run` serves it: open the payment_url, choose, and the app is called back."""

from __future__ import annotations

import http.client
import socket
import urllib.request
from urllib.parse import urlsplit

import pytest

from tests.api.premium_support import gateway, make_payer, post_callback


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def pages(api):
    from devstack.sandbox_pages import SandboxPages

    said: list[str] = []

    def deliver(callback) -> int:
        assert urlsplit(callback.url).path == "/v1/payments/callback"
        return post_callback(api, callback.body, dict(callback.headers)).status

    server = SandboxPages(gateway(), free_port(), say=said.append, deliver=deliver)
    server.start()
    server.said = said
    yield server
    server.stop()


def local(url: str, port: int) -> str:
    return urlsplit(url)._replace(netloc=f"127.0.0.1:{port}").geturl()


def submit(url: str, result: str) -> http.client.HTTPResponse:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("POST", parts.path, body=f"result={result}",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    return connection.getresponse()


@pytest.mark.parametrize(("choice", "status"), [("approved", "captured"), ("declined", "declined"),
                                                ("timeout", "pending")])
def test_a_person_pays_on_the_sandbox_page_and_the_app_hears_the_signed_result(api, clock, pages, choice, status):
    payer = make_payer(api)
    payment = payer.started_payment()
    url = local(payment["payment_url"], pages.port)

    with urllib.request.urlopen(url, timeout=10) as page:
        html = page.read().decode()
        assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "50.000 KWD" in html and 'value="approved"' in html and 'value="timeout"' in html

    answer = submit(url, choice)

    assert answer.status == 303
    # To the return URL (under `make run`, the page server's own /sandbox/done).
    assert answer.headers["Location"].endswith(f"?payment_id={payment['payment_id']}")
    assert payer.call("GET", f"/v1/payments/{payment['payment_id']}").body["status"] == status
    assert pages.said == [f"[sandbox] payment {payment['payment_id']}: {choice}; "
                          + ("no callback (timeout)" if choice == "timeout" else "callback answered 200")]
    done_url = f"http://127.0.0.1:{pages.port}/sandbox/done?payment_id={payment['payment_id']}"
    with urllib.request.urlopen(done_url, timeout=10) as done:
        text = done.read().decode()
    assert ("reconciliation" in text) if choice == "timeout" else ("HTTP 200" in text)


def test_an_unknown_session_is_not_found(pages):
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"http://127.0.0.1:{pages.port}/sandbox/pay/sbx_nothing", timeout=10)
    assert caught.value.code == 404


def test_the_local_environment_points_the_app_at_the_sandbox_pages(tmp_path, monkeypatch):
    from devstack.stack import local_environment

    monkeypatch.delenv("SANDBOX_PORT", raising=False)
    env = local_environment(5000, 8000, tmp_path / "outbox")

    assert env["PAYMENT_GATEWAY"] == "sandbox"
    assert env["SANDBOX_PAGE_URL"] == "http://127.0.0.1:8001/sandbox/pay"
    assert env["PAYMENT_RETURN_URL"] == "http://127.0.0.1:8001/sandbox/done"
    assert env["SANDBOX_DIR"] == str(tmp_path / "sandbox")

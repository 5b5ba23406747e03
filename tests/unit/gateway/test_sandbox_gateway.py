"""The sandbox gateway: its page, its signed callbacks, queries and refunds."""

from __future__ import annotations

import json
import re
from itertools import count
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.premiums.gateway import CallbackRejected, GatewayRefundStatus, GatewayStatus, PaymentGatewayPort
from chalicelib.premiums.gateway.sandbox import (
    PAGE_HEADERS,
    FileSandboxStore,
    InMemorySandboxStore,
    SandboxGateway,
)
from chalicelib.premiums.gateway.signing import SIGNATURE_HEADER, SignatureError

SECRET = b"sandbox-secret"
PAGE_BASE = "http://127.0.0.1:8000/sandbox/pay"
RETURN_URL = "http://127.0.0.1:8000/v1/payments/return"
CALLBACK_URL = "http://127.0.0.1:8000/v1/payments/callback"


class Clock:
    def __init__(self, now: float = 1_772_355_600.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> InMemorySandboxStore:
    return InMemorySandboxStore()


@pytest.fixture
def gateway(clock, store) -> SandboxGateway:
    numbers = count(1)
    return SandboxGateway(
        SECRET, PAGE_BASE, store=store, clock=clock, new_id=lambda prefix: f"{prefix}_{next(numbers)}"
    )


def start(gateway: SandboxGateway, payment_id: str = "pay01", amount: int = 50_000, lang: str = "en"):
    return gateway.create_session(payment_id, amount, "KWD", RETURN_URL, CALLBACK_URL, lang)


def test_the_sandbox_is_a_payment_gateway():
    gateway: PaymentGatewayPort = SandboxGateway(SECRET, PAGE_BASE)
    assert gateway.name == "sandbox"


def test_a_session_points_the_person_at_the_sandbox_page(gateway):
    session = start(gateway)
    assert session.gateway_ref == "sbx_1"
    assert session.payment_url == f"{PAGE_BASE}/sbx_1"


def test_the_page_is_bilingual_has_no_script_and_posts_one_of_three_results(gateway):
    html = gateway.page(start(gateway, lang="ar").gateway_ref)
    assert '<html lang="ar" dir="rtl">' in html
    assert "50.000 KWD" in html and "50.000 د.ك" in html
    assert "Sandbox payment" in html and "دفع تجريبي" in html
    assert "<script" not in html.lower() and "onclick" not in html.lower()
    assert f'<form method="post" action="{PAGE_BASE}/sbx_1">' in html
    values = re.findall(r'<button type="submit" name="result" value="(\w+)"', html)
    assert values == ["approved", "declined", "timeout"]


def test_the_page_escapes_what_it_shows(gateway):
    html = gateway.page(start(gateway, payment_id="<b>x</b>").gateway_ref)
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_the_page_headers_forbid_scripts_and_caching():
    assert "default-src 'none'" in PAGE_HEADERS["Content-Security-Policy"]
    assert PAGE_HEADERS["Cache-Control"] == "no-store"


def test_approving_redirects_the_person_and_sends_a_signed_captured_callback(gateway):
    ref = start(gateway).gateway_ref
    outcome = gateway.complete(ref, {"result": "approved"})
    assert parse_qs(urlsplit(outcome.redirect_url).query) == {"payment_id": ["pay01"]}
    callback = outcome.callback
    assert callback is not None and callback.url == CALLBACK_URL
    assert SIGNATURE_HEADER in callback.headers
    result = gateway.parse_callback(callback.body, callback.headers)
    assert (result.status, result.payment_id, result.gateway_ref) == (GatewayStatus.CAPTURED, "pay01", ref)
    assert result.amount_fils == 50_000 and result.confirmed
    assert result.transaction_id == "sbt_2"


def test_declining_sends_a_declined_callback(gateway):
    outcome = gateway.complete(start(gateway).gateway_ref, {"result": "declined"})
    assert outcome.callback is not None
    result = gateway.parse_callback(outcome.callback.body, outcome.callback.headers)
    assert result.status is GatewayStatus.DECLINED
    assert result.transaction_id is None


def test_a_timeout_sends_no_callback_and_reconciliation_finds_the_payment_captured(gateway):
    ref = start(gateway).gateway_ref
    outcome = gateway.complete(ref, {"result": "timeout"})
    assert outcome.callback is None
    assert outcome.redirect_url.startswith(RETURN_URL)
    result = gateway.query("pay01", None, 50_000)
    assert (result.status, result.gateway_ref, result.confirmed) == (GatewayStatus.CAPTURED, ref, True)


def test_a_timeout_can_be_set_to_end_declined(clock, store):
    gateway = SandboxGateway(
        SECRET, PAGE_BASE, store=store, clock=clock, timeout_outcome=GatewayStatus.DECLINED
    )
    ref = start(gateway).gateway_ref
    gateway.complete(ref, {"result": "timeout"})
    assert gateway.query("pay01", ref, 50_000).status is GatewayStatus.DECLINED


def test_a_payment_still_on_the_page_is_pending_and_an_unknown_one_not_found(gateway):
    ref = start(gateway).gateway_ref
    assert gateway.query("pay01", ref, 50_000).status is GatewayStatus.PENDING
    assert gateway.query("nope", None, 50_000).status is GatewayStatus.NOT_FOUND
    assert gateway.query("other", ref, 50_000).status is GatewayStatus.NOT_FOUND


def test_submitting_the_page_twice_changes_nothing(gateway):
    ref = start(gateway).gateway_ref
    gateway.complete(ref, {"result": "approved"})
    again = gateway.complete(ref, {"result": "declined"})
    assert again.callback is None
    assert gateway.query("pay01", ref, 50_000).status is GatewayStatus.CAPTURED
    assert "already complete" in gateway.page(ref)


@pytest.mark.parametrize("form", [{}, {"result": "maybe"}, {"result": "APPROVED"}])
def test_a_form_without_a_known_result_is_refused(gateway, form):
    with pytest.raises(ValueError):
        gateway.complete(start(gateway).gateway_ref, form)


def test_an_unknown_session_has_no_page(gateway):
    with pytest.raises(KeyError):
        gateway.page("sbx_404")


def test_a_replayed_callback_verifies_while_fresh_so_the_app_must_make_it_idempotent(gateway, clock):
    ref = start(gateway).gateway_ref
    callback = gateway.complete(ref, {"result": "approved"}).callback
    assert callback is not None
    first = gateway.parse_callback(callback.body, callback.headers)
    clock.now += 60
    assert gateway.parse_callback(callback.body, callback.headers) == first


def test_a_callback_replayed_after_the_tolerance_is_rejected(gateway, clock):
    callback = gateway.complete(start(gateway).gateway_ref, {"result": "approved"}).callback
    assert callback is not None
    clock.now += 301
    with pytest.raises(SignatureError):
        gateway.parse_callback(callback.body, callback.headers)


def test_a_forged_callback_is_rejected(gateway):
    callback = gateway.complete(start(gateway).gateway_ref, {"result": "declined"}).callback
    assert callback is not None
    forged = callback.body.replace(b'"declined"', b'"captured"')
    with pytest.raises(CallbackRejected):
        gateway.parse_callback(forged, callback.headers)
    with pytest.raises(CallbackRejected):
        gateway.parse_callback(callback.body, {})


def test_a_callback_signed_with_another_secret_is_rejected(clock, store):
    ours = SandboxGateway(SECRET, PAGE_BASE, store=store, clock=clock)
    theirs = SandboxGateway(b"not-our-secret", PAGE_BASE, store=store, clock=clock)
    callback = theirs.complete(start(theirs).gateway_ref, {"result": "approved"}).callback
    assert callback is not None
    with pytest.raises(SignatureError):
        ours.parse_callback(callback.body, callback.headers)


def test_a_correctly_signed_body_that_is_not_a_sandbox_callback_is_rejected(gateway, clock):
    from chalicelib.premiums.gateway.signing import sign

    body = json.dumps({"gateway": "knet", "status": "captured"}).encode()
    headers = {SIGNATURE_HEADER.lower(): sign(body, SECRET, int(clock.now))}
    with pytest.raises(CallbackRejected, match="another gateway"):
        gateway.parse_callback(body, headers)
    body = b'{"gateway":"sandbox","status":"paid"}'
    with pytest.raises(CallbackRejected, match="malformed"):
        gateway.parse_callback(body, {SIGNATURE_HEADER: sign(body, SECRET, int(clock.now))})


def test_a_captured_payment_is_refunded_once_and_never_beyond_its_amount(gateway):
    ref = start(gateway).gateway_ref
    gateway.complete(ref, {"result": "approved"})
    first = gateway.refund("pay01", ref, 50_000)
    assert (first.status, first.amount_fils, first.refund_ref) == (GatewayRefundStatus.REFUNDED, 50_000, "sbr_3")
    second = gateway.refund("pay01", ref, 50_000)
    assert (second.status, second.error_code) == (GatewayRefundStatus.FAILED, "exceeds_captured")


def test_partial_refunds_add_up_to_at_most_the_captured_amount(gateway):
    ref = start(gateway).gateway_ref
    gateway.complete(ref, {"result": "approved"})
    assert gateway.refund("pay01", ref, 20_000).status is GatewayRefundStatus.REFUNDED
    assert gateway.refund("pay01", ref, 30_001).status is GatewayRefundStatus.FAILED
    assert gateway.refund("pay01", ref, 30_000).status is GatewayRefundStatus.REFUNDED


def test_a_declined_or_unknown_payment_cannot_be_refunded(gateway):
    ref = start(gateway).gateway_ref
    gateway.complete(ref, {"result": "declined"})
    assert gateway.refund("pay01", ref, 50_000).error_code == "not_captured"
    assert gateway.refund("pay01", "sbx_404", 50_000).error_code == "not_found"


def test_the_sandbox_takes_kwd_in_positive_integer_fils_only(gateway):
    with pytest.raises(ValueError):
        gateway.create_session("p", 50_000, "USD", RETURN_URL, CALLBACK_URL, "en")
    with pytest.raises(ValueError):
        gateway.create_session("p", 0, "KWD", RETURN_URL, CALLBACK_URL, "en")
    with pytest.raises(TypeError):
        gateway.create_session("p", 50.0, "KWD", RETURN_URL, CALLBACK_URL, "en")  # type: ignore[arg-type]


def test_a_page_server_and_the_app_share_sessions_through_a_folder(tmp_path, clock):
    page_server = SandboxGateway(SECRET, PAGE_BASE, store=FileSandboxStore(tmp_path), clock=clock)
    app_side = SandboxGateway(SECRET, PAGE_BASE, store=FileSandboxStore(tmp_path), clock=clock)
    ref = start(app_side, amount=30_000).gateway_ref
    callback = page_server.complete(ref, {"result": "approved"}).callback
    assert callback is not None
    assert app_side.parse_callback(callback.body, callback.headers).status is GatewayStatus.CAPTURED
    assert app_side.query("pay01", None, 30_000).status is GatewayStatus.CAPTURED
    assert FileSandboxStore(tmp_path).get("../etc/passwd") is None


def test_the_callback_ack_is_a_plain_2xx(gateway):
    ack = gateway.callback_ack(None)
    assert ack.status == 200 and json.loads(ack.body) == {"received": True}


def test_a_sandbox_result_belongs_to_the_session_it_names(gateway):
    session = start(gateway)
    result = gateway.query("pay01", session.gateway_ref, 50_000)
    assert gateway.session_ref(result) == session.gateway_ref

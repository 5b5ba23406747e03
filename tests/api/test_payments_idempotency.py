"""Idempotency-Key: required, the same key gives the same payment, another request with it is 422,
and twenty concurrent requests (threads, against a moto server) make exactly one payment."""

from __future__ import annotations

import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.api import premium_support
from tests.api.premium_support import application_body, gateway, ledger

payer = premium_support.payer


def test_paying_without_an_idempotency_key_is_refused_naming_the_header(payer):
    application_id = payer.confirmed_application()

    for key in (None, "", "   ", "x" * 256, "clé"):
        answer = payer.pay(application_id, key)
        assert answer.status == 422, (key, answer.body)
        assert "Idempotency-Key" in answer.body["error"]["fields"]
    assert payer.call("GET", "/v1/payments").body["payments"] == []


def test_the_same_key_and_application_return_the_same_payment(payer):
    application_id = payer.confirmed_application()

    first = payer.pay(application_id, "k-1")
    again = payer.pay(application_id, "k-1")

    assert first.status == 201 and again.status == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.body == first.body
    assert len(payer.call("GET", "/v1/payments").body["payments"]) == 1
    assert len(gateway().store.sessions) == 1


def test_the_same_key_with_anything_else_is_a_422(payer):
    first_application = payer.confirmed_application()
    payer.pay(first_application, "k-1")
    other_application = payer.confirmed_application(insured_civil_id=premium_support.SECOND_INSURED)

    other_target = payer.pay(other_application, "k-1")
    other_body = payer.pay(first_application, "k-1", body={"note": "something else"})

    for answer in (other_target, other_body):
        assert answer.status == 422
        assert answer.body["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(payer.call("GET", "/v1/payments").body["payments"]) == 1


def test_keys_are_per_account(payer, api):
    from tests.api.premium_support import make_payer

    mine = payer.pay(payer.confirmed_application(), "shared-key")
    other = make_payer(api, account_id="acct-other", email="o@example.com", phone="+96550000001")
    theirs = other.pay(other.confirmed_application(insured_civil_id=premium_support.SECOND_INSURED), "shared-key")

    assert mine.status == theirs.status == 201
    assert mine.body["payment_id"] != theirs.body["payment_id"]


def test_a_gateway_that_cannot_open_a_session_charges_nothing_and_frees_the_key(payer, monkeypatch):
    from chalicelib.adapters.gateway import GatewayError

    application_id = payer.confirmed_application()
    real = gateway().create_session

    def unreachable(*args, **kwargs):
        raise GatewayError("connection refused")

    monkeypatch.setattr(gateway(), "create_session", unreachable)
    failed = payer.pay(application_id, "k-1")
    monkeypatch.setattr(gateway(), "create_session", real)
    retried = payer.pay(application_id, "k-1")

    assert failed.status == 502 and failed.body["error"]["code"] == "GATEWAY_UNAVAILABLE"
    assert retried.status == 201 and retried.body["status"] == "pending"
    statuses = sorted(p["status"] for p in payer.call("GET", "/v1/payments").body["payments"])
    assert statuses == ["expired", "pending"]


# --- concurrency against a moto server -----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _forget_connections() -> None:
    """Every cached client and PynamoDB connection, so the next ones use the current endpoint."""
    from pynamodb.models import Model

    from chalicelib.adapters import premium_store
    from chalicelib.adapters.aws import reset_clients
    from chalicelib.adapters.jwt_tokens import jwt_keys
    from chalicelib.settings import reset_settings
    from chalicelib.wiring import reset_wiring

    def models(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from models(sub)

    for model in models(Model):
        model._connection = None
    premium_store.reset_connections()  # the one connection every store's transactions share
    reset_settings()
    reset_clients()
    reset_wiring()
    jwt_keys.cache_clear()


@pytest.fixture
def moto_server(tmp_path):
    """A moto server on a free port, and this process pointed at it; everything restored afterwards.

    moto applies a DynamoDB transaction in several Python steps (it even restores whole tables
    from a copy when one fails), so two threads inside moto could interleave where DynamoDB never
    would. The server therefore handles one request at a time: DynamoDB's own atomicity, while
    the twenty callers still race freely between their reads and their conditional writes.
    """
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from devstack.provision import provision

    class OneAtATimeMotoServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = DomainDispatcherApplication(create_backend_app)
            lock = threading.Lock()

            def atomic(environ, start_response):
                with lock:
                    return list(app(environ, start_response))

            self._server = make_server(self._ip_address, self._port, atomic, True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    port = _free_port()
    server = OneAtATimeMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    saved = {name: os.environ.get(name) for name in ("AWS_ENDPOINT_URL", "OUTBOX_DIR")}
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    os.environ["OUTBOX_DIR"] = str(tmp_path / "outbox")
    try:
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset", method="POST"))
        _forget_connections()
        provision("dev", "me-south-1")
        yield port
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        server.stop()
        _forget_connections()


def _confirmed_application(deps, account_id: str) -> str:
    from chalicelib.services import premiums

    created = premiums.create_application(deps, account_id, application_body())
    premiums.confirm_application(deps, account_id, created["application_id"], {"accept": True})
    # Warm containers: clients made before the race, as twenty warm Lambdas would have them.
    deps.gateway, deps.store.idempotency("warm"), deps.store.payment("warm"), deps.store.policy("warm")
    return created["application_id"]


def _race(count: int, attempt):
    barrier = threading.Barrier(count)

    def one(index: int):
        barrier.wait()
        try:
            return attempt(index)
        except Exception as exc:  # each thread's outcome is the test's data
            return exc

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_twenty_concurrent_requests_with_one_key_make_exactly_one_payment(moto_server):
    from chalicelib.services import payments
    from chalicelib.wiring import premium_deps

    deps = premium_deps()
    application_id = _confirmed_application(deps, "acct-race")

    outcomes = _race(20, lambda _: payments.start_payment(
        deps, account_id="acct-race", application_id=application_id, idempotency_key="one-key", body={}, lang="en"))

    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert errors == []
    assert len({view["payment_id"] for view, _ in outcomes}) == 1
    assert sum(created for _, created in outcomes) == 1
    assert all(view["payment_url"] for view, _ in outcomes)
    assert len(deps.store.payments_of("acct-race")) == 1
    assert len(deps.gateway.store.sessions) == 1
    payment_id = outcomes[0][0]["payment_id"]
    assert [e.kind for e in ledger(f"payment#{payment_id}")] == ["payment_started", "payment_session_opened"]


def test_twenty_concurrent_requests_with_twenty_keys_still_make_one_payment(moto_server):
    from chalicelib.domain.payments import PaymentInProgress
    from chalicelib.services import payments
    from chalicelib.wiring import premium_deps

    deps = premium_deps()
    application_id = _confirmed_application(deps, "acct-race")

    outcomes = _race(20, lambda i: payments.start_payment(
        deps, account_id="acct-race", application_id=application_id, idempotency_key=f"key-{i}", body={},
        lang="en"))

    made = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(made) == 1 and made[0][1] is True
    assert all(isinstance(o, PaymentInProgress) for o in refused), refused
    assert len(deps.store.payments_of("acct-race")) == 1

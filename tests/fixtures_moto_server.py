"""A real moto *server* for race tests, linearizable for DynamoDB, and `race()` to fire requests at once.

The in-process `aws` fixture (mock_aws) patches botocore inside one thread's calls; it cannot
show what two Lambdas racing on one DynamoDB item do. These fixtures run moto as a server on a
free port (`devstack.linearizable.LinearizableMotoServer`: DynamoDB requests applied one at a
time, as DynamoDB does) and point this process at it, so threads make real HTTP calls that
interleave between requests exactly as concurrent Lambdas would.

How to write a race test (tests/concurrency/ holds the examples):

    from tests.fixtures_moto_server import race

    def test_twenty_requests_at_once_make_one_thing(moto_server):
        deps = some_deps()                       # wiring made *after* the fixture: it uses the server
        ...                                      # set up, fresh ids per round
        outcomes = race(20, lambda i: service_call(deps, ...))   # results or exceptions, by index
        assert ...

- `moto_server` (function scope) gives a `MotoServer`: every backend emptied, the stage's tables,
  queues and buckets provisioned, `AWS_ENDPOINT_URL` and `OUTBOX_DIR` set for this test, and every
  cached client/connection forgotten before and after. Do not combine it with the `aws`/`client`
  fixtures (those are in-process moto). Use the services (or `chalice.test.Client` made inside the
  test) directly.
- The server itself is started once per session (`linearizable_moto`); `moto_server.reset()`
  empties and re-provisions it mid-test, but fresh ids per round are cheaper (milliseconds
  against a second) and are what tests/concurrency does.
- `moto_server.client("dynamodb")` is a raw boto3 client against the server, for a test that
  races raw API calls.
- Warm your clients before the race (one read through each store), as warm Lambdas have them:
  otherwise the threads race on creating boto3 clients, not on DynamoDB.
"""

from __future__ import annotations

import socket
import threading
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from devstack.linearizable import LinearizableMotoServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def forget_connections() -> None:
    """Every cached client and PynamoDB connection, so the next ones use the current endpoint."""
    from pynamodb.models import Model

    from chalicelib.accounts.jwt_tokens import jwt_keys
    from chalicelib.platform.aws import reset_clients
    from chalicelib.premiums import store as premium_store
    from chalicelib.settings import reset_settings
    from chalicelib.wiring import reset_wiring

    def models(cls: type) -> Iterator[type]:
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


@dataclass
class MotoServer:
    """A running moto server this process points at (while the `moto_server` fixture lasts)."""

    server: Any
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        """Empty every backend, provision the stage again, and forget clients made before."""
        from chalicelib.settings import get_settings
        from devstack.provision import provision
        from devstack.stack import REGION, STAGE
        from tests.log_audit import remember_stage_secrets

        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")).close()
        forget_connections()
        provision(STAGE, REGION, email_sender=get_settings().email_sender)
        remember_stage_secrets()
        forget_connections()

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint)


@pytest.fixture(scope="session")
def linearizable_moto() -> Iterator[LinearizableMotoServer]:
    """One linearizable moto server for the whole run; `moto_server` empties it for each test."""
    import logging

    # One werkzeug line per AWS call costs time in a race of hundreds of calls, and says nothing.
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.WARNING)
    server = LinearizableMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        werkzeug.setLevel(level)


@pytest.fixture
def moto_server(linearizable_moto, tmp_path, monkeypatch) -> Iterator[MotoServer]:
    """The linearizable moto server, emptied and provisioned, with this process pointed at it.

    Its TransactWriteItems is make run's (devstack/moto_speedup.py: every condition checked, then
    all items written, or none), held to moto's own outcomes by tests/devstack/test_moto_speedup.py:
    moto's deep-copies the whole table once per item, 40% of a basket race's time. Atomicity between
    requests is the server's: one DynamoDB request at a time (devstack/linearizable.py).
    """
    from moto.dynamodb.models import DynamoDBBackend

    from devstack import moto_speedup

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", moto_speedup.transact_write_items)
    running = MotoServer(linearizable_moto, linearizable_moto.get_host_and_port()[1])
    with pointed_at(running, tmp_path, monkeypatch):
        running.reset()
        yield running


@contextmanager
def pointed_at(server: MotoServer, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoServer]:
    """This process's AWS calls go to `server` inside the block; clients made inside are forgotten after."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
    monkeypatch.setenv("OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("MESSAGES_PER_SECOND", "10000")  # the sender's pacing is not what tests wait for
    forget_connections()
    try:
        yield server
    finally:
        # Clients made against the server must not outlive it: the next test may be in-process moto.
        monkeypatch.delenv("AWS_ENDPOINT_URL")
        forget_connections()


def race[T](count: int, attempt: Callable[[int], T]) -> list[T | Exception]:
    """Run attempt(0..count-1) in `count` threads released together; each one's result or exception, in order."""
    barrier = threading.Barrier(count)

    def one(index: int) -> T | Exception:
        barrier.wait()
        try:
            return attempt(index)
        except Exception as exc:  # each thread's outcome is the test's data
            return exc

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))



"""Fixtures: moto in-process as AWS, the Chalice test client, and a controllable clock.

The environment is set here, before anything imports the app: PynamoDB fixes table
names and region when models are defined, and a boto3 client made before moto
starts would reach the real AWS.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from devstack.config import stage_variables

ROOT = Path(__file__).resolve().parent.parent
STAGE = "dev"
REGION = "me-south-1"


for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "OUTBOX_DIR"):
    os.environ.pop(_name, None)
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",  # moto's fake credentials
    AWS_DEFAULT_REGION=REGION,
    AWS_REGION=REGION,
    POWERTOOLS_DEV="false",
    # A test that starts the local stack without a folder of its own never writes into the working tree.
    LOCAL_DIR=tempfile.mkdtemp(prefix="insure-test-local-"),
    **stage_variables(STAGE),
)

import pytest  # noqa: E402
import time_machine  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib.accounts.jwt_tokens import jwt_keys  # noqa: E402
from chalicelib.platform.aws import client as aws_client  # noqa: E402
from chalicelib.settings import get_settings, reset_settings  # noqa: E402
from chalicelib.wiring import reset_wiring  # noqa: E402
from devstack.provision import provision  # noqa: E402

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

# fixtures_moto_server: a linearizable moto *server* (`moto_server`) and `race()`, for concurrency tests.
pytest_plugins = ["tests.fixtures_accounts", "tests.fixtures_moto_server", "tests.log_audit", "tests.xdist_groups"]


# What `make check` leaves out (it runs `-m "not slow and not moto"`; `make test` runs everything):
# slow ones build the package, drive a browser, start `make run`, run races many rounds or read
# 50,000 rows; moto ones need the embedded AWS. Marked by where they live and what they use, so a
# new test is sorted without anyone remembering to.
SLOW_FOLDERS = ("packaging", "browser", "devstack", "concurrency")
SLOW_FILES = ("test_schemathesis.py", "test_streaming_memory.py", "test_payments_invariants.py")
MOTO_FIXTURES = {"aws", "moto_server", "api", "app", "client"}


def _runs_packaging(config) -> bool:
    """Whether this run's arguments take in tests/packaging, and no mark expression leaves slow tests out."""
    if "not slow" in (config.option.markexpr or ""):
        return False
    packaging = ROOT / "tests" / "packaging"
    paths = [Path(str(arg).split("::")[0]).resolve() for arg in (config.args or ["tests"])]
    return any(p == packaging or p in packaging.parents or packaging in p.parents for p in paths)


def pytest_sessionstart(session):
    # On the xdist controller only (the workers report to it): the shared `chalice package` build
    # starts now, in the background, instead of when the first packaging test asks for it.
    config = session.config
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return
    if _runs_packaging(config):
        from tests.packaging.conftest import start_shared_builds

        config.stash[_SHARED_BUILD] = start_shared_builds(config._tmp_path_factory.getbasetemp())


def pytest_sessionfinish(session):
    build = session.config.stash.get(_SHARED_BUILD, None)
    if build is not None:
        build.join(timeout=900)  # never leave a half-made build (and its chalice process) behind


_SHARED_BUILD = pytest.StashKey["object"]()


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        parts = item.path.parts
        if any(folder in parts for folder in SLOW_FOLDERS) or item.path.name in SLOW_FILES:
            item.add_marker(pytest.mark.slow)
        if "concurrency" in parts:
            item.add_marker(pytest.mark.production_argon2)
        callspec = getattr(item, "callspec", None)
        # Contract suites take the real adapter as a parameter named "moto" (its fixture is asked for inside).
        on_moto_param = callspec is not None and "moto" in callspec.id.split("-")
        if MOTO_FIXTURES & set(getattr(item, "fixturenames", ())) or on_moto_param:
            item.add_marker(pytest.mark.moto)
    # The slow ones first (a stable sort: each file keeps its order): on two workers, a long test
    # started last would leave one core idle while it runs.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


# argon2id at the production cost (32 MiB, 2 passes: ~100 ms a hash) would be a quarter of the time of
# every test that registers or logs someone in, for nothing those tests assert. They get the same code
# (argon2-cffi, argon2id, Argon2Hasher) at 64 KiB and one pass. The production parameters are held by
# tests/unit/passwords (which make their own hashers), the race tests (marked: a real check keeps the
# race window as wide as in production), the packaged-app smoke test and `make bench`.
QUICK_ARGON2 = {"memory_kib": 64, "time_cost": 1, "parallelism": 1}


@pytest.fixture(autouse=True)
def quick_argon2(request, monkeypatch):
    """The container's default hasher at QUICK_ARGON2, unless the test is marked production_argon2."""
    if request.node.get_closest_marker("production_argon2"):
        return
    from chalicelib.accounts import hashing

    with monkeypatch.context() as floor:  # the OWASP guard is lifted for this one construction only
        floor.setattr(hashing, "OWASP_MINIMUM", hashing.HashParameters(**QUICK_ARGON2))
        quick = hashing.Argon2Hasher(**QUICK_ARGON2)
    monkeypatch.setattr(hashing, "default_hasher", lambda: quick)


@pytest.fixture(autouse=True)
def no_scan_from_app_code(monkeypatch):
    """Every test fails if app code calls DynamoDB Scan: jobs and requests read by key or index."""
    import traceback

    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def guarded(self, operation_name, api_params):
        if operation_name == "Scan" and any("/chalicelib/" in frame.filename or frame.filename.endswith("/app.py")
                                            for frame in traceback.extract_stack()):
            raise AssertionError("app code called DynamoDB Scan")
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", guarded)


@pytest.fixture
def aws(tmp_path, monkeypatch):
    """A fresh moto account with every resource of resources.json created; messages also go to an outbox."""
    monkeypatch.setenv("OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("MESSAGES_PER_SECOND", "10000")  # the sender's pacing is not what tests wait for
    reset_settings()
    # Clients stay: keyed by region and endpoint, and moto intercepts them whenever they were made.
    reset_wiring()
    jwt_keys.cache_clear()
    with mock_aws():
        provision(STAGE, REGION, email_sender=get_settings().email_sender)
        from tests.log_audit import remember_stage_secrets

        remember_stage_secrets()
        yield


@pytest.fixture
def app(aws):
    from app import app as chalice_app

    return chalice_app


@pytest.fixture
def client(app):
    from chalice.test import Client

    with Client(app, stage_name=STAGE, project_dir=str(ROOT)) as test_client:
        yield test_client


@pytest.fixture
def clock():
    """Frozen time that a test moves with clock.shift(timedelta) or clock.move_to(datetime)."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def drain_outbound() -> int:
    """Run the sender over everything queued, as Lambda would; returns how many jobs it took."""
    from app import app as chalice_app
    from devstack.lambdas import invoke

    sqs = aws_client("sqs")  # cached: under mock_aws each boto3.client() reloads botocore's models
    url = sqs.get_queue_url(QueueName=get_settings().outbound_queue)["QueueUrl"]
    taken = 0
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return taken
        event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                              "attributes": {}, "messageAttributes": {}, "eventSource": "aws:sqs",
                              "eventSourceARN": "arn:aws:sqs:me-south-1:123456789012:outbound",
                              "awsRegion": REGION} for m in batch]}
        result = invoke(chalice_app, "send_outbound", event)
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        assert not failed, "the sender failed a message"
        for m in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        taken += len(batch)


class Outbox:
    """The emails and SMS sent during a test: the sender drains the queue, then the outbox files are read."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def messages(self, to: str | None = None, template: str | None = None) -> list[dict]:
        drain_outbound()
        if not self.folder.exists():
            return []
        from tests.log_audit import remember_message

        found = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(self.folder.glob("*.json"))]
        for message in found:
            remember_message(message)
        return [m for m in found if (to is None or m["to"] == to) and (template is None or m["template"] == template)]

    def last(self, to: str | None = None, template: str | None = None) -> dict:
        found = self.messages(to, template)
        assert found, f"no message to {to} ({template}); sent: {[(m['to'], m['template']) for m in self.messages()]}"
        return found[-1]


@pytest.fixture
def outbox(aws, tmp_path):
    return Outbox(tmp_path / "outbox")

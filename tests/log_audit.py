"""After the whole suite: no password, token, code, secret or full civil ID in any log line.

Loaded as a plugin by tests/conftest.py. Every line the app logs during the run (the "insure"
logger's JSON lines, formatted exactly as Lambda would print them, and anything else that reaches
the root logger) is kept. Tests hand over the secrets they see (the outbox's codes, passwords and
links; each stage's Secrets Manager values; the suite's passwords), and at the end of the session
the lines are searched for them and for the shapes of personal numbers and tokens. A find fails
the run, naming the line.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import parse_qs, urlparse

import pytest

# Shapes that must never be printed whatever the test: a whole 12-digit number (a civil ID), a JWT,
# a refresh token (session id "." 43 url-safe characters), a temporary password (4 groups of 4).
SHAPES = {
    "civil ID": re.compile(r"(?<![0-9A-Za-z])[1-3]\d{11}(?![0-9A-Za-z])"),
    "JWT": re.compile(r"eyJ[\w-]{8,}\.eyJ[\w-]{8,}\."),
    "refresh token": re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{32}\.[\w-]{43}(?![\w-])"),
    "temporary password": re.compile(r"(?<![\w-])(?:[A-Za-z2-9]{4}-){3}[A-Za-z2-9]{4}(?![\w-])"),
}

_lock = threading.Lock()
_lines: list[str] = []
_secrets: dict[str, str] = {}


def remember(kind: str, *values: object) -> None:
    """A value that must not appear in any log line (short ones are ignored: they'd match by chance)."""
    with _lock:
        for value in values:
            if isinstance(value, str) and len(value.strip()) >= 6:
                _secrets.setdefault(value.strip(), kind)


def remember_message(message: dict) -> None:
    """The secrets an email or SMS carried: its code, password, and the tokens in its links."""
    variables = message.get("vars") or {}
    remember("SMS code", variables.get("code"))
    remember("password", variables.get("password"))
    for link in [*(message.get("links") or []), variables.get("link")]:
        if isinstance(link, str):
            for values in parse_qs(urlparse(link).query).values():
                remember("link token", *values)


def remember_stage_secrets() -> None:
    """Every Secrets Manager value of the AWS this process points at (after provisioning)."""
    from chalicelib.platform.aws import client

    manager = client("secretsmanager")  # cached: a new boto3 client under mock_aws reloads botocore's models
    for page in manager.get_paginator("list_secrets").paginate():
        for secret in page["SecretList"]:
            remember("secret", manager.get_secret_value(SecretId=secret["ARN"])["SecretString"])


class _Keep(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a record that can't be formatted is the logger's problem, not this audit's
            line = str(record.msg)
        with _lock:
            _lines.append(line)


def leaks(lines: Iterable[str], secrets: dict[str, str]) -> list[tuple[str, str]]:
    """(what, line) for each line that holds a remembered secret or a forbidden shape."""
    found = []
    patterns = [(kind, re.compile(r"(?<![0-9A-Za-z])" + re.escape(value) + r"(?![0-9A-Za-z])"))
                for value, kind in secrets.items()]
    for line in lines:
        for kind, shape in (*SHAPES.items(), *patterns):
            if shape.search(line):
                found.append((kind, line))
                break
    return found


def pytest_configure(config: pytest.Config) -> None:
    from chalicelib.logs import get_logger

    app_logger = logging.getLogger("insure")
    keep_app = _Keep()
    # The app's own formatter: what is audited is the very line Lambda would print.
    keep_app.setFormatter(get_logger().registered_formatter)
    app_logger.addHandler(keep_app)
    keep_rest = _Keep()
    keep_rest.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    logging.getLogger().addHandler(keep_rest)
    from tests.support import NEW_PASSWORD, PASSWORD

    remember("password", PASSWORD, NEW_PASSWORD)


# With pytest-xdist each worker audits its own lines and hands the outcome to the controller.
_from_workers: list[dict[str, object]] = []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    output = getattr(node, "workeroutput", None) or {}
    if "log_audit" in output:
        _from_workers.append(json.loads(output["log_audit"]))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    with _lock:
        lines, secrets = list(_lines), dict(_secrets)
    found = leaks(lines, secrets)
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller reports for everyone
        workeroutput["log_audit"] = json.dumps({"lines": len(lines), "secrets": len(secrets),
                                                "found": [list(f) for f in found]})
        return
    n_lines, n_secrets = len(lines), len(secrets)
    for report in _from_workers:
        n_lines += int(report["lines"])  # type: ignore[call-overload]
        n_secrets = max(n_secrets, int(report["secrets"]))  # type: ignore[call-overload]
        found += [(kind, line) for kind, line in report["found"]]  # type: ignore[attr-defined]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        workers = f" from {len(_from_workers)} workers" if _from_workers else ""
        reporter.write_line(f"log audit: {n_lines} log lines{workers} searched for {n_secrets} secrets and "
                            f"{len(SHAPES)} shapes: {len(found)} found")
        for kind, line in found[:20]:
            reporter.write_line(f"log audit: {kind} in: {line[:300]}", red=True)
    if found:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

"""Cold start as Lambda pays it: the zip unpacked, a bare interpreter, import plus the first request.

build/deployment.zip (make package) is unpacked into a temporary folder, and each run is a fresh
`python -I -S -B` of this same Python 3.13 with only that folder on sys.path: no site-packages, no
working tree, no bytecode but the zip's. It times, from the first line of the runner to the answer,
  login:      `import app` (the API handler) + POST /v1/auth/login as an API Gateway proxy event;
  authorizer: `import chalicelib.accounts.api` (the authorizer's handler) + its first verify of a
              valid access token (a TOKEN authorizer event),
against DynamoDB and Secrets Manager on a moto server this process starts and seeds with one
account, with the dev stage's variables as make run sets them. The floor is bench/floor_app/app.py
(chalice + boto3 + pynamodb making the same AWS requests, checked here) run from the same unpacked
tree with its app.py swapped in. Runs alternate app and floor, so load on the machine hits both alike;
the throttle items are cleared before each run, so every login takes the same path.

The zip is built for arm64 (Graviton) and this machine may not load aarch64 code: its native
libraries are then swapped for the same versions' host builds from the venv (the Python files and
their bytecode stay the zip's; tests/packaging checks the two builds differ only in native code).
"""

from __future__ import annotations

import json
import logging
import os
import py_compile
import re
import shutil
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from bench.rows import Row

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "build" / "deployment.zip"
FLOOR_APP = Path(__file__).resolve().parent / "floor_app" / "app.py"
RUNS = 7
TARGET = 1.2
PASSWORD = "Copper-Lantern-Road-8"
# Isolated (no PYTHON* variables, no user site), no site-packages, and no bytecode written: /var/task is read-only.
BARE = [sys.executable, "-I", "-S", "-B", "-c"]
NATIVE = re.compile(r"\.so(\.|$)|\.libs/")

# Runs in the bare interpreter: argv = [tree, handler module, handler attribute, event json].
RUNNER = """
import sys, time
started, cpu_started = time.perf_counter(), time.process_time()
sys.path.insert(0, sys.argv[1])
import importlib, json
handler = getattr(importlib.import_module(sys.argv[2]), sys.argv[3])
imported = time.perf_counter()

class Context:
    aws_request_id = "cold-start"
    function_name = "cold-start"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:me-south-1:123456789012:function:cold-start"
    def get_remaining_time_in_millis(self):
        return 30000

answer = handler(json.loads(sys.argv[4]), Context())
done, cpu_done = time.perf_counter(), time.process_time()
print(json.dumps({"import_s": imported - started, "total_s": done - started, "cpu_s": cpu_done - cpu_started,
                  "answer": answer}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _elf_machine(path: Path) -> int | None:
    with path.open("rb") as f:
        head = f.read(20)
    return int.from_bytes(head[18:20], "little") if head[:4] == b"\x7fELF" else None


def host_native_libraries(tree: Path) -> list[str]:
    """Swap each distribution's native files for the venv's host build when the zip's can't load here."""
    host = _elf_machine(Path(sys.executable).resolve())
    site = Path(sysconfig.get_paths()["purelib"])
    swapped = []
    for record in sorted(tree.glob("*.dist-info/RECORD")):
        native = [line.split(",")[0] for line in record.read_text().splitlines() if NATIVE.search(line.split(",")[0])]
        if all(_elf_machine(tree / name) in (host, None) for name in native if (tree / name).is_file()):
            continue
        ours = site / record.parent.name / "RECORD"
        if not ours.exists():
            raise SystemExit(f"cold_start: {record.parent.name} has no host build in the venv to load here")
        for name in native:
            (tree / name).unlink(missing_ok=True)
        for name in (line.split(",")[0] for line in ours.read_text().splitlines()):
            if NATIVE.search(name):
                (tree / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(site / name, tree / name)
        swapped.append(record.parent.name.removesuffix(".dist-info"))
    return swapped


def api_event(path: str, body: dict[str, Any]) -> dict[str, Any]:
    """An API Gateway (REST, proxy) event, as Lambda hands it to the API handler."""
    headers = {"Content-Type": "application/json", "Host": "cold-start.example", "Accept-Language": "en"}
    return {
        "resource": path, "path": path, "httpMethod": "POST", "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None, "isBase64Encoded": False, "body": json.dumps(body),
        "requestContext": {"resourcePath": path, "httpMethod": "POST", "path": f"/api{path}", "stage": "api",
                           "requestId": "cold-start", "apiId": "coldstart", "accountId": "123456789012",
                           "identity": {"sourceIp": "127.0.0.1"}},
    }


def authorizer_event(token: str) -> dict[str, Any]:
    return {"type": "TOKEN", "authorizationToken": f"Bearer {token}",
            "methodArn": "arn:aws:execute-api:me-south-1:123456789012:coldstart/api/GET/v1/auth/sessions"}


class Stack:
    """A moto server with the dev stage provisioned and one account; this process's env points at it."""

    def __init__(self, work: Path) -> None:
        from moto.server import ThreadedMotoServer

        from devstack.stack import local_environment

        self.port = _free_port()
        self.env = local_environment(self.port, _free_port(), work / "outbox")
        self.saved = dict(os.environ)
        os.environ.update(self.env)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request on the table's stderr
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    def seed(self) -> tuple[str, str]:
        """Provision, create one account; (its civil ID, a valid access token)."""
        from chalicelib.accounts.credentials import set_new_password
        from chalicelib.accounts.jwt_tokens import issue_access_token
        from chalicelib.accounts.wiring import auth_deps
        from chalicelib.kernel.civil_id import compose_civil_id
        from chalicelib.platform.clock import now
        from devstack.provision import provision

        provision("dev", "me-south-1")
        deps = auth_deps()
        civil_id = compose_civil_id(date(1985, 1, 2), "4321")
        account = deps.store.new_account(account_id="cold-start", status="active", source="self", civil_id=civil_id,
                                         email="cold@example.com", password_history=[], created_at=now(),
                                         updated_at=now(), language="en")
        set_new_password(deps, account, PASSWORD, now())
        deps.store.create_account(account, {"civil_id": civil_id, "email": "cold@example.com"})
        # A token that outlives the runs: each one's authorizer verifies it as on a first request.
        return civil_id, issue_access_token("cold-start", "cold-start-session", now(), "en")

    def clear_throttles(self) -> None:
        import boto3

        table = boto3.resource("dynamodb", region_name="me-south-1").Table(self.env["THROTTLES_TABLE"])
        for item in table.scan(ProjectionExpression="#k", ExpressionAttributeNames={"#k": "key"})["Items"]:
            table.delete_item(Key={"key": item["key"]})

    def stop(self) -> None:
        self.server.stop()
        os.environ.clear()
        os.environ.update(self.saved)
        _forget_connections()  # the next bench areas must not reach for this stopped server


def _forget_connections() -> None:
    """Every client, connection and setting this process made while pointed at the stack."""
    from pynamodb.models import Model

    from chalicelib.accounts.jwt_tokens import jwt_keys
    from chalicelib.platform.aws import reset_clients
    from chalicelib.platform.dynamo import reset_connection
    from chalicelib.settings import reset_settings
    from chalicelib.wiring import reset_wiring

    todo = list(Model.__subclasses__())
    while todo:
        model = todo.pop()
        todo.extend(model.__subclasses__())
        model._connection = None
    reset_connection()
    reset_settings()
    reset_clients()
    reset_wiring()
    jwt_keys.cache_clear()


def requests_of(tree: Path, module: str, attribute: str, event: dict[str, Any]) -> Counter[tuple[str, str]]:
    """The AWS requests one handler makes on its first call, counted in a child with the tree on its path."""
    script = (
        "import sys, json, importlib\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from botocore.client import BaseClient\n"
        "calls = []\n"
        "original = BaseClient._make_api_call\n"
        "def counting(self, name, params):\n"
        "    calls.append([self.meta.service_model.service_name, name])\n"
        "    return original(self, name, params)\n"
        "BaseClient._make_api_call = counting\n"
        "handler = getattr(importlib.import_module(sys.argv[2]), sys.argv[3])\n"
        "handler(json.loads(sys.argv[4]), None)\n"
        "print(json.dumps(calls))\n"
    )
    out = subprocess.run([*BARE, script, str(tree), module, attribute, json.dumps(event)],
                         env=_child_env(), check=True, capture_output=True, text=True, timeout=120)
    return Counter((service, name) for service, name in json.loads(out.stdout.strip().splitlines()[-1]))


def _child_env() -> dict[str, str]:
    # What the Lambda runtime has: the function's variables, credentials, a region; nothing of this shell.
    keep = {k: os.environ[k] for k in ("PATH", "LANG", "TZ") if k in os.environ}
    return {**keep, **{k: os.environ[k] for k in os.environ if k.startswith(("AWS_", "POWERTOOLS_"))},
            **_STAGE_ENV}


_STAGE_ENV: dict[str, str] = {}


def _timed(tree: Path, module: str, attribute: str, event: dict[str, Any], check: Any) -> tuple[float, float]:
    """(wall seconds, CPU seconds) from the runner's first line to the handler's answer."""
    out = subprocess.run([*BARE, RUNNER, str(tree), module, attribute, json.dumps(event)],
                         env=_child_env(), check=False, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise SystemExit(f"cold_start: {module}.{attribute} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if not check(result["answer"]):
        raise SystemExit(f"cold_start: {module}.{attribute} answered {result['answer']!r}")
    return float(result["total_s"]), float(result["cpu_s"])


def _logged_in(answer: dict[str, Any]) -> bool:
    return answer.get("statusCode") == 200 and "access_token" in json.loads(answer.get("body") or "{}")


def _allowed(answer: dict[str, Any]) -> bool:
    statements = answer.get("policyDocument", {}).get("Statement", [])
    return any(s.get("Effect") == "Allow" for s in statements)


def measure(tree: Path, floor: Path, stack: Stack, login_event: dict[str, Any],
            verify_event: dict[str, Any]) -> dict[str, list[tuple[float, float]]]:
    cases = {
        "login app": (tree, "app", "app", login_event, _logged_in),
        "login floor": (floor, "app", "app", login_event, _logged_in),
        "authorizer app": (tree, "chalicelib.accounts.api", "jwt_authorizer", verify_event, _allowed),
        "authorizer floor": (floor, "app", "floor_authorizer", verify_event, _allowed),
    }
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _ in range(RUNS):
        for name, (where, module, attribute, event, check) in cases.items():
            stack.clear_throttles()
            times[name].append(_timed(where, module, attribute, event, check))
    return times


def _floor_tree(tree: Path, work: Path) -> Path:
    """The unpacked tree with the floor's app.py in place of the app's (the rest shared by symlinks)."""
    floor = work / "floor"
    floor.mkdir()
    for entry in tree.iterdir():
        if entry.name not in ("app.py", "__pycache__"):
            (floor / entry.name).symlink_to(entry)
    shutil.copy2(FLOOR_APP, floor / "app.py")
    if (tree / "__pycache__").is_dir():  # the zip carries bytecode: the floor's app.py gets its own
        pyc = floor / "__pycache__" / f"app.{sys.implementation.cache_tag}.pyc"
        py_compile.compile(str(floor / "app.py"), cfile=str(pyc), dfile="app.py", doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return floor


def run() -> list[Row]:
    if not PACKAGE.exists():
        raise SystemExit("cold_start: no build/deployment.zip (make package builds it)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tree = work / "task"  # Lambda's /var/task
        with zipfile.ZipFile(PACKAGE) as zf:
            zf.extractall(tree)
        for info in zipfile.ZipFile(PACKAGE).infolist():  # extractall drops the mode bits
            mode = info.external_attr >> 16
            if mode:
                (tree / info.filename).chmod(mode & 0o777)
        host_native_libraries(tree)
        floor = _floor_tree(tree, work)
        stack = Stack(work)
        try:
            civil_id, token = stack.seed()
            _STAGE_ENV.clear()
            _STAGE_ENV.update(stack.env)
            login_event = api_event("/v1/auth/login", {"username": civil_id, "password": PASSWORD,
                                                       "device_id": "cold-start"})
            verify_event = authorizer_event(token)
            stack.clear_throttles()
            app_login = requests_of(tree, "app", "app", login_event)
            stack.clear_throttles()
            floor_login = requests_of(floor, "app", "app", login_event)
            app_verify = requests_of(tree, "chalicelib.accounts.api", "jwt_authorizer", verify_event)
            floor_verify = requests_of(floor, "app", "floor_authorizer", verify_event)
            times = measure(tree, floor, stack, login_event, verify_event)
        finally:
            stack.stop()
    rows = []
    for what, app_calls, floor_calls in (("login", app_login, floor_login), ("authorizer", app_verify, floor_verify)):
        ours, base = (statistics.median(wall for wall, _ in times[f"{what} {side}"]) * 1000
                      for side in ("app", "floor"))
        ours_cpu, base_cpu = (statistics.median(cpu for _, cpu in times[f"{what} {side}"]) * 1000
                              for side in ("app", "floor"))
        ratio = ours / base
        label = "import + first login" if what == "login" else "import + first verify (authorizer)"
        rows += [
            Row("cold_start", f"{label}, bare interpreter on the zip (median of {RUNS})", ours, "ms", "", None),
            Row("cold_start", f"{label}, floor app on the same tree", base, "ms", "", None),
            Row("cold_start", f"{label}: AWS requests, app = floor", sum(app_calls.values()), "requests",
                f"= {sum(floor_calls.values())}", app_calls == floor_calls),
            Row("cold_start", f"{label}: app / floor", ratio, "ratio", f"<= {TARGET}", ratio <= TARGET),
            # CPU seconds of the Lambda process alone: steadier than wall time on a shared machine, and
            # without the AWS round trips, which are the same for both.
            Row("cold_start", f"{label}: CPU app / floor ({ours_cpu:.0f} / {base_cpu:.0f} ms)", ours_cpu / base_cpu,
                "ratio", "", None),
        ]
    return rows

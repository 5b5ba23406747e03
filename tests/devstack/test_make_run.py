"""`make run` as a person uses it: a real process, real ports, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

# Both start `make run`, which keeps its files in .local/: under pytest-xdist they share one worker.
pytestmark = pytest.mark.xdist_group("make_run")

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def local_stack(tmp_path):
    moto_port, api_port, sandbox_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # The sandbox page's port too: its default (the API's + 1) may be another process's free port.
    env.update(MOTO_PORT=str(moto_port), API_PORT=str(api_port), SANDBOX_PORT=str(sandbox_port),
               PYTHONUNBUFFERED="1")
    log = (tmp_path / "run.log").open("w+", encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "devstack", "run"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    yield process, moto_port, api_port, tmp_path / "run.log", env
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    log.close()


def http_json(url: str):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.loads(response.read())
    except OSError:
        return None


def test_make_run_serves_the_api_delivers_hr_drops_and_stops_on_ctrl_c(local_stack, tmp_path):
    process, moto_port, api_port, log_path, env = local_stack

    health = wait_for(lambda: http_json(f"http://127.0.0.1:{api_port}/v1/health"), 60, "the API")
    assert health["status"] == "ok"

    csv = tmp_path / "staff list مارس.csv"
    csv.write_text("employee_no,relationship\n1,principal\n", encoding="utf-8")
    dropped = subprocess.run([sys.executable, "-m", "devstack", "drop", str(csv), "GP-TEST"], check=False,
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert dropped.returncode == 0, dropped.stdout + dropped.stderr

    # S3 notifies the queue; the local stack delivers the message to the SQS handler.
    wait_for(lambda: "hr/incoming/GP-TEST/staff list مارس.csv" in log_path.read_text(encoding="utf-8")
             and '"hr_file_received"' in log_path.read_text(encoding="utf-8"), 30, "the HR handler")

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 0
    # Nothing is left listening once it stopped.
    for port in (moto_port, api_port):
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0

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


def local_env(tmp_path: Path) -> dict[str, str]:
    """`make run`'s environment in a test: free ports, and its files (outbox, stack.json) under tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "OUTBOX_DIR"}
    # The sandbox page's port too: its default (the API's + 1) may be another process's free port.
    env.update(MOTO_PORT=str(free_port()), API_PORT=str(free_port()), SANDBOX_PORT=str(free_port()),
               LOCAL_DIR=str(tmp_path / "local"), PYTHONUNBUFFERED="1")
    return env


@pytest.fixture
def local_stack(tmp_path):
    env = local_env(tmp_path)
    log = (tmp_path / "run.log").open("w+", encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "devstack", "run"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    yield process, int(env["MOTO_PORT"]), int(env["API_PORT"]), tmp_path / "run.log", env
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    log.close()


def devstack(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """`make job/drop/policy/run` as the person types it: no ports given, only where make run keeps its files."""
    env = {k: v for k, v in env.items() if k not in ("MOTO_PORT", "API_PORT", "SANDBOX_PORT")}
    return subprocess.run([sys.executable, "-m", "devstack", *args], check=False, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def stack_json(env: dict[str, str]) -> dict | None:
    try:
        return json.loads((Path(env["LOCAL_DIR"]) / "stack.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


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

    stack = wait_for(lambda: stack_json(env), 60, ".local/stack.json")
    assert (stack["moto_port"], stack["api_port"], stack["pid"]) == (moto_port, api_port, process.pid)

    # make drop is told no port: it finds the running stack by its stack.json.
    csv = tmp_path / "staff list مارس.csv"
    csv.write_text("employee_no,relationship\n1,principal\n", encoding="utf-8")
    dropped = devstack("drop", str(csv), "GP-TEST", env=env)
    assert dropped.returncode == 0, dropped.stdout + dropped.stderr

    # S3 notifies the queue; the local stack delivers the message to the SQS handler.
    wait_for(lambda: "hr/incoming/GP-TEST/staff list مارس.csv" in log_path.read_text(encoding="utf-8")
             and '"hr_file_received"' in log_path.read_text(encoding="utf-8"), 30, "the HR handler")

    # A second make run on the same ports fails at once, naming the running one.
    started = time.monotonic()
    second = subprocess.run([sys.executable, "-m", "devstack", "run"], check=False, cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=30)
    assert second.returncode != 0 and time.monotonic() - started < 15
    assert "a make run is already running" in second.stderr and f"pid {process.pid}" in second.stderr, second.stderr
    assert f":{moto_port}" in second.stderr

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 0
    # Nothing is left listening once it stopped, and make job/drop/policy say no make run is running.
    for port in (moto_port, api_port):
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0
    assert stack_json(env) is None
    after = devstack("job", "expire_invites", env=env)
    assert after.returncode == 1 and "no make run is running" in after.stderr, after.stderr


def written_since(path: Path, since_ns: int) -> dict[str, str]:
    """The files under path written since then, and their text."""
    return {str(p): p.read_text(encoding="utf-8", errors="replace") for p in path.rglob("*")
            if p.is_file() and p.stat().st_mtime_ns >= since_ns} if path.exists() else {}


def test_each_make_run_starts_with_an_empty_outbox_shows_sms_codes_and_leaves_the_repository_alone(tmp_path):
    env = local_env(tmp_path)
    outbox = Path(env["LOCAL_DIR"]) / "outbox"
    outbox.mkdir(parents=True)
    old = outbox / "20250101T000000-000001-email-welcome-dead00.json"
    old.write_text('{"links": ["http://127.0.0.1:8000/welcome?token=from-an-earlier-run"]}', encoding="utf-8")
    started_ns = time.time_ns()
    api_port = int(env["API_PORT"])

    log_path = tmp_path / "run.log"
    with log_path.open("w+", encoding="utf-8") as log:
        process = subprocess.Popen([sys.executable, "-m", "devstack", "run"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(lambda: http_json(f"http://127.0.0.1:{api_port}/v1/health"), 60, "the API")
            assert not old.exists()
            # The demo's welcome emails land in this run's outbox, and only there.
            wait_for(lambda: list(outbox.glob("*-email-welcome-*.json")), 60, "the demo's welcome emails")

            request = urllib.request.Request(
                f"http://127.0.0.1:{api_port}/v1/auth/register", method="POST",
                headers={"Content-Type": "application/json"},
                data=json.dumps({"civil_id": "284031201072", "name": "Sara Ahmed", "phone": "5123 4567",
                                 "email": "sara@example.com", "gender": "female", "language": "en",
                                 "city": "Hawalli"}).encode())
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status in (200, 201, 202)
            sms = wait_for(lambda: list(outbox.glob("*-sms-registration_code-*.json")), 30, "the code's SMS")
            code = json.loads(sms[0].read_text(encoding="utf-8"))["vars"]["code"]
            # The console line shows the code, as it shows an email's link.
            wait_for(lambda: f"registration_code code {code}" in log_path.read_text(encoding="utf-8"), 10,
                     f"the code {code} on the console:\n{log_path.read_text(encoding='utf-8')[-3000:]}")
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=20)
    # make run's files went to LOCAL_DIR: nothing of this run (its links name its own API port) is in the
    # repository's .local/, which a person's own make run may be writing meanwhile.
    ours = {path for path, text in written_since(ROOT / ".local", started_ns).items() if f":{api_port}" in text}
    assert not ours, ours


def test_make_run_fails_at_once_naming_the_port_taken_and_who_holds_it(tmp_path):
    env = local_env(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        env["API_PORT"] = str(holder.getsockname()[1])
        started = time.monotonic()
        run = subprocess.run([sys.executable, "-m", "devstack", "run"], check=False, cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=30)
    assert run.returncode == 1 and time.monotonic() - started < 15
    assert f"port {env['API_PORT']} (API_PORT) is taken by pid {os.getpid()}" in run.stderr, run.stderr


def test_make_job_drop_and_policy_say_no_make_run_is_running_when_none_is(tmp_path):
    env = local_env(tmp_path)
    policy = ROOT / "examples" / "policies" / "GP-ACME-2026.json"
    for args in (("job", "expire_invites"), ("drop", str(policy), "GP-X"), ("policy", str(policy))):
        result = devstack(*args, env=env)
        assert result.returncode == 1 and "no make run is running" in result.stderr, (args, result.stderr)
    # A stack.json left by a make run that was killed is stale: nothing listens on its port.
    Path(env["LOCAL_DIR"]).mkdir(parents=True)
    (Path(env["LOCAL_DIR"]) / "stack.json").write_text(json.dumps(
        {"pid": os.getpid(), "moto_port": free_port(), "api_port": free_port(), "sandbox_port": free_port(),
         "outbox": str(tmp_path / "outbox")}), encoding="utf-8")
    stale = devstack("job", "expire_invites", env=env)
    assert stale.returncode == 1 and "nothing listens there any more" in stale.stderr, stale.stderr


def test_what_one_make_run_made_is_there_after_a_restart_until_make_reset(tmp_path):
    env = local_env(tmp_path)
    moto_port, api_port = int(env["MOTO_PORT"]), int(env["API_PORT"])
    policy = json.loads((ROOT / "examples" / "policies" / "GP-ACME-2026.json").read_text(encoding="utf-8"))
    policy_file = tmp_path / "GP-KEEP-2026.json"
    policy_file.write_text(json.dumps({**policy, "policy_no": "GP-KEEP-2026"}), encoding="utf-8")

    def policies() -> set[str]:
        import boto3

        dynamodb = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{moto_port}", region_name="me-south-1",
                                aws_access_key_id="local", aws_secret_access_key="local")
        items = dynamodb.scan(TableName="insure-dev-policies")["Items"]
        return {item["policy_no"]["S"] for item in items}

    def make_run(log_name: str):
        log = (tmp_path / log_name).open("w+", encoding="utf-8")
        process = subprocess.Popen([sys.executable, "-m", "devstack", "run"], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: stack_json(env), 60, f"make run ({log_name})")
        return process, log

    def stop(process, log) -> str:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        log.close()
        return (tmp_path / log.name).read_text(encoding="utf-8")

    process, log = make_run("first.log")
    try:
        made = devstack("policy", str(policy_file), env=env)
        assert made.returncode == 0, made.stdout + made.stderr
        assert "GP-KEEP-2026" in policies()
    finally:
        first = stop(process, log)
    assert "[state] the embedded AWS's state is saved" in first

    process, log = make_run("second.log")
    try:
        assert "GP-KEEP-2026" in policies()
        assert http_json(f"http://127.0.0.1:{api_port}/v1/health")["status"] == "ok"
        refused = devstack("reset", env=env)
        assert refused.returncode == 1 and "stop it with Ctrl-C first" in refused.stderr, refused.stderr
    finally:
        second = stop(process, log)
    assert "[state] the embedded AWS is as the last make run left it" in second

    reset = devstack("reset", env=env)
    assert reset.returncode == 0, reset.stderr
    process, log = make_run("third.log")
    try:
        assert "GP-KEEP-2026" not in policies()
        assert "GP-ACME-2026" in wait_for(policies, 30, "the demo policy")  # a clean start loads the demo again
    finally:
        stop(process, log)


def test_the_outbox_line_shows_what_a_person_types_from_an_sms_and_an_emails_link():
    from chalicelib.platform import messages
    from chalicelib.platform.messaging import console_line

    sms = messages.temporary_password_sms("+96551234567", "en", "284031201072", "Tmp-9xQ2", 7)
    assert console_line(sms) == ("[outbox] sms to +96551234567: temporary_password username 284031201072 "
                                 "password Tmp-9xQ2")
    code = messages.registration_code_sms("+96551234567", "ar", "482913", 5)
    assert console_line(code) == "[outbox] sms to +96551234567: registration_code code 482913"

"""`make run` keeps answering while it enrols a hostile HR file.

Before the line reader was linear, a 40,000-character line held the interpreter for ~21 s
of CPU and a 120 KB unfinished field for over a minute: in local mode the API and the
embedded AWS stopped answering until the file was done.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import boto3
import pytest

from tests.devstack.test_make_run import ROOT, local_stack, wait_for  # noqa: F401  (local_stack: fixture)

POLICY_NO = "GP-ACME-2026"  # the demo policy `make run` loads
# Both start `make run`, which keeps its files in .local/: under pytest-xdist they share one worker.
pytestmark = pytest.mark.xdist_group("make_run")

HEALTH_WITHIN_S = 2.0
HEADER = ("employee_no,relationship,name_en,name_ar,date_of_birth,gender,email,mobile,national_id,plan,"
          "coverage_start,coverage_end,action\r\n")
GOOD = "E9001,principal,Omar Ali,عمر علي,1980-01-01,male,omar@acme.example,,,GOLD,2026-01-01,2026-12-31,\r\n"


def hostile_file() -> bytes:
    """A 40,000-character line, a good row, then a 120 KB quoted field that never ends."""
    return (HEADER + "E9002,principal," + "A" * 40_000 + "\r\n" + GOOD + 'E9003,principal,"'
            + "B" * 120 * 1024).encode()


def health_time(api_port: int) -> float:
    """Seconds the API took to answer GET /v1/health; fails if it did not answer ok in time."""
    started = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/v1/health", timeout=HEALTH_WITHIN_S * 2) as response:
        assert json.loads(response.read())["status"] == "ok"
    return time.monotonic() - started


def test_health_answers_within_two_seconds_throughout_a_hostile_hr_file_until_its_report(
        local_stack, tmp_path):  # noqa: F811  (the fixture imported above)
    _process, moto_port, api_port, log_path, env = local_stack
    wait_for(lambda: _answers(api_port), 60, "the API")
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{moto_port}", region_name="me-south-1",
                      aws_access_key_id="local", aws_secret_access_key="local")
    bucket = env.get("HR_BUCKET") or "insure-dev-hr"
    wait_for(lambda: _policy_loaded(log_path), 60, "the demo policy")

    path = tmp_path / "hostile.csv"
    path.write_bytes(hostile_file())
    subprocess.run([sys.executable, "-m", "devstack", "drop", str(path), POLICY_NO], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=60)
    key = f"hr/incoming/{POLICY_NO}/hostile.csv"

    timings: list[float] = []

    def report_entry() -> dict | None:
        timings.append(health_time(api_port))
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"hr/reports/{POLICY_NO}/index/").get("Contents", [])
        for item in listed:
            entry = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
            if entry["key"] == key:
                return entry
        return None

    entry = wait_for(report_entry, 60, "the hostile file's report")

    assert timings and max(timings) < HEALTH_WITHIN_S, timings
    report = json.loads(s3.get_object(Bucket=bucket, Key=entry["report_json"])["Body"].read())
    outcomes = {row["line"]: (row["outcome"], [e["rule"] for e in row["errors"]]) for row in report["rows"]}
    assert outcomes == {2: ("error", ["too_long"]), 3: ("created", []), 4: ("error", ["row_too_long"])}


def _answers(api_port: int) -> bool:
    try:
        return health_time(api_port) >= 0
    except OSError:
        return False


def _policy_loaded(log_path) -> bool:
    return "[demo] group policy" in log_path.read_text(encoding="utf-8")

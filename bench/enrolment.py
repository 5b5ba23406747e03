"""HR enrolment at scale: a generated 50,000-row file, enrolled against a moto server in another process.

The embedded AWS runs in its own process so the peak memory measured is the enrolment's
alone, as a Lambda would see it (moto keeps every item in memory).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.rows import Row

ROOT = Path(__file__).resolve().parent.parent
ROWS = int(os.environ.get("BENCH_HR_ROWS", "50000"))
POLICY = {"policy_no": "GP-BENCH-2026", "employer_en": "Bench Co", "employer_ar": "شركة القياس",
          "plans": {p: {"name_en": p.title(), "name_ar": p, "network_en": "All", "network_ar": "الكل"}
                    for p in ("GOLD", "SILVER")}}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(port: int) -> dict[str, str]:
    from devstack.stack import local_environment

    env = {**os.environ, **local_environment(port, 8000, Path(tempfile.gettempdir()) / "bench-outbox")}
    env.pop("OUTBOX_DIR", None)
    return env


def run() -> list[Row]:
    port = _free_port()
    env = _environment(port)
    server = subprocess.Popen([sys.executable, "-c", (
        "import time; from moto.server import ThreadedMotoServer as S; "
        "from devstack import moto_speedup; moto_speedup.install(); "
        f"s = S(ip_address='127.0.0.1', port={port}, verbose=False); s.start(); time.sleep(100000)")],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        from devstack.stack import wait_for_port

        wait_for_port(port)
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run([sys.executable, "-m", "bench.enrolment", "child", tmp], env=env, cwd=ROOT,
                                 check=True, capture_output=True, text=True, timeout=3000)
        result = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        server.kill()
        server.wait()
    per_row = result["dynamodb_requests"] / result["rows"]
    return [
        Row("enrolment", f"rows per second ({result['rows']:,} rows, moto server)", result["rows"] / result["seconds"],
            "rows/s", "", None),
        Row("enrolment", "peak memory of the enrolment process", result["maxrss_mb"], "MB", "< 256",
            result["maxrss_mb"] < 256),
        Row("enrolment", "DynamoDB requests per row", per_row, "requests", "<= 0.06", per_row <= 0.06),
        Row("enrolment", "rows created / errors", result["created"], "rows", f"errors {result['errors']}",
            result["errors"] == 0),
        Row("enrolment", "welcome emails queued (one per new principal)", result["welcomes"], "rows", "", None),
    ]


def child(tmp: str) -> None:
    """Inside the measured process: provision, create the policy, drop the file, enrol it."""
    import dataclasses
    import resource
    from datetime import UTC, datetime

    import boto3

    from bench.hr_file import generate_hr_csv
    from chalicelib.enrolment.policies import create_group_policy
    from chalicelib.enrolment.store import EnrolmentStore
    from chalicelib.enrolment.use_cases import enrol_file
    from chalicelib.enrolment.wiring import enrolment_deps
    from chalicelib.settings import get_settings
    from devstack.counting import count_aws_calls
    from devstack.provision import provision

    provision("dev", "me-south-1")
    create_group_policy(EnrolmentStore(), POLICY, datetime.now(UTC))
    path = Path(tmp) / "bench.csv"
    generate_hr_csv(path, rows=ROWS, policy_no=POLICY["policy_no"])
    key = f"hr/incoming/{POLICY['policy_no']}/bench.csv"
    boto3.client("s3").upload_file(str(path), get_settings().hr_bucket, key)
    # Emails aside (the target says so): the welcome jobs are counted, not queued, because moto's
    # SQS walks every message of a queue on each send, which real SQS does not.
    welcomes = [0]  # a count, not the jobs: holding 20,000 of them would inflate the memory measured

    def count_welcomes(jobs: list) -> None:
        welcomes[0] += len(jobs)

    deps = dataclasses.replace(enrolment_deps(), enqueue=count_welcomes)
    with count_aws_calls() as calls:
        started = time.perf_counter()
        result = enrol_file(deps, get_settings().hr_bucket, key)
        seconds = time.perf_counter() - started
    print(json.dumps({
        "rows": result.totals["rows"], "created": result.totals["created"] + result.totals["terminated"],
        "errors": result.totals["errors"], "seconds": seconds, "dynamodb_requests": calls.of("dynamodb"),
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "welcomes": welcomes[0],
    }))


if __name__ == "__main__" and sys.argv[1:2] == ["child"]:
    child(sys.argv[2])

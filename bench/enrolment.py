"""HR enrolment at scale: a generated 50,000-row file, enrolled against a moto server in another process.

The embedded AWS runs in its own process (moto keeps every item in memory), the setup (tables,
policy, the generated file) in another, and the enrolment in a third, started by a launcher that
imports nothing but the standard library and reads the enrolment's peak as RUSAGE_CHILDREN. A
child's own ru_maxrss is no use: Linux carries the parent's peak into the child at exec (the bench
parent's 189 MB showed as the enrolment's while it used 120 MB).
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
# Each invocation's time, forced far below Lambda's 900 s so the file needs several (target: 3 or more).
INVOCATION_S = float(os.environ.get("BENCH_HR_INVOCATION_S", "20"))
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
            made = subprocess.run([sys.executable, "-m", "bench.enrolment", "setup", tmp], env=env, cwd=ROOT,
                                  check=True, capture_output=True, text=True, timeout=3000)
            out = subprocess.run([sys.executable, "-I", "-c", _LAUNCHER, sys.executable], env=env, cwd=ROOT,
                                 check=True, capture_output=True, text=True, timeout=3000)
            checked = subprocess.run([sys.executable, "-m", "bench.enrolment", "verify"], env=env, cwd=ROOT,
                                     check=True, capture_output=True, text=True, timeout=600)
        generated = json.loads(made.stdout.strip().splitlines()[-1])
        result = json.loads(out.stdout.strip().splitlines()[-1])
        report = json.loads(checked.stdout.strip().splitlines()[-1])
    finally:
        server.kill()
        server.wait()
    per_row = result["dynamodb_requests"] / result["rows"]
    wrong = report["duplicates"] + report["lost"]
    return [
        Row("enrolment", f"invocations ({INVOCATION_S:g} s each, hand-overs between)", result["invocations"],
            "count", ">= 3", result["invocations"] >= 3),
        Row("enrolment", f"rows per second ({result['rows']:,} rows, moto server)", result["rows"] / result["seconds"],
            "rows/s", "", None),
        Row("enrolment", "peak memory of the enrolment process", result["maxrss_mb"], "MB", "< 256",
            result["maxrss_mb"] < 256),
        # A chunk of 100 rows: 3 batched reads (members in two pages, login names) and 3 transactions of at
        # most 100 items (each member; each new principal's account, email and civil ID login names).
        Row("enrolment", "DynamoDB requests per row", per_row, "requests", "<= 0.065", per_row <= 0.065),
        Row("enrolment", "rows created / errors", result["created"], "rows", f"errors {result['errors']}",
            result["errors"] == 0 and result["created"] == ROWS),
        Row("enrolment", f"rows reported twice / lost ({report['duplicates']} / {report['lost']})", wrong, "rows",
            "0", wrong == 0),
        Row("enrolment", "reports for the file (JSON + CSV each)", report["reports"], "count", "1",
            report["reports"] == 1),
        # The generator's principals less those it terminates (1%): each new one is invited once.
        Row("enrolment", "welcome emails queued (one per new principal in the file)",
            result["welcomes"], "emails", f"= {generated['new_principals']}",
            result["welcomes"] == generated["new_principals"]),
    ]


# The enrolment's parent: the standard library only, so its own small peak is all the child inherits.
_LAUNCHER = (
    "import json, resource, subprocess, sys\n"
    "out = subprocess.run([sys.argv[1], '-m', 'bench.enrolment', 'child'], check=True, capture_output=True,"
    " text=True)\n"
    "result = json.loads(out.stdout.strip().splitlines()[-1])\n"
    "result['maxrss_mb'] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
    "print(json.dumps(result))\n"
)
KEY = f"hr/incoming/{POLICY['policy_no']}/bench.csv"


def setup(tmp: str) -> None:
    """In a process of its own: provision, create the policy, generate the file and drop it."""
    from datetime import UTC, datetime

    import boto3

    from bench.hr_file import generate_hr_csv
    from chalicelib.enrolment.policies import create_group_policy
    from chalicelib.enrolment.store import EnrolmentStore
    from chalicelib.settings import get_settings
    from devstack.provision import provision

    provision("dev", "me-south-1")
    create_group_policy(EnrolmentStore(), POLICY, datetime.now(UTC))
    path = Path(tmp) / "bench.csv"
    made = generate_hr_csv(path, rows=ROWS, policy_no=POLICY["policy_no"])
    boto3.client("s3").upload_file(str(path), get_settings().hr_bucket, KEY)
    print(json.dumps({"rows": made.rows, "principals": made.principals, "new_principals": made.new_principals}))


def child() -> None:
    """The measured process: the enrolment of the dropped file, and nothing else.

    As Lambda runs it: each message on the HR queue is one invocation with a budget of
    INVOCATION_S; an invocation that runs out hands over, and the token it drops comes back
    through S3's notification to the queue, for the next invocation.
    """
    import dataclasses

    import boto3

    from chalicelib.enrolment.continuation import Budget, continue_from_token, start_file
    from chalicelib.enrolment.jobs import _is_continuation, dropped_files, upload
    from chalicelib.enrolment.use_cases import FileResult
    from chalicelib.enrolment.wiring import enrolment_deps
    from chalicelib.settings import get_settings
    from devstack.counting import count_aws_calls

    # Emails aside (the target says so): the welcome jobs are counted, not queued, because moto's
    # SQS walks every message of a queue on each send, which real SQS does not.
    welcomes = [0]  # a count, not the jobs: holding 20,000 of them would inflate the memory measured

    def count_welcomes(jobs: list) -> None:
        welcomes[0] += len(jobs)

    deps = dataclasses.replace(enrolment_deps(), enqueue=count_welcomes)
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=get_settings().hr_queue)["QueueUrl"]
    result: FileResult | None = None
    invocations = 0
    spans: list[float] = []  # each invocation's seconds: past INVOCATION_S is the hand-over's own cost
    with count_aws_calls() as calls:
        started = time.perf_counter()
        while result is None:
            if time.perf_counter() - started > 3000:
                raise TimeoutError("the file was not finished")
            for message in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []):
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                for dropped in dropped_files(message["Body"]):
                    deadline = time.monotonic() + INVOCATION_S
                    budget = Budget(lambda deadline=deadline: deadline - time.monotonic(), margin_s=0)
                    invocations += 1
                    began = time.perf_counter()
                    if _is_continuation(dropped.key):
                        result = continue_from_token(deps, dropped.bucket, dropped.key, budget)
                    else:
                        result = start_file(deps, dropped.bucket, dropped.key, dropped.version_id, upload(dropped),
                                            budget)
                    spans.append(round(time.perf_counter() - began, 1))
        seconds = time.perf_counter() - started
    print(json.dumps({
        "rows": result.totals["rows"], "created": result.totals["created"] + result.totals["terminated"],
        "errors": result.totals["errors"], "seconds": seconds, "dynamodb_requests": calls.of("dynamodb"),
        "welcomes": welcomes[0], "invocations": invocations,
        "invocation_s": spans,
        "operations": {f"{service}.{operation}": n for (service, operation), n in sorted(calls.items())},
    }))


def verify() -> None:
    """In a process of its own (a 50,000-row report read back is not the enrolment's memory): the one report."""
    import boto3

    from chalicelib.enrolment.store import EnrolmentStore
    from chalicelib.settings import get_settings

    entries = [e for e in EnrolmentStore().report_index(POLICY["policy_no"]) if e["key"] == KEY]
    body = boto3.client("s3").get_object(Bucket=get_settings().hr_bucket, Key=entries[-1]["report_json"])["Body"]
    lines = [row["line"] for row in json.loads(body.read())["rows"]]
    print(json.dumps({"reports": len(entries), "duplicates": len(lines) - len(set(lines)),
                      "lost": len(set(range(2, ROWS + 2)) - set(lines))}))


if __name__ == "__main__" and sys.argv[1:2] == ["setup"]:
    setup(sys.argv[2])
elif __name__ == "__main__" and sys.argv[1:2] == ["child"]:
    child()
elif __name__ == "__main__" and sys.argv[1:2] == ["verify"]:
    verify()

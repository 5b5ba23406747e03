"""`make run`, `make job NAME=... [AT=...]`, `make drop FILE=... POLICY=...`, `make policy FILE=...`.

`make run` writes where it listens to .local/stack.json (removed when it stops); the others read it, so
they act on the running stack whatever its ports, and say so plainly when none is running."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import time
from pathlib import Path

from devstack.stack import REGION, LocalStack, local_environment, running_stack


def _ports() -> tuple[int, int]:
    return int(os.environ.get("MOTO_PORT", "5000")), int(os.environ.get("API_PORT", "8000"))


def run() -> None:
    moto_port, api_port = _ports()
    stack = LocalStack(moto_port=moto_port, api_port=api_port, persist=True)
    stack.check_ports()  # a port in use fails now, naming it and its holder, instead of hanging
    # Ctrl-C or a TERM stops everything: all parts are threads of this one process.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    started = time.monotonic()
    try:
        stack.clear_outbox()
        stack.start()  # writes .local/stack.json once it answers: make job/drop/policy find it there
        print(
            f"\nEmbedded AWS (moto) on http://127.0.0.1:{moto_port}\n"
            f"API on http://127.0.0.1:{api_port}  (try /v1/health, /v1/openapi.json)\n"
            f"Sandbox payment pages on {os.environ.get('SANDBOX_PAGE_URL', '')}/<ref> (open a payment_url)\n"
            f"Emails and SMS: {stack.outbox}\n"
            f"Scheduled functions run on their schedule; run one now with: make job NAME=<name>\n"
            f"Drop an HR file: make drop FILE=examples/hr/acme-2026.csv POLICY=GP-ACME-2026\n"
            f"Ready in {time.monotonic() - started:.1f}s. Ctrl-C stops all of it.",
            flush=True,
        )
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
    finally:
        stack.remove_stack_file()
        stack.stop()


def reset() -> None:
    """Forget the embedded AWS's saved state: the next make run starts clean (provisioned, with the demo)."""
    from devstack.stack import StackError, local_dir, state_file

    try:
        stack = running_stack()
    except StackError:
        stack = None  # none running: nothing will write the state back
    if stack is not None:
        raise StackError(f"a make run is running (pid {stack['pid']}): stop it with Ctrl-C first, then make reset")
    for path in (state_file(), local_dir() / "sandbox", local_dir() / "outbox"):
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    print(f"reset: the next make run starts clean ({local_dir()})")


def _attach() -> None:
    """Point this process at the running `make run` (its embedded AWS and outbox), found by .local/stack.json."""
    stack = running_stack()
    os.environ["SANDBOX_PORT"] = str(stack["sandbox_port"])
    os.environ.update(local_environment(int(stack["moto_port"]), int(stack["api_port"]), Path(stack["outbox"])))


def job_time(at: str) -> str:
    """`AT` as the scheduled event's time (UTC, seconds): a date means 09:00 in Kuwait (06:00 UTC) that day."""
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        raise SystemExit(f"AT must be an ISO date or time (2027-01-30 or 2027-01-30T06:00:00Z), not {at!r}") from None
    if len(at) == 10:  # a date alone: the morning the daily jobs run
        when = when.replace(hour=6)
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def job(name: str, at: str | None = None) -> None:
    _attach()
    from app import app
    from devstack.lambdas import invoke, run_job_now, schedule_sources, scheduled_event

    if at is None:
        print(run_job_now(app, name, REGION))
        return
    if name not in schedule_sources(app):
        run_job_now(app, name, REGION)  # says which names exist, and exits
    # The job runs as of AT: the runner hands the event's time to the job (JobRun.at), as EventBridge's is.
    event = scheduled_event(REGION, name)
    event["time"] = job_time(at)
    print(f"{name} as of {event['time']}")
    print(invoke(app, name, event))


def drop(path: str, policy_no: str) -> None:
    _attach()
    from devstack.demo import drop_hr_file

    print(f"dropped s3://…/{drop_hr_file(Path(path), policy_no)}; `make run` delivers it to the handler")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run")
    sub.add_parser("reset")
    job_parser = sub.add_parser("job")
    job_parser.add_argument("name", nargs="?")
    job_parser.add_argument("--at", help="run as of this ISO date or time (UTC)")
    policy_parser = sub.add_parser("policy")
    policy_parser.add_argument("file")
    drop_parser = sub.add_parser("drop")
    drop_parser.add_argument("file")
    drop_parser.add_argument("policy")
    args = parser.parse_args(argv)
    if args.command == "run":
        run()
    elif args.command == "reset":
        reset()
    elif args.command == "job":
        if not args.name:
            _attach()
            from app import app
            from devstack.lambdas import schedule_sources

            sys.exit("usage: make job NAME=<name>; scheduled functions: "
                     + (", ".join(sorted(schedule_sources(app))) or "none yet"))
        job(args.name, args.at)
    elif args.command == "policy":
        _attach()
        from admin.__main__ import main as admin_main

        sys.exit(admin_main(["create-policy", args.file, "--replace"]))
    else:
        drop(args.file, args.policy)


if __name__ == "__main__":
    main(sys.argv[1:])

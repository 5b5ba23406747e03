"""python -m admin create-policy FILE.json [--replace] | never-activated | verify-ledger

Runs against the AWS of the environment: the local stack (make policy FILE=...) or a real
stage with STAGE=dev|prod and AWS credentials (table names come from .chalice/config.json).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def stage_environment(stage: str) -> None:
    from devstack.config import stage_variables

    for name, value in stage_variables(stage).items():
        os.environ.setdefault(name, value)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m admin")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-policy", help="create a group policy from a JSON file")
    create.add_argument("file")
    create.add_argument("--replace", action="store_true", help="replace an existing policy")
    sub.add_parser("never-activated", help="HR-enrolled people whose welcome link expired unused")
    sub.add_parser("verify-ledger", help="check every payment-ledger stream's hash chain; exit 1 on a find")
    args = parser.parse_args(argv)
    stage_environment(os.environ.get("STAGE", "dev"))
    if args.command == "never-activated":
        return never_activated()
    if args.command == "verify-ledger":
        from admin.ledger import verify_ledger

        return verify_ledger()

    from chalicelib.enrolment.policies import create_group_policy
    from chalicelib.enrolment.store import EnrolmentStore
    from chalicelib.errors import AppError

    data = json.loads(Path(args.file).read_text(encoding="utf-8"))
    try:
        policy = create_group_policy(EnrolmentStore(), data, datetime.now(UTC), replace=args.replace)
    except AppError as error:
        print(json.dumps(error.body("en"), ensure_ascii=False, indent=2), file=sys.stderr)
        return 2
    print(f"group policy {policy['policy_no']} ({policy['employer_en']}) with plans {', '.join(policy['plans'])}")
    return 0


def never_activated() -> int:
    from chalicelib.accounts.store import DueStore

    print("expired_at,email,name")
    for account in DueStore().never_activated():
        print(f"{account.invite_due_at.isoformat()},{account.email},{account.name or ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

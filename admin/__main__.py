"""python -m admin create-policy FILE.json [--replace] | never-activated | verify-ledger
                | backfill-renewal-reminders [--dry-run]
                | create-provider NAME | disable-provider CLIENT_ID | rotate-provider-secret CLIENT_ID

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
    backfill = sub.add_parser("backfill-renewal-reminders",
                              help="put residence policies paid before the reminder index into it (one-off)")
    backfill.add_argument("--dry-run", action="store_true", help="count what would be indexed; write nothing")
    provider = sub.add_parser("create-provider", help="a hospital or clinic's FHIR credentials (shown once)")
    provider.add_argument("name")
    for command, text in (("disable-provider", "refuse a provider's tokens and credentials from now on"),
                          ("rotate-provider-secret", "a new client secret (shown once); the old one and its "
                                                     "tokens stop working")):
        sub.add_parser(command, help=text).add_argument("client_id")
    for command in ("create-provider", "disable-provider", "rotate-provider-secret"):
        sub.choices[command].add_argument("--local", action="store_true",
                                          help="act on the running make run (what make provider does)")
    args = parser.parse_args(argv)
    if getattr(args, "local", False):
        local_environment()
    stage_environment(os.environ.get("STAGE", "dev"))
    if args.command in ("create-provider", "disable-provider", "rotate-provider-secret"):
        return providers(args)
    if args.command == "never-activated":
        return never_activated()
    if args.command == "verify-ledger":
        from admin.ledger import verify_ledger

        return verify_ledger()
    if args.command == "backfill-renewal-reminders":
        from admin.reminders import backfill_renewal_reminders

        return backfill_renewal_reminders(dry_run=args.dry_run)

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


def local_environment() -> None:
    """Point this process at the running `make run` (its embedded AWS), found by .local/stack.json."""
    from devstack.stack import local_environment as variables
    from devstack.stack import running_stack

    stack = running_stack()  # none running: a SystemExit that says so (StackError)
    os.environ.update(variables(int(stack["moto_port"]), int(stack["api_port"]), Path(stack["outbox"])))


def providers(args: argparse.Namespace) -> int:
    """Create, disable or rotate a provider's credentials; a secret is printed this once, never stored."""
    from chalicelib.providers import use_cases
    from chalicelib.providers.errors import ProviderNotFound, StaleProvider
    from chalicelib.providers.wiring import provider_deps

    deps = provider_deps()
    try:
        if args.command == "create-provider":
            provider, secret = use_cases.create_provider(deps, args.name)
        elif args.command == "rotate-provider-secret":
            provider, secret = use_cases.rotate_provider_secret(deps, args.client_id)
        else:
            provider, secret = use_cases.disable_provider(deps, args.client_id), None
    except (ProviderNotFound, StaleProvider, ValueError) as error:
        print(f"{args.command}: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    print(f"provider:      {provider.name} ({provider.status})")
    print(f"client_id:     {provider.client_id}")
    if secret is not None:
        print(f"client_secret: {secret}")
        print("The secret is shown this once (only its hash is kept): hand it to the provider over a safe channel.")
    return 0


def never_activated() -> int:
    from chalicelib.accounts.store import DueStore

    print("expired_at,email,name")
    for account in DueStore().never_activated():
        print(f"{account.invite_due_at.isoformat()},{account.email},{account.name or ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

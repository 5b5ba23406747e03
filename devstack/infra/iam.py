"""One IAM policy per Lambda, each allowing only what that function calls (generated, committed).

Chalice gives every function its own role when `autogen_policy` is false; the policy file of each is
named in `.chalice/config.json` under `stages.<stage>.lambda_functions.<name>.iam_policy_file`
(`policy-<stage>-<name>.json`). The stage-level `policy-<stage>.json` is the fallback of a function
with no entry: logs only, so a new function starts with no access to anything.

Each capability declares its functions' needs next to their code (chalicelib/<capability>/functions.py,
read off its stores and use cases; chalicelib/platform/functions.py says how); NEEDS is their
composition: the API function gets the union of every capability's API_NEEDS.
"""

from __future__ import annotations

import importlib

from chalicelib.platform.functions import API_HANDLER, API_MEMORY_MB, OUTBOUND, QUERY, SEND_OUTBOUND, Function, Needs
from devstack.infra.data import TABLES

LEDGER = "payment-ledger"
# The ledger is append-only as far as IAM can say it: these are denied to every function that writes
# it. (PutItem cannot be narrowed to new items; the hash chain shows an overwrite: premiums/ledger.py.)
LEDGER_DENIED = ("dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
                 "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete", "dynamodb:PartiQLInsert")
# Telemetry every function writes: its logs, and X-Ray segments (a role without them can't have
# Active tracing; both can't be narrowed further than this).
LOG_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
SQS_CONSUME = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
SQS_SEND = ("sqs:SendMessage", "sqs:GetQueueUrl")  # send_message_batch is sqs:SendMessage


BASE_QUERIES = (LEDGER, "wallet")  # tables queried by their own key
CAPABILITIES = ("accounts", "enrolment", "cards", "premiums", "providers", "wallet")
# The providers' lookup log is append-only the same way: whoever writes it can neither change nor delete an entry.
LOOKUPS = "provider-lookups"


def _declared() -> dict[str, Function]:
    """Every function, from the capability that owns its code (chalicelib/<capability>/functions.py)."""
    declared: dict[str, Function] = {}
    api, outbound = Needs(), OUTBOUND.needs
    for capability in CAPABILITIES:
        module = importlib.import_module(f"chalicelib.{capability}.functions")
        api |= module.API_NEEDS
        outbound |= module.OUTBOUND_NEEDS
        for name, function in module.FUNCTIONS.items():
            assert name not in declared, f"{name} is declared twice"
            declared[name] = function
    # The API function serves every capability's routes; the sender runs every capability's builders.
    return {API_HANDLER: Function(api, memory_mb=API_MEMORY_MB), **declared,
            SEND_OUTBOUND: Function(outbound, OUTBOUND.timeout_s, OUTBOUND.memory_mb)}


DECLARED = _declared()
NEEDS: dict[str, Needs] = {name: function.needs for name, function in DECLARED.items()}
FUNCTIONS = tuple(NEEDS)


def _telemetry() -> list[dict]:
    return [
        {"Sid": "Logs", "Effect": "Allow", "Action": list(LOG_ACTIONS),
         "Resource": ["arn:aws:logs:*:*:log-group:/aws/lambda/*", "arn:aws:logs:*:*:log-group:/aws/lambda/*:*"]},
        {"Sid": "Traces", "Effect": "Allow", "Action": list(XRAY_ACTIONS), "Resource": "*"},
    ]


def _sid(text: str) -> str:
    return "".join(part.capitalize() for part in text.replace("/", "-").replace("_", "-").split("-") if part)


def _append_only(needs: Needs, table: str) -> list[dict]:
    """Deny changing or deleting what an append-only table holds, to whoever writes it."""
    return [{"Sid": sid, "Effect": "Deny", "Action": list(LEDGER_DENIED),
             "Resource": [f"{table}{name}", f"{table}{name}/index/*"]}
            for name, sid in ((LEDGER, "LedgerAppendOnly"), (LOOKUPS, "LookupsAppendOnly")) if name in needs.tables]


def function_policy(stage: str, function: str) -> dict:
    """The policy of one function's role."""
    needs = NEEDS[function]
    table = f"arn:aws:dynamodb:*:*:table/insure-{stage}-"
    statements = _telemetry()
    for name, actions in needs.tables.items():
        assert name in TABLES, name
        resources = [f"{table}{name}"]
        if QUERY in actions:
            # Queries here go to indexes only, except the ledger check's reads of whole streams and the
            # wallet's (one pass's devices, one device's passes: its own key, no index).
            resources = [f"{table}{name}/index/{index}" for index in needs.indexes.get(name, ())]
            if name in BASE_QUERIES:
                resources.insert(0, f"{table}{name}")
            others = tuple(a for a in actions if a != QUERY)
            if others:
                statements.append({"Sid": f"Table{_sid(name)}", "Effect": "Allow", "Action": list(others),
                                   "Resource": f"{table}{name}"})
            statements.append({"Sid": f"Query{_sid(name)}", "Effect": "Allow", "Action": [QUERY],
                               "Resource": resources if len(resources) > 1 else resources[0]})
            continue
        statements.append({"Sid": f"Table{_sid(name)}", "Effect": "Allow", "Action": list(actions),
                           "Resource": resources[0]})
    statements += _append_only(needs, table)
    for path, actions in needs.s3.items():
        bucket, prefix = path.split("/", 1)
        statements.append({"Sid": f"Objects{_sid(bucket)}{_sid(prefix.split('/')[-2])}", "Effect": "Allow",
                           "Action": list(actions), "Resource": f"arn:aws:s3:::insure-{stage}-{bucket}/{prefix}"})
    for bucket in needs.list_buckets:
        statements.append({"Sid": f"List{_sid(bucket)}", "Effect": "Allow", "Action": ["s3:ListBucket"],
                           "Resource": f"arn:aws:s3:::insure-{stage}-{bucket}"})
    if needs.consumes:
        queues = [f"arn:aws:sqs:*:*:insure-{stage}-{q}" for q in needs.consumes]
        statements.append({"Sid": "QueueConsumed", "Effect": "Allow", "Action": list(SQS_CONSUME),
                           "Resource": queues if len(queues) > 1 else queues[0]})
    if needs.sends_outbound:
        statements.append({"Sid": "OutboundQueueSend", "Effect": "Allow", "Action": list(SQS_SEND),
                           "Resource": f"arn:aws:sqs:*:*:insure-{stage}-outbound"})
    if needs.secrets:
        # Secrets Manager appends 6 random characters to a secret's name in its ARN.
        secrets = [f"arn:aws:secretsmanager:*:*:secret:insure-{stage}/{s}-??????" for s in needs.secrets]
        statements.append({"Sid": "Secrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                           "Resource": secrets if len(secrets) > 1 else secrets[0]})
    if needs.email:
        # The sender address is a deploy parameter now; the identity and configuration set ARNs vary with it.
        statements.append({"Sid": "Email", "Effect": "Allow", "Action": ["ses:SendEmail"], "Resource": "*"})
    if needs.sms:
        # SMS goes to phone numbers, which have no ARN: Publish is narrowed to "not a topic".
        statements.append({"Sid": "Sms", "Effect": "Allow", "Action": ["sns:Publish"],
                           "NotResource": "arn:aws:sns:*:*:*"})
    return {"Version": "2012-10-17", "Statement": statements}


def policy_file(stage: str, function: str) -> str:
    return f"policy-{stage}-{function}.json"


def function_policies(stage: str) -> dict[str, dict]:
    """File name (in .chalice/) -> policy, one per function."""
    return {policy_file(stage, function): function_policy(stage, function) for function in FUNCTIONS}


def iam_policy(stage: str) -> dict:
    """The stage-level fallback (`policy-<stage>.json`): a function without its own file gets logs only."""
    return {"Version": "2012-10-17", "Statement": _telemetry()}


def lambda_functions(stage: str) -> dict[str, dict[str, object]]:
    """`.chalice/config.json`'s `lambda_functions` of a stage: each function's policy file and limits."""
    out: dict[str, dict[str, object]] = {}
    for name, function in DECLARED.items():
        entry: dict[str, object] = {}
        if function.timeout_s is not None:
            entry["lambda_timeout"] = function.timeout_s
        if function.memory_mb is not None:
            entry["lambda_memory_size"] = function.memory_mb
        entry["iam_policy_file"] = policy_file(stage, name)
        out[name] = entry
    return out

"""One IAM policy per Lambda, each allowing only what that function calls (generated, committed).

Chalice gives every function its own role when `autogen_policy` is false; the policy file of each is
named in `.chalice/config.json` under `stages.<stage>.lambda_functions.<name>.iam_policy_file`
(`policy-<stage>-<name>.json`). The stage-level `policy-<stage>.json` is the fallback of a function
with no entry: logs only, so a new function starts with no access to anything.

NEEDS is read off the code (adapters and the services each handler calls): PynamoDB's `get` is
GetItem, `query` Query, `save` PutItem, `update` UpdateItem, `delete` DeleteItem, `batch_get`
BatchGetItem, `batch_write` BatchWriteItem; inside TransactWriteItems IAM checks each item's own
action (a Put is dynamodb:PutItem), so a transaction needs no action of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class Needs:
    """What one function calls: table -> actions, table -> indexes queried, S3 prefixes, queues, secrets."""

    tables: dict[str, tuple[str, ...]] = field(default_factory=dict)
    indexes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    s3: dict[str, tuple[str, ...]] = field(default_factory=dict)  # "<bucket suffix>/<prefix>*" -> actions
    list_buckets: tuple[str, ...] = ()
    consumes: tuple[str, ...] = ()  # queue suffixes
    sends_outbound: bool = False
    secrets: tuple[str, ...] = ()
    email: bool = False
    sms: bool = False


GET, PUT, UPDATE, DELETE = "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"
BATCH_GET, BATCH_WRITE, QUERY = "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:Query"
PAYMENT_GATEWAY_SECRETS = ("payment-callback", "knet-terminal")  # sandbox (dev) and KNET (prod)

NEEDS: dict[str, Needs] = {
    # Every route: accounts (AccountStore), premiums (PremiumStore), cards (InsuredPeople, CardStore).
    # Mail and SMS only go on the outbound queue from here; the sender delivers them.
    "api_handler": Needs(
        tables={
            "accounts": (GET, PUT), "usernames": (GET, PUT), "throttles": (GET, UPDATE),
            "tokens": (GET, PUT, UPDATE),
            "sessions": (GET, PUT, UPDATE, DELETE, QUERY, BATCH_WRITE),
            "policies": (GET, BATCH_GET), "members": (GET, QUERY),
            "applications": (GET, PUT, UPDATE), "payments": (GET, PUT, UPDATE, QUERY),
            "residence-policies": (GET, UPDATE, QUERY), LEDGER: (GET, PUT),
            "idempotency-keys": (GET, PUT, DELETE),
        },
        indexes={"sessions": ("by_account",), "members": ("by_account",), "payments": ("by_account",),
                 "residence-policies": ("by_account",)},
        # HEAD and presigned GETs are s3:GetObject; a refresh copies a card onto itself (Get + Put).
        s3={"cards/cards/*": ("s3:GetObject", "s3:PutObject")},
        list_buckets=("cards",),  # without it S3 answers a HEAD of a card not drawn yet 403, not 404
        sends_outbound=True,
        secrets=("jwt-signing", "accounts-hmac", "card-signing", *PAYMENT_GATEWAY_SECRETS),
    ),
    # The internet-facing authorizer: verifies a token with the signing secret's keys, reads nothing else.
    "jwt_authorizer": Needs(secrets=("jwt-signing",)),
    "hr_file_arrived": Needs(
        tables={"policies": (GET,), "members": (BATCH_GET, PUT), "accounts": (BATCH_GET, PUT),
                "usernames": (BATCH_GET, PUT, DELETE)},
        s3={"hr/hr/incoming/*": ("s3:GetObject", "s3:GetObjectVersion"),
            "hr/hr/reports/*": ("s3:PutObject", "s3:AbortMultipartUpload")},
        consumes=("hr-files",), sends_outbound=True,
    ),
    "hr_file_failed": Needs(s3={"hr/hr/reports/*": ("s3:PutObject", "s3:AbortMultipartUpload")},
                            consumes=("hr-files-dlq",)),
    # Welcome and reset emails are minted at send time: accounts, login names, tokens, hourly limits.
    "send_outbound": Needs(
        tables={"accounts": (GET, PUT), "usernames": (GET,), "tokens": (PUT,), "throttles": (UPDATE,)},
        consumes=("outbound",), email=True, sms=True,
    ),
    "reconcile_payments": Needs(
        tables={"payments": (GET, UPDATE, QUERY), "applications": (GET, UPDATE),
                "residence-policies": (GET, UPDATE), LEDGER: (GET, PUT), "idempotency-keys": (DELETE,),
                "accounts": (GET,)},
        indexes={"payments": ("due_for_reconciliation",)},
        sends_outbound=True, secrets=PAYMENT_GATEWAY_SECRETS,
    ),
    "expire_invites": Needs(tables={"accounts": (QUERY, UPDATE)}, indexes={"accounts": ("by_invite_due",)}),
    "expire_passwords": Needs(tables={"accounts": (QUERY, UPDATE)}, indexes={"accounts": ("by_password_due",)},
                              sends_outbound=True),
    "purge_tokens": Needs(tables={"tokens": (QUERY, DELETE)}, indexes={"tokens": ("by_due",)}),
    "purge_sessions": Needs(tables={"sessions": (QUERY, DELETE)}, indexes={"sessions": ("by_due",)}),
    "verify_ledger": Needs(tables={LEDGER: (QUERY,)}, indexes={LEDGER: ("streams",)}),
}
FUNCTIONS = tuple(NEEDS)


def _telemetry() -> list[dict]:
    return [
        {"Sid": "Logs", "Effect": "Allow", "Action": list(LOG_ACTIONS),
         "Resource": ["arn:aws:logs:*:*:log-group:/aws/lambda/*", "arn:aws:logs:*:*:log-group:/aws/lambda/*:*"]},
        {"Sid": "Traces", "Effect": "Allow", "Action": list(XRAY_ACTIONS), "Resource": "*"},
    ]


def _sid(text: str) -> str:
    return "".join(part.capitalize() for part in text.replace("/", "-").replace("_", "-").split("-") if part)


def function_policy(stage: str, function: str) -> dict:
    """The policy of one function's role."""
    needs = NEEDS[function]
    table = f"arn:aws:dynamodb:*:*:table/insure-{stage}-"
    statements = _telemetry()
    for name, actions in needs.tables.items():
        assert name in TABLES, name
        resources = [f"{table}{name}"]
        if QUERY in actions:
            # Queries here go to indexes only, except the ledger check's reads of whole streams.
            resources = [f"{table}{name}/index/{index}" for index in needs.indexes.get(name, ())]
            if name == LEDGER:
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
    if LEDGER in needs.tables:
        statements.append({"Sid": "LedgerAppendOnly", "Effect": "Deny", "Action": list(LEDGER_DENIED),
                           "Resource": [f"{table}{LEDGER}", f"{table}{LEDGER}/index/*"]})
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

"""One role per function, each allowing exactly what the table below says that function calls.

The table is written here by hand, apart from the generator (devstack/infra/iam.py), so a widened
policy fails a test; the committed policy files are what the generator writes, and the config names
one for every function Chalice deploys.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devstack.infra import iam

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
STAGES = ("dev", "prod")

G, P, U, D = "GetItem", "PutItem", "UpdateItem", "DeleteItem"
BG, BW, Q = "BatchGetItem", "BatchWriteItem", "Query"
# function -> {resource (insure-<stage>- left out) -> actions}. "t:" a table, "i:" table/index, "s3:", "sqs:",
# "secret:"; SES and SNS by name. Logs and X-Ray (every function's telemetry) are checked apart.
EXPECTED: dict[str, dict[str, set[str]]] = {
    "api_handler": {
        "t:accounts": {G, P}, "t:usernames": {G, P}, "t:throttles": {G, U}, "t:tokens": {G, P, U},
        "t:sessions": {G, P, U, D, BW}, "i:sessions/by_account": {Q},
        "t:policies": {G, BG}, "t:members": {G}, "i:members/by_account": {Q},
        "t:applications": {G, P, U}, "t:payments": {G, P, U}, "i:payments/by_account": {Q},
        "t:residence-policies": {G, U}, "i:residence-policies/by_account": {Q},
        "t:payment-ledger": {G, P}, "t:idempotency-keys": {G, P, D},
        "s3:cards/cards/*": {"s3:GetObject", "s3:PutObject"}, "s3:cards": {"s3:ListBucket"},
        "s3:cards/crl/*": {"s3:GetObject", "s3:PutObject"},  # SMART Health Card revocation lists
        "sqs:outbound": {"sqs:SendMessage", "sqs:GetQueueUrl"},
        "secret:jwt-signing": {"GetSecretValue"}, "secret:accounts-hmac": {"GetSecretValue"},
        "secret:card-signing": {"GetSecretValue"}, "secret:payment-callback": {"GetSecretValue"},
        "secret:knet-terminal": {"GetSecretValue"},
        # Providers: credentials read, the append-only lookup log, members by civil ID (keys only).
        "t:providers": {G}, "t:provider-lookups": {P}, "i:provider-lookups/by_account": {Q},
        "i:members/by_civil_id": {Q}, "secret:providers-hmac": {"GetSecretValue"},
        # Wallet passes: registrations and update tags (queried by their own key), Apple's, Google's and the
        # pass tokens' secrets.
        "t:wallet": {G, P, U, D, BG, Q}, "secret:apple-wallet": {"GetSecretValue"},
        "secret:google-wallet": {"GetSecretValue"}, "secret:wallet-pass-auth": {"GetSecretValue"},
    },
    "jwt_authorizer": {"secret:jwt-signing": {"GetSecretValue"}},
    "hr_file_arrived": {
        "t:policies": {G}, "t:members": {BG, P}, "t:accounts": {BG, P}, "t:usernames": {BG, P, D},
        "s3:hr/hr/incoming/*": {"s3:GetObject", "s3:GetObjectVersion"},
        "s3:hr/hr/reports/*": {"s3:PutObject", "s3:AbortMultipartUpload"},
        # A file enrolled in several invocations: its run's objects, and the token starting the next one.
        "s3:hr/hr/runs/*": {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"},
        "s3:hr/hr/incoming/*/_continue/*": {"s3:PutObject", "s3:DeleteObject"},
        "sqs:hr-files": {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"},
        "sqs:outbound": {"sqs:SendMessage", "sqs:GetQueueUrl"},
        # A member HR terminates has their cards revoked (the CRLs, the card key).
        "s3:cards/crl/*": {"s3:GetObject", "s3:PutObject"}, "s3:cards": {"s3:ListBucket"},
        "secret:card-signing": {"GetSecretValue"},
    },
    "hr_file_failed": {
        "s3:hr/hr/reports/*": {"s3:PutObject", "s3:AbortMultipartUpload"},
        "sqs:hr-files-dlq": {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"},
    },
    "send_outbound": {
        "t:accounts": {G, P}, "t:usernames": {G}, "t:tokens": {P}, "t:throttles": {U},
        "sqs:outbound": {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"},
        "ses": {"ses:SendEmail"}, "sns-sms": {"sns:Publish"},
        # A card's change reaching its wallet passes: tags, registrations (a gone device forgotten), the card
        # read again by member id and signed for Google's object, and the wallets' secrets.
        "t:wallet": {G, U, D, BG, Q}, "t:members": {G}, "t:policies": {G}, "t:residence-policies": {G},
        "secret:card-signing": {"GetSecretValue"}, "secret:apple-wallet": {"GetSecretValue"},
        "secret:google-wallet": {"GetSecretValue"}, "secret:wallet-pass-auth": {"GetSecretValue"},
    },
    "reconcile_payments": {
        "t:payments": {G, U}, "i:payments/due_for_reconciliation": {Q}, "t:applications": {G, U},
        "t:residence-policies": {G, U}, "t:payment-ledger": {G, P}, "t:idempotency-keys": {D},
        "t:accounts": {G}, "sqs:outbound": {"sqs:SendMessage", "sqs:GetQueueUrl"},
        "secret:payment-callback": {"GetSecretValue"}, "secret:knet-terminal": {"GetSecretValue"},
        # A refund it completes that ends the cover revokes the insured's cards (the CRLs, the card key).
        "s3:cards/crl/*": {"s3:GetObject", "s3:PutObject"}, "s3:cards": {"s3:ListBucket"},
        "secret:card-signing": {"GetSecretValue"},
    },
    "expire_invites": {"i:accounts/by_invite_due": {Q}, "t:accounts": {U}},
    "expire_passwords": {"i:accounts/by_password_due": {Q}, "t:accounts": {U},
                         "sqs:outbound": {"sqs:SendMessage", "sqs:GetQueueUrl"}},
    "purge_tokens": {"i:tokens/by_due": {Q}, "t:tokens": {D}},
    "purge_sessions": {"i:sessions/by_due": {Q}, "t:sessions": {D}},
    "verify_ledger": {"t:payment-ledger": {Q}, "i:payment-ledger/streams": {Q}},
    # Renewal reminders: the due policies by index, one conditional write each, the messages queued.
    "remind_renewals": {"i:residence-policies/due_for_renewal_reminder": {Q}, "t:residence-policies": {U},
                        "sqs:outbound": {"sqs:SendMessage", "sqs:GetQueueUrl"}},
}
TELEMETRY = {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
             "xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _short(resource: str, stage: str) -> str:
    prefix = f"insure-{stage}-"
    if resource.startswith("arn:aws:dynamodb:*:*:table/" + prefix):
        rest = resource.removeprefix("arn:aws:dynamodb:*:*:table/" + prefix)
        return f"i:{rest.replace('/index/', '/')}" if "/index/" in rest else f"t:{rest}"
    if resource.startswith("arn:aws:s3:::" + prefix):
        return "s3:" + resource.removeprefix("arn:aws:s3:::" + prefix)
    if resource.startswith("arn:aws:sqs:*:*:" + prefix):
        return "sqs:" + resource.removeprefix("arn:aws:sqs:*:*:" + prefix)
    secret = f"arn:aws:secretsmanager:*:*:secret:insure-{stage}/"
    if resource.startswith(secret) and resource.endswith("-??????"):
        return "secret:" + resource.removeprefix(secret).removesuffix("-??????")
    raise AssertionError(f"a resource outside the stage's own: {resource}")


def allowed(policy: dict, stage: str) -> dict[str, set[str]]:
    """resource -> actions, from the Allow statements other than telemetry."""
    out: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow" or set(_listed(statement["Action"])) <= TELEMETRY:
            continue
        actions = {a.removeprefix("dynamodb:").removeprefix("secretsmanager:") for a in _listed(statement["Action"])}
        assert not any("*" in a for a in actions), statement
        if "NotResource" in statement:
            assert statement["NotResource"] == "arn:aws:sns:*:*:*" and actions == {"sns:Publish"}
            out.setdefault("sns-sms", set()).update(actions)
            continue
        for resource in _listed(statement["Resource"]):
            key = "ses" if resource == "*" and actions == {"ses:SendEmail"} else _short(resource, stage)
            out.setdefault(key, set()).update(actions)
    return out


def deployed_functions() -> set[str]:
    from app import app

    names = {"api_handler"} | {source.name for source in app.event_sources}
    return names | set(app.builtin_auth_handlers and [a.name for a in app.builtin_auth_handlers])


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_allows_exactly_what_the_table_says(stage):
    assert set(iam.FUNCTIONS) == set(EXPECTED)
    for function, expected in EXPECTED.items():
        assert allowed(iam.function_policy(stage, function), stage) == expected, function


@pytest.mark.parametrize("stage", STAGES)
def test_the_authorizer_reads_the_signing_secret_and_nothing_else(stage):
    policy = iam.function_policy(stage, "jwt_authorizer")
    other = [s for s in policy["Statement"] if not set(_listed(s["Action"])) <= TELEMETRY]
    assert other == [{"Sid": "Secrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                      "Resource": f"arn:aws:secretsmanager:*:*:secret:insure-{stage}/jwt-signing-??????"}]
    telemetry = [s for s in policy["Statement"] if set(_listed(s["Action"])) <= TELEMETRY]
    assert all(s["Effect"] == "Allow" for s in telemetry)
    assert {r for s in telemetry if s["Sid"] == "Logs" for r in _listed(s["Resource"])} == {
        "arn:aws:logs:*:*:log-group:/aws/lambda/*", "arn:aws:logs:*:*:log-group:/aws/lambda/*:*"}


@pytest.mark.parametrize("stage", STAGES)
def test_only_the_payment_functions_touch_the_ledger_and_none_can_change_it(stage):
    touching = {f for f in iam.FUNCTIONS
                if any(k.startswith(("t:payment-ledger", "i:payment-ledger"))
                       for k in allowed(iam.function_policy(stage, f), stage))}
    assert touching == {"api_handler", "reconcile_payments", "verify_ledger"}
    writers = {f for f in touching if P in allowed(iam.function_policy(stage, f), stage)["t:payment-ledger"]}
    assert writers == {"api_handler", "reconcile_payments"}
    for function in iam.FUNCTIONS:
        policy = iam.function_policy(stage, function)
        ledger = allowed(policy, stage).get("t:payment-ledger", set())
        assert not ledger & {U, D, BW, "PartiQLUpdate", "PartiQLDelete"}, function
        if ledger:
            deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
            assert {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} <= set(
                deny[0]["Action"])
            assert f"arn:aws:dynamodb:*:*:table/insure-{stage}-payment-ledger" in deny[0]["Resource"]


@pytest.mark.parametrize("stage", STAGES)
def test_the_provider_lookup_log_is_append_only_for_whoever_writes_it(stage):
    for function in iam.FUNCTIONS:
        policy = iam.function_policy(stage, function)
        lookups = allowed(policy, stage).get("t:provider-lookups", set())
        assert not lookups & {U, D, BW}, function
        if lookups:
            (deny,) = [s for s in policy["Statement"] if s["Sid"] == "LookupsAppendOnly"]
            assert deny["Effect"] == "Deny" and {"dynamodb:UpdateItem", "dynamodb:DeleteItem"} <= set(deny["Action"])
            assert f"arn:aws:dynamodb:*:*:table/insure-{stage}-provider-lookups" in deny["Resource"]


@pytest.mark.parametrize("stage", STAGES)
def test_no_function_scans_or_holds_a_wildcard(stage):
    for function in iam.FUNCTIONS:
        for statement in iam.function_policy(stage, function)["Statement"]:
            assert "dynamodb:Scan" not in _listed(statement["Action"])
            assert not any(a.endswith(":*") or a == "*" for a in _listed(statement["Action"]))


@pytest.mark.parametrize("stage", STAGES)
def test_every_deployed_function_has_its_own_committed_policy_file(stage):
    functions = CONFIG["stages"][stage]["lambda_functions"]
    assert deployed_functions() == set(iam.FUNCTIONS)
    # Timeouts, memory and policy files are what each capability's functions.py declares.
    assert functions == iam.lambda_functions(stage), "run python -m devstack.gen_resources"
    assert CONFIG["stages"][stage]["autogen_policy"] is False
    for function in iam.FUNCTIONS:
        name = functions[function]["iam_policy_file"]
        assert name == f"policy-{stage}-{function}.json"
        committed = json.loads((ROOT / ".chalice" / name).read_text(encoding="utf-8"))
        assert committed == iam.function_policy(stage, function), f"run python -m devstack.gen_resources ({name})"
    # The stage-level file is only a fallback: a function without an entry gets telemetry and nothing else.
    fallback = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text(encoding="utf-8"))
    assert fallback == iam.iam_policy(stage)
    assert all(set(_listed(s["Action"])) <= TELEMETRY for s in fallback["Statement"])


def test_the_api_function_gets_the_memory_its_logins_were_sized_for():
    from chalicelib.platform.functions import API_MEMORY_MB

    # Its own entry carries it; the app default (512 MB) is for functions that declare none.
    assert CONFIG["lambda_memory_size"] == 512
    for stage in STAGES:
        assert "lambda_memory_size" not in CONFIG["stages"][stage]
        assert CONFIG["stages"][stage]["lambda_functions"]["api_handler"]["lambda_memory_size"] == API_MEMORY_MB


def test_a_cached_token_is_accepted_at_most_fifteen_minutes_after_it_was_issued():
    from app import app
    from chalicelib.settings import get_settings

    (authorizer,) = app.builtin_auth_handlers
    token_life = get_settings().lifetimes.access_token_s
    # A cached allow outlives its token by up to the TTL: a revoked session's token must still die
    # within the 15 minutes it had before the cache (README).
    assert authorizer.ttl_seconds > 0
    assert token_life + authorizer.ttl_seconds <= 15 * 60


def test_a_cached_allow_covers_every_method_and_path_of_its_kind_of_token():
    # API Gateway reuses a cached policy for every route the token calls: a member's ("/v1/*") must allow
    # every member route, a provider's ("/fhir/*") every FHIR route, and neither the other's.
    from chalice.app import AuthRequest, AuthResponse

    from app import app
    from chalicelib.accounts.api import MEMBER_ROUTES, PROVIDER_ROUTES

    request = AuthRequest("TOKEN", "Bearer x", "arn:aws:execute-api:me-south-1:123:abc/api/GET/v1/me")
    for routes, allowed in ((MEMBER_ROUTES, "*/v1/*"), (PROVIDER_ROUTES, "*/fhir/*")):
        policy = AuthResponse(routes=[routes], principal_id="a").to_dict(request)["policyDocument"]
        assert policy["Statement"][0]["Resource"] == [f"arn:aws:execute-api:me-south-1:123:abc/api/{allowed}"]
    protected = {path for path, methods in app.routes.items() for entry in methods.values() if entry.authorizer}
    assert all(path.startswith(("/v1/", "/fhir/")) for path in protected), protected
    assert {p for p in protected if p.startswith("/fhir/")} == {
        "/fhir/CoverageEligibilityRequest", "/fhir/Coverage", "/fhir/Coverage/{coverage_id}"}

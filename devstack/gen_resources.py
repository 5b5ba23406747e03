"""Writes resources.json (run by hand when the infrastructure changes; the file is committed).

Kept as code so the five tables' shared settings are written once; the committed
JSON is what `chalice package --merge-template` and the local stack read.
"""

from __future__ import annotations

import json
from pathlib import Path

from chalicelib.errors import (
    BadRequest,
    Internal,
    NotFound,
    Text,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)

ROOT = Path(__file__).resolve().parent.parent


def sub(text: str) -> dict:
    return {"Fn::Sub": text}


def table(name: str, key: list[tuple[str, str, str]], *, ttl: str | None = None,
          indexes: list[dict] | None = None, stream: bool = False) -> dict:
    attrs: dict[str, str] = {}
    for attr, kind, _ in key:
        attrs[attr] = kind
    for index in indexes or []:
        for attr, kind, _ in index["key"]:
            attrs[attr] = kind
    props: dict = {
        "TableName": sub(f"insure-${{Stage}}-{name}"),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": t} for a, t in attrs.items()],
        "KeySchema": [{"AttributeName": a, "KeyType": k} for a, _, k in key],
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
        "DeletionProtectionEnabled": {"Fn::If": ["IsProd", True, False]},
    }
    if ttl:
        props["TimeToLiveSpecification"] = {"AttributeName": ttl, "Enabled": True}
    if indexes:
        props["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index["name"],
                "KeySchema": [{"AttributeName": a, "KeyType": k} for a, _, k in index["key"]],
                "Projection": index.get("projection", {"ProjectionType": "ALL"}),
            }
            for index in indexes
        ]
    if stream:
        props["StreamSpecification"] = {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    return {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain", "Properties": props}


PUBLIC_ACCESS_BLOCKED = {
    "BlockPublicAcls": True, "BlockPublicPolicy": True,
    "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
}
ENCRYPTED = {"ServerSideEncryptionConfiguration": [
    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]}


def tls_only_policy(bucket_ref: str) -> dict:
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": bucket_ref},
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [{"Fn::GetAtt": [bucket_ref, "Arn"]},
                             {"Fn::Sub": f"${{{bucket_ref}.Arn}}/*"}],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }]},
        },
    }


def _envelope(code: str, text: Text, status: str | None = None, headers: dict[str, str] | None = None) -> dict:
    # A gateway response's template only substitutes variables ($context...): no #if, so it cannot pick
    # a language from Accept-Language. The message carries both, English then Arabic, and says so.
    message = f"{text.en} / {text.ar}"
    # ASCII with \\u escapes: the client's JSON parser restores the Arabic, whatever the gateway's charset.
    body = json.dumps({"error": {"code": code, "message": message, "request_id": "$context.requestId"}})
    parameters = {"gatewayresponse.header.Content-Type": "'application/json'",
                  "gatewayresponse.header.Content-Language": "'en, ar'",
                  **{f"gatewayresponse.header.{name}": f"'{value}'" for name, value in (headers or {}).items()}}
    response = {"responseTemplates": {"application/json": body}, "responseParameters": parameters}
    return {"statusCode": status, **response} if status else response


def gateway_responses() -> dict:
    """API Gateway's own answers in the app's envelope, with the statuses and codes `make run` gives.

    devstack/local_gateway.py maps chalice.local's answers the same way; a test holds them together.
    """
    # RFC 6750: a 401 names the scheme. 401, not 403, for a denied token: that makes the app refresh.
    bearer = {"WWW-Authenticate": "Bearer"}
    signed_out = _envelope("UNAUTHORIZED", Unauthorized.text, "401", bearer)
    not_found = _envelope("NOT_FOUND", NotFound.text, "404")
    return {
        "UNAUTHORIZED": signed_out,  # no Authorization header: the authorizer is not even called
        "ACCESS_DENIED": signed_out,  # our authorizer denies a bad, forged or expired token
        "EXPIRED_TOKEN": signed_out,
        # API Gateway's answer to a path it does not route, and to a method the path does not take.
        "MISSING_AUTHENTICATION_TOKEN": not_found,
        "RESOURCE_NOT_FOUND": not_found,
        "UNSUPPORTED_MEDIA_TYPE": _envelope("UNSUPPORTED_MEDIA_TYPE", UnsupportedMediaType.text, "415"),
        "REQUEST_TOO_LARGE": _envelope("PAYLOAD_TOO_LARGE", Text(
            "The request is too large.", "الطلب أكبر من المسموح."), "413"),
        "THROTTLED": _envelope("TOO_MANY_REQUESTS", TooManyRequests.text, "429"),
        # The defaults keep API Gateway's own status (400, 403, 502, 504...).
        "DEFAULT_4XX": _envelope("BAD_REQUEST", BadRequest.text),
        "DEFAULT_5XX": _envelope("INTERNAL", Internal.text),
    }


def due_index(name: str, shard: str, due_at: str, projection: str = "KEYS_ONLY") -> dict:
    # Keys only where the job just deletes with a condition; ALL where it writes to the person.
    return {"name": name, "key": [(shard, "S", "HASH"), (due_at, "S", "RANGE")],
            "projection": {"ProjectionType": projection}}


def template() -> dict:
    resources: dict = {
        # Scheduled jobs read only what is due through sparse "due" indexes: an item carries a
        # (shard, due time) pair only while a job has something to do with it. The shard number
        # (0-7) in the key spreads one day's due items over 8 partitions instead of one hot key.
        "AccountsTable": table("accounts", [("account_id", "S", "HASH")], indexes=[
            due_index("by_invite_due", "invite_shard", "invite_due_at", "ALL"),
            due_index("by_password_due", "password_shard", "password_due_at", "ALL"),
        ]),
        # One item per login name (email or civil ID): a conditional put keeps them unique.
        "UsernamesTable": table("usernames", [("username", "S", "HASH")]),
        # Activation, reset, challenge and registration tokens, stored by SHA-256 only.
        "TokensTable": table("tokens", [("token_hash", "S", "HASH")], ttl="expires_ttl",
                             indexes=[due_index("by_due", "due_shard", "due_at")]),
        "SessionsTable": table(
            "sessions", [("session_id", "S", "HASH")], ttl="expires_ttl",
            indexes=[{"name": "by_account",
                      "key": [("account_id", "S", "HASH"), ("created_at", "S", "RANGE")]},
                     due_index("by_due", "due_shard", "due_at")],
        ),
        # Employers' group policies, created by the admin command before their HR files.
        "PoliciesTable": table("policies", [("policy_no", "S", "HASH")]),
        # Every insured person (the card number is the key); an account sees its people by index.
        "MembersTable": table(
            "members", [("member_id", "S", "HASH")],
            indexes=[{"name": "by_account", "key": [("account_id", "S", "HASH"), ("member_id", "S", "RANGE")]}],
        ),
        # Lockout and rate-limit counters; they only need deleting, so TTL does it.
        "ThrottlesTable": table("throttles", [("key", "S", "HASH")], ttl="expires_ttl"),
        # Residence premiums. An application is what the person reviewed and confirmed.
        "ApplicationsTable": table(
            "applications", [("application_id", "S", "HASH")],
            indexes=[{"name": "by_account", "key": [("account_id", "S", "HASH"), ("created_at", "S", "RANGE")]}],
        ),
        # Payments; pending ones also sit in a sparse index by the time reconciliation is due.
        "PaymentsTable": table(
            "payments", [("payment_id", "S", "HASH")],
            indexes=[{"name": "by_account", "key": [("account_id", "S", "HASH"), ("created_at", "S", "RANGE")]},
                     {"name": "due_for_reconciliation",
                      "key": [("reconcile_queue", "S", "HASH"), ("reconcile_due_at", "S", "RANGE")]}],
        ),
        # One item per insured civil ID: its periods, and a lock while a payment or refund is in flight.
        "ResidencePoliciesTable": table(
            "residence-policies", [("insured_civil_id", "S", "HASH")],
            indexes=[{"name": "by_account",
                      "key": [("account_id", "S", "HASH"), ("insured_civil_id", "S", "RANGE")]}],
        ),
        # Append-only: every state change of applications, payments and policies (the role cannot update it).
        "PaymentLedgerTable": table("payment-ledger", [("stream", "S", "HASH"), ("event_key", "S", "RANGE")]),
        # Idempotency-Key claims of POST .../pay, scoped to the account; they expire by TTL.
        "IdempotencyKeysTable": table("idempotency-keys", [("key", "S", "HASH")], ttl="expires_ttl"),
        "HrBucket": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            # S3 checks that it may write to the queue when the notification is set.
            "DependsOn": ["HrQueuePolicy"],
            "Properties": {
                "BucketName": sub("insure-${Stage}-hr"),
                "VersioningConfiguration": {"Status": "Enabled"},
                "PublicAccessBlockConfiguration": PUBLIC_ACCESS_BLOCKED,
                "BucketEncryption": ENCRYPTED,
                "LifecycleConfiguration": {"Rules": [
                    {"Id": "OldVersions", "Status": "Enabled",
                     "NoncurrentVersionExpiration": {"NoncurrentDays": 90}},
                    {"Id": "AbortUploads", "Status": "Enabled",
                     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
                ]},
                "NotificationConfiguration": {"QueueConfigurations": [{
                    "Event": "s3:ObjectCreated:*",
                    "Queue": {"Fn::GetAtt": ["HrQueue", "Arn"]},
                    "Filter": {"S3Key": {"Rules": [
                        {"Name": "prefix", "Value": "hr/incoming/"},
                        {"Name": "suffix", "Value": ".csv"},
                    ]}},
                }]},
            },
        },
        "HrBucketPolicy": tls_only_policy("HrBucket"),
        "CardsBucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": sub("insure-${Stage}-cards"),
                "PublicAccessBlockConfiguration": PUBLIC_ACCESS_BLOCKED,
                "BucketEncryption": ENCRYPTED,
                "LifecycleConfiguration": {"Rules": [
                    {"Id": "AbortUploads", "Status": "Enabled",
                     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
                    # Card keys are content-addressed: a change writes a new object and the old one is
                    # never read again. S3 cannot expire "not read for N days", so every card expires
                    # N days after it was written, and the app copies a card still in use onto itself
                    # a day before that (adapters/card_store.py: CARD_OBJECT_DAYS, keep in step).
                    {"Id": "SupersededCards", "Status": "Enabled", "Prefix": "cards/", "ExpirationInDays": 30},
                ]},
            },
        },
        "CardsBucketPolicy": tls_only_policy("CardsBucket"),
        "HrQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": sub("insure-${Stage}-hr-files"),
                # At least the handler's timeout (900 s), so a file is never run twice at once.
                "VisibilityTimeout": 5400,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": ["HrDeadLetterQueue", "Arn"]},
                    "maxReceiveCount": 3,
                },
            },
        },
        "HrDeadLetterQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": sub("insure-${Stage}-hr-files-dlq"),
                "MessageRetentionPeriod": 1209600,
                "SqsManagedSseEnabled": True,
            },
        },
        # Every email and SMS waits here; the sender drains it at SES's rate, retrying failures.
        "OutboundQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": sub("insure-${Stage}-outbound"),
                "VisibilityTimeout": 360,  # six times the sender's timeout (60 s)
                # Kept the longest SQS allows: an SES outage of days delays messages, never drops them.
                "MessageRetentionPeriod": 1209600,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": ["OutboundDeadLetterQueue", "Arn"]},
                    "maxReceiveCount": 5,
                },
            },
        },
        "OutboundDeadLetterQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": sub("insure-${Stage}-outbound-dlq"),
                "MessageRetentionPeriod": 1209600,
                "SqsManagedSseEnabled": True,
            },
        },
        "HrQueuePolicy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [{"Ref": "HrQueue"}],
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Sid": "HrBucketNotifies",
                    "Effect": "Allow",
                    "Principal": {"Service": "s3.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": {"Fn::GetAtt": ["HrQueue", "Arn"]},
                    "Condition": {
                        # The bucket's ARN by name: a Ref would make a cycle with DependsOn.
                        "ArnLike": {"aws:SourceArn": sub("arn:aws:s3:::insure-${Stage}-hr")},
                        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                    },
                }]},
            },
        },
    }
    # The access-token signing key is derived from this random value (see adapters/signing_keys.py);
    # rotating the secret rotates the key, and AWSPREVIOUS keeps verifying until its tokens expire.
    # The HMAC key of payment-gateway callbacks (the sandbox signs with it; see adapters/payment_secrets.py).
    resources["PaymentCallbackSecret"] = {
        "Type": "AWS::SecretsManager::Secret",
        "Properties": {
            "Name": sub("insure-${Stage}/payment-callback"),
            "Description": "HMAC-SHA256 key of the payment gateway's signed callbacks",
            "GenerateSecretString": {"PasswordLength": 64, "ExcludePunctuation": True},
        },
    }
    # The server key of the accounts area's HMACs: SMS codes are hashed with it (a leaked tokens
    # table alone can't be searched for the 10^6 codes) and a rotated refresh token's successor is
    # derived with it (a retry within the grace period gets the same successor). AWSPREVIOUS keeps
    # verifying after a rotation.
    resources["AccountsHmacSecret"] = {
        "Type": "AWS::SecretsManager::Secret",
        "Properties": {
            "Name": sub("insure-${Stage}/accounts-hmac"),
            "Description": "HMAC key of SMS codes and refresh-token successors",
            "GenerateSecretString": {"PasswordLength": 64, "ExcludePunctuation": True},
        },
    }
    # Seed of the Ed25519 key that signs card QR codes (adapters/card_keys.py): separate from the
    # token key, so each rotates alone; AWSPREVIOUS keeps old cards and their screenshots verifying.
    resources["CardSigningSecret"] = {
        "Type": "AWS::SecretsManager::Secret",
        "Properties": {
            "Name": sub("insure-${Stage}/card-signing"),
            "Description": "Seed of the Ed25519 key that signs e-card QR codes",
            "GenerateSecretString": {"PasswordLength": 64, "ExcludePunctuation": True},
        },
    }
    # The KNET terminal of prod; operations put the bank's values in it before the first payment.
    resources["KnetTerminalSecret"] = {
        "Type": "AWS::SecretsManager::Secret",
        "Condition": "IsProd",
        "Properties": {
            "Name": sub("insure-${Stage}/knet-terminal"),
            "Description": "KNET terminal: JSON with tranportal_id, password and resource_key from the bank",
            "SecretString": json.dumps({"tranportal_id": "", "password": "", "resource_key": ""}),
        },
    }
    resources["JwtSigningSecret"] = {
        "Type": "AWS::SecretsManager::Secret",
        "Properties": {
            "Name": sub("insure-${Stage}/jwt-signing"),
            "Description": "Seed of the Ed25519 key that signs access tokens",
            "GenerateSecretString": {"PasswordLength": 64, "ExcludePunctuation": True},
        },
    }
    # API Gateway answers some requests itself (bad or missing token, unknown path, its own
    # failures): these give them the same error envelope as the app's own answers.
    resources["RestAPI"] = {"Properties": {"DefinitionBody": {
        "x-amazon-apigateway-gateway-responses": gateway_responses()}}}
    # Merged into the function chalice generates: its SQS event source needs the queue first.
    resources["HrFileArrived"] = {"DependsOn": ["HrQueue"]}
    resources["HrFileFailed"] = {"DependsOn": ["HrDeadLetterQueue"]}
    # The sender reports failures per message, so one bad address never retries a whole batch.
    resources["SendOutbound"] = {"DependsOn": ["OutboundQueue"], "Properties": {"Events": {
        "SendOutboundSqsEventSource": {"Properties": {"FunctionResponseTypes": ["ReportBatchItemFailures"]}}}}}
    return {
        "Parameters": {
            "Stage": {"Type": "String", "AllowedValues": ["dev", "prod"], "Default": "dev",
                      "Description": "Must match the chalice stage packaged (names in config.json)"},
        },
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
        "Resources": resources,
    }


TABLES = ("accounts", "usernames", "tokens", "sessions", "throttles", "policies", "members",
          "applications", "payments", "residence-policies", "payment-ledger", "idempotency-keys")


def iam_policy(stage: str) -> dict:
    """The Lambdas' role, written by hand: Chalice's generated policy misses PynamoDB's calls."""
    arn = f"arn:aws:dynamodb:*:*:table/insure-{stage}-"
    tables = [f"{arn}{name}" for name in TABLES]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Logs", "Effect": "Allow",
             "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": "arn:aws:logs:*:*:*"},
            {"Sid": "Tables", "Effect": "Allow",
             "Action": ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
                        "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                        "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
                        "dynamodb:DescribeTable"],
             "Resource": tables + [f"{t}/index/*" for t in tables]},
            # The payment ledger is append-only: what was written stays as written.
            {"Sid": "LedgerAppendOnly", "Effect": "Deny", "Action": ["dynamodb:UpdateItem", "dynamodb:DeleteItem"],
             "Resource": f"{arn}payment-ledger"},
            {"Sid": "HrFilesRead", "Effect": "Allow",
             "Action": ["s3:GetObject", "s3:GetObjectVersion"],
             "Resource": f"arn:aws:s3:::insure-{stage}-hr/hr/incoming/*"},
            {"Sid": "HrReportsWrite", "Effect": "Allow", "Action": ["s3:PutObject"],
             "Resource": f"arn:aws:s3:::insure-{stage}-hr/hr/reports/*"},
            {"Sid": "Cards", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
             "Resource": f"arn:aws:s3:::insure-{stage}-cards/cards/*"},
            # Without it S3 answers a HEAD of a card not drawn yet with 403 instead of 404.
            {"Sid": "CardsExist", "Effect": "Allow", "Action": ["s3:ListBucket"],
             "Resource": f"arn:aws:s3:::insure-{stage}-cards"},
            {"Sid": "QueuesConsumed", "Effect": "Allow",
             "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                        "sqs:ChangeMessageVisibility"],
             "Resource": [f"arn:aws:sqs:*:*:insure-{stage}-hr-files", f"arn:aws:sqs:*:*:insure-{stage}-hr-files-dlq",
                          f"arn:aws:sqs:*:*:insure-{stage}-outbound"]},
            {"Sid": "OutboundQueueSend", "Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"],
             "Resource": f"arn:aws:sqs:*:*:insure-{stage}-outbound"},
            {"Sid": "Secrets", "Effect": "Allow",
             "Action": ["secretsmanager:GetSecretValue"],
             "Resource": f"arn:aws:secretsmanager:*:*:secret:insure-{stage}/*"},
            {"Sid": "Email", "Effect": "Allow", "Action": ["ses:SendEmail", "ses:SendRawEmail"],
             "Resource": "*",
             "Condition": {"StringLike": {"ses:FromAddress": "no-reply@*"}}},
            # SMS goes to phone numbers, which have no ARN: Publish cannot be narrowed further.
            {"Sid": "Sms", "Effect": "Allow", "Action": ["sns:Publish"], "NotResource": "arn:aws:sns:*:*:*"},
        ],
    }


def write_all() -> None:
    (ROOT / "resources.json").write_text(json.dumps(template(), indent=2) + "\n", encoding="utf-8")
    for stage in ("dev", "prod"):
        path = ROOT / ".chalice" / f"policy-{stage}.json"
        path.write_text(json.dumps(iam_policy(stage), indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_all()

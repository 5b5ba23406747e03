"""The Lambdas' IAM policies, written by hand: Chalice's generated policy misses PynamoDB's calls."""

from __future__ import annotations

from devstack.infra.data import TABLES


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

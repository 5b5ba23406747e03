"""S3 buckets and SQS queues: the HR drop bucket, the card files, and the queues between them."""

from __future__ import annotations

from devstack.infra import sub

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


# The files HR drops that the enrolment reads (enrolment/jobs.py accepts these names in any case).
HR_FILE_SUFFIXES = (".csv", ".CSV", ".xlsx", ".XLSX")
RUN_DAYS = 30  # > 14 days, SQS's longest message retention (the HR queues keep messages that long)


def resources() -> dict:
    return {
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
                    # A big file's run (hr/runs/<POLICY_NO>/<report id>/): its checkpoint stays when the run
                    # ends, so a late copy of its message finds it finished. Kept past the longest time SQS
                    # keeps a message (14 days), then gone; state and parts are deleted by the run itself.
                    {"Id": "FinishedRuns", "Status": "Enabled", "Prefix": "hr/runs/",
                     "ExpirationInDays": RUN_DAYS},
                ]},
                # One rule per suffix the enrolment reads (S3 matches suffixes case-sensitively, and
                # rules for one event may not overlap: .csv and .CSV do not).
                "NotificationConfiguration": {"QueueConfigurations": [{
                    "Event": "s3:ObjectCreated:*",
                    "Queue": {"Fn::GetAtt": ["HrQueue", "Arn"]},
                    "Filter": {"S3Key": {"Rules": [
                        {"Name": "prefix", "Value": "hr/incoming/"},
                        {"Name": "suffix", "Value": suffix},
                    ]}},
                } for suffix in HR_FILE_SUFFIXES]},
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
                    # a day before that (cards/store.py: CARD_OBJECT_DAYS, keep in step).
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
                # hr_file_failed consumes it: six times its timeout (60 s), AWS's guidance. Below the
                # function's timeout Lambda refuses the event source and the stack rolls back (issue 11);
                # devstack/rehearsal.py checks every SQS event source for this.
                "VisibilityTimeout": 360,
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

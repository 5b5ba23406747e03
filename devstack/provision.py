"""Creates, on moto, the resources resources.json declares: one source for AWS, local and tests."""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT_ID = "123456789012"


@cache
def load_template() -> dict:
    return json.loads((ROOT / "resources.json").read_text(encoding="utf-8"))


class Resolver:
    """Evaluates the few intrinsic functions resources.json uses, for one stage."""

    def __init__(self, stage: str, region: str) -> None:
        self.vars = {"Stage": stage, "AWS::AccountId": ACCOUNT_ID, "AWS::Region": region,
                     "AWS::Partition": "aws"}
        self.conditions = {"IsProd": stage == "prod"}
        self.resources = load_template()["Resources"]

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "Fn::Sub" in value:
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self.vars[m.group(1)]), value["Fn::Sub"])
        if "Ref" in value:
            name = value["Ref"]
            return self.vars[name] if name in self.vars else self.name_of(name)
        if "Fn::If" in value:
            cond, yes, no = value["Fn::If"]
            return self(yes if self.conditions[cond] else no)
        if "Fn::GetAtt" in value:
            name, attr = value["Fn::GetAtt"]
            return self.arn_of(name) if attr == "Arn" else self.name_of(name)
        return {k: self(v) for k, v in value.items()}

    def name_of(self, logical_id: str) -> str:
        props = self.resources[logical_id]["Properties"]
        for key in ("TableName", "BucketName", "QueueName", "Name"):
            if key in props:
                return self(props[key])
        raise KeyError(logical_id)

    def arn_of(self, logical_id: str) -> str:
        kind = self.resources[logical_id]["Type"]
        name = self.name_of(logical_id)
        region, account = self.vars["AWS::Region"], ACCOUNT_ID
        return {
            "AWS::SQS::Queue": f"arn:aws:sqs:{region}:{account}:{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{region}:{account}:table/{name}",
        }[kind]


def resources_of(kind: str) -> dict[str, dict]:
    return {k: v for k, v in load_template()["Resources"].items() if v.get("Type") == kind}


def _client(service: str, region: str) -> Any:
    """One client per service, region and endpoint: provisioning again (each test does) builds none anew."""
    return _cached_client(service, region, os.environ.get("AWS_ENDPOINT_URL"))


@cache
def _cached_client(service: str, region: str, endpoint: str | None) -> Any:
    return boto3.client(service, region_name=region)


def provision(stage: str = "dev", region: str = "me-south-1", email_sender: str | None = None) -> None:
    """Create every table, queue, bucket, secret and SES configuration set of the template (and the SES sender).

    Monitoring (log groups, metric filters, alarms, the alarm topic) and the configuration set's
    event destination are not made: nothing local reads them.
    """
    resolve = Resolver(stage, region)
    _queues(resolve, region)
    _tables(resolve, region)
    _buckets(resolve, region)
    _secrets(resolve, region)
    _email_configuration_sets(resolve, region)
    if email_sender:
        _client("ses", region).verify_email_identity(EmailAddress=email_sender)


def _queues(resolve: Resolver, region: str) -> None:
    sqs = _client("sqs", region)
    # Dead-letter queues first: the others name them in their redrive policy.
    queues = sorted(resources_of("AWS::SQS::Queue").items(),
                    key=lambda item: "RedrivePolicy" in item[1]["Properties"])
    for _, resource in queues:
        props = resolve(resource["Properties"])
        attributes = {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod"):
            if key in props:
                attributes[key] = str(props[key])
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        sqs.create_queue(QueueName=props["QueueName"], Attributes=attributes)


def _tables(resolve: Resolver, region: str) -> None:
    dynamodb = _client("dynamodb", region)
    for _, resource in resources_of("AWS::DynamoDB::Table").items():
        props = resolve(resource["Properties"])
        args: dict[str, Any] = {
            "TableName": props["TableName"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props["BillingMode"],
        }
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        dynamodb.create_table(**args)
        if "TimeToLiveSpecification" in props:
            dynamodb.update_time_to_live(TableName=props["TableName"],
                                         TimeToLiveSpecification=props["TimeToLiveSpecification"])


def _buckets(resolve: Resolver, region: str) -> None:
    s3 = _client("s3", region)
    for _, resource in resources_of("AWS::S3::Bucket").items():
        props = resolve(resource["Properties"])
        name = props["BucketName"]
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
        s3.put_public_access_block(Bucket=name,
                                   PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
        encryption = [
            {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
             "BucketKeyEnabled": rule.get("BucketKeyEnabled", False)}
            for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        ]
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": encryption})
        if "VersioningConfiguration" in props:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
        if "LifecycleConfiguration" in props:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name, LifecycleConfiguration=_lifecycle(props["LifecycleConfiguration"]))
        notification = props.get("NotificationConfiguration", {})
        if notification.get("QueueConfigurations"):
            s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={
                "QueueConfigurations": [
                    {"QueueArn": q["Queue"], "Events": [q["Event"]],
                     "Filter": {"Key": {"FilterRules": q["Filter"]["S3Key"]["Rules"]}}}
                    for q in notification["QueueConfigurations"]
                ]})


def _lifecycle(config: dict) -> dict:
    """CloudFormation's lifecycle shape in the S3 API's shape."""
    rules = []
    for rule in config["Rules"]:
        api: dict[str, Any] = {"ID": rule["Id"], "Status": rule["Status"],
                               "Filter": {"Prefix": rule.get("Prefix", "")}}
        if "ExpirationInDays" in rule:
            api["Expiration"] = {"Days": rule["ExpirationInDays"]}
        if "NoncurrentVersionExpiration" in rule:
            api["NoncurrentVersionExpiration"] = {
                "NoncurrentDays": rule["NoncurrentVersionExpiration"]["NoncurrentDays"]}
        if "AbortIncompleteMultipartUpload" in rule:
            api["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
        rules.append(api)
    return {"Rules": rules}


def _secrets(resolve: Resolver, region: str) -> None:
    import secrets as random

    from devstack.wallet_sandbox import sandbox_secret

    manager = _client("secretsmanager", region)
    for _, resource in resources_of("AWS::SecretsManager::Secret").items():
        props = resolve(resource["Properties"])
        length = props.get("GenerateSecretString", {}).get("PasswordLength", 64)
        # The wallets' secrets get a self-made chain in the production shape (devstack/wallet_sandbox.py).
        value = sandbox_secret(props["Name"]) or random.token_urlsafe(length)[:length]
        manager.create_secret(Name=props["Name"], SecretString=value)


def _email_configuration_sets(resolve: Resolver, region: str) -> None:
    """The configuration set every email names (SES refuses a send that names one it does not have)."""
    ses = _client("ses", region)
    for _, resource in resources_of("AWS::SES::ConfigurationSet").items():
        ses.create_configuration_set(ConfigurationSet={"Name": resolve(resource["Properties"]["Name"])})

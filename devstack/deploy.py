"""Deploys a packaged stage: uploads the zip and the template to S3, then a change set creates or updates the stack.

`make deploy STAGE=prod ARTIFACTS_BUCKET=...` runs `make package` and then
`python -m devstack.deploy --stage prod --bucket ... --build build`. Steps:

1. The template's parameters: deploy/<stage>.json (a JSON object, parameter -> value), then
   `--param Name=Value` (make deploy's PUBLIC_BASE_URL=..., SENDER_EMAIL=...); placeholder values
   (example.com) and names the template does not declare are refused before anything is uploaded.
2. The artifacts bucket must be the caller account's (ExpectedBucketOwner) and in the stack's region
   (Lambda reads code only from its own region).
3. Each local CodeUri/ContentUri (chalice's ./deployment.zip) is uploaded under a content-hashed key
   and the template points at it; then the template itself (CloudFormation takes at most 51,200
   bytes inline, ours is larger) is uploaded the same way and given as TemplateURL.
4. A change set (CREATE, or UPDATE when the stack exists) with CAPABILITY_IAM and
   CAPABILITY_AUTO_EXPAND (SAM's transform); its changes are printed, then executed and waited for.
   A failure prints the events that failed; a stack left in ROLLBACK_COMPLETE by a failed first
   create is explained (its Retain tables and buckets block a new create), not retried.
5. Without PublicBaseUrl and CustomDomainName, the functions' PUBLIC_BASE_URL is the API's own
   execute-api URL: read from the existing stack, or set by a second change set after a first create.
6. The stack's outputs (EndpointURL...) are printed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
INLINE_TEMPLATE_LIMIT = 51_200
PLACEHOLDER_DOMAINS = ("example.com", "example.org", "example.net")
# Resource properties that SAM/CloudFormation accept as a local path that `package` uploads.
ARTIFACT_PROPERTIES = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
# Stacks in these states can take a change set of type UPDATE.
UPDATABLE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
             "IMPORT_ROLLBACK_COMPLETE"}


class DeployError(Exception):
    """Something the operator must fix; the message says what."""


# ---------------------------------------------------------------------------------------------- parameters


def read_parameters_file(path: Path) -> dict[str, str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise DeployError(f"{path}: a JSON object of parameter name -> value, like deploy/prod.json")
    # Keys starting with "_" are comments.
    return {str(k): str(v) for k, v in data.items() if not str(k).startswith("_")}


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise DeployError(f"--param {pair!r}: expected Name=Value")
        overrides[name] = value
    return overrides


def resolve_parameters(template: dict, stage: str, given: dict[str, str], *,
                       allow_placeholders: bool = False) -> dict[str, str]:
    """The values to pass: checked against the template's Parameters before anything is uploaded."""
    declared = template.get("Parameters", {})
    values = {name: value for name, value in given.items() if value is not None}
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise DeployError(f"the template declares no parameter {', '.join(unknown)} "
                          f"(it declares {', '.join(sorted(declared))})")
    if values.get("Stage", stage) != stage:
        raise DeployError(f"Stage={values['Stage']} but the package is stage {stage}")
    values["Stage"] = stage
    if not allow_placeholders:
        placeholders = sorted(n for n, v in values.items() if any(d in v.lower() for d in PLACEHOLDER_DOMAINS))
        if placeholders:
            raise DeployError(f"placeholder values (example.com) for {', '.join(placeholders)}: put the account's "
                              f"own in deploy/{stage}.json or pass them (make deploy SENDER_EMAIL=...)")
    missing = []
    for name, spec in declared.items():
        if "Default" not in spec and not values.get(name):
            missing.append(name)
    # Required by the template's Rules (CloudFormation would refuse the change set; say it first).
    for name in ("SenderEmail", "PaymentReturnUrl"):
        if name in declared and not values.get(name):
            missing.append(name)
    if values.get("CustomDomainName") and not values.get("CertificateArn"):
        missing.append("CertificateArn (for CustomDomainName)")
    if missing:
        raise DeployError(f"missing parameter value(s): {', '.join(sorted(set(missing)))}")
    return values


def needs_endpoint_url(values: dict[str, str]) -> bool:
    """No public base URL given: the functions must get the API's execute-api URL."""
    return not values.get("PublicBaseUrl") and not values.get("CustomDomainName")


# ---------------------------------------------------------------------------------------------- artifacts


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def upload(s3, bucket: str, key: str, body: Callable[[], Any], owner: str | None) -> bool:
    """Put the object unless the key (a content hash) is already there; True when uploaded."""
    owned = {"ExpectedBucketOwner": owner} if owner else {}
    try:
        s3.head_object(Bucket=bucket, Key=key, **owned)
        return False
    except s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.put_object(Bucket=bucket, Key=key, Body=body(), **owned)  # encrypted by the bucket's default
    return True


def upload_artifacts(template: dict, build: Path, s3, bucket: str, prefix: str, owner: str | None = None,
                     log: Callable[[str], None] = print) -> dict:
    """A copy of the template whose local code paths point at their uploaded, content-hashed objects."""
    template = json.loads(json.dumps(template))
    uploaded: dict[Path, dict] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        prop = ARTIFACT_PROPERTIES.get(resource.get("Type", ""))
        local = resource.get("Properties", {}).get(prop) if prop else None
        if not isinstance(local, str) or local.startswith("s3://"):
            continue
        path = (build / local).resolve()
        if not path.is_file():
            raise DeployError(f"{logical_id}.{prop} names {local}, which is not in {build}: run make package")
        if path not in uploaded:
            key = f"{prefix}/{sha256_of(path)}{path.suffix}"
            fresh = upload(s3, bucket, key, path.read_bytes, owner)
            log(f"{'uploaded' if fresh else 'already uploaded'}: s3://{bucket}/{key} ({path.stat().st_size:,} bytes)")
            uploaded[path] = {"Bucket": bucket, "Key": key}
        resource["Properties"][prop] = dict(uploaded[path])
    return template


def upload_template(template: dict, s3, bucket: str, prefix: str, region: str, owner: str | None = None,
                    log: Callable[[str], None] = print) -> str:
    body = json.dumps(template, separators=(",", ":"), sort_keys=True).encode("utf-8")
    key = f"{prefix}/{hashlib.sha256(body).hexdigest()}.template.json"
    fresh = upload(s3, bucket, key, lambda: body, owner)
    log(f"{'uploaded' if fresh else 'already uploaded'}: s3://{bucket}/{key} ({len(body):,} bytes, "
        f"{'over' if len(body) > INLINE_TEMPLATE_LIMIT else 'under'} CloudFormation's inline limit)")
    return template_url(bucket, key, region)


def template_url(bucket: str, key: str, region: str) -> str:
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://{bucket}.s3.{region}.{suffix}/{key}"


def check_bucket(s3, bucket: str, region: str, owner: str | None) -> None:
    owned = {"ExpectedBucketOwner": owner} if owner else {}
    try:
        location = s3.get_bucket_location(Bucket=bucket, **owned).get("LocationConstraint") or "us-east-1"
    except s3.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        raise DeployError(f"artifacts bucket {bucket}: {code} (create it in {region} first: see the README's "
                          f"runbook, or it is not this account's)") from error
    if location != region:
        raise DeployError(f"artifacts bucket {bucket} is in {location}; Lambda needs its code in {region}: "
                          f"use a bucket in {region}")


# ---------------------------------------------------------------------------------------------- the stack


def stack_status(cfn, stack: str) -> dict | None:
    try:
        return cfn.describe_stacks(StackName=stack)["Stacks"][0]
    except cfn.exceptions.ClientError as error:
        if "does not exist" in str(error):
            return None
        raise


def retained_after_failed_create(cfn, stack: str) -> list[dict]:
    """What the rollback of a failed create kept (DeletionPolicy Retain): still there, with its fixed name."""
    resources = cfn.describe_stack_resources(StackName=stack)["StackResources"]
    return [r for r in resources if r.get("ResourceStatus") == "DELETE_SKIPPED" and r.get("PhysicalResourceId")]


def failed_create_message(cfn, stack: str, region: str) -> str:
    lines = [f"Stack {stack} is in ROLLBACK_COMPLETE: its first create failed (the events above say why).",
             "CloudFormation can only delete such a stack. Deleting it keeps the Retain resources below, and a new",
             "create fails with 'already exists' while they stand. After a failed FIRST create they hold nothing",
             "but what the stack itself put in them; check, then delete them and the stack:"]
    for r in retained_after_failed_create(cfn, stack):
        name, kind = r["PhysicalResourceId"], r["ResourceType"]
        if kind == "AWS::DynamoDB::Table":
            lines.append(f"  aws dynamodb delete-table --region {region} --table-name {name}")
        elif kind == "AWS::S3::Bucket":
            lines.append(f"  aws s3 rb --region {region} s3://{name} --force   # empties it first")
        elif kind == "AWS::SecretsManager::Secret":
            lines.append(f"  aws secretsmanager delete-secret --region {region} --secret-id {name} "
                         "--force-delete-without-recovery")
        else:
            lines.append(f"  {kind} {name}")
    lines.append(f"  aws cloudformation delete-stack --region {region} --stack-name {stack}")
    lines.append("then run make deploy again (the README's runbook: 'A failed first create').")
    return "\n".join(lines)


def failed_events(cfn, stack: str, since: float) -> list[str]:
    events = []
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=stack):
        for event in page["StackEvents"]:
            if event["Timestamp"].timestamp() < since:
                break
            if event.get("ResourceStatus", "").endswith("_FAILED"):
                events.append(f"  {event['LogicalResourceId']} {event['ResourceStatus']}: "
                              f"{event.get('ResourceStatusReason', '')}")
    return list(reversed(events))  # oldest first: the first is the cause, the rest follow from it


def create_change_set(cfn, stack: str, url: str, values: dict[str, str], change_set_type: str,
                      tags: dict[str, str]) -> tuple[str, list[dict]] | None:
    """Creates and waits for a change set; None when it holds no change (then it is deleted)."""
    name = f"deploy-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    answer = cfn.create_change_set(
        StackName=stack, ChangeSetName=name, ChangeSetType=change_set_type, TemplateURL=url,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(values.items())],
        Capabilities=CAPABILITIES, Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())],
        Description="make deploy")
    change_set = answer["Id"]
    try:
        cfn.get_waiter("change_set_create_complete").wait(
            ChangeSetName=change_set, StackName=stack, WaiterConfig={"Delay": 5, "MaxAttempts": 120})
    except Exception as error:  # botocore's WaiterError; the change set says why
        described = cfn.describe_change_set(ChangeSetName=change_set, StackName=stack)
        reason = described.get("StatusReason", "")
        if any(text in reason for text in NO_CHANGES):
            cfn.delete_change_set(ChangeSetName=change_set, StackName=stack)
            return None
        raise DeployError(f"change set {name} failed: {reason or error}") from error
    changes = []
    for page in _change_pages(cfn, change_set, stack):
        changes.extend(c["ResourceChange"] for c in page.get("Changes", []) if "ResourceChange" in c)
    return change_set, changes


def _change_pages(cfn, change_set: str, stack: str):
    token = None
    while True:
        page = cfn.describe_change_set(ChangeSetName=change_set, StackName=stack,
                                       **({"NextToken": token} if token else {}))
        yield page
        token = page.get("NextToken")
        if not token:
            return


def describe_changes(changes: list[dict]) -> list[str]:
    lines = []
    for c in changes:
        replacement = c.get("Replacement")
        # A fixed-name table or bucket cannot be replaced: CloudFormation would fail on the name.
        flag = "  (REPLACEMENT)" if replacement == "True" else ""
        lines.append(f"  {c.get('Action', '?'):<7} {c.get('LogicalResourceId')} {c.get('ResourceType')}{flag}")
    return lines


def execute(cfn, stack: str, change_set: str, change_set_type: str, region: str, log) -> None:
    started = time.time() - 5
    cfn.execute_change_set(ChangeSetName=change_set, StackName=stack)
    waiter = "stack_create_complete" if change_set_type == "CREATE" else "stack_update_complete"
    try:
        cfn.get_waiter(waiter).wait(StackName=stack, WaiterConfig={"Delay": 15, "MaxAttempts": 240})
    except Exception as error:
        for line in failed_events(cfn, stack, started):
            log(line)
        status = (stack_status(cfn, stack) or {}).get("StackStatus")
        if status == "ROLLBACK_COMPLETE":
            raise DeployError(failed_create_message(cfn, stack, region)) from error
        if status == "UPDATE_ROLLBACK_FAILED":
            raise DeployError(f"stack {stack} is UPDATE_ROLLBACK_FAILED: fix the cause above, then "
                              f"aws cloudformation continue-update-rollback --stack-name {stack}") from error
        raise DeployError(f"stack {stack} ended {status}: the update was rolled back to the previous "
                          f"version (the events above say why)") from error


def outputs_of(cfn, stack: str) -> dict[str, str]:
    described = stack_status(cfn, stack) or {}
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def parameters_of(cfn, stack: str) -> dict[str, str]:
    described = stack_status(cfn, stack) or {}
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in described.get("Parameters", [])}


def rehearse_before_upload(template: dict, stage: str, values: dict[str, str], region: str) -> None:
    """What AWS would refuse at create time (queue timeouts, dangling references, roles), found before
    anything is uploaded: the rollback of a failed first create keeps the Retain tables and buckets."""
    from devstack.rehearsal import rehearse

    problems, _ = rehearse(template, {"Stage": stage, **values}, region, with_moto=False)
    if problems:
        raise DeployError("the rehearsal refuses this template:\n" + "\n".join(f"- {p}" for p in problems))


def deploy(*, stage: str, bucket: str, build: Path, region: str, stack: str, values: dict[str, str],
           s3, cfn, owner: str | None = None, execute_changes: bool = True, prefix: str | None = None,
           log: Callable[[str], None] = print, rehearse: bool = True) -> dict[str, str]:
    """Uploads and deploys; returns the stack's outputs (empty when the change set was not executed)."""
    template = json.loads((build / "sam.json").read_text(encoding="utf-8"))
    prefix = prefix or f"{stack}"
    existing = stack_status(cfn, stack)
    status = existing["StackStatus"] if existing else None
    if status == "ROLLBACK_COMPLETE":
        raise DeployError(failed_create_message(cfn, stack, region))
    if status and status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        raise DeployError(f"stack {stack} is {status}: wait for it to finish, then deploy again")
    if status and status not in UPDATABLE and status != "REVIEW_IN_PROGRESS":
        raise DeployError(f"stack {stack} is {status}: see the README's runbook (rolling back)")
    change_set_type = "UPDATE" if status in UPDATABLE else "CREATE"

    values = dict(values)
    endpoint_pass = needs_endpoint_url(values)
    if endpoint_pass and change_set_type == "UPDATE":
        # Keep the base URL the stack's functions already have (a value given before, else the API's own URL).
        values["PublicBaseUrl"] = (parameters_of(cfn, stack).get("PublicBaseUrl")
                                   or outputs_of(cfn, stack).get("EndpointURL", "").rstrip("/"))
        endpoint_pass = not values["PublicBaseUrl"]

    if rehearse:
        rehearse_before_upload(template, stage, values, region)
    check_bucket(s3, bucket, region, owner)
    template = upload_artifacts(template, build, s3, bucket, prefix, owner, log)
    url = upload_template(template, s3, bucket, prefix, region, owner, log)
    tags = {"app": "insure", "stage": stage}

    made = create_change_set(cfn, stack, url, values, change_set_type, tags)
    if made is None:
        log(f"{stack}: no changes")
    else:
        change_set, changes = made
        log(f"change set {change_set_type} of {stack}:")
        for line in describe_changes(changes):
            log(line)
        if not execute_changes:
            log(f"not executed (--no-execute): aws cloudformation execute-change-set --change-set-name {change_set}")
            return {}
        execute(cfn, stack, change_set, change_set_type, region, log)
        log(f"{stack}: {change_set_type.lower()} complete")

    outputs = outputs_of(cfn, stack)
    if endpoint_pass and outputs.get("EndpointURL"):
        # First create without a base URL: now the API's URL is known, give it to the functions.
        values["PublicBaseUrl"] = outputs["EndpointURL"].rstrip("/")
        log(f"PublicBaseUrl: {values['PublicBaseUrl']} (the API's own URL; set PUBLIC_BASE_URL or a custom domain "
            "to change it)")
        made = create_change_set(cfn, stack, url, values, "UPDATE", tags)
        if made is not None:
            execute(cfn, stack, made[0], "UPDATE", region, log)
        outputs = outputs_of(cfn, stack)
    for key, value in sorted(outputs.items()):
        log(f"{key}: {value}")
    return outputs


# ---------------------------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.deploy", description=__doc__.split("\n")[0])
    parser.add_argument("--stage", required=True, choices=["dev", "prod"])
    parser.add_argument("--bucket", required=True, help="the artifacts bucket (same region as the stack)")
    parser.add_argument("--region", default=None, help="default: AWS_DEFAULT_REGION / the profile's")
    parser.add_argument("--stack-name", default=None, help="default: insure-<stage>")
    parser.add_argument("--build", default=str(ROOT / "build"), help="make package's output folder")
    parser.add_argument("--params", default=None, help="parameters file (default: deploy/<stage>.json if present)")
    parser.add_argument("--param", action="append", default=[], metavar="Name=Value",
                        help="a template parameter; an empty value is dropped (make's unset variables)")
    parser.add_argument("--no-execute", action="store_true", help="create the change set, print it, stop")
    parser.add_argument("--allow-placeholders", action="store_true", help="accept example.com values")
    args = parser.parse_args(argv)

    import boto3

    session = boto3.session.Session(region_name=args.region) if args.region else boto3.session.Session()
    region = session.region_name
    if not region:
        print("deploy: no region (REGION=me-south-1 or AWS_DEFAULT_REGION)", file=sys.stderr)
        return 2
    stack = args.stack_name or f"insure-{args.stage}"
    build = Path(args.build)
    try:
        template = json.loads((build / "sam.json").read_text(encoding="utf-8"))
        params_path = Path(args.params) if args.params else ROOT / "deploy" / f"{args.stage}.json"
        given = read_parameters_file(params_path) if (args.params or params_path.exists()) else {}
        given.update({k: v for k, v in parse_overrides(args.param).items() if v != ""})
        values = resolve_parameters(template, args.stage, given, allow_placeholders=args.allow_placeholders)
        owner = session.client("sts").get_caller_identity()["Account"]
        deploy(stage=args.stage, bucket=args.bucket, build=build, region=region, stack=stack, values=values,
               s3=session.client("s3"), cfn=session.client("cloudformation"), owner=owner,
               execute_changes=not args.no_execute)
    except FileNotFoundError as error:
        print(f"deploy: {error.filename} missing (make package STAGE={args.stage} first)", file=sys.stderr)
        return 2
    except DeployError as error:
        print(f"deploy: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

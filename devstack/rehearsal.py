"""Deploy rehearsal: what CloudFormation and Lambda check when a stack is created, and our linters don't.

`chalice package` writes a SAM template (`sam.json`). The rehearsal transforms it to plain
CloudFormation with aws-sam-translator, the library CloudFormation's own transform runs, and then:

- each SQS event source mapping: its queue (Chalice names it by an ARN string, so cfn-lint cannot
  connect the two) exists in the template, is created before the mapping, and keeps a message
  invisible at least six times the function's timeout plus its batching window (AWS's guidance;
  below the function's timeout Lambda refuses the mapping and the stack rolls back: issue 11);
- each dead-letter queue has a consumer (an event source mapping) or a CloudWatch alarm with an action;
- each function's role exists in the template (and Lambda may assume it) or is a well-formed role ARN;
- each Ref, Fn::GetAtt, Fn::Sub `${...}`, DependsOn and Condition names something that exists, and a
  resource that is created names no resource left out by its Condition;
- the parameters pass their AllowedValues/AllowedPattern and the template's Rules;
- the stack creates on moto's CloudFormation, without the resource types moto cannot create
  (`MOTO_SKIPS`, each with its reason).

`python -m devstack.rehearsal build/sam.json --stage prod [--param Name=Value ...]` prints the
problems and exits 1 on any; tests/packaging/test_rehearsal.py runs it on the dev and prod packages.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import os
import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"  # moto's default account, so ARNs built here match moto's
ARTIFACTS_BUCKET = "rehearsal-artifacts"
SIX_TIMES = 6  # "at least six times the timeout that you configure on your function" (Lambda, SQS)
DEFAULT_LAMBDA_TIMEOUT = 3
DEFAULT_VISIBILITY_TIMEOUT = 30
ROLE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")

# The types moto's CloudFormation cannot create, left out of the moto run (the static checks above
# still read them). The tests assert that every type skipped is listed here, so a new type that moto
# cannot create fails until someone looks at it, and that moto really cannot create each type listed.
NO_MODEL = "moto 5.2 has no CloudFormation model for it (moto would skip it with a warning)"
MOTO_SKIPS = {
    # Storage and secrets: the policies and secrets themselves are read by the static checks.
    "AWS::S3::BucketPolicy": NO_MODEL,
    "AWS::SQS::QueuePolicy": NO_MODEL,
    "AWS::SecretsManager::Secret": NO_MODEL,
    # API Gateway beyond the RestApi: the stage, the account's CloudWatch role, the custom domain.
    "AWS::ApiGateway::Stage": NO_MODEL,
    "AWS::ApiGateway::Account": NO_MODEL,
    "AWS::ApiGateway::DomainName": NO_MODEL,
    "AWS::ApiGateway::BasePathMapping": NO_MODEL,
    # Monitoring: alarms, log metric filters, the alarm topic's email subscription, SES feedback.
    "AWS::CloudWatch::Alarm": NO_MODEL,
    "AWS::Logs::MetricFilter": NO_MODEL,
    "AWS::SNS::Subscription": NO_MODEL,
    "AWS::SES::ConfigurationSet": NO_MODEL,
    "AWS::SES::ConfigurationSetEventDestination": NO_MODEL,
    # moto's RestApi ignores its OpenAPI Body, so the API has no methods and moto refuses to deploy it
    # ("The REST API doesn't contain any methods"); real API Gateway deploys the Body's methods.
    "AWS::ApiGateway::Deployment": "moto ignores the RestApi Body, then refuses to deploy an API without methods",
}

INTRINSICS = {"Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::If", "Fn::Select", "Fn::Split", "Fn::Equals",
              "Fn::Not", "Fn::And", "Fn::Or", "Condition", "Fn::FindInMap", "Fn::GetAZs", "Fn::Base64",
              "Fn::ImportValue", "Fn::Cidr", "Fn::Length", "Fn::ToJsonString", "Fn::Transform", "Fn::Contains",
              "Fn::EachMemberEquals", "Fn::ValueOf", "Fn::RefAll"}
PSEUDO_PARAMETERS = {"AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::StackName", "AWS::StackId",
                     "AWS::URLSuffix", "AWS::NoValue", "AWS::NotificationARNs"}
SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")
# The property that holds a resource's physical name, where the template may set it.
NAME_PROPERTY = {
    "AWS::SQS::Queue": "QueueName", "AWS::S3::Bucket": "BucketName", "AWS::DynamoDB::Table": "TableName",
    "AWS::IAM::Role": "RoleName", "AWS::Lambda::Function": "FunctionName", "AWS::SNS::Topic": "TopicName",
    "AWS::Logs::LogGroup": "LogGroupName", "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::SecretsManager::Secret": "Name",
}
ARN_FORMAT = {
    "AWS::SQS::Queue": "arn:{partition}:sqs:{region}:{account}:{name}",
    "AWS::S3::Bucket": "arn:{partition}:s3:::{name}",
    "AWS::DynamoDB::Table": "arn:{partition}:dynamodb:{region}:{account}:table/{name}",
    "AWS::IAM::Role": "arn:{partition}:iam::{account}:role/{name}",
    "AWS::Lambda::Function": "arn:{partition}:lambda:{region}:{account}:function:{name}",
    "AWS::SNS::Topic": "arn:{partition}:sns:{region}:{account}:{name}",
}


class Unresolved(Exception):
    """A value the rehearsal cannot compute without AWS (an import, an AZ list...)."""


def transform(sam: dict, parameters: dict[str, str], region: str) -> dict:
    """The plain CloudFormation that CloudFormation's AWS::Serverless transform would make of `sam`."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import to_py27_compatible_template, undo_mark_unicode_str_in_template

    sam = copy.deepcopy(sam)
    for resource in sam.get("Resources", {}).values():
        code = resource.get("Properties", {}).get("CodeUri")
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(code, str) and "://" not in code:
            # What `aws cloudformation package` does with a local path: upload it, name it by S3 URI.
            resource["Properties"]["CodeUri"] = f"s3://{ARTIFACTS_BUCKET}/{Path(code).name}"
    os.environ.setdefault("AWS_DEFAULT_REGION", region)  # the translator's ARN helper reads it
    # As samtranslator's own transform(), with the region given rather than read from the environment.
    parameters = dict(parameters)
    to_py27_compatible_template(sam, parameters)
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    # No managed policy names to look up: Chalice gives every function a Role.
    cfn = translator.translate(sam, parameter_values=parameters, get_managed_policy_map=lambda: {})
    return undo_mark_unicode_str_in_template(cfn)


@dataclass
class Stack:
    """A plain CloudFormation template with its parameter values: evaluates what CloudFormation would."""

    body: dict
    parameters: dict[str, str]
    region: str = "me-south-1"
    name: str = "insure"
    _conditions: dict[str, bool] = field(default_factory=dict, repr=False)

    @property
    def resources(self) -> dict[str, dict]:
        return self.body.get("Resources", {})

    def parameter_values(self) -> dict[str, Any]:
        values = {name: spec["Default"] for name, spec in self.body.get("Parameters", {}).items()
                  if "Default" in spec}
        values.update(self.parameters)
        return values

    def pseudo(self) -> dict[str, Any]:
        return {"AWS::AccountId": ACCOUNT, "AWS::Region": self.region, "AWS::Partition": "aws",
                "AWS::StackName": self.name, "AWS::URLSuffix": "amazonaws.com", "AWS::NotificationARNs": [],
                "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{ACCOUNT}:stack/{self.name}/rehearsal"}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = bool(self.value(self.body["Conditions"][name]))
        return self._conditions[name]

    def created(self) -> dict[str, dict]:
        """The resources CloudFormation creates with these parameters (their Condition holds)."""
        return {lid: r for lid, r in self.resources.items() if "Condition" not in r or self.condition(r["Condition"])}

    def physical_name(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        prop = NAME_PROPERTY.get(resource["Type"])
        if prop and prop in resource.get("Properties", {}):
            return str(self.value(resource["Properties"][prop]))
        return f"{self.name}-{logical_id}"  # CloudFormation's generated names also carry a random suffix

    def arn(self, logical_id: str) -> str:
        kind = self.resources[logical_id]["Type"]
        if kind not in ARN_FORMAT:
            return f"<{logical_id}.Arn>"
        return ARN_FORMAT[kind].format(partition="aws", region=self.region, account=ACCOUNT,
                                       name=self.physical_name(logical_id))

    def ref(self, name: str) -> Any:
        values = self.parameter_values()
        if name in values:
            return values[name]
        if name in self.pseudo():
            return self.pseudo()[name]
        if name == "AWS::NoValue":
            return None
        if name not in self.resources:
            raise Unresolved(f"Ref {name}")
        kind = self.resources[name]["Type"]
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT}/{self.physical_name(name)}"
        if kind in NAME_PROPERTY:
            return self.physical_name(name)
        return f"<{name}>"

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if logical_id not in self.resources:
            raise Unresolved(f"Fn::GetAtt {logical_id}.{attribute}")
        if attribute == "Arn":
            return self.arn(logical_id)
        if attribute in ("QueueName", "Name") or (attribute == "QueueUrl"):
            return self.physical_name(logical_id) if attribute != "QueueUrl" else self.ref(logical_id)
        return f"<{logical_id}.{attribute}>"

    def sub(self, text: str, variables: dict) -> str:
        def one(match: re.Match) -> str:
            name = match.group(1).strip()
            if name in variables:
                return str(self.value(variables[name]))
            if "." in name and name.split(".", 1)[0] in self.resources:
                return str(self.get_att(*name.split(".", 1)))
            return str(self.ref(name))

        return SUB_VARIABLE.sub(one, text).replace("${!", "${")

    def value(self, node: Any) -> Any:  # noqa: PLR0912
        """`node` with its intrinsic functions evaluated; Unresolved where that needs AWS."""
        if isinstance(node, list):
            return [self.value(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1 and next(iter(node)) in INTRINSICS:
            function, argument = next(iter(node.items()))
            if function == "Ref":
                return self.ref(argument)
            if function == "Fn::GetAtt":
                logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
                return self.get_att(logical_id, attribute)
            if function == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                return self.sub(text, variables)
            if function == "Fn::Join":
                return str(self.value(argument[0])).join(str(v) for v in self.value(argument[1]))
            if function == "Fn::If":
                return self.value(argument[1] if self.condition(argument[0]) else argument[2])
            if function == "Fn::Equals":
                left, right = self.value(argument)
                return str(left) == str(right)
            if function == "Fn::Not":
                return not self.value(argument[0])
            if function == "Fn::And":
                return all(self.value(a) for a in argument)
            if function == "Fn::Or":
                return any(self.value(a) for a in argument)
            if function == "Condition":
                return self.condition(argument)
            if function == "Fn::Select":
                return self.value(argument[1])[int(self.value(argument[0]))]
            if function == "Fn::Split":
                return str(self.value(argument[1])).split(argument[0])
            if function == "Fn::Contains":
                return self.value(argument[1]) in self.value(argument[0])
            if function == "Fn::EachMemberEquals":
                return all(v == self.value(argument[1]) for v in self.value(argument[0]))
            if function == "Fn::ToJsonString":
                return json.dumps(self.value(argument))
            raise Unresolved(function)
        return {key: v for key, v in ((key, self.value(item)) for key, item in node.items()) if v is not None}

    def try_value(self, node: Any) -> Any:
        try:
            return self.value(node)
        except Unresolved:
            return None

    def queue_named_by(self, arn_node: Any) -> str | None:
        """The logical id of the template's queue that an ARN (GetAtt, Sub, or a string) names."""
        if isinstance(arn_node, dict) and "Fn::GetAtt" in arn_node:
            argument = arn_node["Fn::GetAtt"]
            logical_id = argument.split(".", 1)[0] if isinstance(argument, str) else argument[0]
            return logical_id if logical_id in self.resources else None
        arn = self.try_value(arn_node)
        for logical_id, resource in self.created().items():
            if resource["Type"] == "AWS::SQS::Queue" and self.try_value({"Fn::GetAtt": [logical_id, "Arn"]}) == arn:
                return logical_id
        return None

    def dependencies(self, logical_id: str) -> set[str]:
        """Every resource CloudFormation creates before `logical_id` (DependsOn and references, transitively)."""
        seen: set[str] = set()
        todo = [logical_id]
        while todo:
            resource = self.resources.get(todo.pop(), {})
            direct = set(_as_list(resource.get("DependsOn", []))) | {
                name for kind, name in _references(resource.get("Properties", {})) if kind != "param"}
            for name in direct & set(self.resources) - seen:
                seen.add(name)
                todo.append(name)
        return seen


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _references(node: Any, stack: Stack | None = None) -> list[tuple[str, str]]:
    """(kind, name) of everything `node` names: Ref, GetAtt and Sub variables. With `stack`, only
    the branches of Fn::If its conditions take (what CloudFormation resolves)."""
    found: list[tuple[str, str]] = []
    if isinstance(node, list):
        for item in node:
            found += _references(item, stack)
    elif isinstance(node, dict):
        if len(node) == 1 and next(iter(node)) in INTRINSICS:
            function, argument = next(iter(node.items()))
            if function == "Ref" and isinstance(argument, str):
                return [("ref", argument)]
            if function == "Fn::GetAtt":
                name = argument.split(".", 1)[0] if isinstance(argument, str) else argument[0]
                return [("getatt", name)]
            if function == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                for name in SUB_VARIABLE.findall(text):
                    if name.strip() not in variables:
                        found.append(("sub", name.strip().split(".", 1)[0] if "." in name else name.strip()))
                return found + _references(variables, stack)
            if function == "Fn::If" and stack is not None:
                return _references(argument[1] if stack.condition(argument[0]) else argument[2], stack)
            if function == "Condition":
                return [("condition", argument)]
        for item in node.values():
            found += _references(item, stack)
    return found


# ---- the checks: each returns problems, one sentence each, naming the resources concerned ----

def check_parameters(stack: Stack) -> list[str]:
    problems = []
    values = stack.parameter_values()
    for name, spec in stack.body.get("Parameters", {}).items():
        if name not in values:
            problems.append(f"parameter {name} has no value and no Default")
            continue
        value = str(values[name])
        if "AllowedValues" in spec and value not in [str(v) for v in spec["AllowedValues"]]:
            problems.append(f"parameter {name}={value!r} is not one of {spec['AllowedValues']}")
        if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
            problems.append(f"parameter {name}={value!r} does not match {spec['AllowedPattern']}")
    problems += [f"parameter {name} is not declared by the template" for name in stack.parameters
                 if name not in stack.body.get("Parameters", {})]
    for rule_name, rule in stack.body.get("Rules", {}).items():
        if "RuleCondition" in rule and not stack.value(rule["RuleCondition"]):
            continue
        for assertion in rule.get("Assertions", []):
            if not stack.value(assertion["Assert"]):
                problems.append(f"rule {rule_name}: {assertion.get('AssertDescription', 'assertion fails')}")
    return problems


def check_references(stack: Stack) -> list[str]:
    problems = []
    resources = set(stack.resources)
    conditions = set(stack.body.get("Conditions", {}))
    names = resources | set(stack.body.get("Parameters", {})) | PSEUDO_PARAMETERS

    def unknown(where: str, node: Any) -> None:
        for kind, name in _references(node):
            known = conditions if kind == "condition" else resources if kind == "getatt" else names
            if name not in known:
                problems.append(f"{where}: {kind} names {name}, which the template does not declare")

    for section in ("Conditions", "Outputs", "Rules"):
        for key, node in stack.body.get(section, {}).items():
            unknown(f"{section}.{key}", node)
    for logical_id, resource in stack.resources.items():
        unknown(logical_id, resource.get("Properties", {}))
        for name in _as_list(resource.get("DependsOn", [])):
            if name not in resources:
                problems.append(f"{logical_id}: DependsOn {name}, which the template does not declare")
        if "Condition" in resource and resource["Condition"] not in conditions:
            problems.append(f"{logical_id}: Condition {resource['Condition']} is not declared")
    if problems:
        return problems
    # What is created must not name a resource that its Condition leaves out.
    created = set(stack.created())
    users = {lid: r.get("Properties", {}) for lid, r in stack.created().items()}
    users |= {f"Outputs.{k}": o for k, o in stack.body.get("Outputs", {}).items()
              if "Condition" not in o or stack.condition(o["Condition"])}
    for user, node in users.items():
        for kind, name in _references(node, stack):
            if kind != "condition" and name in resources and name not in created:
                problems.append(f"{user}: names {name}, which its Condition leaves out of this stack")
    return problems


def check_roles(stack: Stack) -> list[str]:
    problems = []
    for logical_id, function in stack.created().items():
        if function["Type"] != "AWS::Lambda::Function":
            continue
        role = function.get("Properties", {}).get("Role")
        if isinstance(role, dict) and "Fn::GetAtt" in role:
            argument = role["Fn::GetAtt"]
            role_id = argument.split(".", 1)[0] if isinstance(argument, str) else argument[0]
            target = stack.created().get(role_id)
            if target is None or target["Type"] != "AWS::IAM::Role":
                problems.append(f"{logical_id}: Role names {role_id}, which is not a role this stack creates")
            elif not _lambda_may_assume(stack, target):
                problems.append(f"{logical_id}: role {role_id} does not let lambda.amazonaws.com assume it")
            continue
        arn = stack.try_value(role)
        if not isinstance(arn, str) or not ROLE_ARN.match(arn):
            problems.append(f"{logical_id}: Role {json.dumps(role)} is neither a role of the stack nor a role ARN")
    return problems


def _lambda_may_assume(stack: Stack, role: dict) -> bool:
    document = stack.try_value(role.get("Properties", {}).get("AssumeRolePolicyDocument")) or {}
    for statement in _as_list(document.get("Statement", [])):
        services = _as_list((statement.get("Principal") or {}).get("Service", []))
        actions = _as_list(statement.get("Action", []))
        if statement.get("Effect") == "Allow" and "lambda.amazonaws.com" in services and (
                "sts:AssumeRole" in actions or "sts:*" in actions):
            return True
    return False


def check_sqs_event_sources(stack: Stack) -> list[str]:
    problems = []
    created = stack.created()
    for logical_id, mapping in created.items():
        if mapping["Type"] != "AWS::Lambda::EventSourceMapping":
            continue
        properties = mapping.get("Properties", {})
        source = stack.try_value(properties.get("EventSourceArn"))
        queue_id = stack.queue_named_by(properties.get("EventSourceArn"))
        if queue_id is None and not (isinstance(source, str) and source.split(":")[2:3] == ["sqs"]):
            continue  # not an SQS event source (a stream, Kafka...)
        if queue_id is None or queue_id not in created:
            problems.append(f"{logical_id}: its queue {source} is not a queue this stack creates")
            continue
        if queue_id not in stack.dependencies(logical_id):
            problems.append(f"{logical_id}: may be created before its queue {queue_id} (no DependsOn or reference)")
        function_ref = properties.get("FunctionName")
        function_id = next((name for _, name in _references(function_ref) if name in created), None)
        if function_id is None:
            problems.append(f"{logical_id}: its function {json.dumps(function_ref)} is not one this stack creates")
            continue
        timeout = int(stack.value(created[function_id].get("Properties", {}).get("Timeout", DEFAULT_LAMBDA_TIMEOUT)))
        window = int(stack.value(properties.get("MaximumBatchingWindowInSeconds", 0)))
        visibility = int(stack.value(created[queue_id].get("Properties", {}).get(
            "VisibilityTimeout", DEFAULT_VISIBILITY_TIMEOUT)))
        needed = SIX_TIMES * timeout + window
        if visibility < needed:
            refused = " (Lambda refuses it: below the function's timeout)" if visibility < timeout else ""
            problems.append(
                f"{logical_id}: queue {queue_id} ({stack.physical_name(queue_id)}) has VisibilityTimeout "
                f"{visibility} s, below {SIX_TIMES} x {function_id}'s Timeout {timeout} s + batching window "
                f"{window} s = {needed} s{refused}")
    return problems


def check_dead_letter_queues(stack: Stack) -> list[str]:
    problems = []
    created = stack.created()
    dead_letter_queues: dict[str, str] = {}
    for logical_id, queue in created.items():
        if queue["Type"] != "AWS::SQS::Queue":
            continue
        policy = queue.get("Properties", {}).get("RedrivePolicy")
        if isinstance(policy, str):
            policy = json.loads(policy)
        if not policy or "deadLetterTargetArn" not in policy:
            continue
        target = stack.queue_named_by(policy["deadLetterTargetArn"])
        if target is None or target not in created:
            problems.append(f"{logical_id}: its dead-letter queue {json.dumps(policy['deadLetterTargetArn'])} "
                            "is not a queue this stack creates")
        else:
            dead_letter_queues[target] = logical_id
    consumed = {stack.queue_named_by(r.get("Properties", {}).get("EventSourceArn"))
                for r in created.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"}
    for queue_id, source_id in dead_letter_queues.items():
        if queue_id in consumed or _alarmed(stack, queue_id):
            continue
        problems.append(f"{queue_id} ({stack.physical_name(queue_id)}), the dead-letter queue of {source_id}, "
                        "has neither a consumer (event source mapping) nor a CloudWatch alarm with an action")
    return problems


def _alarmed(stack: Stack, queue_id: str) -> bool:
    name = stack.physical_name(queue_id)
    for alarm in stack.created().values():
        if alarm["Type"] != "AWS::CloudWatch::Alarm":
            continue
        properties = stack.try_value(alarm.get("Properties", {})) or {}
        if not properties.get("AlarmActions"):
            continue
        metrics = [properties] + [m.get("MetricStat", {}).get("Metric", {}) for m in properties.get("Metrics", [])]
        for metric in metrics:
            dimensions = {d.get("Name"): d.get("Value") for d in metric.get("Dimensions", [])}
            if metric.get("Namespace") == "AWS/SQS" and dimensions.get("QueueName") == name:
                return True
    return False


CHECKS = (check_parameters, check_references, check_roles, check_sqs_event_sources, check_dead_letter_queues)


def check(stack: Stack) -> list[str]:
    """Every problem the checks find; the later checks only run once the references resolve."""
    problems = check_parameters(stack) + check_references(stack)
    if problems:
        return problems
    for one in CHECKS[2:]:
        problems += one(stack)
    return problems


# ---- moto ----

@dataclass
class MotoRun:
    status: str
    reason: str | None
    skipped: dict[str, list[str]]  # resource type -> logical ids left out
    physical: dict[str, str]       # logical id -> physical id, as moto's stack reports them
    existing: dict[str, set[str]] = field(default_factory=dict)  # tables, queues, buckets on moto, by name


def create_on_moto(stack: Stack, code: bytes | None = None) -> MotoRun:
    """Creates the stack on moto's CloudFormation (in-process) without the types in MOTO_SKIPS."""
    import boto3
    from moto import mock_aws
    from moto.cloudformation.parsing import get_model_map

    body = copy.deepcopy(stack.body)
    supported = set(get_model_map()) - set(MOTO_SKIPS)
    skipped: dict[str, list[str]] = {}
    for logical_id, resource in list(body["Resources"].items()):
        if resource["Type"] not in supported:
            skipped.setdefault(resource["Type"], []).append(logical_id)
            del body["Resources"][logical_id]
    gone = {lid for ids in skipped.values() for lid in ids}
    body["Resources"] = _without(body["Resources"], gone)
    body["Outputs"] = {k: o for k, o in _without(body.get("Outputs", {}), gone).items()
                       if not ({n for _, n in _references(o)} & gone)}
    body.pop("Rules", None)  # check_parameters evaluated them; moto would not
    for resource in body["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::ApiGateway::RestApi" and "Name" not in properties:
            # API Gateway names an imported API after its OpenAPI title; moto needs the Name property.
            properties["Name"] = properties.get("Body", {}).get("info", {}).get("title", "api")
    if code is None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr("app.py", "")
        code = buffer.getvalue()
    with mock_aws():
        session = boto3.session.Session(region_name=stack.region, aws_access_key_id="testing",
                                        aws_secret_access_key="testing")  # moto's fake credentials
        s3 = session.client("s3")
        s3.create_bucket(Bucket=ARTIFACTS_BUCKET, CreateBucketConfiguration={"LocationConstraint": stack.region})
        keys = {str(r["Properties"]["Code"].get("S3Key")) for r in body["Resources"].values()
                if r["Type"] == "AWS::Lambda::Function" and "S3Key" in r.get("Properties", {}).get("Code", {})}
        for key in keys:
            s3.put_object(Bucket=ARTIFACTS_BUCKET, Key=key, Body=code)
        cloudformation = session.client("cloudformation")
        try:
            cloudformation.create_stack(
                StackName=stack.name, TemplateBody=json.dumps(body),
                Parameters=[{"ParameterKey": k, "ParameterValue": str(v)} for k, v in stack.parameters.items()],
                Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"])
        except Exception as error:  # moto raises what it fails on, where AWS would roll back
            return MotoRun("CREATE_FAILED", f"{type(error).__name__}: {error}", skipped, {})
        described = cloudformation.describe_stacks(StackName=stack.name)["Stacks"][0]
        summaries = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack.name)
        physical = {s["LogicalResourceId"]: s["PhysicalResourceId"]
                    for page in summaries for s in page["StackResourceSummaries"]}
        existing = _existing(session)
        missing = [f"{r['Type']} {stack.physical_name(lid)}" for lid, r in stack.created().items()
                   if r["Type"] in existing and stack.physical_name(lid) not in existing[r["Type"]]]
        reason = described.get("StackStatusReason")
        if missing:
            reason = "created but not found: " + ", ".join(missing)
        return MotoRun(described["StackStatus"] if not missing else "CREATE_INCOMPLETE", reason, skipped, physical,
                       existing)


def _existing(session: Any) -> dict[str, set[str]]:
    """The tables, queues and buckets that exist on moto, by name."""
    return {
        "AWS::DynamoDB::Table": set(session.client("dynamodb").list_tables()["TableNames"]),
        "AWS::SQS::Queue": {url.rsplit("/", 1)[1] for url in session.client("sqs").list_queues().get("QueueUrls", [])},
        "AWS::S3::Bucket": {b["Name"] for b in session.client("s3").list_buckets()["Buckets"]},
    }


def _without(node: Any, gone: set[str]) -> Any:
    """`node` with DependsOn on, and references to, the resources in `gone` replaced by placeholders."""
    if isinstance(node, list):
        return [_without(item, gone) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        function, argument = next(iter(node.items()))
        if function == "Ref" and argument in gone:
            return f"rehearsal-skipped-{argument}"
        if function == "Fn::GetAtt":
            name = argument.split(".", 1)[0] if isinstance(argument, str) else argument[0]
            if name in gone:
                return f"rehearsal-skipped-{name}"
        if function == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument

            def placeholder(match: re.Match) -> str:
                name = match.group(1).strip().split(".", 1)[0]
                return f"rehearsal-skipped-{name}" if name in gone and name not in variables else match.group(0)

            text = SUB_VARIABLE.sub(placeholder, text)
            return {"Fn::Sub": text if isinstance(argument, str) else [text, _without(variables, gone)]}
    out = {}
    for key, value in node.items():
        if key == "DependsOn":
            kept = [name for name in _as_list(value) if name not in gone]
            if kept:
                out[key] = kept
        else:
            out[key] = _without(value, gone)
    return out


def rehearse(sam: dict, parameters: dict[str, str], region: str = "me-south-1",
             with_moto: bool = True) -> tuple[list[str], MotoRun | None]:
    """Transform, check, and (when the checks pass) create on moto: the problems and the moto run."""
    stack = Stack(transform(sam, parameters, region), parameters, region)
    problems = check(stack)
    if problems or not with_moto:
        return problems, None
    run = create_on_moto(stack)
    if run.status != "CREATE_COMPLETE":
        problems.append(f"moto: {run.status}: {run.reason}")
    unexpected = set(run.skipped) - set(MOTO_SKIPS)
    problems += [f"moto cannot create {kind} ({', '.join(ids)}): add it to MOTO_SKIPS with the reason, or fix it"
                 for kind, ids in sorted(run.skipped.items()) if kind in unexpected]
    return problems, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.rehearsal", description=__doc__.split("\n")[0])
    parser.add_argument("template", nargs="?", default="build/sam.json")
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "me-south-1"))
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--no-moto", action="store_true")
    args = parser.parse_args(argv)
    parameters = {"Stage": args.stage} | dict(p.split("=", 1) for p in args.param)
    sam = json.loads(Path(args.template).read_text(encoding="utf-8"))
    problems, run = rehearse(sam, parameters, args.region, with_moto=not args.no_moto)
    for problem in problems:
        print(f"rehearsal: {problem}")
    if run is not None:
        for kind, ids in sorted(run.skipped.items()):
            print(f"rehearsal: moto skipped {kind} x{len(ids)}: {MOTO_SKIPS.get(kind, '?')}")
        print(f"rehearsal: moto stack {run.status}, {len(run.physical)} resources")
    print("rehearsal: " + ("FAILED" if problems else "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

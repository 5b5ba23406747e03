"""Operable from day one: logs with retention, alarms, throttling, access logs, tracing, email suppression.

Checked on the template `chalice package --merge-template` gives (and on SAM's transform of it),
not on resources.json alone: what counts is what CloudFormation receives.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from chalicelib.logs import log_alert, log_event
from devstack.infra import monitoring

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template(stage_template) -> dict:
    return stage_template("prod")  # built once per run for every module (conftest.py)


@pytest.fixture(scope="module")
def transformed(template) -> dict:
    """SAM's transform of the template, as CloudFormation runs it (the code's location made an S3 one)."""
    from samtranslator.translator.transform import transform

    document = json.loads(json.dumps(template))
    for resource in document["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts/deployment.zip"

    class NoManagedPolicies:
        def load(self) -> dict:
            return {}

    os.environ.setdefault("AWS_DEFAULT_REGION", "me-south-1")
    return transform(document, {}, NoManagedPolicies())


def of_type(template: dict, kind: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def alarms(template: dict) -> list[dict]:
    return [r["Properties"] for r in of_type(template, "AWS::CloudWatch::Alarm").values()]


def test_every_function_writes_to_a_log_group_with_retention_that_exists_before_it(template):
    functions = of_type(template, "AWS::Serverless::Function")
    groups = of_type(template, "AWS::Logs::LogGroup")
    assert set(functions) == set(monitoring.functions())  # the generator found every function of app.py
    for logical_id, function in functions.items():
        name = function["Properties"]["FunctionName"]["Fn::Sub"]
        assert re.fullmatch(r"insure-\$\{Stage\}-[a-z_]+", name), name
        (group_id,) = [g for g, group in groups.items()
                       if group["Properties"]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/{name}"}]
        assert group_id in function["DependsOn"], logical_id  # so Lambda never makes its own, kept forever
        assert groups[group_id]["Properties"]["RetentionInDays"] == {"Fn::If": ["IsProd", 90, 14]}
    for group in groups.values():
        assert "RetentionInDays" in group["Properties"]


def test_every_dead_letter_queue_has_an_alarm_when_not_empty(template):
    queues = of_type(template, "AWS::SQS::Queue")
    dead_letter = {q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
                   for q in queues.values() if "RedrivePolicy" in q["Properties"]}
    assert dead_letter == {"HrDeadLetterQueue", "OutboundDeadLetterQueue"}
    for queue in dead_letter:
        (alarm,) = [a for a in alarms(template) if a["MetricName"] == "ApproximateNumberOfMessagesVisible"
                    and a["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]]
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")


def test_every_alarm_notifies_the_topic_that_emails_the_alarm_address(template):
    (topic,) = of_type(template, "AWS::SNS::Topic")
    (subscription,) = of_type(template, "AWS::SNS::Subscription").values()
    assert subscription["Properties"] == {"TopicArn": {"Ref": topic}, "Protocol": "email",
                                          "Endpoint": {"Ref": "AlarmEmail"}}
    assert "Default" not in template["Parameters"]["AlarmEmail"]  # a stack nobody hears from is refused
    for alarm in alarms(template):
        assert alarm["AlarmActions"] == [{"Ref": topic}], alarm["AlarmName"]


def test_each_function_has_an_errors_and_a_throttles_alarm(template):
    for logical_id, function in of_type(template, "AWS::Serverless::Function").items():
        name = function["Properties"]["FunctionName"]
        watched = {a["MetricName"] for a in alarms(template) if a["Namespace"] == "AWS/Lambda"
                   and a["Dimensions"] == [{"Name": "FunctionName", "Value": name}]}
        assert watched == {"Errors", "Throttles"}, logical_id


def test_the_api_alarms_on_5xx_and_on_throttled_requests(template):
    api_alarms = [a for a in alarms(template) if a["Namespace"] == "AWS/ApiGateway"]
    assert [a["MetricName"] for a in api_alarms] == ["5XXError"]
    assert {"Name": "ApiName", "Value": template["Resources"]["RestAPI"]["Properties"]["Name"]} \
        in api_alarms[0]["Dimensions"]
    (throttled,) = [f["Properties"] for f in of_type(template, "AWS::Logs::MetricFilter").values()
                    if f["Properties"]["LogGroupName"] == {"Ref": monitoring.ACCESS_LOG_GROUP}]
    gateway_throttled = access_log_line(status="429", responseType="THROTTLED")
    assert matches(throttled["FilterPattern"], gateway_throttled)
    assert not matches(throttled["FilterPattern"], access_log_line(status="429", responseType="-"))  # the app's
    metric = throttled["MetricTransformations"][0]["MetricName"]
    assert any(a["MetricName"] == metric for a in alarms(template))


# --- metric filters on the JSON log lines ---------------------------------------------------------------

_TOKEN = re.compile(r'\s*(\(|\)|&&|\|\||!=|=|"(?:[^"\\]|\\.)*"|\$[.\w\[\]]+|[^\s()=!&|]+)')


def matches(pattern: str, line: str) -> bool:
    """CloudWatch Logs' JSON filter pattern semantics, for what our patterns use.

    `{ $.a.b = "x" }`, `!=`, `&&`, `||` and parentheses; a quoted or bare value, `*` a wildcard in it;
    a selector that names no field never matches `=` (and matches `!=`); a line that is not JSON never matches.
    """
    try:
        document = json.loads(line)
    except ValueError:
        return False
    body = pattern.strip()
    assert body.startswith("{") and body.endswith("}"), pattern
    tokens = _TOKEN.findall(body[1:-1])
    assert "".join(tokens).replace(" ", "") == body[1:-1].replace(" ", ""), f"unparsed text in {pattern}"
    position = 0

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def comparison() -> bool:
        if tokens[position] == "(":
            take()
            value = disjunction()
            assert take() == ")", pattern
            return value
        selector, operator, expected = take(), take(), take()
        assert selector.startswith("$.") and operator in ("=", "!="), pattern
        expected = json.loads(expected) if expected.startswith('"') else expected
        found: object = document
        for key in selector[2:].split("."):
            found = found.get(key) if isinstance(found, dict) else None
        equal = found is not None and re.fullmatch(
            ".*".join(map(re.escape, expected.split("*"))), str(found)) is not None
        return equal if operator == "=" else not equal

    def conjunction() -> bool:
        value = comparison()
        while position < len(tokens) and tokens[position] == "&&":
            take()
            value = comparison() and value
        return value

    def disjunction() -> bool:
        value = conjunction()
        while position < len(tokens) and tokens[position] == "||":
            take()
            value = conjunction() or value
        return value

    result = disjunction()
    assert position == len(tokens), f"unparsed text in {pattern}"
    return result


def test_the_filter_semantics_in_these_tests_are_those_of_cloudwatch():
    line = json.dumps({"level": "ERROR", "event": "refund_not_recorded", "n": {"k": "v"}})
    assert matches('{ $.event = "refund_not_recorded" }', line)
    assert matches('{$.event="refund_not_recorded"}', line)
    assert not matches('{ $.event = "refund_not" }', line)  # whole values, not prefixes
    assert matches('{ $.event = "refund_*" }', line)
    assert matches('{ ($.event = "x") || ($.event = "refund_not_recorded") }', line)
    assert not matches('{ ($.event = "x") || ($.event = "y") }', line)
    assert matches('{ $.level = "ERROR" && $.n.k = "v" }', line)
    assert not matches('{ $.level = "ERROR" && $.missing = "v" }', line)
    assert matches('{ $.missing != "v" }', line)
    assert not matches('{ $.event = "refund_not_recorded" }', "refund_not_recorded but not JSON")


def logged_line(capsys, log, event: str, **fields) -> str:
    """The line chalicelib.logs writes (to stdout: what Lambda sends to the function's log group)."""
    capsys.readouterr()
    log(event, **fields)
    (line,) = [text for text in capsys.readouterr().out.splitlines() if text.startswith("{")]
    return line


def filters_of(template: dict, logical_id: str) -> dict[str, str]:
    """The metric name -> filter pattern of a function's log group."""
    group = monitoring.log_group_id(logical_id)
    return {f["Properties"]["MetricTransformations"][0]["MetricName"]: f["Properties"]["FilterPattern"]
            for f in of_type(template, "AWS::Logs::MetricFilter").values()
            if f["Properties"]["LogGroupName"] == {"Ref": group}}


@pytest.mark.parametrize(("metric", "event", "function"), [
    ("HrFileDeadLettered", "hr_file_dead_lettered", "HrFileFailed"),
    ("RefundNotRecorded", "refund_not_recorded", "APIHandler"),
    ("RefundNotRecorded", "refund_not_recorded", "ReconcilePayments"),
    ("RefundNotRecorded", "refund_confirmation_not_recorded", "APIHandler"),
    ("LedgerIntegrity", "ledger_chain_broken", "VerifyLedger"),
    ("PaymentMismatch", "payment_amount_mismatch", "APIHandler"),
])
def test_the_alert_filters_count_the_lines_the_app_really_writes(template, capsys, metric, event, function):
    filters = filters_of(template, function)
    line = logged_line(capsys, log_alert, event, payment_id="p_1", key="hr/incoming/X/f.csv")
    assert matches(filters[metric], line)
    assert matches(filters["ErrorLogLines"], line)
    assert not matches(filters[metric], logged_line(capsys, log_event, "message_sent", channel="email"))
    # An info line that merely mentions the event in another field does not count.
    assert not matches(filters[metric], logged_line(capsys, log_event, "job_summary", note=event))
    (alarm,) = [a for a in alarms(template) if a["MetricName"] == metric]
    assert alarm["Namespace"] == {"Fn::Sub": "Insure/${Stage}"}


def test_every_function_log_group_carries_every_alert_filter(template):
    for logical_id in of_type(template, "AWS::Serverless::Function"):
        assert set(filters_of(template, logical_id)) == {*monitoring.ALERT_EVENTS, "ErrorLogLines"}, logical_id


def test_every_alert_event_is_one_the_app_logs():
    """An event renamed in the code would leave its filter counting nothing."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "chalicelib").rglob("*.py"))
    for events in monitoring.ALERT_EVENTS.values():
        for event in events:
            assert re.search(rf'log_(?:alert|error)\(\s*"{event}"', source), event


# --- the API stage: throttling, access log, tracing ------------------------------------------------------


def stage_of(transformed: dict) -> dict:
    stages = [r["Properties"] for r in transformed["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage"]
    # Only Chalice's "api" stage: no SAM default "Stage" stage reachable without throttling or access log.
    assert [s["StageName"] for s in stages] == ["api"]
    deployments = [r["Properties"] for r in transformed["Resources"].values()
                   if r["Type"] == "AWS::ApiGateway::Deployment"]
    assert all("StageName" not in d for d in deployments)
    return stages[0]


def test_register_login_and_forgot_password_are_throttled_below_the_stage_default(template, transformed):
    settings = stage_of(transformed)["MethodSettings"]
    (default,) = [s for s in settings if (s["ResourcePath"], s["HttpMethod"]) == ("/*", "*")]
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    tight = {}
    for setting in settings:
        if setting is default:
            continue
        path = setting["ResourcePath"][1:].replace("~1", "/")
        assert setting["ResourcePath"] == "/" + path.replace("/", "~1")
        assert setting["HttpMethod"].lower() in paths[path], path  # a route the API has, as the stage names it
        assert setting["ThrottlingRateLimit"] < default["ThrottlingRateLimit"]
        assert setting["ThrottlingBurstLimit"] < default["ThrottlingBurstLimit"]
        assert setting["ThrottlingRateLimit"] <= setting["ThrottlingBurstLimit"]
        tight[(path, setting["HttpMethod"])] = setting
    assert {("/v1/auth/register", "POST"), ("/v1/auth/login", "POST"),
            ("/v1/auth/password/forgot", "POST")} <= set(tight)


def access_log_line(**values: str) -> str:
    """An access log line: the format with its variables filled in (the others "-", as API Gateway does)."""
    text = json.dumps(monitoring.ACCESS_LOG_FORMAT, separators=(",", ":"))
    return re.sub(r"\$context\.([\w.]+)", lambda m: values.get(m.group(1).split(".")[-1], "-"), text)


# $context variables that carry neither a query string, a header, a body nor a path's ids.
SAFE_VARIABLES = {
    "$context.requestId", "$context.requestTime", "$context.identity.sourceIp", "$context.httpMethod",
    "$context.resourcePath", "$context.status", "$context.protocol", "$context.responseLength",
    "$context.responseLatency", "$context.integrationLatency", "$context.error.responseType",
    "$context.xrayTraceId",
}


def test_the_access_log_is_json_without_query_strings_to_a_log_group_with_retention(template, transformed):
    setting = stage_of(transformed)["AccessLogSetting"]
    log_format = setting["Format"]
    assert json.loads(log_format)  # one JSON object per request
    variables = set(re.findall(r"\$[\w.]+", log_format))
    # Reset and activation tokens travel in query strings: no variable that holds one, nor the raw path.
    assert variables <= SAFE_VARIABLES, variables - SAFE_VARIABLES
    assert not re.search(r"requestOverride|querystring|\$input|\$method|\$context\.path\b|domainName", log_format)
    assert setting["DestinationArn"] == {"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
                                                    ":log-group:${ApiAccessLogGroup}"}
    group = template["Resources"]["ApiAccessLogGroup"]["Properties"]
    assert group["RetentionInDays"] == {"Fn::If": ["IsProd", 90, 14]}
    # API Gateway writes it with the account's CloudWatch role, set before the API exists.
    assert "ApiGatewayAccount" in transformed["Resources"]["RestAPI"]["DependsOn"]


def test_tracing_is_on_for_every_function_and_the_stage(template, transformed):
    for logical_id, function in of_type(transformed, "AWS::Lambda::Function").items():
        assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}, logical_id
    assert stage_of(transformed)["TracingEnabled"] is True


# --- email: the configuration set that suppresses bouncing addresses ---------------------------------------


def test_the_configuration_set_suppresses_bounces_and_complaints_and_reports_them(template):
    (set_id, configuration_set), = of_type(template, "AWS::SES::ConfigurationSet").items()
    assert configuration_set["Properties"]["SuppressionOptions"] == {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]}
    (destination,) = of_type(template, "AWS::SES::ConfigurationSetEventDestination").values()
    assert destination["Properties"]["ConfigurationSetName"] == {"Ref": set_id}
    assert {"bounce", "complaint"} <= set(destination["Properties"]["EventDestination"]["MatchingEventTypes"])
    assert {"Complaint", "Reputation.BounceRate", "Reputation.ComplaintRate"} <= {
        a["MetricName"] for a in alarms(template) if a["Namespace"] == "AWS/SES"}
    for function in of_type(template, "AWS::Serverless::Function").values():
        assert function["Properties"]["Environment"]["Variables"]["SES_CONFIGURATION_SET"] == {"Ref": set_id}


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_settings_default_names_the_template_configuration_set(stage, monkeypatch):
    from chalicelib.settings import get_settings, reset_settings
    from devstack.provision import Resolver

    monkeypatch.setenv("STAGE", stage)
    monkeypatch.delenv("SES_CONFIGURATION_SET", raising=False)
    reset_settings()
    try:
        assert get_settings().email_configuration_set == Resolver(stage, "me-south-1").name_of(
            monitoring.EMAIL_CONFIGURATION_SET)
    finally:
        monkeypatch.undo()
        reset_settings()


def test_every_email_is_sent_with_the_configuration_set(aws):
    from chalicelib.platform import messaging
    from chalicelib.platform.aws import client
    from chalicelib.platform.messages import Message
    from chalicelib.settings import get_settings

    configuration_set = get_settings().email_configuration_set
    ses = client("ses")
    # provision made it, as the template does: SES refuses a send naming a set it does not have.
    assert ses.describe_configuration_set(ConfigurationSetName=configuration_set)["ConfigurationSet"]["Name"] \
        == configuration_set
    sent: list[dict] = []
    ses.meta.events.register("provide-client-params.ses.SendEmail", lambda params, **_: sent.append(dict(params)))

    messaging.deliver(Message(channel="email", to="someone@example.com", template="welcome", text="Hello",
                              subject="Welcome", html="<p>Hello</p>"))

    (params,) = sent
    assert params["ConfigurationSetName"] == configuration_set == "insure-dev-email"
    assert params["Destination"] == {"ToAddresses": ["someone@example.com"]}

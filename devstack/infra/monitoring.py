"""Logs, alarms and tracing: what an operator watches.

- Every function writes to a log group the template creates, with retention, before the function
  exists (the function is named here and depends on its group, so Lambda never makes its own group
  without retention). devstack/infra/api.py merges the name, the dependency and X-Ray into each function.
- Alarms go to one SNS topic that emails AlarmEmail: each dead-letter queue not empty, each function's
  errors and throttles, the API's 5xx and throttled requests, the log events that call for a person
  (metric filters on the JSON log lines of chalicelib/logs.py), and SES's bounce and complaint rates.
- The API stage's access log (JSON, no query string: reset tokens travel in it) and its throttling.
- The SES configuration set every email goes out with: bounced and complaining addresses are suppressed.
"""

from __future__ import annotations

import json
from functools import cache

from devstack.infra import sub

APP = "insure"
RETENTION = {"Fn::If": ["IsProd", 90, 14]}  # days, for every log group of the stack
NAMESPACE = sub("Insure/${Stage}")  # where the metric filters count
TOPIC = "AlarmTopic"
ACCESS_LOG_GROUP = "ApiAccessLogGroup"
API_NAME = sub(f"{APP}-${{Stage}}")  # the RestAPI's name: the ApiName dimension of its metrics
EMAIL_CONFIGURATION_SET = "EmailConfigurationSet"
EMAIL_CONFIGURATION_SET_NAME = sub(f"{APP}-${{Stage}}-email")  # settings.py's default is the same name

# Log events that call for a person: metric name -> the `event` values that count (chalicelib.logs).
ALERT_EVENTS: dict[str, tuple[str, ...]] = {
    # An HR file failed three times and went to the dead-letter queue (jobs/hr_files.py).
    "HrFileDeadLettered": ("hr_file_dead_lettered",),
    # The gateway refunded money and our record of it failed (premiums/refunds.py).
    "RefundNotRecorded": ("refund_not_recorded", "refund_confirmation_not_recorded"),
    # The gateway's word and ours disagree about a payment (premiums/payments.py).
    "PaymentMismatch": ("payment_result_mismatch", "payment_amount_mismatch", "payment_captured_after_close"),
    # The append-only ledger: an event not written, or one altered, missing or forged (jobs/ledger.py).
    "LedgerIntegrity": ("ledger_chain_broken", "ledger_event_not_written"),
}
# Any error line at all (log_error, log_alert): errors a job survives never reach Lambda's Errors metric.
ERROR_LINES = ("ErrorLogLines", '{ $.level = "ERROR" }')

# API Gateway throttling per method (requests per second, burst), for the whole stage, every caller
# together. The routes that send an SMS or an email (which cost money) or check a password are tighter;
# the app's own per-person limits (settings.Limits) come on top.
DEFAULT_THROTTLE = (100, 200)
ROUTE_THROTTLES: dict[tuple[str, str], tuple[int, int]] = {
    ("/v1/auth/register", "POST"): (5, 10),  # an SMS code
    ("/v1/auth/register/resend", "POST"): (2, 5),  # another SMS code
    ("/v1/auth/password/forgot", "POST"): (5, 10),  # an email
    ("/v1/auth/login", "POST"): (10, 20),  # a password check (and a guessing target)
}

# The access log: one JSON object per request. Only variables that cannot carry the query string, a
# header or a body: $context.resourcePath is the route template (/v1/cards/{member_id}), so neither
# a query string (reset and activation tokens) nor a path's ids land in it.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "time": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "method": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency",
    "responseType": "$context.error.responseType",  # THROTTLED, UNAUTHORIZED... (the gateway's own answers)
    "xrayTraceId": "$context.xrayTraceId",
}


@cache
def functions() -> dict[str, str]:
    """Chalice's functions of app.py: their logical id in the packaged template -> their chalice name."""
    from chalice.utils import to_cfn_resource_name

    from app import app

    names = ["api_handler"] if app.routes else []
    names += [handler.name for handler in app.builtin_auth_handlers]
    names += [source.name for source in app.event_sources]
    names += [function.name for function in app.pure_lambda_functions]
    # Chalice's packager spells the API handler APIHandler, every other name CamelCase.
    return {("APIHandler" if name == "api_handler" else to_cfn_resource_name(name)): name for name in names}


def function_name(logical_id: str) -> dict:
    """The function's name, as `chalice deploy` would name it: insure-<stage>-<function>."""
    return sub(f"{APP}-${{Stage}}-{functions()[logical_id]}")


def log_group_id(logical_id: str) -> str:
    return f"{logical_id}LogGroup"


def function_properties() -> dict[str, dict]:
    """What the merge adds to each function: its name (its log group's), X-Ray, the email configuration set."""
    return {
        logical_id: {
            "DependsOn": [log_group_id(logical_id)],
            "Properties": {
                "FunctionName": function_name(logical_id),
                "Tracing": "Active",
                "Environment": {"Variables": {"SES_CONFIGURATION_SET": {"Ref": EMAIL_CONFIGURATION_SET}}},
            },
        }
        for logical_id in functions()
    }


def api_properties() -> dict:
    """What the merge adds to Chalice's RestAPI (an AWS::Serverless::Api): name, tracing, throttling, access log."""
    return {
        # The account's API Gateway role for CloudWatch Logs must be set before a stage logs.
        "DependsOn": ["ApiGatewayAccount"],
        "Properties": {
            "Name": API_NAME,
            # Any value stops SAM from also deploying a stage named "Stage", reachable at /Stage/ and
            # without the throttling and the access log below. Chalice's definition is Swagger 2.0.
            "OpenApiVersion": "2.0",
            "TracingEnabled": True,
            "MethodSettings": method_settings(),
            "AccessLogSetting": {
                # The group's ARN without the ":*" that its Fn::GetAtt Arn ends with.
                "DestinationArn": sub(
                    f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:${{{ACCESS_LOG_GROUP}}}"),
                "Format": json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":")),
            },
            # The name API Gateway takes from the definition too: both say the same.
            "DefinitionBody": {"info": {"title": API_NAME}},
        },
    }


def resource_path(path: str) -> str:
    """A route as a stage's MethodSetting names it: /v1/auth/login -> /~1v1~1auth~1login."""
    return "/" + path.replace("/", "~1")


def method_settings() -> list[dict]:
    rate, burst = DEFAULT_THROTTLE
    settings = [{"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": rate, "ThrottlingBurstLimit": burst}]
    for (path, method), (rate, burst) in ROUTE_THROTTLES.items():
        settings.append({"ResourcePath": resource_path(path), "HttpMethod": method,
                         "ThrottlingRateLimit": rate, "ThrottlingBurstLimit": burst})
    return settings


def filter_pattern(events: tuple[str, ...]) -> str:
    """A CloudWatch Logs JSON filter pattern matching lines whose `event` is one of `events`."""
    terms = [f'$.event = "{event}"' for event in events]
    return "{ " + terms[0] + " }" if len(terms) == 1 else "{ " + " || ".join(f"({t})" for t in terms) + " }"


def alarm(name: str, description: str, metric: dict, threshold: float = 0, period: int = 300,
          statistic: str = "Sum") -> dict:
    """An alarm to the topic when the metric's statistic over `period` seconds exceeds `threshold`."""
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": sub(f"{APP}-${{Stage}}-{name}"),
            "AlarmDescription": description,
            **metric,
            "Statistic": statistic,
            "Period": period,
            "EvaluationPeriods": 1,
            "Threshold": threshold,
            "ComparisonOperator": "GreaterThanThreshold",
            # No data is no events: a quiet function or queue is not an alarm.
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": TOPIC}],
            "OKActions": [{"Ref": TOPIC}],
        },
    }


def _metric(namespace: str | dict, name: str, **dimensions) -> dict:
    metric = {"Namespace": namespace, "MetricName": name}
    if dimensions:
        metric["Dimensions"] = [{"Name": key, "Value": value} for key, value in dimensions.items()]
    return metric


def dead_letter_queues() -> list[str]:
    """The queues some queue's redrive policy sends to (devstack/infra/storage.py)."""
    from devstack.infra import storage

    found = []
    for resource in storage.resources().values():
        target = resource.get("Properties", {}).get("RedrivePolicy", {}).get("deadLetterTargetArn", {})
        if "Fn::GetAtt" in target:
            found.append(target["Fn::GetAtt"][0])
    return sorted(set(found))


def _topic() -> dict:
    return {
        TOPIC: {
            # Not encrypted: CloudWatch cannot publish to a topic under the AWS-managed SNS key, and the
            # alarms carry no personal data (README, checkov's accepted findings).
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": sub(f"{APP}-${{Stage}}-alarms"),
                           "DisplayName": sub(f"{APP} ${{Stage}} alarms")},
        },
        "AlarmEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            # The address gets a confirmation email first: nothing arrives until someone clicks it.
            "Properties": {"TopicArn": {"Ref": TOPIC}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}},
        },
    }


def _function_logs_and_alarms() -> dict:
    resources: dict = {}
    for logical_id, name in functions().items():
        group = log_group_id(logical_id)
        resources[group] = {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": sub(f"/aws/lambda/{APP}-${{Stage}}-{name}"), "RetentionInDays": RETENTION},
        }
        for metric, events in ALERT_EVENTS.items():
            resources[f"{logical_id}{metric}Filter"] = _metric_filter(group, filter_pattern(events), metric)
        metric, pattern = ERROR_LINES
        resources[f"{logical_id}{metric}Filter"] = _metric_filter(group, pattern, metric)
        resources[f"{logical_id}ErrorsAlarm"] = alarm(
            f"{name}-errors", f"{name} failed (an invocation ended in an error)",
            _metric("AWS/Lambda", "Errors", FunctionName=function_name(logical_id)))
        resources[f"{logical_id}ThrottlesAlarm"] = alarm(
            f"{name}-throttles", f"{name} was throttled (the account's concurrency is exhausted)",
            _metric("AWS/Lambda", "Throttles", FunctionName=function_name(logical_id)))
    return resources


def _metric_filter(group: str, pattern: str, metric: str) -> dict:
    return {
        "Type": "AWS::Logs::MetricFilter",
        "Properties": {
            "LogGroupName": {"Ref": group},
            "FilterPattern": pattern,
            "MetricTransformations": [{"MetricNamespace": NAMESPACE, "MetricName": metric,
                                       "MetricValue": "1", "Unit": "Count"}],
        },
    }


def _log_event_alarms() -> dict:
    resources: dict = {}
    for metric, events in ALERT_EVENTS.items():
        resources[f"{metric}Alarm"] = alarm(
            metric, f"Log event(s) {', '.join(events)}: see the function logs (README, Operations)",
            _metric(NAMESPACE, metric))
    metric, _ = ERROR_LINES
    resources[f"{metric}Alarm"] = alarm(
        metric, "A function logged an error line (level ERROR): see the function logs", _metric(NAMESPACE, metric))
    return resources


def _queue_alarms() -> dict:
    return {
        f"{queue}NotEmptyAlarm": alarm(
            f"{queue}-not-empty", f"Messages wait in the dead-letter queue {queue}",
            _metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", QueueName={"Fn::GetAtt": [queue, "QueueName"]}),
            statistic="Maximum")
        for queue in dead_letter_queues()
    }


def _api() -> dict:
    stage = {"Ref": "RestAPI.Stage"}  # SAM's reference to the stage it makes of Chalice's RestAPI
    return {
        ACCESS_LOG_GROUP: {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": sub(f"/aws/apigateway/{APP}-${{Stage}}/access"),
                           "RetentionInDays": RETENTION},
        },
        # API Gateway writes logs with the account's role, one per account and region (deleting the
        # stack leaves the setting, so the role stays too: another stack of the account may rely on it).
        "ApiGatewayLogsRole": {
            "Type": "AWS::IAM::Role",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
                    "Action": "sts:AssumeRole"}]},
                "ManagedPolicyArns": [
                    sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs")],
            },
        },
        "ApiGatewayAccount": {
            "Type": "AWS::ApiGateway::Account",
            "Properties": {"CloudWatchRoleArn": {"Fn::GetAtt": ["ApiGatewayLogsRole", "Arn"]}},
        },
        "ApiThrottledFilter": {
            "Type": "AWS::Logs::MetricFilter",
            "Properties": {
                "LogGroupName": {"Ref": ACCESS_LOG_GROUP},
                "FilterPattern": '{ $.responseType = "THROTTLED" }',
                "MetricTransformations": [{"MetricNamespace": NAMESPACE, "MetricName": "ApiThrottled",
                                           "MetricValue": "1", "Unit": "Count"}],
            },
        },
        "ApiThrottledAlarm": alarm(
            "api-throttled", "API Gateway refused requests over the stage's throttling limits (429)",
            _metric(NAMESPACE, "ApiThrottled")),
        "Api5xxAlarm": alarm(
            "api-5xx", "The API answered 5xx (the app's 500s, the authorizer's or the gateway's errors)",
            _metric("AWS/ApiGateway", "5XXError", ApiName=API_NAME, Stage=stage)),
    }


def _email() -> dict:
    return {
        EMAIL_CONFIGURATION_SET: {
            "Type": "AWS::SES::ConfigurationSet",
            "Properties": {
                "Name": EMAIL_CONFIGURATION_SET_NAME,
                # SES stops sending to an address that hard-bounced or complained, whatever the account's
                # own suppression settings are (this overrides them for every email the app sends).
                "SuppressionOptions": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
                "ReputationOptions": {"ReputationMetricsEnabled": True},
            },
        },
        "EmailFeedbackDestination": {
            "Type": "AWS::SES::ConfigurationSetEventDestination",
            "Properties": {
                "ConfigurationSetName": {"Ref": EMAIL_CONFIGURATION_SET},
                "EventDestination": {
                    "Name": "bounces-and-complaints",
                    "Enabled": True,
                    "MatchingEventTypes": ["bounce", "complaint", "reject"],
                    "CloudWatchDestination": {"DimensionConfigurations": [{
                        "DimensionName": "ses:configuration-set", "DimensionValueSource": "messageTag",
                        "DefaultDimensionValue": EMAIL_CONFIGURATION_SET_NAME}]},
                },
            },
        },
        "EmailComplaintsAlarm": alarm(
            "email-complaints", "A recipient marked an email as spam (the address is now suppressed)",
            _metric("AWS/SES", "Complaint", **{"ses:configuration-set": EMAIL_CONFIGURATION_SET_NAME})),
        # SES reviews an account at a 5% bounce or 0.1% complaint rate, and may pause it at 10% / 0.5%.
        "EmailBounceRateAlarm": alarm(
            "email-bounce-rate", "The account's SES bounce rate nears 5%, where SES reviews the account",
            _metric("AWS/SES", "Reputation.BounceRate"), threshold=0.04, period=3600, statistic="Maximum"),
        "EmailComplaintRateAlarm": alarm(
            "email-complaint-rate", "The account's SES complaint rate nears 0.1%, where SES reviews the account",
            _metric("AWS/SES", "Reputation.ComplaintRate"), threshold=0.0008, period=3600, statistic="Maximum"),
    }


def resources() -> dict:
    return {**_topic(), **_function_logs_and_alarms(), **_log_event_alarms(), **_queue_alarms(), **_api(),
            **_email()}

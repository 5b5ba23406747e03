"""API Gateway's own answers, and what the merge adds to Chalice's functions and their event sources."""

from __future__ import annotations

import json

from chalicelib.errors import (
    BadRequest,
    Internal,
    NotFound,
    Text,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)
from devstack.infra import monitoring


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


def merged(base: dict, extra: dict) -> dict:
    """`extra` merged into `base`: dicts key by key, lists joined (as DependsOn needs), other values replaced."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        elif isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = out[key] + [item for item in value if item not in out[key]]
        else:
            out[key] = value
    return out


def resources() -> dict:
    resources: dict = {}
    resources["RestAPI"] = merged({"Properties": {"DefinitionBody": {
        "x-amazon-apigateway-gateway-responses": gateway_responses()}}}, monitoring.api_properties())
    # Merged into the function chalice generates: its SQS event source needs the queue first.
    resources["HrFileArrived"] = {"DependsOn": ["HrQueue"]}
    resources["HrFileFailed"] = {"DependsOn": ["HrDeadLetterQueue"]}
    # The sender reports failures per message, so one bad address never retries a whole batch.
    resources["SendOutbound"] = {"DependsOn": ["OutboundQueue"], "Properties": {"Events": {
        "SendOutboundSqsEventSource": {"Properties": {"FunctionResponseTypes": ["ReportBatchItemFailures"]}}}}}
    # Every function: its name and log group (created first), X-Ray, the email configuration set.
    for logical_id, extra in monitoring.function_properties().items():
        resources[logical_id] = merged(resources.get(logical_id, {}), extra)
    return resources

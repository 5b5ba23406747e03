"""DynamoDB's key size limit on moto, which does not enforce it on reads: what a real table answers.

`dynamodb_requests(monkeypatch)` records every DynamoDB request from then on and refuses, as DynamoDB
does with a ValidationException, any key value over 2048 bytes; a test asserts that an id nobody
could have been given is refused before any request carries it.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

KEY_MAX_BYTES = 2048  # a partition key's limit (a sort key's is 1024)


def _keys(operation: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The key maps (and key condition values) a request names."""
    keys = [params["Key"]] if "Key" in params else []
    for table in (params.get("RequestItems") or {}).values():
        keys += list(table.get("Keys", [])) if isinstance(table, dict) else []
    for item in params.get("TransactItems") or []:
        for action in item.values():
            if "Key" in action:
                keys.append(action["Key"])
    if operation == "Query":
        keys.append(params.get("ExpressionAttributeValues") or {})
    return keys


def _too_long(value: Any) -> bool:
    text = value.get("S") if isinstance(value, dict) else None
    return isinstance(text, str) and len(text.encode("utf-8")) > KEY_MAX_BYTES


def dynamodb_requests(monkeypatch) -> list[tuple[str, str]]:
    """From now on: each DynamoDB request as (operation, its parameters as JSON); long keys refused."""
    seen: list[tuple[str, str]] = []
    original = BaseClient._make_api_call

    def as_dynamodb_does(self, operation_name, api_params):
        if self.meta.service_model.service_name == "dynamodb":
            seen.append((operation_name, json.dumps(api_params, default=str)))
            if any(_too_long(v) for key in _keys(operation_name, api_params) for v in key.values()):
                raise ClientError({"Error": {
                    "Code": "ValidationException",
                    "Message": "One or more parameter values were invalid: Size of hashkey has exceeded the "
                               "maximum size limit of 2048 bytes"}}, operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", as_dynamodb_does)
    return seen

"""The faster moto TransactWriteItems of make run and make bench gives moto's own outcomes."""

from __future__ import annotations

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from devstack import moto_speedup

TABLE = "speedup-check"


def scenario() -> tuple[list, list]:
    """A few transactions (one refused halfway), then the table's items and every outcome."""
    db = boto3.client("dynamodb", region_name="me-south-1")
    db.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                    BillingMode="PAY_PER_REQUEST")
    new = "attribute_not_exists(k)"
    outcomes = []
    transactions = [
        [{"Put": {"TableName": TABLE, "Item": {"k": {"S": "a"}, "n": {"N": "1"}}, "ConditionExpression": new}},
         {"Put": {"TableName": TABLE, "Item": {"k": {"S": "b"}, "n": {"N": "1"}}, "ConditionExpression": new}}],
        # Refused: "a" exists. Nothing of it may land, not even the write to "c" before the failure.
        [{"Put": {"TableName": TABLE, "Item": {"k": {"S": "c"}}, "ConditionExpression": new}},
         {"Put": {"TableName": TABLE, "Item": {"k": {"S": "a"}}, "ConditionExpression": new}},
         {"Delete": {"TableName": TABLE, "Key": {"k": {"S": "b"}}}}],
        [{"Update": {"TableName": TABLE, "Key": {"k": {"S": "a"}}, "UpdateExpression": "SET n = n + :one",
                     "ConditionExpression": "n = :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
         {"Delete": {"TableName": TABLE, "Key": {"k": {"S": "b"}}, "ConditionExpression": "attribute_exists(k)"}}],
        [{"Put": {"TableName": TABLE, "Item": {"k": {"S": "d"}}}},
         {"Delete": {"TableName": TABLE, "Key": {"k": {"S": "d"}}}}],
    ]
    for items in transactions:
        try:
            db.transact_write_items(TransactItems=items)
            outcomes.append("ok")
        except ClientError as error:
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
            outcomes.append((error.response["Error"]["Code"], reasons))
    items = sorted(db.scan(TableName=TABLE)["Items"], key=lambda i: i["k"]["S"])
    return items, outcomes


def test_the_faster_transactions_give_the_same_items_and_errors_as_motos_own(monkeypatch):
    with mock_aws():
        expected = scenario()
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", moto_speedup.transact_write_items)
    with mock_aws():
        assert scenario() == expected
    assert expected[1][1][0] == "TransactionCanceledException"
    assert [i["k"]["S"] for i in expected[0]] == ["a"]

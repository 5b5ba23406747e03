"""A transaction DynamoDB cancels for throttling or validation is no concurrent change: HR is never told so.

The store re-raises such a cancellation as it is (only a lost condition or a transaction
conflict becomes StaleState); the use case lets it out, so the HR file's message returns to
the queue and the file is enrolled again (SQS retries, then the dead-letter report says the
file failed). No row of it is reported "changed at the same time".
"""

from __future__ import annotations

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from pynamodb.exceptions import TransactWriteError

from chalicelib.enrolment.ports import RowWrite
from chalicelib.enrolment.use_cases import enrol_file
from chalicelib.errors import StaleState
from tests.enrolment.support import KEY, NOW, POLICY_NO, enrolment_on_fakes, principal_line


def cancelled(code: str) -> ClientError:
    return ClientError({"Error": {"Code": "TransactionCanceledException", "Message": f"[{code}]"},
                        "CancellationReasons": [{"Code": code, "Message": "cancelled"}]}, "TransactWriteItems")


@pytest.mark.parametrize("code", ["ThrottlingError", "ValidationError", "ProvisionedThroughputExceeded"])
def test_the_dynamodb_store_reraises_a_cancellation_that_is_not_a_lost_race(aws, monkeypatch, code):
    from chalicelib.enrolment import records
    from chalicelib.enrolment.store import EnrolmentStore

    original = BaseClient._make_api_call

    def refusing(self, operation_name, api_params):
        if operation_name == "TransactWriteItems":
            raise cancelled(code)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", refusing)
    account = records.invited_account("acc1", "a@acme.example", "Ahmad", NOW)

    with pytest.raises(TransactWriteError) as raised:
        EnrolmentStore().write([RowWrite(saves=[(account, records.new_account_condition())])])
    assert not isinstance(raised.value, StaleState)


def test_the_dynamodb_store_still_calls_a_failed_condition_a_lost_race(aws, monkeypatch):
    from chalicelib.enrolment import records
    from chalicelib.enrolment.store import EnrolmentStore

    original = BaseClient._make_api_call

    def refusing(self, operation_name, api_params):
        if operation_name == "TransactWriteItems":
            raise cancelled("ConditionalCheckFailed")
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", refusing)
    account = records.invited_account("acc1", "a@acme.example", "Ahmad", NOW)

    with pytest.raises(StaleState):
        EnrolmentStore().write([RowWrite(saves=[(account, records.new_account_condition())])])


def test_a_throttled_file_is_left_to_be_retried_and_no_row_is_reported_as_a_concurrent_change():
    deps, store, queue = enrolment_on_fakes(principal_line("E1", "a@acme.example"))
    store.fail_writes_with = RuntimeError("ThrottlingError: rate of requests exceeds the allowed throughput")

    with pytest.raises(RuntimeError, match="Throttling"):
        enrol_file(deps, store.bucket, KEY)

    assert store.objects == {}  # no report claims anything, "changed at the same time" least of all
    assert store.member_rows == {} and queue.jobs == []


def test_the_retried_file_enrols_every_row_once_the_table_answers_again():
    deps, store, queue = enrolment_on_fakes(principal_line("E1", "a@acme.example"))
    store.fail_writes_with = RuntimeError("ThrottlingError")
    with pytest.raises(RuntimeError):
        enrol_file(deps, store.bucket, KEY)

    store.fail_writes_with = None
    result = enrol_file(deps, store.bucket, KEY)

    assert result.status == "completed" and result.totals["created"] == 1
    report = store.report(result.report_keys[0])
    assert all(not line["errors"] for line in report["rows"])  # type: ignore[union-attr]
    assert [job["kind"] for job in queue.jobs] == ["welcome"]
    assert POLICY_NO in result.report_keys[0]




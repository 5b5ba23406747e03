"""Batched reads and transactional writes for HR enrolment, and the files and reports on S3."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, BinaryIO

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.accounts import AccountRecord, UsernameRecord
from chalicelib.enrolment.models import GroupPolicyRecord, MemberRecord
from chalicelib.enrolment.ports import ByteStream, GroupPolicy, RowWrite
from chalicelib.enrolment.report_rules import INDEX_FOLDER, report_folder
from chalicelib.errors import StaleState
from chalicelib.platform.aws import client
from chalicelib.platform.dynamo import cancellation, connection
from chalicelib.settings import get_settings

TRANSACTION_LIMIT = 100  # DynamoDB's actions per TransactWriteItems


class EnrolmentStore:
    """What enrolment reads and writes on DynamoDB and S3 (implements ports.EnrolmentStorage and PolicyStorage)."""

    def policy(self, policy_no: str) -> GroupPolicy | None:
        try:
            record = GroupPolicyRecord.get(policy_no)
        except GroupPolicyRecord.DoesNotExist:
            return None
        plans = record.plans.as_dict() if record.plans is not None else {}  # type: ignore[no-untyped-call]  # PynamoDB's MapAttribute.as_dict is unannotated
        return GroupPolicy(record.policy_no, frozenset(plans))

    def put_policy(self, policy: Mapping[str, Any], now: datetime) -> None:
        GroupPolicyRecord(policy["policy_no"], employer_en=policy["employer_en"], employer_ar=policy["employer_ar"],
                          plans=policy["plans"],
                          created_at=now).save()

    def members(self, member_ids: Iterable[str]) -> dict[str, MemberRecord]:
        ids = sorted(set(member_ids))
        return {m.member_id: m for m in MemberRecord.batch_get(ids)} if ids else {}

    def login_names(self, usernames: Iterable[str]) -> dict[str, UsernameRecord]:
        names = sorted(set(usernames))
        return {u.username: u for u in UsernameRecord.batch_get(names)} if names else {}

    def accounts(self, account_ids: Iterable[str]) -> dict[str, AccountRecord]:
        ids = sorted(set(account_ids))
        return {a.account_id: a for a in AccountRecord.batch_get(ids)} if ids else {}

    def write(self, rows: Sequence[RowWrite]) -> None:
        """Write rows in as few transactions as fit; a lost condition anywhere raises StaleState."""
        batch: list[RowWrite] = []
        size = 0
        for row in rows:
            if size + len(row) > TRANSACTION_LIMIT:
                self._commit(batch)
                batch, size = [], 0
            batch.append(row)
            size += len(row)
        if batch:
            self._commit(batch)

    def _commit(self, rows: list[RowWrite]) -> None:
        try:
            with TransactWrite(connection=connection(), client_request_token=uuid.uuid4().hex) as tx:
                for row in rows:
                    for record, condition in row.saves:
                        tx.save(_model(record), condition=_condition(condition))
                    for record, condition in row.deletes:
                        tx.delete(_model(record), condition=_condition(condition))
        except TransactWriteError as exc:
            # A concurrent file changed a row we read: re-read and re-apply. Throttling or a
            # service fault is not that, and must not be reported to HR as a concurrent change.
            if cancellation(exc).lost_race:
                raise StaleState() from exc
            raise

    # --- S3 ----------------------------------------------------------------------------------
    def open_file(self, bucket: str, key: str, version_id: str | None) -> ByteStream:
        args = {"Bucket": bucket, "Key": key}
        if version_id:
            args["VersionId"] = version_id
        body: ByteStream = client("s3").get_object(**args)["Body"]  # botocore's StreamingBody
        return body

    def put_report(self, key: str, body: BinaryIO, content_type: str) -> None:
        # Streamed in parts: a 50,000-row report never sits whole in memory.
        client("s3").upload_fileobj(body, get_settings().hr_bucket, key,
                                    ExtraArgs={"ContentType": content_type, "ServerSideEncryption": "AES256"})

    def report_index(self, policy_no: str) -> list[dict[str, Any]]:
        """A policy's report index, oldest upload first: one entry per report (see report_rules.index_entry)."""
        s3, bucket = client("s3"), get_settings().hr_bucket
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                              Prefix=report_folder(policy_no) + INDEX_FOLDER)
        keys = sorted(item["Key"] for page in pages for item in page.get("Contents", []))
        return [json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) for key in keys]


def _model(record: object) -> Model:
    # What records.py made: a write plan holds nothing else on this store.
    if not isinstance(record, Model):
        raise TypeError(f"not a stored record: {type(record).__name__}")
    return record


def _condition(condition: object) -> Condition | None:
    if condition is not None and not isinstance(condition, Condition):
        raise TypeError(f"not a write condition: {type(condition).__name__}")
    return condition

"""Batched reads and transactional writes for HR enrolment, and the files and reports on S3."""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from datetime import datetime
from typing import Any, BinaryIO

from botocore.exceptions import ClientError
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.accounts import AccountRecord, UsernameRecord
from chalicelib.enrolment.hr_report import XLSX_CONTENT_TYPE, join_in_file_order, write_report_xlsx
from chalicelib.enrolment.models import GroupPolicyRecord, MemberRecord
from chalicelib.enrolment.ports import ByteStream, GroupPolicy, RowWrite
from chalicelib.enrolment.report_rules import INDEX_FOLDER, continuation_key, report_folder, report_xlsx_key
from chalicelib.errors import StaleState
from chalicelib.platform.aws import client
from chalicelib.platform.dynamo import cancellation, connection
from chalicelib.settings import get_settings

TRANSACTION_LIMIT = 100  # DynamoDB's actions per TransactWriteItems
_COPY_BYTES = 1024 * 1024


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
    def open_file(self, bucket: str, key: str, version_id: str | None, start: int = 0) -> ByteStream:
        args = {"Bucket": bucket, "Key": key}
        if version_id:
            args["VersionId"] = version_id
        if start:
            args["Range"] = f"bytes={start}-"  # a file read in several invocations: from the next unread row
        try:
            body: ByteStream = client("s3").get_object(**args)["Body"]  # botocore's StreamingBody
        except ClientError as exc:
            if start and exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return io.BytesIO(b"")  # the last invocation stopped right at the end of the file
            raise
        return body

    def put_report(self, key: str, body: BinaryIO, content_type: str, parts: Sequence[str] = ()) -> None:
        # Streamed in parts: a 50,000-row report never sits whole in memory. The parts of earlier
        # invocations are copied from S3 into files in /tmp first (the upload reads a file lazily, while
        # from a stream it would hold each 8 MB part of every thread in memory), then joined with this
        # body line by line in file order: a dependent listed before its principal is reported by the
        # last invocation but belongs at its own row. A report's CSV gets its workbook beside it.
        with ExitStack() as files:
            if parts:
                s3, bucket = client("s3"), get_settings().hr_bucket
                bodies: list[BinaryIO] = []
                for part in parts:
                    bodies.append(files.enter_context(tempfile.TemporaryFile()))
                    shutil.copyfileobj(s3.get_object(Bucket=bucket, Key=part)["Body"], bodies[-1], _COPY_BYTES)
                    bodies[-1].seek(0)
                joined = files.enter_context(tempfile.TemporaryFile())
                join_in_file_order([*bodies, body], joined)
                joined.seek(0)
                body = joined
            workbook_key = report_xlsx_key(key)
            if workbook_key is not None:  # made first: the upload closes the body it reads
                book = files.enter_context(tempfile.TemporaryFile())
                write_report_xlsx(body, book)
                book.seek(0)
                body.seek(0)
            self._upload(key, body, content_type)
            if workbook_key is not None:
                self._upload(workbook_key, book, XLSX_CONTENT_TYPE)

    @staticmethod
    def _upload(key: str, body: BinaryIO, content_type: str) -> None:
        client("s3").upload_fileobj(body, get_settings().hr_bucket, key,
                                    ExtraArgs={"ContentType": content_type, "ServerSideEncryption": "AES256"})

    # --- runs of several invocations (continuation.py) --------------------------------------
    def load_checkpoint(self, key: str) -> tuple[dict[str, Any], str] | None:
        try:
            found = client("s3").get_object(Bucket=get_settings().hr_bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return json.loads(found["Body"].read()), found["ETag"]

    def save_checkpoint(self, key: str, body: Mapping[str, Any], expected: str | None) -> str | None:
        """S3's conditional write: If-Match the tag read, or If-None-Match * for the first."""
        condition = {"IfMatch": expected} if expected is not None else {"IfNoneMatch": "*"}
        try:
            put = client("s3").put_object(Bucket=get_settings().hr_bucket, Key=key, Body=json.dumps(body).encode(),
                                          ContentType="application/json", ServerSideEncryption="AES256", **condition)
        except ClientError as exc:
            # 412: the tag moved on; 409: a concurrent conditional write to the same key won.
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
                return None
            raise
        tag: str = put["ETag"]
        return tag

    def put_run_object(self, key: str, body: BinaryIO) -> None:
        client("s3").upload_fileobj(body, get_settings().hr_bucket, key, ExtraArgs={"ServerSideEncryption": "AES256"})

    def run_object(self, key: str) -> bytes:
        data: bytes = client("s3").get_object(Bucket=get_settings().hr_bucket, Key=key)["Body"].read()
        return data

    def delete_run_objects(self, keys: Sequence[str]) -> None:
        keys = list(keys)
        for start in range(0, len(keys), 1000):  # DeleteObjects takes 1,000 keys a call
            client("s3").delete_objects(Bucket=get_settings().hr_bucket, Delete={
                "Objects": [{"Key": k} for k in keys[start:start + 1000]], "Quiet": True})

    def report_index(self, policy_no: str) -> list[dict[str, Any]]:
        """A policy's report index, oldest upload first: one entry per report (see report_rules.index_entry)."""
        s3, bucket = client("s3"), get_settings().hr_bucket
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                              Prefix=report_folder(policy_no) + INDEX_FOLDER)
        keys = sorted(item["Key"] for page in pages for item in page.get("Contents", []))
        return [json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) for key in keys]

    def continuation_token(self, bucket: str, key: str) -> tuple[str, int] | None:
        """The run and invocation a token names; None when it is gone (used before) or is no token."""
        try:
            token = json.loads(client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
            checkpoint, seq = str(token["checkpoint"]), int(token["seq"])
            expected = continuation_key(checkpoint, seq)
        except ClientError as exc:
            # Gone: used and deleted before (a redelivery). The role may not list the bucket, so S3
            # answers a missing key with AccessDenied, not NoSuchKey.
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "AccessDenied", "403"):
                return None
            raise
        except (ValueError, KeyError, TypeError):
            return None
        # Only a token where its own run would drop it: an upload under _continue/ names no other object.
        if not checkpoint.startswith("hr/runs/") or expected != key:
            return None
        return checkpoint, seq

    def delete_continuation_token(self, bucket: str, key: str) -> None:
        client("s3").delete_object(Bucket=bucket, Key=key)


def _model(record: object) -> Model:
    # What records.py made: a write plan holds nothing else on this store.
    if not isinstance(record, Model):
        raise TypeError(f"not a stored record: {type(record).__name__}")
    return record


def _condition(condition: object) -> Condition | None:
    if condition is not None and not isinstance(condition, Condition):
        raise TypeError(f"not a write condition: {type(condition).__name__}")
    return condition


def drop_continuation(checkpoint_key: str, seq: int) -> None:
    """Start invocation `seq` of a run: a token under hr/incoming/, which S3 queues like a dropped file."""
    client("s3").put_object(Bucket=get_settings().hr_bucket, Key=continuation_key(checkpoint_key, seq),
                            Body=json.dumps({"checkpoint": checkpoint_key, "seq": seq}).encode(),
                            ContentType="application/json", ServerSideEncryption="AES256")

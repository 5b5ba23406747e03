"""The HR drop: S3 ObjectCreated -> SQS -> this handler (chalice package refuses on_s3_event)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from chalice import Blueprint

from chalicelib.logs import log_event
from chalicelib.platform.middleware import event_log
from chalicelib.settings import get_settings

hr_files = Blueprint(__name__)

INCOMING_PREFIX = "hr/incoming/"


@dataclass(frozen=True)
class DroppedFile:
    bucket: str
    key: str
    size: int
    etag: str
    version_id: str | None
    sequencer: str | None = None
    event_time: datetime | None = None  # when S3 took the upload: names its report


def dropped_files(message_body: str) -> Iterator[DroppedFile]:
    """The files an S3 notification names; keys are URL-encoded by S3 ('+' is a space)."""
    body = json.loads(message_body)
    if body.get("Event") == "s3:TestEvent":
        return  # S3 sends one when the notification is configured
    for record in body.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record["s3"]
        yield DroppedFile(
            bucket=s3["bucket"]["name"],
            key=unquote_plus(s3["object"]["key"]),
            size=int(s3["object"].get("size", 0)),
            etag=s3["object"].get("eTag", ""),
            version_id=s3["object"].get("versionId"),
            sequencer=s3["object"].get("sequencer"),
            event_time=_event_time(record.get("eventTime")),
        )


def _event_time(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


def upload(dropped: DroppedFile) -> Any:
    """The upload a report is named after: key, S3's upload time, and version (or sequencer, ETag)."""
    from chalicelib.enrolment.use_cases import upload_of
    from chalicelib.enrolment.wiring import enrolment_deps

    return upload_of(dropped.key, dropped.version_id, sequencer=dropped.sequencer, etag=dropped.etag,
                     uploaded_at=dropped.event_time, now=enrolment_deps().now())


def handle_hr_file(dropped: DroppedFile) -> dict[str, Any]:
    """Enrol one dropped file; its report lands under hr/reports/<POLICY_NO>/."""
    from chalicelib.enrolment.use_cases import enrol_file
    from chalicelib.enrolment.wiring import enrolment_deps

    if not dropped.key.startswith(INCOMING_PREFIX):
        log_event("hr_file_ignored", key=dropped.key)
        return {"key": dropped.key, "outcome": "ignored"}
    log_event("hr_file_received", bucket=dropped.bucket, key=dropped.key, size=dropped.size)
    result = enrol_file(enrolment_deps(), dropped.bucket, dropped.key, dropped.version_id, upload=upload(dropped))
    return {"key": dropped.key, "outcome": result.status, **result.totals}


@hr_files.on_sqs_message(queue=get_settings().hr_queue, batch_size=1)
@event_log("hr_file_arrived")
def hr_file_arrived(event: Any) -> None:
    # An exception leaves the message on the queue: SQS retries it, then dead-letters it.
    for record in event:
        for dropped in dropped_files(record.body):
            handle_hr_file(dropped)


@hr_files.on_sqs_message(queue=get_settings().hr_dead_letter_queue, batch_size=1)
@event_log("hr_file_failed")
def hr_file_failed(event: Any) -> None:
    """A file that failed every retry: report it to HR and to operations, never drop it silently."""
    from chalicelib.enrolment.use_cases import report_failed_file
    from chalicelib.enrolment.wiring import enrolment_deps
    from chalicelib.logs import log_alert

    for record in event:
        for dropped in dropped_files(record.body):
            # Logged at error level: the alarm on this line is how operations hear of it.
            log_alert("hr_file_dead_lettered", key=dropped.key, version_id=dropped.version_id)
            # Named like the reports of the tries before it: the same upload, one report.
            report_failed_file(enrolment_deps(), dropped.key, dropped.version_id, upload=upload(dropped))

"""The HR drop: S3 ObjectCreated -> SQS -> this handler (chalice package refuses on_s3_event).

A file too big for one invocation is handed over (continuation.py): the invocation that runs out
of time drops a token under hr/incoming/<POLICY_NO>/_continue/, which S3 queues like a file, and
the invocation it starts goes on from the checkpoint the token names.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from chalice import Blueprint

from chalicelib.logs import log_event
from chalicelib.platform.middleware import event_log
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.enrolment.continuation import Budget

hr_files = Blueprint(__name__)

INCOMING_PREFIX = "hr/incoming/"
# What HR may drop, whatever the case of the name (Windows writes "STAFF.XLSX"); the reader then goes by
# what the file holds (a workbook renamed .csv is still read as a workbook). Anything else is ignored,
# as S3's notification filter already does.
ACCEPTED_SUFFIXES = (".csv", ".xlsx")


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


def invocation_budget(context: Any) -> Budget:
    """The time this invocation may use: what Lambda says remains, less the hand-over margin."""
    from chalicelib.enrolment.continuation import Budget

    return Budget(lambda: float(context.get_remaining_time_in_millis()) / 1000.0)


def _is_continuation(key: str) -> bool:
    from chalicelib.enrolment.report_rules import CONTINUE_FOLDER

    parts = key.split("/")
    return len(parts) == 5 and parts[3] + "/" == CONTINUE_FOLDER


def handle_hr_file(dropped: DroppedFile, budget: Budget | None = None) -> dict[str, Any]:
    """Enrol a dropped file (whole, or until `budget` runs out); its report lands under hr/reports/<POLICY_NO>/."""
    from chalicelib.enrolment.continuation import start_file
    from chalicelib.enrolment.use_cases import enrol_file
    from chalicelib.enrolment.wiring import enrolment_deps

    if not dropped.key.startswith(INCOMING_PREFIX):
        log_event("hr_file_ignored", key=dropped.key)
        return {"key": dropped.key, "outcome": "ignored"}
    if _is_continuation(dropped.key):
        return _continue(dropped, budget)
    if not dropped.key.lower().endswith(ACCEPTED_SUFFIXES):
        log_event("hr_file_ignored", key=dropped.key, reason="unsupported_type")
        return {"key": dropped.key, "outcome": "ignored"}
    log_event("hr_file_received", bucket=dropped.bucket, key=dropped.key, size=dropped.size)
    if budget is None:
        result = enrol_file(enrolment_deps(), dropped.bucket, dropped.key, dropped.version_id,
                            upload=upload(dropped))
    else:
        found = start_file(enrolment_deps(), dropped.bucket, dropped.key, dropped.version_id, upload(dropped),
                           budget)
        if found is None:
            return {"key": dropped.key, "outcome": "handed_over"}
        result = found
    return {"key": dropped.key, "outcome": result.status, **result.totals}


def _continue(dropped: DroppedFile, budget: Budget | None) -> dict[str, Any]:
    """A token: go on with the run it names (a redelivery finds it gone, or stale)."""
    from chalicelib.enrolment.continuation import Budget, continue_from_token
    from chalicelib.enrolment.wiring import enrolment_deps

    result = continue_from_token(enrolment_deps(), dropped.bucket, dropped.key,
                                 budget or Budget(lambda: float("inf")))
    if result is None:
        return {"key": dropped.key, "outcome": "handed_over"}
    return {"key": dropped.key, "outcome": result.status, **result.totals}


@hr_files.on_sqs_message(queue=get_settings().hr_queue, batch_size=1)
@event_log("hr_file_arrived")
def hr_file_arrived(event: Any) -> None:
    # An exception leaves the message on the queue: SQS retries it, then dead-letters it.
    budget = budget_for(event.context)
    for record in event:
        for dropped in dropped_files(record.body):
            handle_hr_file(dropped, budget)


# The budget of an invocation; tests put a small one here to force hand-overs without waiting.
budget_for = invocation_budget


@hr_files.on_sqs_message(queue=get_settings().hr_dead_letter_queue, batch_size=1)
@event_log("hr_file_failed")
def hr_file_failed(event: Any) -> None:
    """A file that failed every retry: report it to HR and to operations, never drop it silently."""
    from chalicelib.enrolment.continuation import fail_run
    from chalicelib.enrolment.use_cases import report_failed_file
    from chalicelib.enrolment.wiring import enrolment_deps
    from chalicelib.logs import log_alert

    for record in event:
        for dropped in dropped_files(record.body):
            # Logged at error level: the alarm on this line is how operations hear of it.
            log_alert("hr_file_dead_lettered", key=dropped.key, version_id=dropped.version_id)
            if _is_continuation(dropped.key):
                # A later invocation of a big file's run: the run's upload gets its one report, with
                # the rows applied before (never a report named after the token).
                fail_run(enrolment_deps(), dropped.bucket, dropped.key)
                continue
            # Named like the reports of the tries before it: the same upload, one report.
            report_failed_file(enrolment_deps(), dropped.key, dropped.version_id, upload=upload(dropped))

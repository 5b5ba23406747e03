"""Plays the parts AWS plays around our Lambdas: events, contexts, queues and schedules."""

from __future__ import annotations

import json
import re
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

import boto3

from devstack.provision import ACCOUNT_ID

Say = Callable[[str], None]


@dataclass
class LambdaContext:
    """The attributes of a Lambda context that our handlers read."""

    function_name: str
    timeout_s: int = 900
    memory_limit_in_mb: int = 1024

    def __post_init__(self) -> None:
        self.aws_request_id = uuid.uuid4().hex
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def schedule_sources(app: Any) -> dict[str, str]:
    """Scheduled function name -> its schedule expression string."""
    out = {}
    for source in app.event_sources:
        expression = getattr(source, "schedule_expression", None)
        if expression is not None:
            out[source.name] = expression if isinstance(expression, str) else expression.to_string()
    return out


def sqs_sources(app: Any) -> dict[str, Any]:
    return {s.name: s for s in app.event_sources if type(s).__name__ == "SQSEventConfig"}


def scheduled_event(region: str, name: str) -> dict:
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
        "source": "aws.events", "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{name}"], "detail": {},
    }


def invoke(app: Any, name: str, event: dict) -> Any:
    """Call a handler as Lambda would: the handler_map entry with an event and a context."""
    return app.handler_map[name](event, LambdaContext(function_name=name))


def run_job_now(app: Any, name: str, region: str) -> Any:
    """Run one scheduled function now (what `make job NAME=...` does)."""
    if name not in schedule_sources(app):
        known = ", ".join(sorted(schedule_sources(app))) or "none"
        raise SystemExit(f"no scheduled function named {name!r}; known: {known}")
    return invoke(app, name, scheduled_event(region, name))


_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")


def period_seconds(expression: str) -> int:
    """Seconds between runs; a cron expression is checked every minute for a match."""
    match = _RATE.fullmatch(expression)
    if not match:
        return 60
    unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
    return int(match.group(1)) * unit


def cron_matches(expression: str, when: datetime) -> bool:
    """Whether an EventBridge cron(...) fires at this minute (numbers, *, ?, lists, ranges, steps)."""
    fields = expression[len("cron("):-1].split()
    values = [when.minute, when.hour, when.day, when.month, (when.isoweekday() % 7) + 1, when.year]
    for field, value in zip(fields, values, strict=False):
        if field in ("*", "?"):
            continue
        if not any(_cron_part(part, value) for part in field.split(",")):
            return False
    return True


def _cron_part(part: str, value: int) -> bool:
    base, _, step = part.partition("/")
    start, _, end = base.partition("-")
    if base == "*":
        lo, hi = 0, 9999
    else:
        lo = int(start)
        hi = int(end) if end else (9999 if step else lo)
    return lo <= value <= hi and (value - lo) % int(step or 1) == 0


class Scheduler(threading.Thread):
    """Runs every scheduled function on its schedule until stopped."""

    def __init__(self, app: Any, region: str, stop: threading.Event, say: Say) -> None:
        super().__init__(name="scheduler", daemon=True)
        self.app, self.region, self.stop, self.say = app, region, stop, say

    def run(self) -> None:
        sources = schedule_sources(self.app)
        next_run = {name: time.monotonic() + period_seconds(expr) for name, expr in sources.items()}
        while not self.stop.wait(1.0):
            now = time.monotonic()
            for name, expression in sources.items():
                if now < next_run[name]:
                    continue
                next_run[name] = now + period_seconds(expression)
                if expression.startswith("cron(") and not cron_matches(expression, datetime.now(UTC)):
                    continue
                try:
                    invoke(self.app, name, scheduled_event(self.region, name))
                    self.say(f"[schedule] {name} ran")
                except Exception:
                    self.say(f"[schedule] {name} failed:\n{traceback.format_exc()}")


class QueuePump(threading.Thread):
    """Delivers an SQS queue's messages to its handler, like Lambda's event source mapping."""

    RETRY_AFTER_S = 5  # AWS waits the visibility timeout; locally a failure retries soon

    def __init__(self, app: Any, name: str, queue: str, batch_size: int, region: str,
                 stop: threading.Event, say: Say) -> None:
        super().__init__(name=f"sqs-{name}", daemon=True)
        self.app, self.handler, self.queue, self.batch_size = app, name, queue, batch_size
        self.region, self.stop, self.say = region, stop, say
        self.sqs = boto3.client("sqs", region_name=region)
        self.delivered = 0

    def run(self) -> None:
        url = self.sqs.get_queue_url(QueueName=self.queue)["QueueUrl"]
        arn = f"arn:aws:sqs:{self.region}:{ACCOUNT_ID}:{self.queue}"
        while not self.stop.is_set():
            try:
                got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=self.batch_size,
                                               WaitTimeSeconds=1, AttributeNames=["All"])
            except Exception:
                if self.stop.wait(1.0):
                    return
                continue
            messages = got.get("Messages", [])
            if messages:
                self.deliver(url, arn, messages)

    def deliver(self, url: str, arn: str, messages: list[dict]) -> None:
        event = {"Records": [{
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
            "md5OfBody": m.get("MD5OfBody", ""), "eventSource": "aws:sqs", "eventSourceARN": arn,
            "awsRegion": self.region,
        } for m in messages]}
        try:
            result = invoke(self.app, self.handler, event)
        except Exception:
            self.say(f"[sqs] {self.handler} failed; retrying in {self.RETRY_AFTER_S}s:\n"
                     f"{traceback.format_exc()}")
            result = {"batchItemFailures": [{"itemIdentifier": m["MessageId"]} for m in messages]}
        # Like Lambda with ReportBatchItemFailures: only the failed messages come back.
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])} \
            if isinstance(result, dict) else set()
        for m in messages:
            if m["MessageId"] in failed:
                self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"],
                                                   VisibilityTimeout=self.RETRY_AFTER_S)
            else:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        self.delivered += len(messages) - len(failed)
        if failed:
            return
        self.say(f"[sqs] {self.handler} handled {len(messages)} message(s) from {self.queue}: "
                 f"{_summary(messages)}")


def _summary(messages: list[dict]) -> str:
    keys = []
    for m in messages:
        try:
            body = json.loads(m["Body"])
            keys += [unquote_plus(r["s3"]["object"]["key"]) for r in body.get("Records", [])]
        except (ValueError, KeyError, TypeError):
            continue
    return ", ".join(keys) if keys else f"{len(messages)} message(s)"

"""Every email and SMS goes through the outbound queue; the sender delivers them at SES's rate.

`send` only enqueues (fast, and a person's message survives an SES hiccup); `deliver` is
what the sender function calls: SES for email, SNS for SMS, and in local mode also the
outbox folder. Work that must render at send time (a welcome link, which is minted when
the email goes out) travels as a job with its own kind.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from chalicelib.logs import log_event
from chalicelib.platform.aws import client
from chalicelib.platform.messages import Message
from chalicelib.settings import get_settings


def _queue_url() -> str:
    return _url_of(get_settings().outbound_queue)


_urls: dict[str, str] = {}


def _url_of(queue: str) -> str:
    if queue not in _urls:
        _urls[queue] = client("sqs").get_queue_url(QueueName=queue)["QueueUrl"]
    return _urls[queue]


def reset_queue_urls() -> None:
    _urls.clear()


def send(message: Message) -> None:
    """Queue one message for the sender."""
    enqueue([{"kind": "message", "message": asdict(message)}])


def enqueue(jobs: Iterable[dict[str, Any]]) -> int:
    """Queue sender jobs, ten per request (SQS's batch size)."""
    batch: list[dict[str, Any]] = []
    count = 0
    for job in jobs:
        batch.append({"Id": str(len(batch)), "MessageBody": json.dumps(job, ensure_ascii=False, default=str)})
        if len(batch) == 10:
            count += _send_batch(batch)
            batch = []
    if batch:
        count += _send_batch(batch)
    return count


def _send_batch(entries: list[dict[str, str]]) -> int:
    answer = client("sqs").send_message_batch(QueueUrl=_queue_url(), Entries=entries)
    if answer.get("Failed"):
        # Nothing may be lost: a partial failure is an error the caller's retry covers.
        raise RuntimeError(f"{len(answer['Failed'])} outbound message(s) not queued")
    return len(entries)


def deliver(message: Message) -> str:
    """Send one message now through SES or SNS; returns the provider's message id."""
    settings = get_settings()
    if message.channel == "email":
        body = {"Text": {"Data": message.text, "Charset": "UTF-8"}}
        if message.html:
            body["Html"] = {"Data": message.html, "Charset": "UTF-8"}
        # The configuration set makes SES suppress addresses that bounced or complained (infra/monitoring.py).
        configuration_set = settings.email_configuration_set
        configuration = {"ConfigurationSetName": configuration_set} if configuration_set else {}
        answer = client("ses").send_email(
            Source=settings.email_sender,
            Destination={"ToAddresses": [message.to]},
            Message={"Subject": {"Data": message.subject, "Charset": "UTF-8"}, "Body": body},
            **configuration,
        )
    else:
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if settings.sms_sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": settings.sms_sender_id}
        answer = client("sns").publish(PhoneNumber=message.to, Message=message.text, MessageAttributes=attributes)
    message_id = str(answer["MessageId"])
    log_event("message_sent", channel=message.channel, template=message.template, message_id=message_id)
    if settings.outbox_dir:
        write_outbox(Path(settings.outbox_dir), message)
    return message_id


def message_from(data: dict[str, Any]) -> Message:
    return Message(**data)


_sequence = itertools.count(1)


def write_outbox(outbox: Path, message: Message) -> Path:
    """Local mode: the message as one JSON file (and an email's HTML beside it), and a console line showing
    its links."""
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    # The sequence keeps files in sending order even when the clock stands still (tests freeze it).
    path = outbox / f"{stamp}-{next(_sequence):06d}-{message.channel}-{message.template}-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(asdict(message), ensure_ascii=False, indent=2), encoding="utf-8")
    if message.html:
        # The email as a mail client shows it: open the file in a browser.
        path.with_suffix(".html").write_text(message.html, encoding="utf-8")
    print(console_line(message), flush=True)
    return path


SHOWN_FROM_SMS = ("code", "username", "password")  # what a person types from an SMS


def console_line(message: Message) -> str:
    """`make run`'s line for a message: its links, and an SMS's code, username and temporary password
    (local mode only: in AWS, messages go to SES and SNS and nothing of them is printed)."""
    shown = [f"{name} {message.vars[name]}" for name in SHOWN_FROM_SMS
             if message.channel == "sms" and name in message.vars]
    return " ".join([f"[outbox] {message.channel} to {message.to}: {message.template}", *shown, *message.links])

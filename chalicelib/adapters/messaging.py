"""Email through SES and SMS through SNS; in local mode each is also written to the outbox."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from dataclasses import asdict
from pathlib import Path

from chalicelib.adapters.aws import client
from chalicelib.domain.messages import Message
from chalicelib.logs import log_event
from chalicelib.settings import get_settings


def send(message: Message) -> str:
    """Send one message; returns the provider's message id."""
    settings = get_settings()
    if message.channel == "email":
        body = {"Text": {"Data": message.text, "Charset": "UTF-8"}}
        if message.html:
            body["Html"] = {"Data": message.html, "Charset": "UTF-8"}
        answer = client("ses").send_email(
            Source=settings.email_sender,
            Destination={"ToAddresses": [message.to]},
            Message={"Subject": {"Data": message.subject, "Charset": "UTF-8"}, "Body": body},
        )
    else:
        answer = client("sns").publish(
            PhoneNumber=message.to,
            Message=message.text,
            MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
        )
    message_id = answer["MessageId"]
    log_event("message_sent", channel=message.channel, template=message.template, message_id=message_id)
    if settings.outbox_dir:
        write_outbox(Path(settings.outbox_dir), message)
    return message_id


_sequence = itertools.count(1)


def write_outbox(outbox: Path, message: Message) -> Path:
    """Local mode: the message as one JSON file, and a console line showing its links."""
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    # The sequence keeps files in sending order even when the clock stands still (tests freeze it).
    path = outbox / f"{stamp}-{next(_sequence):06d}-{message.channel}-{message.template}-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(asdict(message), ensure_ascii=False, indent=2), encoding="utf-8")
    links = " ".join(message.links)
    print(f"[outbox] {message.channel} to {message.to}: {message.template} {links}".rstrip(), flush=True)
    return path

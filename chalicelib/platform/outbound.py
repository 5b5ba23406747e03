"""The sender: drains the outbound queue at SES's rate; a failed message is retried, never blocks others."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from chalice import Blueprint

from chalicelib.logs import log_error, log_event
from chalicelib.platform.messages import Message
from chalicelib.platform.middleware import event_log
from chalicelib.settings import get_settings

outbound = Blueprint(__name__)

# Two senders at most at once, so each paces itself at half the account's SES rate.
CONCURRENCY = 2


class Pacer:
    """Spaces calls to at most `per_second` per second in this container."""

    def __init__(self, per_second: float) -> None:
        self.gap = 1.0 / per_second if per_second > 0 else 0.0
        self.next_at = 0.0

    def wait(self) -> None:
        now = time.monotonic()
        if now < self.next_at:
            time.sleep(self.next_at - now)
        self.next_at = max(now, self.next_at) + self.gap


_pacer: Pacer | None = None


def pacer() -> Pacer:
    global _pacer  # noqa: PLW0603 - one pacer per container, like the clients
    if _pacer is None:
        _pacer = Pacer(get_settings().messages_per_second / CONCURRENCY)
    return _pacer


# Jobs that build their message when sent (a welcome link, a reset link): kind -> builder.
# Each capability registers its own kinds when its module loads; None means nothing to send.
MessageBuilder = Callable[[dict[str, Any]], Message | None]
_BUILDERS: dict[str, MessageBuilder] = {}


def builds(kind: str) -> Callable[[MessageBuilder], MessageBuilder]:
    """Register the builder of one queued job kind (a capability's jobs module does this)."""

    def register(builder: MessageBuilder) -> MessageBuilder:
        _BUILDERS[kind] = builder
        return builder

    return register


def run_job(job: dict[str, Any]) -> str:
    """Deliver one queued job; returns what happened (for the summary line)."""
    from chalicelib.platform import messaging

    kind = job.get("kind")
    if kind == "message":
        pacer().wait()
        messaging.deliver(messaging.message_from(job["message"]))
        return "sent"
    builder = _BUILDERS.get(kind) if isinstance(kind, str) else None
    if builder is None:
        raise ValueError(f"unknown outbound job kind {kind!r}")
    message = builder(job)
    if message is None:
        return "skipped"
    pacer().wait()
    messaging.deliver(message)
    return "sent"


@outbound.on_sqs_message(queue=get_settings().outbound_queue, batch_size=10, maximum_concurrency=CONCURRENCY)
@event_log("send_outbound")
def send_outbound(event: Any) -> dict[str, list[dict[str, str]]]:
    failures: list[dict[str, str]] = []
    outcomes: dict[str, int] = {}
    for record in event:
        try:
            outcome = run_job(json.loads(record.body))
        except Exception:
            # Reported to SQS as this message's failure: it alone is retried, then dead-lettered.
            log_error("outbound_failed", message_id=record.message_id)
            failures.append({"itemIdentifier": record.message_id})
            outcome = "failed"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    log_event("outbound_batch", **outcomes)
    return {"batchItemFailures": failures}

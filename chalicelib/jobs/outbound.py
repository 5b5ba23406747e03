"""The sender: drains the outbound queue at SES's rate; a failed message is retried, never blocks others."""

from __future__ import annotations

import json
import time
from typing import Any

from chalice import Blueprint

from chalicelib.api.middleware import event_log
from chalicelib.logs import log_error, log_event
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


def run_job(job: dict[str, Any]) -> str:
    """Deliver one queued job; returns what happened (for the summary line)."""
    from chalicelib.adapters import messaging

    kind = job.get("kind")
    if kind == "message":
        pacer().wait()
        messaging.deliver(messaging.message_from(job["message"]))
        return "sent"
    if kind in ("welcome", "password_reset"):
        from chalicelib.services.passwords import password_reset_message, welcome_message
        from chalicelib.wiring import auth_deps

        if kind == "welcome":
            message = welcome_message(auth_deps(), job["account_id"], int(job.get("generation", 0)))
        else:
            message = password_reset_message(auth_deps(), job["username"])
        if message is None:
            return "skipped"  # no such account, already sent, activated since, or over its hourly limit
        pacer().wait()
        messaging.deliver(message)
        return "sent"
    raise ValueError(f"unknown outbound job kind {kind!r}")


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

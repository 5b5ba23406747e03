"""Scheduled functions: a Chalice schedule, a request id, a time margin and one `job_summary` line each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chalice import Blueprint

from chalicelib.logs import log_event
from chalicelib.platform.jobs import JobRun
from chalicelib.platform.middleware import event_log

# Stop with a tenth of the function's time left, and never less than 10 s: the writes in flight
# finish (a DynamoDB call may take up to 3 tries of a 10 s read timeout in the worst case, usually
# ms), queued messages go out, the summary line is written, and the rest stays due. A fraction
# grows with the timeout a job is given: 30 s of 300, 90 s of 900.
MARGIN_FRACTION = 0.1
MIN_MARGIN_MS = 10_000


def margin_for(limit_ms: int) -> int:
    """The margin of an invocation that has `limit_ms` in all."""
    return max(MIN_MARGIN_MS, int(limit_ms * MARGIN_FRACTION))


def out_of_time(event: Any, margin_ms: int | None = None) -> Callable[[], bool]:
    """Whether the invocation is within its margin of its limit (never, outside Lambda).

    Without `margin_ms` the margin is `margin_for` the time left when the run starts, which is the
    function's timeout less its start-up: the schedule needs no copy of the declared timeout.
    """
    context = getattr(event, "context", None)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return lambda: False
    margin = margin_ms if margin_ms is not None else margin_for(int(remaining()))
    return lambda: remaining() < margin


def invocation_time(event: Any) -> datetime:
    """The time an invocation is as of: the scheduled event's `time` (EventBridge sets it to the schedule's
    moment; `make job AT=...` to the one asked for), else the moment it arrived."""
    raw = getattr(event, "time", None)
    if isinstance(raw, str) and raw:
        try:
            at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            at = None
        if at is not None:
            return at if at.tzinfo else at.replace(tzinfo=UTC)
    return datetime.now(UTC)


Work = Callable[[JobRun], dict[str, Any] | None]


def scheduled(blueprint: Blueprint, expression: Any, *, margin_ms: int | None = None
              ) -> Callable[[Work], Callable[[Any], dict[str, Any]]]:
    """Register `work(run)` as the scheduled function named after it (`margin_ms`: a fixed margin instead).

    The function answers what `work` returns (a job's own outcome counts) or else the run's summary.
    """

    def decorator(work: Work) -> Callable[[Any], dict[str, Any]]:
        name = work.__name__

        def handler(event: Any) -> dict[str, Any]:
            run = JobRun(name, out_of_time=out_of_time(event, margin_ms), at=invocation_time(event))
            answer = None
            try:
                answer = work(run)
            finally:
                log_event("job_summary", **run.summary())
            return run.summary() if answer is None else answer

        handler.__name__ = name
        handler.__doc__ = work.__doc__
        registered: Callable[[Any], dict[str, Any]] = blueprint.schedule(expression)(event_log(name)(handler))
        return registered

    return decorator

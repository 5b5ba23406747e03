"""Scheduled functions: a Chalice schedule, a request id, a time margin and one `job_summary` line each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Blueprint

from chalicelib.logs import log_event
from chalicelib.platform.jobs import JobRun
from chalicelib.platform.middleware import event_log

# Stop with this much of the function's time left: the item in hand finishes, the rest stays due.
MARGIN_MS = 15_000


def out_of_time(event: Any, margin_ms: int = MARGIN_MS) -> Callable[[], bool]:
    """Whether the invocation is within `margin_ms` of its limit (never, outside Lambda)."""
    context = getattr(event, "context", None)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return lambda: False
    return lambda: remaining() < margin_ms


Work = Callable[[JobRun], dict[str, Any] | None]


def scheduled(blueprint: Blueprint, expression: Any, *, margin_ms: int = MARGIN_MS
              ) -> Callable[[Work], Callable[[Any], dict[str, Any]]]:
    """Register `work(run)` as the scheduled function named after it.

    The function answers what `work` returns (a job's own outcome counts) or else the run's summary.
    """

    def decorator(work: Work) -> Callable[[Any], dict[str, Any]]:
        name = work.__name__

        def handler(event: Any) -> dict[str, Any]:
            run = JobRun(name, out_of_time=out_of_time(event, margin_ms))
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

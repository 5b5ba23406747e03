"""HTTP middleware: one structured log line per request, and its request id."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from chalice import Response
from chalice.app import Request

from chalicelib.errors import AppError, BadRequest, Internal, MethodNotAllowed, UnsupportedMediaType
from chalicelib.logs import log_error, log_event, request_id
from chalicelib.platform.http import error_response, language_of


def request_log(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Tag the request with an id, answer it, log one line; never leak a traceback."""
    rid = (event.context or {}).get("requestId") or uuid.uuid4().hex
    token = request_id.set(rid)
    started = time.perf_counter()
    try:
        try:
            response = get_response(event)
        except Exception:
            # Only errors outside the views land here (ApiBlueprint maps the rest).
            log_error("unhandled_exception", path=event.path)
            response = error_response(Internal(), language_of(event))
        response = _enveloped(response, event)
        response.headers["X-Request-Id"] = rid
        log_event(
            "http_request",
            method=event.method,
            path=event.path,
            route=(event.context or {}).get("resourcePath"),
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return response
    finally:
        request_id.reset(token)


def event_log(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a queue or schedule handler: a request id and one summary line per event."""

    def decorator(handler: Callable[..., Any]) -> Callable[..., Any]:
        def run(event: Any) -> Any:
            context = getattr(event, "context", None)
            rid = getattr(context, "aws_request_id", None) or uuid.uuid4().hex
            token = request_id.set(rid)
            started = time.perf_counter()
            outcome = "ok"
            try:
                return handler(event)
            except Exception:
                outcome = "error"
                log_error("event_failed", handler=name)
                raise
            finally:
                log_event("event_handled", handler=name, outcome=outcome,
                          duration_ms=round((time.perf_counter() - started) * 1000, 1))
                request_id.reset(token)

        run.__name__ = handler.__name__
        run.__doc__ = handler.__doc__
        return run

    return decorator


# Chalice answers some requests itself, before any view: {"Code": ..., "Message": ...} in English.
_CHALICE_ANSWERS: dict[str, type[AppError]] = {
    "MethodNotAllowedError": MethodNotAllowed,
    "UnsupportedMediaType": UnsupportedMediaType,
    "BadRequest": BadRequest,
    "BadRequestError": BadRequest,
}


def _enveloped(response: Response, event: Request) -> Response:
    """Chalice's own error answers (405, 415, ...) in the error envelope and the caller's language."""
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict) or "Code" not in body:
        return response
    error = _CHALICE_ANSWERS.get(body["Code"], Internal if response.status_code >= 500 else BadRequest)()
    enveloped = error_response(error, language_of(event))
    enveloped.status_code = response.status_code
    # Keep what Chalice said besides the body (Allow on a 405, CORS headers).
    kept = {k: v for k, v in (response.headers or {}).items() if k.lower() != "content-type"}
    enveloped.headers = {**kept, **enveloped.headers}
    return enveloped

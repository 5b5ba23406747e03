"""Structured JSON logs (Powertools Logger) that never carry a secret or a personal number."""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

# Keys whose values are secrets or personal numbers: dropped whole.
_SECRET_KEYS = frozenset(
    {
        "password", "new_password", "current_password", "temporary_password",
        "token", "access_token", "refresh_token", "challenge_token", "id_token",
        "code", "otp", "secret", "authorization", "cookie", "idempotency_key",
        "civil_id", "national_id", "sponsor_civil_id", "trandata",
    }
)
# Runs of 8+ digits are civil IDs, phone numbers or card numbers: keep the last 4 only.
# Only whole numbers: digits inside a hex id or a word are not personal numbers.
_LONG_NUMBER = re.compile(r"(?<![A-Za-z0-9])\d{4,}(\d{4})(?![A-Za-z0-9])")
_BEARER = re.compile(r"(?i)bearer\s+[\w\-.~+/=]+")

request_id: ContextVar[str] = ContextVar("request_id", default="-")


def _scrub(value: Any, key: str = "") -> Any:
    if key.lower() in _SECRET_KEYS:
        return "[redacted]"
    if isinstance(value, dict):
        return {k: _scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    # Anything else is text once written (an exception object in a stack trace is str()-ed by the
    # serializer): made text here, so it is scrubbed like text.
    text = value if isinstance(value, str) else str(value)
    return _LONG_NUMBER.sub(lambda m: "****" + m.group(1), _BEARER.sub("Bearer [redacted]", text))


def _scrubbing_dumps(obj: Any) -> str:
    return json.dumps(_scrub(obj), default=str, ensure_ascii=False, separators=(",", ":"))


class _CurrentStdout(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stdout is now (Lambda's, or a test's capture), not the one at import."""

    @property
    def stream(self) -> TextIO:  # a property where typeshed declares an attribute: always the current stdout
        return sys.stdout

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


@cache
def get_logger() -> Logger:
    """The Powertools logger, made on the first line written: Powertools' package loads its Metrics and
    Tracer too (about 30 ms), which a cold authorizer answering a valid token never needs."""
    from aws_lambda_powertools import Logger

    return Logger(service="insure", json_serializer=_scrubbing_dumps, utc=True, logger_handler=_CurrentStdout())


# Names logging keeps for itself ("created", "name", ...): a field so named gets a trailing underscore.
_RESERVED = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def _extra(event: str, fields: dict[str, Any]) -> dict[str, Any]:
    safe = {(f"{k}_" if k in _RESERVED else k): v for k, v in fields.items()}
    return {"event": event, "request_id": request_id.get(), **safe}


def log_event(event: str, **fields: Any) -> None:
    """One structured line: the event's name and its fields, with the request id."""
    get_logger().info(event, extra=_extra(event, fields))


def log_error(event: str, **fields: Any) -> None:
    """One structured line at error level, with the exception's traceback."""
    get_logger().exception(event, extra=_extra(event, fields))


def log_alert(event: str, **fields: Any) -> None:
    """One structured line at error level with no exception: something operations must act on."""
    get_logger().error(event, extra=_extra(event, fields))

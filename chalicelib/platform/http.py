"""The HTTP edge: Blueprints whose views map domain errors to the error envelope.

Chalice turns an exception raised in a view into its own response before any
middleware sees it, so the mapping lives in `ApiBlueprint.route`: every view
registered through it answers domain errors as the PRODUCT.md envelope, in the
caller's language, and anything unexpected as 500 INTERNAL with a request id.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
from typing import Any

from chalice import Blueprint, ChaliceViewError, Response
from chalice.app import Request

from chalicelib.errors import AppError, BadRequest, FieldErrors, Internal, Text
from chalicelib.logs import log_error, request_id

JSON = "application/json"

# Server-rendered pages (account links, the providers' /verify): they name a person or carry a token
# in their URL, so nothing caches them, no Referer carries them, nobody frames them, no script runs.
HTML_PAGE_HEADERS: dict[str, str] = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
# What every server-rendered page looks like; each page adds its own rules after these.
PAGE_CSS = """
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#f4f6f8;color:#1a1f24;
font:1.0625rem/1.6 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans Arabic",
"Noto Naskh Arabic",Tahoma,sans-serif}
main{margin:0 auto;padding:1rem}
section,form{background:#fff;border:1px solid #d5dbe1;border-radius:.75rem;padding:1rem 1.25rem;margin:0 0 1rem}
a{color:#0b5cad}
.ar{text-align:right;font-size:1.125rem}
.en{text-align:left}
label span,.msg span,button span{display:block}
input:focus,button:focus{outline:3px solid #f0b400;outline-offset:2px}
button{display:block;width:100%;min-height:3rem;padding:.5rem 1rem;font:inherit;font-weight:700;color:#fff;
background:#0b5cad;border:0;border-radius:.5rem;cursor:pointer}
button:hover{background:#094a8c}
.note{color:#4a5561;font-size:.9375rem}
@media (min-width:48rem){main{padding:2rem 1rem}}
"""


def html_document(title: Text, main: str, css: str) -> str:
    """A whole page: Arabic first (dir rtl), not indexed, no referrer; `main` is markup already escaped."""
    from html import escape

    return (
        '<!DOCTYPE html>\n<html lang="ar" dir="rtl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex, nofollow">'
        f"<title>{escape(title.ar)} · {escape(title.en)}</title><style>{PAGE_CSS}{css}</style></head>"
        f"<body><main>{main}</main></body></html>\n"
    )


def language_from_header(header: str | None, default: str = "en") -> str:
    """'ar' or 'en': the first of them that Accept-Language names, else the default."""
    for part in (header or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in ("ar", "en"):
            return tag
    return default


def language_of(request: Request | None, default: str = "en") -> str:
    """'ar' or 'en' from Accept-Language; else the signed-in person's chosen language; else English.

    Only a signed-in caller's own choice is used: on anonymous routes (login, forgot password)
    answering in the account's language would tell who has an account.
    """
    header = (request.headers.get("accept-language") or "") if request else ""
    chosen = ((request.context or {}).get("authorizer") or {}).get("lang") if request else None
    if chosen in ("ar", "en"):
        default = chosen
    return language_from_header(header, default)


def error_response(error: AppError, lang: str) -> Response:
    body = error.body(lang)
    if error.status >= 500:
        body["error"]["request_id"] = request_id.get()
    headers: dict[str, str | list[str]] = {"Content-Type": JSON, "Content-Language": lang, **error.headers}
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=error.status,
                    headers=headers)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=status,
                    headers={"Content-Type": JSON, **(headers or {})})


class ApiBlueprint(Blueprint):
    """A Blueprint whose routes answer errors as the envelope, never as a stack trace."""

    def route(self, path: str, **kwargs: Any) -> Callable[..., Any]:
        register: Callable[..., Any] = super().route(path, **kwargs)

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(view)
            def guarded(*args: Any, **kw: Any) -> Any:
                request = self.current_request
                try:
                    _check_parameters(request)
                    return view(*args, **kw)
                except AppError as error:
                    return error_response(error, language_of(request))
                except ChaliceViewError as error:
                    # Chalice's own request errors (e.g. a body that is not JSON).
                    text = Text(str(error) or BadRequest.text.en, BadRequest.text.ar)
                    return error_response(BadRequest(text), language_of(request))
                except Exception:
                    log_error("unhandled_exception", path=getattr(request, "path", None))
                    return error_response(Internal(), language_of(request))

            registered: Callable[..., Any] = register(guarded)
            return registered

        return decorator


# Our bodies are flat objects with a few small lists; 32 levels is far more than any needs and far
# below the interpreter's recursion limit, so nesting is refused before anything walks it.
MAX_JSON_DEPTH = 32
# I-JSON (RFC 7493): integers beyond 2^53 do not survive a round trip through most clients.
MAX_SAFE_INTEGER = 2**53 - 1
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

NOT_JSON = Text("The body is not valid JSON.", "محتوى الطلب ليس JSON صالحًا.")


class _Refused(ValueError):
    """A body that is JSON by the grammar but not I-JSON: it answers 400 INVALID_JSON like a syntax error."""


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two "username" keys: which one a check read and which one a later step uses must never differ.
    body = dict(pairs)
    if len(body) != len(pairs):
        raise _Refused("duplicate key")
    return body


def _no_constant(name: str) -> Any:
    raise _Refused(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses to inf
        raise _Refused("number out of range")
    return value


def _safe_int(text: str) -> int:
    # The digit count is checked first, so a 10,000-digit literal is never converted.
    value = int(text) if len(text.lstrip("-")) <= 16 else MAX_SAFE_INTEGER + 1
    if abs(value) > MAX_SAFE_INTEGER:
        raise _Refused("number out of range")
    return value


def _check_shape(value: Any) -> None:
    """Depth and lone surrogates, walked without recursion (the value may be deep)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            # "\ud800" is valid JSON but no text: argon2, DynamoDB and every encode('utf-8') fail on it.
            if _LONE_SURROGATE.search(item):
                raise _Refused("lone surrogate")
        elif isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise _Refused("nested too deep")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def parse_json(raw: bytes | str) -> Any:
    """A JSON text as I-JSON (RFC 7493) allows it, or BadRequest INVALID_JSON.

    UTF-8 only; no duplicate keys, NaN, Infinity, lone surrogates or numbers a client could not
    round-trip; nesting at most MAX_JSON_DEPTH. Whatever the bytes, the answer is a value or a 400.
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        value = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant,
                           parse_float=_finite_float, parse_int=_safe_int)
        _check_shape(value)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise BadRequest(NOT_JSON, code="INVALID_JSON") from exc
    return value


def _check_parameters(request: Request | None) -> None:
    """Path, query and header values must be text: a Lambda event can carry "\\ud800" where HTTP cannot."""
    if request is None:
        return
    query = request.query_params
    values = [*(request.uri_params or {}).values(), *(request.headers or {}).values(),
              *(v for name in (query or {}) for v in (query.getlist(name) if query is not None else []))]
    if any(isinstance(v, str) and _LONE_SURROGATE.search(v) for v in values):
        raise BadRequest(Text("The request has characters that are not text.", "يحتوي الطلب على رموز ليست نصًا."),
                         code="INVALID_PARAMETER")


def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or a BAD_REQUEST naming the problem."""
    try:
        raw = request.raw_body
    except UnicodeEncodeError as exc:
        # Chalice encodes the event's body text to bytes; an event (not HTTP) can carry a lone surrogate.
        raise BadRequest(NOT_JSON, code="INVALID_JSON") from exc
    if not raw:
        return {}
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise BadRequest(Text("The body must be a JSON object.", "يجب أن يكون المحتوى كائن JSON."),
                         code="INVALID_JSON")
    return body


def text_fields(body: dict[str, Any], *names: str) -> None:
    """422 naming each field that is present but not text (a number or an object where a string belongs)."""
    problems = FieldErrors()
    for name in names:
        if body.get(name) is not None and not isinstance(body[name], str):
            problems.add(name, "type", f"{name} must be text.", f"يجب أن يكون الحقل {name} نصًا.")
    problems.raise_if_any()

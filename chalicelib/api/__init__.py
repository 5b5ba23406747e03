"""The HTTP edge: Blueprints whose views map domain errors to the error envelope.

Chalice turns an exception raised in a view into its own response before any
middleware sees it, so the mapping lives in `ApiBlueprint.route`: every view
registered through it answers domain errors as the PRODUCT.md envelope, in the
caller's language, and anything unexpected as 500 INTERNAL with a request id.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from chalice import Blueprint, ChaliceViewError, Response
from chalice.app import Request

from chalicelib.errors import AppError, BadRequest, Internal, Text
from chalicelib.logs import log_error, request_id

JSON = "application/json"


def language_of(request: Request | None, default: str = "en") -> str:
    """'ar' or 'en' from Accept-Language; else the signed-in person's chosen language; else English.

    Only a signed-in caller's own choice is used: on anonymous routes (login, forgot password)
    answering in the account's language would tell who has an account.
    """
    header = (request.headers.get("accept-language") or "") if request else ""
    chosen = ((request.context or {}).get("authorizer") or {}).get("lang") if request else None
    if chosen in ("ar", "en"):
        default = chosen
    for part in header.split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in ("ar", "en"):
            return tag
    return default


def error_response(error: AppError, lang: str) -> Response:
    body = error.body(lang)
    if error.status >= 500:
        body["error"]["request_id"] = request_id.get()
    headers = {"Content-Type": JSON, "Content-Language": lang, **error.headers}
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=error.status,
                    headers=headers)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=status,
                    headers={"Content-Type": JSON, **(headers or {})})


class ApiBlueprint(Blueprint):
    """A Blueprint whose routes answer errors as the envelope, never as a stack trace."""

    def route(self, path: str, **kwargs: Any) -> Callable[..., Any]:
        register = super().route(path, **kwargs)

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(view)
            def guarded(*args: Any, **kw: Any) -> Any:
                request = self.current_request
                try:
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

            return register(guarded)

        return decorator


def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or a BAD_REQUEST naming the problem."""
    raw = request.raw_body
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(Text("The body is not valid JSON.", "محتوى الطلب ليس JSON صالحًا."),
                         code="INVALID_JSON") from exc
    if not isinstance(body, dict):
        raise BadRequest(Text("The body must be a JSON object.", "يجب أن يكون المحتوى كائن JSON."),
                         code="INVALID_JSON")
    return body

"""chalice.local's stand-in for API Gateway, answering in the error envelope as the deployed gateway does.

chalice.local answers what API Gateway answers by itself in API Gateway's default words: 401
{"message":"Unauthorized"} without a token, 403 {"Message": ...} when the authorizer denies, 403
"Missing Authentication Token" for an unknown path. The deployed API overrides those with gateway
responses (devstack/infra/api.py); this module gives `make run` the same statuses and codes:

| case                              | API Gateway's response type    | answer                |
|-----------------------------------|--------------------------------|-----------------------|
| no Authorization header           | UNAUTHORIZED                   | 401 UNAUTHORIZED      |
| the authorizer denies the token   | ACCESS_DENIED                  | 401 UNAUTHORIZED      |
| unknown path                      | MISSING_AUTHENTICATION_TOKEN   | 404 NOT_FOUND         |
| the authorizer itself fails       | AUTHORIZER_FAILURE (5XX)       | 500 INTERNAL          |

A 401, not a 403, for a bad or expired token: that is what tells a mobile app to refresh.
Gateway responses cannot read Accept-Language (their templates only substitute variables), so on
AWS the message carries both languages; here the caller's language is known and used, as the
app's own errors do. 405 and 415 come from the app itself (chalicelib/platform/middleware.py), here and
on AWS alike.
"""

from __future__ import annotations

import json
import uuid

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    ForbiddenError,
    LocalChalice,
    LocalDevServer,
    LocalGatewayException,
    NotAuthorizedError,
)

from chalicelib.errors import AppError, Internal, NotFound, Unauthorized
from chalicelib.logs import log_error
from chalicelib.platform.http import language_from_header


def gateway_error(error: LocalGatewayException) -> AppError:
    """The error the deployed API Gateway's gateway responses give for what chalice.local raised."""
    if isinstance(error, NotAuthorizedError):
        return Unauthorized()
    if isinstance(error, ForbiddenError):
        # chalice.local marks an authorizer's deny AccessDeniedException; a path it cannot route, not.
        denied = error.headers.get("x-amzn-ErrorType") == "AccessDeniedException"
        return Unauthorized() if denied else NotFound()
    # InvalidAuthorizerError (the authorizer returned nothing) and anything else: the gateway's 5XX.
    return Internal()


def envelope(error: AppError, lang: str, request_id: str) -> tuple[dict[str, str], bytes]:
    """Headers and body of the error envelope, as chalicelib.platform.http.error_response writes it."""
    body = error.body(lang)
    if error.status >= 500:
        body["error"]["request_id"] = request_id
    headers = {"Content-Type": "application/json", "Content-Language": lang, "X-Request-Id": request_id}
    if isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"  # RFC 6750: a 401 says which scheme to use
    return headers, json.dumps(body, ensure_ascii=False).encode("utf-8")


class EnvelopeRequestHandler(ChaliceRequestHandler):
    """chalice.local's HTTP handler; the gateway's own refusals and any crash answer in the envelope."""

    def _generic_handle(self) -> None:
        try:
            super()._generic_handle()
        except Exception:
            # chalice.local would drop the connection (no answer at all); API Gateway answers 500.
            log_error("local_gateway_failed", path=self.path)
            self._send_envelope(Internal())

    def _send_error_response(self, error: LocalGatewayException) -> None:
        self._send_envelope(gateway_error(error))

    def _send_envelope(self, error: AppError) -> None:
        lang = language_from_header(self.headers.get("accept-language"))
        headers, body = envelope(error, lang, uuid.uuid4().hex)
        self._send_http_response(error.status, headers, body)

    # HEAD, PUT, etc. all go through _generic_handle; BaseHTTPRequestHandler looks these up by name.
    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle


def create_envelope_server(app: Chalice, config: Config, host: str, port: int) -> LocalDevServer:
    """chalice.local.create_local_server, with the handler above."""
    # As create_local_server does: current_request becomes thread-local, for the threaded server
    # (once: a second server on the same app must not make the class its own base).
    if not isinstance(app, LocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, handler_cls=EnvelopeRequestHandler)

"""The providers' routes: POST /oauth2/token, the FHIR API under /fhir, and the member's GET /v1/me/access-log.

FHIR and OAuth clients read their own error formats, not the app's envelope: the views under /fhir answer
every failure as an OperationOutcome and the token endpoint as RFC 6749 errors, hostile input included
(never a 500 for a body, only for a fault of ours). Each view imports its use cases when it runs, so
the API handler's cold start (a member's login) loads none of this.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, unquote_plus

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.accounts import caller, jwt_authorizer
from chalicelib.errors import BadRequest, Unauthorized, field_error
from chalicelib.logs import log_error
from chalicelib.platform.http import ApiBlueprint, json_response, parse_json
from chalicelib.providers.errors import FhirProblem, OAuthProblem
from chalicelib.providers.fhir import FHIR_JSON, operation_outcome

if TYPE_CHECKING:
    from chalicelib.providers.ports import ProviderDeps
    from chalicelib.providers.rules import LogPosition, Provider

fhir_api = Blueprint(__name__)
access_log_api = ApiBlueprint(__name__)

FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 4096
MAX_FHIR_BODY_BYTES = 65536
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Answers that name a person or carry a token: nothing in between keeps them.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def deps() -> ProviderDeps:
    from chalicelib.providers.wiring import provider_deps

    return provider_deps()


def fhir_response(resource: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(resource, ensure_ascii=False), status_code=status,
                    headers={"Content-Type": f"{FHIR_JSON}; charset=utf-8", **NO_STORE, **(headers or {})})


def _outcome(problem: FhirProblem) -> Response:
    return fhir_response(operation_outcome(problem), problem.status, problem.headers)


def fhir_view(view: Callable[..., Response]) -> Callable[..., Response]:
    """Every failure of a FHIR view as an OperationOutcome; a fault of ours as a 500 one, logged."""

    @functools.wraps(view)
    def guarded(*args: Any, **kw: Any) -> Response:
        request = fhir_api.current_request
        try:
            _check_text(request)
            return view(*args, **kw)
        except FhirProblem as problem:
            return _outcome(problem)
        except Exception:
            log_error("unhandled_exception", path=getattr(request, "path", None))
            return _outcome(FhirProblem(500, "exception", "Something went wrong on our side; try again."))

    return guarded


def _check_text(request: Request | None) -> None:
    # A Lambda event can carry "\ud800" where HTTP cannot: refused before anything encodes it.
    if request is None:
        return
    query = request.query_params
    values = [*(request.headers or {}).values(),
              *(v for name in (query or {}) for v in (query.getlist(name) if query is not None else []))]
    if any(isinstance(v, str) and _LONE_SURROGATE.search(v) for v in values):
        raise FhirProblem(400, "invalid", "The request has characters that are not text.")


def _provider() -> Provider:
    """The provider the bearer token speaks for: the authorizer checked the token; this checks its kind and
    that the provider is still active with the same secret (disable and rotate take effect at once)."""
    from chalicelib.providers.use_cases import provider_of_token

    context: dict[str, str] = (fhir_api.current_request.context or {}).get("authorizer") or {}
    if context.get("kind") != "provider":
        # The authorizer never allows a member's token here; this keeps it so if that ever changed.
        raise FhirProblem(401, "login", "A provider access token is required (POST /oauth2/token).",
                          headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return provider_of_token(deps(), context)


# --- OAuth 2.0 token endpoint ---------------------------------------------------------------------------

def _oauth_response(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body), status_code=status,
                    headers={"Content-Type": "application/json", **NO_STORE, **(headers or {})})


def _form(raw: bytes) -> dict[str, str]:
    if len(raw) > MAX_FORM_BYTES:
        raise OAuthProblem(400, "invalid_request", "The request body is too large.")
    try:
        fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=16, strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as exc:
        raise OAuthProblem(400, "invalid_request", "The body is not a form (application/x-www-form-urlencoded).") \
            from exc
    repeated = sorted(name for name, values in fields.items() if len(values) > 1)
    if repeated:  # RFC 6749 3.2: parameters must not be included more than once
        raise OAuthProblem(400, "invalid_request", f"{repeated[0]} is given more than once.")
    if any(_LONE_SURROGATE.search(k + v[0]) for k, v in fields.items()):
        raise OAuthProblem(400, "invalid_request", "The form has characters that are not text.")
    return {name: values[0] for name, values in fields.items()}


def _basic_credentials(header: str | None) -> tuple[str | None, str | None]:
    """RFC 6749 2.3.1: HTTP Basic whose user and password are the form-encoded client id and secret."""
    scheme, _, encoded = (header or "").strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None, None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None, None
    return unquote_plus(client_id), unquote_plus(secret)


@fhir_api.route("/oauth2/token", methods=["POST"], content_types=[FORM])
def token() -> Response:
    """OAuth 2.0 client credentials (RFC 6749 4.4) with HTTP Basic client authentication."""
    from chalicelib.providers.use_cases import token_for_client

    request = fhir_api.current_request
    try:
        raw = request.raw_body or b""
        form = _form(raw.encode("utf-8") if isinstance(raw, str) else raw)
        if "client_secret" in form:
            raise OAuthProblem(400, "invalid_request", "Send the client secret with HTTP Basic, not in the body.")
        client_id, secret = _basic_credentials(request.headers.get("authorization"))
        if client_id is not None and form.get("client_id") not in (None, client_id):
            raise OAuthProblem(400, "invalid_request", "client_id in the body differs from the authenticated one.")
        body = token_for_client(deps(), client_id, secret, form.get("grant_type"), form.get("scope"))
    except OAuthProblem as problem:
        return _oauth_response({"error": problem.error, "error_description": problem.description},
                               problem.status, problem.headers)
    except Exception:
        log_error("unhandled_exception", path="/oauth2/token")
        return _oauth_response({"error": "server_error", "error_description": "Something went wrong; try again."},
                               500)
    return _oauth_response(body)


# --- FHIR ----------------------------------------------------------------------------------------------

@fhir_api.route("/fhir/metadata", methods=["GET"])
@fhir_view
def capability_statement() -> Response:
    from chalicelib.providers.fhir import capability_statement as statement
    from chalicelib.settings import VERSION, get_settings

    settings = get_settings()
    published = datetime(2026, 12, 1).date()  # when this statement last changed
    return fhir_response(statement(base_url=settings.public_base_url, version=VERSION, published=published,
                                   insurer=settings.branding.insurer_en))


@fhir_api.route("/fhir/CoverageEligibilityRequest", methods=["POST"], authorizer=jwt_authorizer,
                content_types=[FHIR_JSON, "application/json"])
@fhir_view
def coverage_eligibility_request() -> Response:
    """Is the person covered on the service date? A CoverageEligibilityResponse (or an OperationOutcome)."""
    from chalicelib.providers.fhir_requests import read_eligibility_request
    from chalicelib.providers.use_cases import check_eligibility

    provider = _provider()
    request = fhir_api.current_request
    try:
        raw = request.raw_body or b""
    except UnicodeEncodeError as exc:
        raise FhirProblem(400, "structure", "The body is not JSON.", expression="CoverageEligibilityRequest") from exc
    if len(raw) > MAX_FHIR_BODY_BYTES:
        raise FhirProblem(413, "too-costly", "The body is too large for one eligibility request.")
    try:
        body = parse_json(raw) if raw else None
    except BadRequest as exc:
        raise FhirProblem(400, "structure", "The body is not valid JSON (I-JSON: UTF-8, no duplicate keys, nesting "
                          "at most 32 levels).", expression="CoverageEligibilityRequest") from exc
    d = deps()
    question = read_eligibility_request(body, today=d.today(d.now()))
    return fhir_response(check_eligibility(d, provider, question))


@fhir_api.route("/fhir/Coverage", methods=["GET"], authorizer=jwt_authorizer)
@fhir_view
def coverage_search() -> Response:
    """The coverages of the person an identifier names (GET /fhir/Coverage?identifier=[system|]value)."""
    from chalicelib.providers.rules import parse_identifier
    from chalicelib.providers.use_cases import search_coverage

    provider = _provider()
    query = fhir_api.current_request.query_params
    values = query.getlist("identifier") if query is not None and "identifier" in query else []
    if len(values) != 1:
        raise FhirProblem(400, "required" if not values else "invalid",
                          "Search by exactly one identifier: a member id or a civil ID.", expression="identifier")
    raw = values[0]
    system, bar, value = raw.partition("|")
    system_or_none: str | None = system or None
    if not bar:
        system_or_none, value = None, raw
    d = deps()
    person = parse_identifier(system_or_none, value, today=d.today(d.now()), expression="identifier")
    self_url = f"{d.base_url}/fhir/Coverage?identifier={quote(raw, safe='')}"
    return fhir_response(search_coverage(d, provider, person, self_url))


@fhir_api.route("/fhir/Coverage/{coverage_id}", methods=["GET"], authorizer=jwt_authorizer)
@fhir_view
def coverage_read(coverage_id: str) -> Response:
    """One Coverage by id (a member id): what the references in the other answers point at."""
    from chalicelib.providers.rules import MEMBER_ID_SYSTEM, parse_identifier
    from chalicelib.providers.use_cases import read_coverage

    provider = _provider()
    d = deps()
    member_id = parse_identifier(MEMBER_ID_SYSTEM, coverage_id, today=d.today(d.now()), expression="Coverage.id")
    return fhir_response(read_coverage(d, provider, member_id))


# --- the insured person's access log ---------------------------------------------------------------------

@access_log_api.route("/v1/me/access-log", methods=["GET"], authorizer=jwt_authorizer)
def access_log() -> Response:
    """Which provider looked up whose coverage, and when: the account's own people (members and dependents)."""
    from chalicelib.providers.use_cases import access_log as log

    account_id = caller().get("account_id")
    if not account_id:
        raise Unauthorized()
    query = access_log_api.current_request.query_params
    limit = _limit(query.get("limit") if query is not None else None)
    before = _before(query.get("before") if query is not None else None)
    after = _cursor(query.get("cursor") if query is not None else None)
    return json_response(log(deps(), account_id, limit, before, after), headers=NO_STORE)


def _limit(raw: str | None) -> int:
    if raw is None:
        return 50
    if not raw.isdecimal() or not 1 <= int(raw[:4]) <= 100 or len(raw) > 3:
        raise field_error("limit", "range", "limit is a whole number from 1 to 100.", "limit رقم صحيح من 1 إلى 100.")
    return int(raw)


def _before(raw: str | None) -> datetime | None:
    """A moment with its offset, whichever offset: compared as the same moment in UTC."""
    from chalicelib.providers.rules import utc

    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw) if len(raw) <= 40 else None
        moment = utc(moment) if moment is not None and moment.tzinfo is not None else None
    except (ValueError, OverflowError):  # not a time; or one whose UTC is outside years 1 to 9999
        moment = None
    if moment is None:
        raise field_error("before", "format", "before is a time in ISO 8601 with its offset.",
                          "before وقت بصيغة ISO 8601 مع فرق التوقيت.")
    return moment


def _cursor(raw: str | None) -> LogPosition | None:
    """Where the previous page ended, as its next_cursor gave it; anything else is refused, never looked up."""
    from chalicelib.providers.rules import decode_cursor

    if raw is None:
        return None
    try:
        return decode_cursor(raw)
    except ValueError:
        raise field_error("cursor", "format", "cursor is the next_cursor of the previous page, as it was given.",
                          "cursor هو next_cursor للصفحة السابقة كما أُعطي.") from None

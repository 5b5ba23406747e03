"""The built-in authorizer and the /v1/auth and /v1/me routes.

The authorizer is a Lambda of its own whose handler lives here, and the API handler answers a
login first after a cold start: each view imports its use cases when it runs, so loading this
module (the authorizer's cold start, and the app's) costs none of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import AuthResponse, Blueprint, Response

from chalicelib.accounts.errors import AccessTokenRejected
from chalicelib.errors import FieldErrors, NotFound
from chalicelib.logs import log_event
from chalicelib.platform.http import ApiBlueprint, json_body, json_response

if TYPE_CHECKING:
    from chalicelib.accounts.ports import AuthDeps

authorizer_bp = Blueprint(__name__)
auth = ApiBlueprint(__name__)


def auth_deps() -> AuthDeps:
    # The wiring, and the ports it builds, load on the first view that needs them, not in the authorizer.
    from chalicelib.accounts.wiring import auth_deps as deps

    return deps()


def verify_access_token(token: str) -> dict[str, Any]:
    from chalicelib.accounts.wiring import verify_access_token as verify

    return verify(token)


# API Gateway caches this answer per token for 300 s, for every route (AuthResponse(routes=["*"]) is
# execute-api .../<stage>/*/*: all methods, all paths, so a cached allow is right for any route).
# The price: a token cached shortly before its `exp` is still accepted up to 300 s after it, so access
# tokens live 10 minutes (settings): issued + 10 min + 5 min cache = a revoked session's token is
# accepted at most 15 minutes, as before the cache. 0 would turn the cache off.
@authorizer_bp.authorizer(ttl_seconds=300)
def jwt_authorizer(auth_request: Any) -> AuthResponse:
    """Signature, algorithm, expiry, issuer and audience of the bearer token; no database read."""
    scheme, _, token = (auth_request.token or "").partition(" ")
    try:
        if scheme.lower() != "bearer" or not token:
            raise AccessTokenRejected("no bearer token")
        if _is_provider_token(token.strip()):
            return _provider_answer(token.strip())
        claims = verify_access_token(token.strip())
    except AccessTokenRejected as exc:
        log_event("access_denied", reason=str(exc))
        return AuthResponse(routes=[], principal_id="anonymous")
    context = {"account_id": claims["sub"], "session_id": claims["sid"], "lang": claims.get("lang") or ""}
    # Two kinds of token, each allowed on its own routes only (the policy is what the gateway caches):
    # a member's on the app's /v1 routes, never on /fhir; a provider's on /fhir only, never on /v1.
    return AuthResponse(routes=[MEMBER_ROUTES], principal_id=claims["sub"], context=context)


MEMBER_ROUTES, PROVIDER_ROUTES = "/v1/*", "/fhir/*"


def _is_provider_token(token: str) -> bool:
    from chalicelib.providers import is_provider_token

    return is_provider_token(token)


def _provider_answer(token: str) -> AuthResponse:
    """A provider's token (typ at+jwt, the FHIR audience, scope coverage.read): the /fhir routes only."""
    from chalicelib.providers import verify_provider_token

    context = verify_provider_token(token)
    if context is None:
        raise AccessTokenRejected("not a valid provider token")
    return AuthResponse(routes=[PROVIDER_ROUTES], principal_id=f"provider:{context['client_id']}", context=context)


def caller() -> dict[str, str]:
    """The signed-in account and session of the current request (the authorizer's context)."""
    who: dict[str, str] = auth.current_request.context.get("authorizer") or {}
    return who


def _required(body: dict[str, Any], *names: str) -> None:
    problems = FieldErrors()
    for name in names:
        if not isinstance(body.get(name), str) or not body.get(name):
            problems.add(name, "required", f"{name} is required.", f"الحقل {name} مطلوب.")
    problems.raise_if_any()


def _device(body: dict[str, Any]) -> tuple[str, str]:
    device_id = str(body.get("device_id") or "unknown")[:128]
    return device_id, str(body.get("device_name") or device_id)[:128]


@auth.route("/v1/auth/register", methods=["POST"])
def register() -> Response:
    from chalicelib.accounts import registration
    request = auth.current_request
    source = ((request.context or {}).get("identity") or {}).get("sourceIp")
    return json_response(registration.start_registration(auth_deps(), json_body(request), source), 201)


@auth.route("/v1/auth/register/verify", methods=["POST"])
def register_verify() -> Response:
    from chalicelib.accounts import registration
    body = json_body(auth.current_request)
    _required(body, "registration_id", "code")
    return json_response(registration.verify_registration(auth_deps(), body["registration_id"], body["code"]), 201)


@auth.route("/v1/auth/register/resend", methods=["POST"])
def register_resend() -> Response:
    from chalicelib.accounts import registration
    body = json_body(auth.current_request)
    _required(body, "registration_id")
    return json_response(registration.resend_code(auth_deps(), body["registration_id"]))


@auth.route("/v1/auth/login", methods=["POST"])
def login() -> Response:
    from chalicelib.accounts import sessions
    body = json_body(auth.current_request)
    _required(body, "username", "password")
    result = sessions.login(auth_deps(), body["username"], body["password"], *_device(body))
    return json_response(result.body())


@auth.route("/v1/auth/challenge", methods=["POST"])
def challenge() -> Response:
    from chalicelib.accounts import sessions
    body = json_body(auth.current_request)
    _required(body, "challenge_token", "new_password")
    device_id, device_name = _device(body)
    tokens = sessions.answer_challenge(auth_deps(), body["challenge_token"], body["new_password"],
                                       body.get("device_id") and device_id, body.get("device_name") and device_name)
    return json_response(tokens.body())


@auth.route("/v1/auth/refresh", methods=["POST"])
def refresh() -> Response:
    from chalicelib.accounts import sessions
    body = json_body(auth.current_request)
    _required(body, "refresh_token")
    return json_response(sessions.refresh(auth_deps(), body["refresh_token"]).body())


@auth.route("/v1/auth/logout", methods=["POST"], authorizer=jwt_authorizer)
def logout() -> Response:
    from chalicelib.accounts import sessions
    who = caller()
    sessions.logout(auth_deps(), who["account_id"], who["session_id"])
    return Response(body="", status_code=204)


@auth.route("/v1/auth/sessions", methods=["GET"], authorizer=jwt_authorizer)
def list_sessions() -> Response:
    from chalicelib.accounts import sessions
    who = caller()
    return json_response({"sessions": sessions.list_sessions(auth_deps(), who["account_id"], who["session_id"])})


@auth.route("/v1/auth/sessions/{session_id}", methods=["DELETE"], authorizer=jwt_authorizer)
def revoke_session(session_id: str) -> Response:
    from chalicelib.accounts import sessions
    sessions.revoke_session(auth_deps(), caller()["account_id"], session_id)
    return Response(body="", status_code=204)


@auth.route("/v1/auth/sessions", methods=["DELETE"], authorizer=jwt_authorizer)
def revoke_all_sessions() -> Response:
    from chalicelib.accounts import sessions
    sessions.revoke_all_sessions(auth_deps(), caller()["account_id"])
    return Response(body="", status_code=204)


@auth.route("/v1/auth/password/forgot", methods=["POST"])
def forgot_password() -> Response:
    from chalicelib.accounts import passwords
    body = json_body(auth.current_request)
    passwords.forgot_password(auth_deps(), body.get("username") or body.get("email"))
    # The same answer whether or not the account exists.
    return json_response({"status": "accepted"}, 202)


@auth.route("/v1/auth/password/reset", methods=["POST"])
def reset_password() -> Response:
    from chalicelib.accounts import passwords
    body = json_body(auth.current_request)
    _required(body, "token", "new_password")
    passwords.reset_password(auth_deps(), body["token"], body["new_password"])
    return json_response({"status": "password_changed"})


@auth.route("/v1/auth/password/change", methods=["POST"], authorizer=jwt_authorizer)
def change_password() -> Response:
    from chalicelib.accounts import passwords
    body = json_body(auth.current_request)
    _required(body, "current_password", "new_password")
    who = caller()
    passwords.change_password(auth_deps(), who["account_id"], who["session_id"], body["current_password"],
                              body["new_password"])
    return json_response({"status": "password_changed"})


@auth.route("/v1/me", methods=["GET"], authorizer=jwt_authorizer)
def me() -> Response:
    from chalicelib.accounts.credentials import password_expiry
    from chalicelib.accounts.rules import masked_civil_id, sign_in_names
    deps = auth_deps()
    account = deps.store.account(caller()["account_id"])
    if account is None:
        raise NotFound()
    expires = password_expiry(deps, account) if account.password_kind == "permanent" else None
    # The member's own data, to the member: `civil_id` whole as ever (the app prefills applications
    # with it), `civil_id_masked` for showing on screen; `phone` as given (HR's, or the proven one).
    return json_response({
        "account_id": account.account_id, "status": account.status, "source": account.source,
        "email": account.email, "civil_id": account.civil_id, "civil_id_masked": masked_civil_id(account.civil_id),
        "phone": account.phone, "name": account.name,
        "language": account.language, "gender": account.gender, "city": account.city,
        "username": account.civil_id if account.source == "self" else account.email,
        "usernames": sign_in_names(account.source, account.email, account.civil_id),
        "password_expires_at": expires.isoformat() if expires else None,
        "people": _covered_people(account.account_id),
    })


def _covered_people(account_id: str) -> list[dict[str, Any]]:
    # PRODUCT.md: /v1/me is "the account and the people it covers"; the same entries as /v1/cards.
    from chalicelib.cards import people_of_account

    return people_of_account(account_id)


"""Residence premiums over HTTP: categories, quotes, applications, payments, the gateway callback, policies.

Each view imports its use cases and wiring when it runs: the API handler's cold start (a login)
loads none of them.
"""

from __future__ import annotations

from typing import Any

from chalice import Response
from chalice.app import Request

from chalicelib.accounts import caller, jwt_authorizer
from chalicelib.platform.http import ApiBlueprint, json_body, json_response, language_of, text_fields

premiums_api = ApiBlueprint(__name__)

CALLBACK_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"]


def _request() -> Request:
    request: Request = premiums_api.current_request
    return request


def _query() -> dict[str, str]:
    return dict(_request().query_params or {})


def _account() -> str:
    return caller()["account_id"]


def _application_body() -> dict[str, Any]:
    body = json_body(_request())
    # The domain's rules read these as text; a number or object there is the caller's mistake, not a crash.
    text_fields(body, "insured_civil_id", "insured_name", "insured_name_ar", "category", "sponsor_name",
                "sponsor_civil_id", "kind", "passport_expiry")
    return body


@premiums_api.route("/v1/premiums/categories", methods=["GET"])
def list_categories() -> Response:
    from chalicelib.premiums import applications as premiums
    from chalicelib.premiums.wiring import premium_deps
    body = premiums.categories(premium_deps(), _query())
    return json_response(body, headers={"Cache-Control": "public, max-age=300"})


@premiums_api.route("/v1/premiums/quote", methods=["GET"])
def get_quote() -> Response:
    from chalicelib.premiums import applications as premiums
    from chalicelib.premiums.wiring import premium_deps
    return json_response(premiums.quote_premium(premium_deps(), _query()))


@premiums_api.route("/v1/applications", methods=["POST"], authorizer=jwt_authorizer)
def create_application() -> Response:
    from chalicelib.premiums import applications as premiums
    from chalicelib.premiums.wiring import premium_deps
    body = _application_body()
    return json_response(premiums.create_application(premium_deps(), _account(), body), 201)


@premiums_api.route("/v1/applications/{application_id}", methods=["GET"], authorizer=jwt_authorizer)
def get_application(application_id: str) -> Response:
    from chalicelib.premiums import applications as premiums
    from chalicelib.premiums.wiring import premium_deps
    return json_response(premiums.get_application(premium_deps(), _account(), application_id))


@premiums_api.route("/v1/applications/{application_id}", methods=["PUT"], authorizer=jwt_authorizer)
def change_application(application_id: str) -> Response:
    from chalicelib.premiums import applications as premiums
    from chalicelib.premiums.wiring import premium_deps
    body = _application_body()
    return json_response(premiums.change_application(premium_deps(), _account(), application_id, body))


@premiums_api.route("/v1/applications/{application_id}/confirm", methods=["POST"], authorizer=jwt_authorizer)
def confirm_application(application_id: str) -> Response:
    from chalicelib.premiums import applications as premiums
    from chalicelib.premiums.wiring import premium_deps
    body = json_body(_request())
    return json_response(premiums.confirm_application(premium_deps(), _account(), application_id, body))


@premiums_api.route("/v1/applications/{application_id}/pay", methods=["POST"], authorizer=jwt_authorizer)
def pay_application(application_id: str) -> Response:
    from chalicelib.premiums import payments
    from chalicelib.premiums.wiring import premium_deps
    request = _request()
    view, created = payments.start_payment(
        premium_deps(), account_id=_account(), application_id=application_id,
        idempotency_key=request.headers.get("idempotency-key"), body=json_body(request), lang=language_of(request))
    headers = {} if created else {"Idempotent-Replayed": "true"}
    return json_response(view, 201 if created else 200, headers=headers)


@premiums_api.route("/v1/payments/callback", methods=["POST"], content_types=CALLBACK_TYPES)
def payment_callback() -> Response:
    from chalicelib.premiums import payments
    from chalicelib.premiums.wiring import premium_deps
    request = _request()
    raw = request.raw_body or b""  # bytes at runtime; Chalice's annotation also allows str
    body = raw.encode("utf-8") if isinstance(raw, str) else raw
    ack = payments.handle_callback(premium_deps(), body, dict(request.headers))
    return Response(body=ack.body, status_code=ack.status, headers={"Content-Type": ack.content_type})


@premiums_api.route("/v1/payments", methods=["GET"], authorizer=jwt_authorizer)
def list_payments() -> Response:
    from chalicelib.premiums import payments
    from chalicelib.premiums.wiring import premium_deps
    return json_response({"payments": payments.list_payments(premium_deps(), _account())})


@premiums_api.route("/v1/payments", methods=["POST"], authorizer=jwt_authorizer)
def start_basket_payment() -> Response:
    """One payment for a family's confirmed applications (`application_ids`), per Idempotency-Key."""
    from chalicelib.premiums import baskets
    from chalicelib.premiums.wiring import premium_deps
    request = _request()
    view, created = baskets.start_basket_payment(
        premium_deps(), account_id=_account(), idempotency_key=request.headers.get("idempotency-key"),
        body=json_body(request), lang=language_of(request))
    headers = {} if created else {"Idempotent-Replayed": "true"}
    return json_response(view, 201 if created else 200, headers=headers)


@premiums_api.route("/v1/payments/{payment_id}", methods=["GET"], authorizer=jwt_authorizer)
def get_payment(payment_id: str) -> Response:
    from chalicelib.premiums import payments
    from chalicelib.premiums.wiring import premium_deps
    return json_response(payments.get_payment(premium_deps(), _account(), payment_id))


@premiums_api.route("/v1/payments/{payment_id}/refund", methods=["POST"], authorizer=jwt_authorizer)
def refund_payment(payment_id: str) -> Response:
    from chalicelib.premiums import refunds
    from chalicelib.premiums.wiring import premium_deps
    view, status = refunds.request_refund(premium_deps(), _account(), payment_id, json_body(_request()))
    return json_response(view, status)


@premiums_api.route("/v1/policies", methods=["GET"], authorizer=jwt_authorizer)
def list_policies() -> Response:
    from chalicelib.premiums import payments
    from chalicelib.premiums.wiring import premium_deps
    return json_response({"policies": payments.list_policies(premium_deps(), _account())})


@premiums_api.route("/v1/policies/{policy_id}/renew", methods=["POST"], authorizer=jwt_authorizer)
def renew_policy(policy_id: str) -> Response:
    """`policy_id` is the policy number people read (RH-YY-XXXX-XXXX): the internal id is never shown."""
    from chalicelib.premiums import renewals
    from chalicelib.premiums.wiring import premium_deps
    body = json_body(_request())
    text_fields(body, "passport_expiry")
    view, created = renewals.renew_policy(premium_deps(), _account(), policy_id, body)
    return json_response(view, 201 if created else 200)

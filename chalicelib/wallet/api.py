"""The wallet routes: a card's pass for Apple Wallet and its Google Wallet link (signed in), and the pass
web service Apple devices call (public; each pass's own token authorizes it).

Apple's web service answers as Apple's "Wallet Passes" reference fixes: 201/200 on registering, 200 on
unregistering, 200 with serial numbers or 204 for updated passes, 200 with the pass or 304, 401 without
the pass's token. Views import their use cases when they run: the API's cold start loads none of this.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalice import Chalice, Response

from chalicelib.accounts import caller, jwt_authorizer
from chalicelib.platform.http import ApiBlueprint, json_body, json_response
from chalicelib.wallet import jobs as _jobs  # noqa: F401 - registers the outbound builder of pass updates

PKPASS = "application/vnd.apple.pkpass"


class _WalletBlueprint(ApiBlueprint):
    """Registering the routes makes .pkpass a binary media type: API Gateway passes the zip through intact."""

    def register(self, app: Chalice, options: dict[str, Any]) -> None:
        super().register(app, options)
        if PKPASS not in app.api.binary_types:
            app.api.binary_types.append(PKPASS)


wallet_api = _WalletBlueprint(__name__)
_PRIVATE = {"Cache-Control": "private, no-store"}


def _pass_response(body: bytes, member_id: str, extra: dict[str, str] | None = None) -> Response:
    return Response(body=body, status_code=200, headers={
        "Content-Type": PKPASS, "Content-Disposition": f'attachment; filename="card-{member_id}.pkpass"',
        **_PRIVATE, **(extra or {})})


@wallet_api.route("/v1/cards/{member_id}/wallet/apple", methods=["GET"], authorizer=jwt_authorizer)
def apple_pass(member_id: str) -> Response:
    from chalicelib.wallet import use_cases as wallet
    from chalicelib.wallet.wiring import wallet_deps
    return _pass_response(wallet.apple_pass_file(wallet_deps(), caller()["account_id"], member_id), member_id)


@wallet_api.route("/v1/cards/{member_id}/wallet/google", methods=["GET"], authorizer=jwt_authorizer)
def google_link(member_id: str) -> Response:
    from chalicelib.wallet import use_cases as wallet
    from chalicelib.wallet.wiring import wallet_deps
    # The link carries a signed JWT with the person's card: a bearer of their details, kept by no cache.
    return json_response(wallet.google_save_link(wallet_deps(), caller()["account_id"], member_id), headers=_PRIVATE)


_REGISTRATION = "/wallet/apple/v1/devices/{device}/registrations/{pass_type}/{serial}"


@wallet_api.route(_REGISTRATION, methods=["POST"])
def register_device(device: str, pass_type: str, serial: str) -> Response:
    from chalicelib.wallet import use_cases as wallet
    from chalicelib.wallet.wiring import wallet_deps
    request = wallet_api.current_request
    status = wallet.register_device(wallet_deps(), device, pass_type, serial, request.headers.get("authorization"),
                                    json_body(request))
    return Response(body="", status_code=status)


@wallet_api.route(_REGISTRATION, methods=["DELETE"])
def unregister_device(device: str, pass_type: str, serial: str) -> Response:
    from chalicelib.wallet import use_cases as wallet
    from chalicelib.wallet.wiring import wallet_deps
    wallet.unregister_device(wallet_deps(), device, pass_type, serial,
                             wallet_api.current_request.headers.get("authorization"))
    return Response(body="", status_code=200)


@wallet_api.route("/wallet/apple/v1/devices/{device}/registrations/{pass_type}", methods=["GET"])
def updated_passes(device: str, pass_type: str) -> Response:
    from chalicelib.wallet import use_cases as wallet
    from chalicelib.wallet.wiring import wallet_deps
    query: Mapping[str, str] = wallet_api.current_request.query_params or {}
    answer = wallet.updated_passes(wallet_deps(), device, pass_type, query.get("passesUpdatedSince"))
    if answer is None:
        return Response(body="", status_code=204)
    return json_response(answer, headers={"Cache-Control": "no-store"})


@wallet_api.route("/wallet/apple/v1/passes/{pass_type}/{serial}", methods=["GET"])
def latest_pass(pass_type: str, serial: str) -> Response:
    from chalicelib.wallet import use_cases as wallet
    from chalicelib.wallet.wiring import wallet_deps
    headers = wallet_api.current_request.headers
    body, modified = wallet.latest_pass(wallet_deps(), pass_type, serial, headers.get("authorization"),
                                        headers.get("if-modified-since"))
    if body is None:
        return Response(body="", status_code=304, headers={"Last-Modified": modified, **_PRIVATE})
    return _pass_response(body, serial, {"Last-Modified": modified})


@wallet_api.route("/wallet/apple/v1/log", methods=["POST"])
def device_log() -> Response:
    from chalicelib.wallet import use_cases as wallet
    wallet.device_log(json_body(wallet_api.current_request))
    return Response(body="", status_code=200)

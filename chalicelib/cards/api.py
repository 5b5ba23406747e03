"""The /v1/cards routes (signed in) and the providers' /v1/verify routes (public).

Each view imports its use cases and wiring when it runs: the API handler's cold start (a login)
loads none of them.
"""

from __future__ import annotations

from collections.abc import Mapping

from chalice import Response

from chalicelib.accounts import caller, jwt_authorizer
from chalicelib.platform.http import ApiBlueprint, json_body, json_response

cards_api = ApiBlueprint(__name__)


@cards_api.route("/v1/cards", methods=["GET"], authorizer=jwt_authorizer)
def list_cards() -> Response:
    from chalicelib.cards import use_cases as cards
    from chalicelib.cards.wiring import card_deps
    return json_response({"cards": cards.list_cards(card_deps(), caller()["account_id"])},
                         headers={"Cache-Control": "private, no-store"})


@cards_api.route("/v1/cards/{member_id}", methods=["GET"], authorizer=jwt_authorizer)
def get_card(member_id: str) -> Response:
    from chalicelib.cards import use_cases as cards
    from chalicelib.cards.wiring import card_deps
    query: Mapping[str, str] = cards_api.current_request.query_params or {}
    body = cards.card_url(card_deps(), caller()["account_id"], member_id, query.get("format"))
    # The URL is a bearer credential for 5 minutes: no cache may keep it.
    return json_response(body, headers={"Cache-Control": "private, no-store"})


# Public on purpose: the signature is checked before any read, so the route only ever
# talks about the person on a genuine card, to whoever holds that card (see cards/use_cases.py).
@cards_api.route("/v1/verify", methods=["POST"])
def verify() -> Response:
    from chalicelib.cards import use_cases as cards
    from chalicelib.cards.wiring import card_deps
    body = json_body(cards_api.current_request)
    return json_response(cards.verify_card(card_deps(), body.get("payload")),
                         headers={"Cache-Control": "no-store"})


@cards_api.route("/v1/verify/keys", methods=["GET"])
def verify_keys() -> Response:
    from chalicelib.cards import use_cases as cards
    from chalicelib.cards.wiring import card_deps
    # Five minutes, like the key ring's own cache: a rotated key reaches verifiers within that.
    return json_response(cards.verification_keys(card_deps()), headers={"Cache-Control": "public, max-age=300"})


# SMART Health Card issuer files, at the paths the spec fixes under the issuer URL (the API's base URL).
# ".well-known" is a valid API Gateway path part ([a-zA-Z0-9._-]), but a parameter must be the whole
# part ("{kid}.json" is refused at import), so the CRL's part is one parameter ending in ".json".
_PUBLIC_FILE = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}


@cards_api.route("/.well-known/jwks.json", methods=["GET"])
def issuer_jwks() -> Response:
    from chalicelib.cards import use_cases as cards
    from chalicelib.cards.wiring import card_deps
    # CORS open to all: browser-based verifiers fetch it from their own origin (the spec requires CORS).
    return json_response(cards.issuer_keys(card_deps()), headers=_PUBLIC_FILE)


@cards_api.route("/.well-known/crl/{crl_file}", methods=["GET"])
def issuer_crl(crl_file: str) -> Response:
    from chalicelib.cards import use_cases as cards
    from chalicelib.cards.wiring import card_deps
    from chalicelib.errors import NotFound

    kid, dot_json, rest = crl_file.partition(".json")
    if not dot_json or rest or not kid:
        raise NotFound()
    return json_response(cards.revocation_list(card_deps(), kid), headers=_PUBLIC_FILE)

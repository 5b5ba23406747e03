"""The /v1/cards routes (signed in) and the providers' /v1/verify routes (public).

Each view imports its use cases and wiring when it runs: the API handler's cold start (a login)
loads none of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalice import Chalice, Response

from chalicelib.accounts import caller, jwt_authorizer
from chalicelib.platform.http import ApiBlueprint, json_body, json_response

MULTIPART = "multipart/form-data"


class _CardsBlueprint(ApiBlueprint):
    """The cards' routes; registering them also makes multipart/form-data a binary media type.

    API Gateway hands a body to Lambda intact (base64, `isBase64Encoded`) only when its media type is
    one of the API's binary types; any other body is passed as UTF-8 text, which mangles a picture
    uploaded to /verify. Chalice puts `app.api.binary_types` in the API's definition, and
    `Request.raw_body` decodes the base64 (aws/chalice#708).
    """

    def register(self, app: Chalice, options: dict[str, Any]) -> None:
        super().register(app, options)
        if MULTIPART not in app.api.binary_types:
            app.api.binary_types.append(MULTIPART)


cards_api = _CardsBlueprint(__name__)


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


# The providers' page: public like /v1/verify, and answering in HTML whatever was sent.
_PAGE_FORMS = ["application/x-www-form-urlencoded", MULTIPART]


def _html(body: str, status: int = 200) -> Response:
    from chalicelib.cards.provider_page import PAGE_HEADERS

    headers: dict[str, str | list[str]] = {**PAGE_HEADERS}
    return Response(body=body, status_code=status, headers=headers)


@cards_api.route("/verify", methods=["GET"])
def verify_page() -> Response:
    from chalicelib.cards.provider_page import verify_page as page

    return _html(page())


@cards_api.route("/verify", methods=["POST"], content_types=_PAGE_FORMS)
def verify_page_submit() -> Response:
    from chalicelib.cards import provider_page
    from chalicelib.cards.wiring import card_deps

    request = cards_api.current_request
    content_type = request.headers.get("content-type") or ""
    try:
        try:
            body = request.raw_body or b""
        except UnicodeEncodeError as exc:  # a Lambda event (never HTTP) can carry a lone surrogate
            raise provider_page.PageProblem("bad_form", provider_page.BAD_FORM) from exc
        submission = provider_page.read_submission(content_type, body if isinstance(body, bytes) else body.encode())
        outcome = provider_page.check(card_deps(), submission, "upload" if submission.image is not None else "text")
    except provider_page.PageProblem as refused:
        return _html(provider_page.verify_page(problem=refused), refused.status)
    except Exception as exc:
        problem = provider_page.failed(exc)
        return _html(provider_page.verify_page(problem=problem), problem.status)
    return _html(provider_page.verify_page(outcome))

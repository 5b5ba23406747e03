"""The pages that email links open: /activate and /reset-password (HTML, no JavaScript)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from chalice import Response

from chalicelib.accounts import passwords
from chalicelib.accounts.pages import (
    PAGE_HEADERS,
    LinkKind,
    activate_done_page,
    activate_page,
    link_problem_page,
    reset_done_page,
    reset_page,
)
from chalicelib.accounts.passwords import LinkState
from chalicelib.accounts.wiring import auth_deps
from chalicelib.errors import ValidationFailed
from chalicelib.platform.http import ApiBlueprint

link_pages = ApiBlueprint(__name__)

FORM = "application/x-www-form-urlencoded"


def _page(html: str, status: int = 200) -> Response:
    return Response(body=html, status_code=status, headers=dict(PAGE_HEADERS))


def _problem(kind: LinkKind, state: LinkState) -> Response:
    reason = state.reason or "invalid"
    return _page(link_problem_page(kind, reason), 410 if reason != "invalid" else 404)


def _form() -> dict[str, str]:
    raw = link_pages.current_request.raw_body or b""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    fields = parse_qs(text, keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def _query_token() -> str:
    params: Any = link_pages.current_request.query_params or {}  # chalice's MultiDict, untyped
    return str(params.get("token") or "")


def _email_hint(email: str | None) -> str:
    if not email or "@" not in email:
        return ""
    local, _, domain = email.partition("@")
    return f"{local[0]}***@{domain}"


@link_pages.route("/activate", methods=["GET"])
def activate_get() -> Response:
    state = passwords.activation_state(auth_deps(), _query_token())
    if not state.ok:
        return _problem("activation", state)
    return _page(activate_page(_query_token()))


@link_pages.route("/activate", methods=["POST"], content_types=[FORM])
def activate_post() -> Response:
    state = passwords.activate(auth_deps(), _form().get("token", ""))
    if not state.ok:
        return _problem("activation", state)
    return _page(activate_done_page(_email_hint(state.account.email if state.account else None)))


@link_pages.route("/reset-password", methods=["GET"])
def reset_get() -> Response:
    state = passwords.reset_state(auth_deps(), _query_token())
    if not state.ok:
        return _problem("reset", state)
    return _page(reset_page(_query_token()))


@link_pages.route("/reset-password", methods=["POST"], content_types=[FORM])
def reset_post() -> Response:
    form = _form()
    token = form.get("token", "")
    state = passwords.reset_state(auth_deps(), token)
    if not state.ok:
        return _problem("reset", state)
    new_password = form.get("new_password", "")
    if new_password != form.get("confirm_password", ""):
        mismatch = ("The two passwords are not the same.", "كلمتا المرور غير متطابقتين.")
        return _page(reset_page(token, {"confirm_password": mismatch}), 422)
    try:
        passwords.reset_password(auth_deps(), token, new_password)
    except ValidationFailed as error:
        problems = {name: (p.text.en, p.text.ar) for name, p in error.fields.items()}
        return _page(reset_page(token, problems), 422)
    return _page(reset_done_page())

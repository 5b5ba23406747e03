"""Picks the adapters the card use cases run on: who is insured, where drawn cards live, the keys."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from chalicelib.cards.card import CardContent
from chalicelib.cards.ports import CardDeps, ShcIssuer
from chalicelib.platform.clock import now
from chalicelib.settings import get_settings

# What the QR of a newly drawn card holds: "shc" (a SMART Health Card) or "ec1" (the Ed25519 payload
# of cards printed before, which keep verifying either way). The renderer draws an "shc:/" text as the
# spec's two QR segments, "shc:/" in byte mode and the digits in numeric mode (render.qr_segments).
QR_FORMAT = "shc"


def _render_card(content: CardContent, qr_text: str, fmt: str, /) -> bytes:
    # Imported here, not at the top: Pillow, segno and the shaping libraries load only
    # when a card is actually drawn, never on the cold start of any other route.
    from chalicelib.cards import render

    return render.render_pdf(content, qr_text) if fmt == "pdf" else render.render_png(content, qr_text)


@cache
def card_deps() -> CardDeps:
    from chalicelib.cards import keys
    from chalicelib.cards.people import InsuredPeople
    from chalicelib.cards.revocation import S3RevocationLists
    from chalicelib.cards.store import CardStore

    shc = ShcIssuer(iss=get_settings().public_base_url, signing_key=keys.shc_signing_key, key=keys.shc_key,
                    all_keys=keys.shc_all_keys, revocations=S3RevocationLists())
    return CardDeps(people=InsuredPeople(), objects=CardStore(), render=_render_card,
                    signing_key=keys.signing_key, public_key=keys.public_key,
                    public_keys=keys.public_keys, now=now, shc=shc, qr_format=QR_FORMAT,
                    cards_changed=_wallet_passes_changed)


def _wallet_passes_changed(member_ids: Sequence[str]) -> object:
    from chalicelib.wallet import passes_changed

    return passes_changed(member_ids)


def people_of_account(account_id: str) -> list[dict[str, Any]]:
    """The people an account covers, as /v1/cards lists them (for /v1/me)."""
    from chalicelib.cards.use_cases import covered_people

    return covered_people(card_deps(), account_id)


def wallet_card(member_id: str, account_id: str | None = None) -> dict[str, Any] | None:
    """A wallet pass's view of a person's card (cards.use_cases.wallet_card): None for nobody, or for
    someone `account_id` does not cover."""
    from chalicelib.cards import use_cases

    return use_cases.wallet_card(card_deps(), member_id, account_id)


def revoke_cards(member_ids: Iterable[str] = (), *,
                 issued_before: Mapping[str, datetime] | None = None) -> dict[str, list[str]]:
    """List the cards of these people in the issuer's CRLs: call it after their cover ends early
    (an HR terminate, a refunded residence premium; member ids as the cards print them, R-<civil ID>
    for residence): every card drawn up to now is revoked, none drawn later. `issued_before` names
    each person's own moment instead: their cards drawn before it (whole seconds) no longer hold,
    as when HR changed what the card prints (a reissue). Revoking again later moves the stamp
    forward. Needs the card secret and the cards bucket's crl/* (read, write)."""
    from chalicelib.cards import use_cases

    return use_cases.revoke_cards(card_deps(), member_ids, issued_before=issued_before)


def forget() -> None:
    from chalicelib.cards.keys import forget_card_keys

    card_deps.cache_clear()
    forget_card_keys()

"""Picks the adapters the card use cases run on: who is insured, where drawn cards live, the keys."""

from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.cards.card import CardContent
from chalicelib.cards.ports import CardDeps
from chalicelib.platform.clock import now


def _render_card(content: CardContent, qr_text: str, fmt: str, /) -> bytes:
    # Imported here, not at the top: Pillow, segno and the shaping libraries load only
    # when a card is actually drawn, never on the cold start of any other route.
    from chalicelib.cards import render

    return render.render_pdf(content, qr_text) if fmt == "pdf" else render.render_png(content, qr_text)


@cache
def card_deps() -> CardDeps:
    from chalicelib.cards import keys
    from chalicelib.cards.people import InsuredPeople
    from chalicelib.cards.store import CardStore

    return CardDeps(people=InsuredPeople(), objects=CardStore(), render=_render_card,
                    signing_key=keys.signing_key, public_key=keys.public_key,
                    public_keys=keys.public_keys, now=now)


def people_of_account(account_id: str) -> list[dict[str, Any]]:
    """The people an account covers, as /v1/cards lists them (for /v1/me)."""
    from chalicelib.cards.use_cases import covered_people

    return covered_people(card_deps(), account_id)


def forget() -> None:
    from chalicelib.cards.keys import forget_card_keys

    card_deps.cache_clear()
    forget_card_keys()

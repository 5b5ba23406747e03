"""Picks the adapters the card use cases run on: who is insured, where drawn cards live, the keys."""

from __future__ import annotations

from functools import cache

from chalicelib.platform.clock import now


def _render_card(content, qr_text: str, fmt: str) -> bytes:
    # Imported here, not at the top: Pillow, segno and the shaping libraries load only
    # when a card is actually drawn, never on the cold start of any other route.
    from chalicelib.cards import render

    return render.render_pdf(content, qr_text) if fmt == "pdf" else render.render_png(content, qr_text)


@cache
def card_deps():  # -> chalicelib.cards.use_cases.CardDeps
    from chalicelib.cards import keys
    from chalicelib.cards.people import InsuredPeople
    from chalicelib.cards.store import CardStore
    from chalicelib.cards.use_cases import CardDeps

    return CardDeps(people=InsuredPeople(), objects=CardStore(), render=_render_card,
                    signing_key=keys.signing_key, public_key=keys.public_key,
                    public_keys=keys.public_keys, now=now)


def forget() -> None:
    from chalicelib.cards.keys import forget_card_keys

    card_deps.cache_clear()
    forget_card_keys()

"""The composition root's reset: each feature picks its own adapters in its `wiring` module."""

from __future__ import annotations


def reset_wiring() -> None:
    """Forget every feature's cached adapters (tests start a fresh AWS for each test)."""
    from chalicelib.accounts import wiring as accounts
    from chalicelib.cards import wiring as cards
    from chalicelib.enrolment import wiring as enrolment
    from chalicelib.platform.messaging import reset_queue_urls
    from chalicelib.premiums import wiring as premiums
    from chalicelib.providers import wiring as providers
    from chalicelib.wallet import wiring as wallet

    accounts.forget()
    premiums.forget()
    enrolment.forget()
    cards.forget()
    providers.forget()
    wallet.forget()
    reset_queue_urls()

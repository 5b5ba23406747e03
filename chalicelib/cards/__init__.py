"""E-cards: who an account covers, cards drawn to S3 behind signed URLs, and their verification.

Other capabilities import from here only; the names resolve on first use (PEP 562), so
importing the package costs nothing a route or job does not use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.cards.functions import FINDS_CARD, READS_CARDS, REVOKES_CARDS
    from chalicelib.cards.insured import InsuredPerson, residence_member_id
    from chalicelib.cards.openapi import card_schema, openapi_paths
    from chalicelib.cards.wiring import people_of_account, revoke_cards, wallet_card
    from chalicelib.platform.http import ApiBlueprint

    # Declared, not imported from cards.api: that module imports the accounts surface, whose
    # /v1/me imports this one, and mypy cannot type the authorizer decorator inside that cycle.
    cards_api: ApiBlueprint

_SURFACE = {
    "REVOKES_CARDS": "chalicelib.cards.functions",
    "READS_CARDS": "chalicelib.cards.functions",
    "FINDS_CARD": "chalicelib.cards.functions",
    "wallet_card": "chalicelib.cards.wiring",
    "cards_api": "chalicelib.cards.api",
    "people_of_account": "chalicelib.cards.wiring",
    "revoke_cards": "chalicelib.cards.wiring",
    "residence_member_id": "chalicelib.cards.insured",
    "InsuredPerson": "chalicelib.cards.insured",
    "openapi_paths": "chalicelib.cards.openapi",
    "card_schema": "chalicelib.cards.openapi",
}

__all__ = [
    "FINDS_CARD",
    "READS_CARDS",
    "REVOKES_CARDS",
    "InsuredPerson",
    "card_schema",
    "cards_api",
    "find_insured",
    "openapi_paths",
    "people_of_account",
    "residence_member_id",
    "revoke_cards",
    "wallet_card",
]


def find_insured(member_id: str) -> InsuredPerson | None:
    """Whoever holds `member_id` (a group member id, or R-<civil ID> of a residence policy), else None:
    for providers' eligibility lookups (no account involved; the same read as /v1/verify's)."""
    from chalicelib.cards.wiring import card_deps

    return card_deps().people.find(member_id)


def __getattr__(name: str) -> Any:
    if name not in _SURFACE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_SURFACE[name]), name)

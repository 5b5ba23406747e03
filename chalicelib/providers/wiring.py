"""Picks the adapters the provider use cases run on (tests swap them here)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.providers.ports import ProviderDeps


def _people_of_account(account_id: str) -> dict[str, tuple[str, str, str]]:
    from chalicelib.cards import people_of_account

    return {p["member_id"]: (p["name"]["en"], p["name"]["ar"], p["relationship"])
            for p in people_of_account(account_id)}


@cache
def provider_deps() -> ProviderDeps:
    from chalicelib.kernel.kuwait_time import kuwait_today
    from chalicelib.platform.clock import now
    from chalicelib.providers.ports import ProviderDeps
    from chalicelib.providers.settings import provider_settings
    from chalicelib.providers.store import CardsInsuredFinder, DynamoCounters, DynamoLookupLog, DynamoProviderStore
    from chalicelib.providers.tokens import civil_id_hmac_key, issue_provider_token
    from chalicelib.settings import get_settings

    settings = get_settings()
    return ProviderDeps(
        settings=provider_settings(), providers=DynamoProviderStore(), counters=DynamoCounters(),
        log=DynamoLookupLog(), insured=CardsInsuredFinder(), issue_token=issue_provider_token,
        civil_id_hmac_key=civil_id_hmac_key, now=now, today=kuwait_today,
        insurer=settings.branding.insurer_en, base_url=settings.public_base_url,
        people_of_account=_people_of_account,
    )


def forget() -> None:
    """Forget cached adapters and keys (each test has a fresh AWS)."""
    from chalicelib.providers.settings import provider_settings
    from chalicelib.providers.tokens import forget_keys

    provider_deps.cache_clear()
    provider_settings.cache_clear()
    forget_keys()

"""The providers part of the settings: its tables, token lifetime, limits and how long lookups are kept.

Pure values read from os.environ only, as premiums/settings.py does, so a new provider setting
touches this folder only. Table names follow the stage prefix the template gives every table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    return default if raw in (None, "") else int(raw)


@dataclass(frozen=True)
class ProviderSettings:
    """Tables, the provider access token, throttles and retention of the providers' FHIR access."""

    providers_table: str
    lookups_table: str
    # An access token lives 10 minutes; the authorizer's 5-minute cache makes 15 at most, as for members.
    token_lifetime_s: int = 600
    # Lookups (eligibility requests and coverage searches) a provider may make in one minute.
    lookups_per_minute: int = 60
    # Failed client authentications of one client id in a window; past it, failures are 429 (the right secret
    # is never refused).
    failed_auth_limit: int = 10
    failed_auth_window_s: int = 900
    # The lookup log is kept two years (DynamoDB's TTL deletes it after).
    lookup_retention_days: int = 730


def provider_settings_from_env(env: Mapping[str, str] = os.environ) -> ProviderSettings:
    prefix = f"insure-{env.get('STAGE', 'dev')}"
    return ProviderSettings(
        providers_table=env.get("PROVIDERS_TABLE", f"{prefix}-providers"),
        lookups_table=env.get("PROVIDER_LOOKUPS_TABLE", f"{prefix}-provider-lookups"),
        token_lifetime_s=_int(env, "PROVIDER_TOKEN_SECONDS", 600),
        lookups_per_minute=_int(env, "PROVIDER_LOOKUPS_PER_MINUTE", 60),
        failed_auth_limit=_int(env, "PROVIDER_FAILED_AUTH_LIMIT", 10),
        failed_auth_window_s=_int(env, "PROVIDER_FAILED_AUTH_WINDOW_SECONDS", 900),
        lookup_retention_days=_int(env, "PROVIDER_LOOKUP_RETENTION_DAYS", 730),
    )


@cache
def provider_settings() -> ProviderSettings:
    return provider_settings_from_env()

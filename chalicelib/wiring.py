"""The one place that picks concrete adapters for the use cases (tests swap them here)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from chalicelib.services.deps import AuthDeps


def now() -> datetime:
    return datetime.now(UTC)


@cache
def auth_deps() -> AuthDeps:
    from chalicelib.adapters import messaging
    from chalicelib.adapters.account_store import AccountStore
    from chalicelib.adapters.common_passwords import is_common_password
    from chalicelib.adapters.jwt_tokens import issue_access_token
    from chalicelib.adapters.passwords import default_hasher
    from chalicelib.settings import get_settings

    return AuthDeps(
        settings=get_settings(),
        store=AccountStore(),
        hasher=default_hasher(),
        is_common_password=is_common_password,
        send=messaging.send,
        now=now,
        issue_access_token=issue_access_token,
    )


def reset_wiring() -> None:
    """Forget cached adapters (tests start a fresh AWS for each test)."""
    auth_deps.cache_clear()

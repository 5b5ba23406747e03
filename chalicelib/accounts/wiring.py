"""Picks the adapters the account use cases run on (tests swap them here)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the authorizer imports this module to verify a token: it loads no port or store
    from chalicelib.accounts.ports import AuthDeps, DueStorePort


@cache
def auth_deps() -> AuthDeps:
    from chalicelib.accounts.common_passwords import is_common_password
    from chalicelib.accounts.hashing import default_hasher
    from chalicelib.accounts.hmac_keys import accounts_hmac_keys
    from chalicelib.accounts.jwt_tokens import issue_access_token
    from chalicelib.accounts.ports import AuthDeps
    from chalicelib.accounts.store import AccountStore
    from chalicelib.platform import messaging
    from chalicelib.platform.clock import now
    from chalicelib.settings import get_settings

    return AuthDeps(
        settings=get_settings(),
        store=AccountStore(),
        hasher=default_hasher(),
        is_common_password=is_common_password,
        send=messaging.send,
        enqueue=messaging.enqueue,
        now=now,
        issue_access_token=issue_access_token,
        hmac_keys=accounts_hmac_keys,
        arabic_name_of=arabic_name_of,
    )


def arabic_name_of(account_id: str) -> str | None:
    """The Arabic name of the account's principal as HR sent it; None when HR sent none."""
    from chalicelib.cards import people_of_account

    for person in people_of_account(account_id):
        if person["relationship"] == "principal":
            name = person["name"]
            # Without an Arabic name, cards fall back to the Latin one on both lines: that is no Arabic name.
            return name["ar"] if name["ar"] and name["ar"] != name["en"] else None
    return None


def verify_access_token(token: str) -> dict[str, Any]:
    """The claims of a bearer token we issued and that is still valid; AccessTokenRejected if not."""
    from chalicelib.accounts.jwt_tokens import verify_access_token as verify

    return verify(token)


def forget() -> None:
    """Forget cached adapters and keys (each test has a fresh AWS)."""
    from chalicelib.accounts.hmac_keys import forget_hmac_keys

    auth_deps.cache_clear()
    forget_hmac_keys()


def due_store() -> DueStorePort:
    """The expiry jobs' store, reading due indexes a page of `job_page_size` at a time."""
    from chalicelib.accounts.store import DueStore
    from chalicelib.settings import get_settings

    return DueStore(page_size=get_settings().job_page_size)

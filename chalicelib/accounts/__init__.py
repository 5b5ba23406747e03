"""Accounts: registration, login, sessions, passwords, the authorizer and the account jobs.

Other capabilities import from here only; the names resolve on first use (PEP 562), so
importing the package costs nothing a route or job does not use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.accounts.api import auth, authorizer_bp, caller, jwt_authorizer
    from chalicelib.accounts.jobs import expiry_jobs
    from chalicelib.accounts.links import link_pages
    from chalicelib.accounts.models import AccountRecord, UsernameRecord
    from chalicelib.accounts.passwords import welcome_job
    from chalicelib.accounts.settings import Lifetimes, Limits, lifetimes_from_env, limits_from_env
    from chalicelib.accounts.store import contact_of

_SURFACE = {
    "auth": "chalicelib.accounts.api",
    "authorizer_bp": "chalicelib.accounts.api",
    "caller": "chalicelib.accounts.api",
    "jwt_authorizer": "chalicelib.accounts.api",
    "link_pages": "chalicelib.accounts.links",
    "expiry_jobs": "chalicelib.accounts.jobs",
    "AccountRecord": "chalicelib.accounts.models",
    "UsernameRecord": "chalicelib.accounts.models",
    "contact_of": "chalicelib.accounts.store",
    "welcome_job": "chalicelib.accounts.passwords",
    "Lifetimes": "chalicelib.accounts.settings",
    "Limits": "chalicelib.accounts.settings",
    "lifetimes_from_env": "chalicelib.accounts.settings",
    "limits_from_env": "chalicelib.accounts.settings",
}

__all__ = [
    "AccountRecord",
    "Lifetimes",
    "Limits",
    "UsernameRecord",
    "auth",
    "authorizer_bp",
    "caller",
    "contact_of",
    "expiry_jobs",
    "jwt_authorizer",
    "lifetimes_from_env",
    "limits_from_env",
    "link_pages",
    "welcome_job",
]


def __getattr__(name: str) -> Any:
    if name not in _SURFACE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_SURFACE[name]), name)

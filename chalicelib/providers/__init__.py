"""Providers: hospital and clinic credentials, OAuth 2.0 client credentials, the FHIR R4 eligibility API, and
the lookup log insured people read.

Other capabilities import from here only; the names resolve on first use (PEP 562), so
importing the package costs nothing a route or job does not use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalice import Blueprint

    from chalicelib.platform.http import ApiBlueprint
    from chalicelib.providers.openapi import openapi_paths
    from chalicelib.providers.tokens import is_provider_token, verify_provider_token

    # Declared, not imported from providers.api: that module imports the accounts surface, whose
    # authorizer imports this one (as cards does).
    fhir_api: Blueprint
    access_log_api: ApiBlueprint

_SURFACE = {
    "fhir_api": "chalicelib.providers.api",
    "access_log_api": "chalicelib.providers.api",
    "openapi_paths": "chalicelib.providers.openapi",
    "is_provider_token": "chalicelib.providers.tokens",
    "verify_provider_token": "chalicelib.providers.tokens",
}

__all__ = ["access_log_api", "fhir_api", "is_provider_token", "openapi_paths", "verify_provider_token"]


def __getattr__(name: str) -> Any:
    if name not in _SURFACE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_SURFACE[name]), name)

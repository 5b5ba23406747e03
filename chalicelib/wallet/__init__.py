"""Wallet: a card as an Apple Wallet pass and a Google Wallet pass, kept current when the card changes.

Other capabilities import from here only; the names resolve on first use (PEP 562), so
importing the package costs nothing a route or job does not use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.platform.http import ApiBlueprint
    from chalicelib.wallet.jobs import passes_changed
    from chalicelib.wallet.openapi import openapi_paths

    wallet_api: ApiBlueprint

_SURFACE = {
    "wallet_api": "chalicelib.wallet.api",
    "passes_changed": "chalicelib.wallet.jobs",
    "openapi_paths": "chalicelib.wallet.openapi",
}

__all__ = ["openapi_paths", "passes_changed", "wallet_api"]


def __getattr__(name: str) -> Any:
    if name not in _SURFACE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_SURFACE[name]), name)

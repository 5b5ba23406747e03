"""Residence premiums: tariffs, applications, payments, refunds, the ledger and reconciliation.

Other capabilities import from here only; the names resolve on first use (PEP 562), so
importing the package costs nothing a route or job does not use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.premiums.api import premiums_api
    from chalicelib.premiums.jobs import payment_jobs
    from chalicelib.premiums.ledger_job import ledger_checks
    from chalicelib.premiums.models import ResidencePolicyRecord
    from chalicelib.premiums.openapi import openapi_paths
    from chalicelib.premiums.rules import CATEGORIES_BY_CODE
    from chalicelib.premiums.settings import Payments, PremiumTables, payments_from_env, premium_tables_from_env

_SURFACE = {
    "premiums_api": "chalicelib.premiums.api",
    "payment_jobs": "chalicelib.premiums.jobs",
    "ledger_checks": "chalicelib.premiums.ledger_job",
    "ResidencePolicyRecord": "chalicelib.premiums.models",
    "CATEGORIES_BY_CODE": "chalicelib.premiums.rules",
    "openapi_paths": "chalicelib.premiums.openapi",
    # The premiums part of the settings, composed by chalicelib/settings.py.
    "Payments": "chalicelib.premiums.settings",
    "PremiumTables": "chalicelib.premiums.settings",
    "payments_from_env": "chalicelib.premiums.settings",
    "premium_tables_from_env": "chalicelib.premiums.settings",
}

__all__ = [
    "CATEGORIES_BY_CODE",
    "Payments",
    "PremiumTables",
    "ResidencePolicyRecord",
    "ledger_checks",
    "openapi_paths",
    "payment_jobs",
    "payments_from_env",
    "premium_tables_from_env",
    "premiums_api",
]


def __getattr__(name: str) -> Any:
    if name not in _SURFACE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_SURFACE[name]), name)

"""The premiums part of the settings: its tables, the payment gateway, and the premium rules that are settings.

Pure values read from os.environ only (chalicelib/settings.py composes them into `Settings`), so a
new premium setting, or a new stage default, touches this folder only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    return default if raw in (None, "") else int(raw)


@dataclass(frozen=True)
class PremiumTables:
    """DynamoDB table names of residence premiums (applications, payments, policies, ledger, keys)."""

    applications: str
    payments: str
    policies: str
    ledger: str
    idempotency: str


@dataclass(frozen=True)
class Payments:
    """The payment gateway and the premium rules that are settings, not code."""

    gateway: str  # sandbox | knet
    # Where the gateway sends the person's browser when the payment page is done.
    return_url: str
    # The sandbox's hosted page (served by `make run`) and the folder its sessions share.
    sandbox_page_url: str
    sandbox_dir: str | None = None
    knet_environment: str = "test"  # test | production
    max_years: int = 3
    refund_window_days: int = 14
    reconcile_after_minutes: int = 15
    idempotency_hours: int = 24
    # Optional JSON list of later tariffs (a fee decision is data, not code).
    tariffs_file: str | None = None


def premium_tables_from_env(prefix: str, env: Mapping[str, str] = os.environ) -> PremiumTables:
    """The stage's premium tables: each one's variable, or `<prefix>-<name>`."""
    return PremiumTables(
        applications=env.get("APPLICATIONS_TABLE", f"{prefix}-applications"),
        payments=env.get("PAYMENTS_TABLE", f"{prefix}-payments"),
        policies=env.get("RESIDENCE_POLICIES_TABLE", f"{prefix}-residence-policies"),
        ledger=env.get("PAYMENT_LEDGER_TABLE", f"{prefix}-payment-ledger"),
        idempotency=env.get("IDEMPOTENCY_TABLE", f"{prefix}-idempotency-keys"),
    )


def payments_from_env(stage: str, env: Mapping[str, str] = os.environ) -> Payments:
    """The stage's payment settings: each one's variable, or its default (KNET in prod, else the sandbox)."""
    d = Payments(gateway="", return_url="", sandbox_page_url="")
    return Payments(
        gateway=env.get("PAYMENT_GATEWAY", "knet" if stage == "prod" else "sandbox"),
        return_url=env.get("PAYMENT_RETURN_URL", "http://127.0.0.1:8001/sandbox/done"),
        sandbox_page_url=env.get("SANDBOX_PAGE_URL", "http://127.0.0.1:8001/sandbox/pay"),
        sandbox_dir=env.get("SANDBOX_DIR") or None,
        knet_environment=env.get("KNET_ENVIRONMENT", d.knet_environment),
        max_years=_int(env, "PREMIUM_MAX_YEARS", d.max_years),
        refund_window_days=_int(env, "REFUND_WINDOW_DAYS", d.refund_window_days),
        reconcile_after_minutes=_int(env, "RECONCILE_AFTER_MINUTES", d.reconcile_after_minutes),
        idempotency_hours=_int(env, "IDEMPOTENCY_HOURS", d.idempotency_hours),
        tariffs_file=env.get("TARIFFS_FILE") or None,
    )

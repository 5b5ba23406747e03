"""How long account credentials live and how often people may try: the accounts part of the settings.

Pure values read from os.environ only (chalicelib/settings.py composes them into `Settings`),
so changing a lifetime, say the welcome link's, touches this folder only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    return default if raw in (None, "") else int(raw)


@dataclass(frozen=True)
class Lifetimes:
    """How long each credential lives (seconds unless named otherwise); all checked at use."""

    # 10 minutes + the authorizer's 5-minute cache: a revoked session's token works at most 15 minutes.
    access_token_s: int = 10 * 60
    refresh_idle_days: int = 30
    refresh_max_days: int = 180
    # A rotated refresh token presented again within this many seconds (a retry, a second screen)
    # gets the same successor instead of ending the session (Cognito's RetryGracePeriodSeconds).
    refresh_retry_grace_s: int = 30
    password_max_age_days: int = 90  # 0 turns password expiry off
    temporary_password_days: int = 7
    activation_link_days: int = 14
    reset_link_hours: int = 24
    challenge_s: int = 5 * 60
    sms_code_s: int = 5 * 60
    registration_s: int = 60 * 60


@dataclass(frozen=True)
class Limits:
    """Lockout and rate limits."""

    login_failures: int = 5
    lockout_minutes: int = 15
    sms_code_tries: int = 5
    resend_cooldown_s: int = 60
    resend_per_hour: int = 5
    forgot_per_hour: int = 5
    register_per_phone_hour: int = 5
    register_per_civil_id_hour: int = 5
    register_per_source_hour: int = 20


def lifetimes_from_env(env: Mapping[str, str] = os.environ) -> Lifetimes:
    """The stage's lifetimes: each one's variable, or its default."""
    d = Lifetimes()
    return Lifetimes(
        access_token_s=_int(env, "ACCESS_TOKEN_SECONDS", d.access_token_s),
        refresh_idle_days=_int(env, "REFRESH_IDLE_DAYS", d.refresh_idle_days),
        refresh_max_days=_int(env, "REFRESH_MAX_DAYS", d.refresh_max_days),
        refresh_retry_grace_s=_int(env, "REFRESH_RETRY_GRACE_SECONDS", d.refresh_retry_grace_s),
        password_max_age_days=_int(env, "PASSWORD_MAX_AGE_DAYS", d.password_max_age_days),
        temporary_password_days=_int(env, "TEMPORARY_PASSWORD_DAYS", d.temporary_password_days),
        activation_link_days=_int(env, "ACTIVATION_LINK_DAYS", d.activation_link_days),
        reset_link_hours=_int(env, "RESET_LINK_HOURS", d.reset_link_hours),
    )


def limits_from_env(env: Mapping[str, str] = os.environ) -> Limits:
    """The stage's lockout limits: each one's variable, or its default."""
    d = Limits()
    return Limits(
        login_failures=_int(env, "LOGIN_FAILURES_BEFORE_LOCK", d.login_failures),
        lockout_minutes=_int(env, "LOCKOUT_MINUTES", d.lockout_minutes),
    )

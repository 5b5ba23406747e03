"""The one reader of os.environ: a frozen, cached view of the stage's configuration.

Values come from the stage's `environment_variables` in `.chalice/config.json`
(Lambda sets them), with local overrides from `devstack` and tests.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

# The accounts capability owns its lifetimes and limits (and their variables); composed here.
from chalicelib.accounts import Lifetimes, Limits, lifetimes_from_env, limits_from_env

# So does premiums: its tables and payment settings (premiums/settings.py).
from chalicelib.premiums import Payments, PremiumTables, payments_from_env, premium_tables_from_env

VERSION = "0.1.0"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


@dataclass(frozen=True)
class Tables:
    """DynamoDB table names, one per PynamoDB model family."""

    accounts: str
    usernames: str
    tokens: str
    sessions: str
    throttles: str
    policies: str
    members: str


@dataclass(frozen=True)
class Branding:
    """Who the emails come from and where the app is found: the insurer's name, colours and logo, the app's
    name and store links (each `BRAND_*` variable, or the default below; README "Emails and SMS").

    The defaults are the insurer the cards print (cards/insured.py) and its colour. Empty store links:
    the emails tell people to search the app's name in the App Store or Google Play instead.
    """

    insurer_en: str = "Gulf Mutual Health"
    insurer_ar: str = "الخليج للتأمين الصحي"
    app_en: str = "Insurance e-card"
    app_ar: str = "البطاقة التأمينية الإلكترونية"
    # Header, buttons and the password box's border; text on it is white, so a dark colour.
    colour: str = "#0b4f6c"
    # The password box's background and the page behind the email: a light tint.
    tint: str = "#e8f1f5"
    # An SVG file (inline in the email: no remote image); empty: a shield in `colour` drawn by the template.
    logo_svg_file: str = ""
    app_store_url: str = ""
    play_store_url: str = ""
    customer_service: str = "19097"
    # The app's identities for universal links (<PUBLIC_BASE_URL>/app/... opens the app): the iOS app id
    # ("<team id>.<bundle id>") and the Android package with its signing certificate's SHA-256
    # ("AA:BB:..."). Empty: the association files are 404 and the links open the fallback page.
    ios_app_id: str = ""
    android_package: str = ""
    android_cert_sha256: str = ""


def _colour(name: str, default: str) -> str:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    # Goes into style attributes: only a #rgb / #rrggbb value, never anything that could close the attribute.
    if len(raw) not in (4, 7) or raw[0] != "#" or any(c not in "0123456789abcdefABCDEF" for c in raw[1:]):
        raise ValueError(f"{name} must be a colour like #0b4f6c, not {raw!r}")
    return raw


def _url(name: str) -> str:
    raw = os.environ.get(name, "").strip()
    if raw and not raw.startswith("https://"):
        raise ValueError(f"{name} must be an https:// link")
    return raw


def branding_from_env() -> Branding:
    """The stage's branding: each BRAND_* variable, or its default."""
    d, env = Branding(), os.environ
    return Branding(
        insurer_en=env.get("BRAND_INSURER_EN", "").strip() or d.insurer_en,
        insurer_ar=env.get("BRAND_INSURER_AR", "").strip() or d.insurer_ar,
        app_en=env.get("BRAND_APP_NAME_EN", "").strip() or d.app_en,
        app_ar=env.get("BRAND_APP_NAME_AR", "").strip() or d.app_ar,
        colour=_colour("BRAND_COLOUR", d.colour),
        tint=_colour("BRAND_TINT", d.tint),
        logo_svg_file=env.get("BRAND_LOGO_SVG_FILE", "").strip(),
        app_store_url=_url("BRAND_APP_STORE_URL"),
        play_store_url=_url("BRAND_PLAY_STORE_URL"),
        customer_service=env.get("BRAND_CUSTOMER_SERVICE", "").strip() or d.customer_service,
        ios_app_id=_matching("BRAND_IOS_APP_ID", r"[A-Z0-9]{10}\.[A-Za-z0-9.-]{1,155}",
                             "like ABCDE12345.com.example.app"),
        android_package=_matching("BRAND_ANDROID_PACKAGE", r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+",
                                  "a Java package name like com.example.app"),
        android_cert_sha256=_matching("BRAND_ANDROID_CERT_SHA256", r"[0-9A-F]{2}(:[0-9A-F]{2}){31}",
                                      "32 upper-case hex bytes joined by colons"),
    )


def _matching(name: str, pattern: str, shape: str) -> str:
    raw = os.environ.get(name, "").strip()
    if raw and not re.fullmatch(pattern, raw):
        raise ValueError(f"{name} must be {shape}, not {raw!r}")
    return raw


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    version: str
    public_base_url: str
    tables: Tables
    hr_bucket: str
    cards_bucket: str
    hr_queue: str
    hr_dead_letter_queue: str
    outbound_queue: str
    # SES's sending rate for the account: the sender never goes faster.
    messages_per_second: int
    # Items a scheduled job reads per query page.
    job_page_size: int
    secrets_prefix: str
    email_sender: str
    # SES configuration set every email goes out with (bounce and complaint suppression, their metrics);
    # the template's EmailConfigurationSet. Empty: none.
    email_configuration_set: str
    lifetimes: Lifetimes
    limits: Limits
    premium_tables: PremiumTables
    payments: Payments
    jwt_issuer: str
    jwt_audience: str
    # Local mode only: every email and SMS is also written here as JSON.
    # (No log level here: Powertools' Logger reads LOG_LEVEL from the environment itself.)
    outbox_dir: str | None = None
    # Alphanumeric sender id on SMS (registered per country: Kuwait requires it); empty: SNS's default.
    sms_sender_id: str = ""
    # The insurer's name, colours, logo and app store links in every email (platform/messages.py).
    branding: Branding = Branding()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    env = os.environ
    stage = env.get("STAGE", "dev")
    prefix = f"insure-{stage}"
    return Settings(
        stage=stage,
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION", "me-south-1"),
        version=VERSION,
        public_base_url=env.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        tables=Tables(
            accounts=env.get("ACCOUNTS_TABLE", f"{prefix}-accounts"),
            usernames=env.get("USERNAMES_TABLE", f"{prefix}-usernames"),
            tokens=env.get("TOKENS_TABLE", f"{prefix}-tokens"),
            sessions=env.get("SESSIONS_TABLE", f"{prefix}-sessions"),
            throttles=env.get("THROTTLES_TABLE", f"{prefix}-throttles"),
            policies=env.get("POLICIES_TABLE", f"{prefix}-policies"),
            members=env.get("MEMBERS_TABLE", f"{prefix}-members"),
        ),
        hr_bucket=env.get("HR_BUCKET", f"{prefix}-hr"),
        cards_bucket=env.get("CARDS_BUCKET", f"{prefix}-cards"),
        hr_queue=env.get("HR_QUEUE", f"{prefix}-hr-files"),
        hr_dead_letter_queue=env.get("HR_DEAD_LETTER_QUEUE", f"{prefix}-hr-files-dlq"),
        outbound_queue=env.get("OUTBOUND_QUEUE", f"{prefix}-outbound"),
        messages_per_second=_int("MESSAGES_PER_SECOND", 14),
        job_page_size=_int("JOB_PAGE_SIZE", 100),
        secrets_prefix=env.get("SECRETS_PREFIX", f"{prefix}/"),
        email_sender=env.get("EMAIL_SENDER", "no-reply@example.com"),
        email_configuration_set=env.get("SES_CONFIGURATION_SET", f"{prefix}-email").strip(),
        lifetimes=lifetimes_from_env(env),
        limits=limits_from_env(env),
        premium_tables=premium_tables_from_env(prefix, env),
        payments=payments_from_env(stage, env),
        jwt_issuer=env.get("JWT_ISSUER", f"https://{prefix}.auth"),
        jwt_audience=env.get("JWT_AUDIENCE", "insure-mobile"),
        outbox_dir=env.get("OUTBOX_DIR") or None,
        sms_sender_id=env.get("SMS_SENDER_ID", "").strip(),
        branding=branding_from_env(),
    )


def reset_settings() -> None:
    """Forget the cached settings (tests and the local stack change the environment)."""
    get_settings.cache_clear()

"""The one place that picks concrete adapters for the use cases (tests swap them here)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from chalicelib.services.deps import AuthDeps
from chalicelib.services.premium_deps import Contact, PremiumDeps


def now() -> datetime:
    return datetime.now(UTC)


@cache
def auth_deps() -> AuthDeps:
    from chalicelib.adapters import messaging
    from chalicelib.adapters.account_store import AccountStore
    from chalicelib.adapters.common_passwords import is_common_password
    from chalicelib.adapters.hmac_keys import accounts_hmac_keys
    from chalicelib.adapters.jwt_tokens import issue_access_token
    from chalicelib.adapters.passwords import default_hasher
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
    )


def reset_wiring() -> None:
    """Forget cached adapters (tests start a fresh AWS for each test)."""
    from chalicelib.adapters.hmac_keys import forget_hmac_keys
    from chalicelib.adapters.messaging import reset_queue_urls

    auth_deps.cache_clear()
    forget_hmac_keys()
    premium_deps.cache_clear()
    _forget_payment_caches()
    reset_queue_urls()
    _forget_card_caches()


def payment_gateway(settings):  # -> chalicelib.adapters.gateway.PaymentGateway
    """The sandbox in dev and local mode, the KNET adapter when settings choose it (prod)."""
    payments = settings.payments
    if payments.gateway == "knet":
        from chalicelib.adapters.gateway import knet
        from chalicelib.adapters.payment_secrets import knet_terminal

        terminal = knet_terminal()
        production = payments.knet_environment == "production"
        return knet.KnetGateway(knet.KnetSettings(
            tranportal_id=terminal["tranportal_id"], password=terminal["password"],
            resource_key=terminal["resource_key"], receipt_url=payments.return_url,
            payment_url=knet.PRODUCTION_PAYMENT_URL if production else knet.TEST_PAYMENT_URL,
            tranpipe_url=knet.PRODUCTION_TRANPIPE_URL if production else knet.TEST_TRANPIPE_URL))
    if payments.gateway != "sandbox":
        raise ValueError(f"PAYMENT_GATEWAY must be sandbox or knet, not {payments.gateway!r}")
    from chalicelib.adapters.gateway.sandbox import FileSandboxStore, InMemorySandboxStore, SandboxGateway
    from chalicelib.adapters.payment_secrets import callback_secrets

    # Local mode shares sessions with the page server through files; elsewhere they live in this container.
    store = FileSandboxStore(payments.sandbox_dir) if payments.sandbox_dir else InMemorySandboxStore()
    return SandboxGateway(callback_secrets(), payments.sandbox_page_url, store=store)


def _contact(account_id: str) -> Contact | None:
    from chalicelib.adapters.account_store import AccountStore

    account = AccountStore().account(account_id)
    if account is None:
        return None
    return Contact(email=account.email, phone=account.phone, language=account.language)


@cache
def premium_deps() -> PremiumDeps:
    from chalicelib.adapters import messaging
    from chalicelib.adapters.gateway import GatewayError, InvalidCallback
    from chalicelib.adapters.premium_store import PremiumStore
    from chalicelib.adapters.tariff_source import load_tariffs
    from chalicelib.settings import get_settings

    settings = get_settings()
    return PremiumDeps(
        settings=settings,
        store=PremiumStore(),
        make_gateway=lambda: payment_gateway(settings),
        contact=_contact,
        send=messaging.send,
        now=now,
        tariffs=load_tariffs(settings.payments.tariffs_file),
        gateway_errors=(GatewayError,),
        callback_errors=(InvalidCallback,),
    )


def _forget_payment_caches() -> None:
    from chalicelib.adapters.payment_secrets import forget_secrets
    from chalicelib.adapters.premium_store import forget_known_heads

    forget_secrets()  # each test's AWS has its own callback secret
    forget_known_heads()  # and its own ledger


@cache
def enrolment_deps():
    from chalicelib.adapters import enrolment_records, messaging
    from chalicelib.adapters.enrolment_store import EnrolmentStore
    from chalicelib.adapters.hr_csv import open_hr_csv
    from chalicelib.adapters.hr_report import ReportWriter
    from chalicelib.services.enrolment import EnrolmentDeps

    return EnrolmentDeps(store=EnrolmentStore(), records=enrolment_records, enqueue=messaging.enqueue,
                         open_csv=open_hr_csv, new_report=ReportWriter, now=now)


def _render_card(content, qr_text: str, fmt: str) -> bytes:
    # Imported here, not at the top: Pillow, segno and the shaping libraries load only
    # when a card is actually drawn, never on the cold start of any other route.
    from chalicelib.adapters import card_render

    return card_render.render_pdf(content, qr_text) if fmt == "pdf" else card_render.render_png(content, qr_text)


@cache
def card_deps():  # -> chalicelib.services.cards.CardDeps
    from chalicelib.adapters import card_keys
    from chalicelib.adapters.card_store import CardStore
    from chalicelib.adapters.insured_people import InsuredPeople
    from chalicelib.services.cards import CardDeps

    return CardDeps(people=InsuredPeople(), objects=CardStore(), render=_render_card,
                    signing_key=card_keys.signing_key, public_key=card_keys.public_key,
                    public_keys=card_keys.public_keys, now=now)


def _forget_card_caches() -> None:
    from chalicelib.adapters.card_keys import forget_card_keys

    card_deps.cache_clear()
    forget_card_keys()

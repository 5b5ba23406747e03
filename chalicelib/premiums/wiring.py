"""Picks the adapters the premium and payment use cases run on: the gateway, the store, the tariffs."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from chalicelib.platform.clock import now
from chalicelib.premiums.ports import Contact, PaymentGatewayPort, PremiumDeps

if TYPE_CHECKING:
    from chalicelib.premiums.store import PremiumStore
    from chalicelib.settings import Settings


def payment_gateway(settings: Settings) -> PaymentGatewayPort:
    """The sandbox in dev and local mode, the KNET adapter when settings choose it (prod)."""
    payments = settings.payments
    if payments.gateway == "knet":
        from chalicelib.premiums.gateway import knet
        from chalicelib.premiums.payment_secrets import knet_terminal

        terminal = knet_terminal()
        production = payments.knet_environment == "production"
        return knet.KnetGateway(knet.KnetSettings(
            tranportal_id=terminal["tranportal_id"], password=terminal["password"],
            resource_key=terminal["resource_key"], receipt_url=payments.return_url,
            payment_url=knet.PRODUCTION_PAYMENT_URL if production else knet.TEST_PAYMENT_URL,
            tranpipe_url=knet.PRODUCTION_TRANPIPE_URL if production else knet.TEST_TRANPIPE_URL))
    if payments.gateway != "sandbox":
        raise ValueError(f"PAYMENT_GATEWAY must be sandbox or knet, not {payments.gateway!r}")
    from chalicelib.premiums.gateway.sandbox import FileSandboxStore, InMemorySandboxStore, SandboxGateway
    from chalicelib.premiums.payment_secrets import callback_secrets

    # Local mode shares sessions with the page server through files; elsewhere they live in this container.
    store = FileSandboxStore(payments.sandbox_dir) if payments.sandbox_dir else InMemorySandboxStore()
    return SandboxGateway(callback_secrets(), payments.sandbox_page_url, store=store)


def _contact(account_id: str) -> Contact | None:
    from chalicelib.accounts import contact_of

    found = contact_of(account_id)
    if found is None:
        return None
    email, phone, language = found
    return Contact(email=email, phone=phone, language=language)


def _revoke_residence_cards(civil_ids: Sequence[str]) -> object:
    """The cards of these insured people on the revocation lists (cards print R-<civil ID>)."""
    from chalicelib.cards import residence_member_id, revoke_cards

    return revoke_cards([residence_member_id(civil_id) for civil_id in civil_ids])


def _residence_passes_changed(civil_ids: Sequence[str]) -> object:
    """The wallet passes of these insured show their new cover (cards print R-<civil ID>)."""
    from chalicelib.cards import residence_member_id
    from chalicelib.wallet import passes_changed

    return passes_changed([residence_member_id(civil_id) for civil_id in civil_ids])


@cache
def premium_deps() -> PremiumDeps:
    from chalicelib.platform import messaging
    from chalicelib.premiums.gateway import CallbackRejected, GatewayError
    from chalicelib.premiums.store import PremiumStore
    from chalicelib.premiums.tariff_source import load_tariffs
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
        callback_errors=(CallbackRejected,),
        revoke_cards_of=_revoke_residence_cards,
        cover_changed_of=_residence_passes_changed,
    )


def premium_store() -> PremiumStore:
    """The store alone, for jobs that need no gateway or tariffs (the ledger check)."""
    from chalicelib.premiums.store import PremiumStore

    return PremiumStore()


def forget() -> None:
    """Forget cached adapters, secrets and ledger heads (each test's AWS has its own)."""
    from chalicelib.premiums.payment_secrets import forget_secrets
    from chalicelib.premiums.store import forget_known_heads

    premium_deps.cache_clear()
    forget_secrets()
    forget_known_heads()

"""Picks the adapters the wallet runs on: the card feature, the table, the secrets, and where pushes go
(the network in AWS; the outbox under `make run` and in the tests)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from chalicelib.platform.clock import now
from chalicelib.settings import get_settings
from chalicelib.wallet.ports import WalletDeps


def _card(member_id: str, account_id: str | None) -> Mapping[str, object] | None:
    from chalicelib.cards import wallet_card

    return wallet_card(member_id, account_id)


@cache
def wallet_deps() -> WalletDeps:
    from chalicelib.wallet import keys
    from chalicelib.wallet.images import pass_images
    from chalicelib.wallet.senders import H2Sender, OutboxSenders, UrllibSender
    from chalicelib.wallet.store import WalletStore

    settings = get_settings()
    if settings.outbox_dir:
        outbox = OutboxSenders(settings.outbox_dir)
        push: Any = outbox.push
        http: Any = outbox.http
    else:
        push, http = H2Sender(), UrllibSender()
    return WalletDeps(card=_card, store=WalletStore(), apple=keys.apple_config, google=keys.google_config,
                      pass_token=keys.pass_token, token_matches=keys.token_matches, push=push, http=http, now=now,
                      public_base_url=settings.public_base_url, brand_colour=settings.branding.colour,
                      images=pass_images, sign=_sign)


def _sign(pass_json: Mapping[str, object], assets: Mapping[str, bytes], signer: object) -> bytes:
    from chalicelib.wallet.pkpass import PassSigner, pkpass

    if not isinstance(signer, PassSigner):
        raise TypeError(f"not a pass signer: {type(signer).__name__}")
    return pkpass(pass_json, assets, signer)


def forget() -> None:
    from chalicelib.wallet.keys import forget_wallet_keys

    wallet_deps.cache_clear()
    forget_wallet_keys()

"""What the wallet's use cases need: the card's view, the table, the secrets, and the two push channels."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chalicelib.errors import AppError, Text


class WalletUnavailable(AppError):
    status = 503
    code = "WALLET_UNAVAILABLE"
    text = Text("Adding the card to this wallet is not available yet. Use the card in the app meanwhile.",
                "إضافة البطاقة إلى هذه المحفظة غير متاحة بعد. استخدم البطاقة في التطبيق حاليًا.")


class TooManyDevices(AppError):
    status = 429
    code = "TOO_MANY_DEVICES"
    text = Text("This card is already on as many devices as it may be.",
                "هذه البطاقة مضافة بالفعل إلى الحد الأقصى من الأجهزة.")


@dataclass(frozen=True)
class Registration:
    device: str
    push_token: str


@dataclass(frozen=True)
class Push:
    """One APNs request as it goes on the wire (HTTP/2): POST https://<host><path>, these headers, this body."""

    host: str
    path: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class HttpCall:
    """One HTTPS request to Google (the token endpoint, or the Wallet REST API)."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes


class PushSender(Protocol):
    def __call__(self, push: Push, /) -> int:
        """Send one push; returns APNs' HTTP status (410: the device no longer has the pass)."""
        ...


class HttpSender(Protocol):
    def __call__(self, call: HttpCall, /) -> tuple[int, bytes]: ...


class WalletStorage(Protocol):
    def register(self, device: str, pass_type: str, serial: str, push_token: str, now: datetime) -> bool: ...
    def unregister(self, device: str, serial: str) -> bool: ...
    def serials_of(self, device: str, pass_type: str) -> list[str]: ...
    def devices_of(self, serial: str) -> list[Registration]: ...
    def updated_at(self, serials: Sequence[str]) -> dict[str, int]: ...
    def with_holders(self, serials: Sequence[str]) -> list[str]: ...
    def touch(self, serials: Iterable[str], at: int) -> None: ...
    def mark_google(self, serial: str) -> None: ...
    def google_saved(self, serials: Sequence[str]) -> set[str]: ...


class AppleSettings(Protocol):
    """Apple's pass type and team, the signer of passes, and the APNs auth key (keys.AppleConfig)."""

    @property
    def pass_type_id(self) -> str: ...
    @property
    def team_id(self) -> str: ...
    @property
    def signer(self) -> object: ...  # pkpass.PassSigner
    @property
    def apns_key_id(self) -> str: ...
    @property
    def apns_key(self) -> object | None: ...  # EC P-256 private key; None: pushes are not configured


class GoogleSettings(Protocol):
    """The Google Wallet issuer and its service account (keys.GoogleConfig)."""

    @property
    def issuer_id(self) -> str: ...
    @property
    def client_email(self) -> str: ...
    @property
    def private_key_id(self) -> str: ...
    @property
    def private_key(self) -> object: ...  # RSA private key


# A card as cards.wallet_card gives it: its /v1/cards view plus insurer, ID rule, card_since and qr_text.
CardView = Mapping[str, object]


@dataclass
class WalletDeps:
    # member id, account id (None: any account) -> the card's view, None for nobody (or not the account's)
    card: Callable[[str, str | None], CardView | None]
    store: WalletStorage
    apple: Callable[[], AppleSettings | None]  # None while the secret is not filled in
    google: Callable[[], GoogleSettings | None]
    pass_token: Callable[[str], str]
    token_matches: Callable[[str, str], bool]
    push: PushSender
    http: HttpSender
    now: Callable[[], datetime]
    public_base_url: str
    brand_colour: str
    images: Callable[[str], Mapping[str, bytes]]  # brand colour -> file name -> PNG
    sign: Callable[[Mapping[str, object], Mapping[str, bytes], object], bytes]  # pass.json, assets, signer -> .pkpass

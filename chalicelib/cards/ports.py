"""What the card use cases need from outside: who is insured, where drawn cards live, the signing keys.

people.py (DynamoDB) and store.py (S3) implement these; so do the in-memory fakes of the
tests, which pass the same contract suite (tests/contract/test_card_store_contract.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from chalicelib.cards.card import CardContent
from chalicelib.cards.crl import RevocationList
from chalicelib.cards.insured import INSURER, InsuredPerson
from chalicelib.cards.shc import ShcKey
from chalicelib.errors import Text

if TYPE_CHECKING:
    # Only named here: cryptography loads when a card is signed or verified, not on every cold start.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class PeopleReader(Protocol):
    def of_account(self, account_id: str) -> list[InsuredPerson]:
        """Everyone the account covers (group members and paid residence policies)."""
        ...

    def covered(self, account_id: str, member_id: str) -> InsuredPerson | None:
        """The person if the account covers them, else None (whether or not they exist)."""
        ...

    def find(self, member_id: str) -> InsuredPerson | None:
        """Whoever holds `member_id`, for a provider's verification."""
        ...


class SignedLink(Protocol):
    @property
    def url(self) -> str: ...
    @property
    def expires_at(self) -> datetime: ...


class CardObjects(Protocol):
    def ready(self, key: str, now: datetime) -> bool:
        """True when the drawn card is stored and outlives a URL signed now."""
        ...

    def put(self, key: str, body: bytes, metadata: dict[str, str] | None = None) -> None: ...

    def signed_url(self, key: str, now: datetime, filename: str) -> SignedLink: ...


class RenderCard(Protocol):
    def __call__(self, content: CardContent, qr_text: str, fmt: str, /) -> bytes:
        """The card drawn as "png" or "pdf" with its QR code."""
        ...


class RevocationLists(Protocol):
    def read(self, kid: str) -> RevocationList:
        """The key's Card Revocation List (the initial, empty one when nothing was revoked)."""
        ...

    def add(self, kid: str, entries: Iterable[str]) -> RevocationList:
        """Add `rid.<seconds>` entries to the key's list, bumping its ctr once if anything was new."""
        ...


@dataclass
class ShcIssuer:
    """What signing and checking SMART Health Cards needs: the issuer URL, the ES256 keys, the CRLs."""

    iss: str  # the public base URL, no trailing slash (verifiers fetch <iss>/.well-known/jwks.json)
    signing_key: Callable[[], ShcKey]
    key: Callable[[str], ShcKey | None]  # kid -> key, or None
    all_keys: Callable[[], Sequence[ShcKey]]  # current first, then the previous one
    revocations: RevocationLists


@dataclass
class CardDeps:
    people: PeopleReader
    objects: CardObjects
    render: RenderCard  # imports Pillow only when called
    signing_key: Callable[[], tuple[str, Ed25519PrivateKey]]  # -> (kid, private key)
    public_key: Callable[[str], Ed25519PublicKey | None]  # kid -> public key, or None
    public_keys: Callable[[], Mapping[str, Ed25519PublicKey]]
    now: Callable[[], datetime]
    insurer: Text = INSURER
    # SMART Health Cards: verified, published and revoked whenever set. The QR drawn on new cards is
    # the SHC when `qr_format` is "shc", else the EC1 payload (see wiring.QR_FORMAT for why both exist).
    shc: ShcIssuer | None = None
    qr_format: str = "ec1"
    # Told the member ids whose cards stopped holding (revoke_cards): their wallet passes are updated
    # (the wallet feature). None: nobody to tell (use-case tests on fakes).
    cards_changed: Callable[[Sequence[str]], object] | None = None

"""Cards made of plain values and signing keys for the e-card unit tests.

Tests run with --import-mode=importlib, so helpers reach them as fixtures (each
returns a builder) rather than as an importable module.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from chalicelib.cards.card import (
    CardContent,
    GroupCover,
    IdNote,
    ResidenceCover,
)
from chalicelib.cards.insured import claims_for
from chalicelib.cards.payload import (
    CardClaims,
    SigningKeyPair,
    generate_keypair,
)
from chalicelib.errors import Text
from chalicelib.kernel.relationship import Relationship

ISSUED_AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _group_card(**changes: object) -> CardContent:
    """A child on an employer's group policy, with an Arabic name that uses "الله"."""
    values: dict[str, object] = {
        "insurer": Text("Gulf Mutual Health", "الخليج للتأمين الصحي"),
        "member_id": "GP-ACME-2026-0042-02",
        "name": Text("Abdullah Mohammed Al-Rashidi", "عبدالله محمد الرشيدي"),
        "date_of_birth": date(2012, 5, 14),
        "cover": GroupCover(
            "GP-ACME-2026", Text("Acme Logistics Co.", "شركة أكمي للخدمات اللوجستية")
        ),
        "plan": Text("Gold", "الذهبية"),
        "network": Text("Network A", "الشبكة أ"),
        "valid_from": date(2026, 1, 1),
        "valid_to": date(2026, 12, 31),
        "id_note": IdNote.PARENT_ID,
        "relationship": Relationship.CHILD,
    }
    values.update(changes)
    return CardContent(**values)  # type: ignore[arg-type]


def _residence_card(**changes: object) -> CardContent:
    """A self-sponsored resident's card: no employer, a residence category instead."""
    values: dict[str, object] = {
        "cover": ResidenceCover(
            Text("Government or private-sector employee", "موظف في القطاع الحكومي أو الخاص"),
            "RES-2026-000917",
        ),
        "name": Text("Priya Menon", "بريا مينون"),
        "member_id": "RES-2026-000917-01",
        "date_of_birth": date(1990, 8, 2),
        "id_note": IdNote.OWN_ID,
        "relationship": Relationship.PRINCIPAL,
    }
    values.update(changes)
    return _group_card(**values)


def _claims_for(content: CardContent) -> CardClaims:
    """The QR claims of a card, made by the service's own builder."""
    return claims_for(content, ISSUED_AT)


@pytest.fixture(scope="session")
def group_card() -> Callable[..., CardContent]:
    return _group_card


@pytest.fixture(scope="session")
def residence_card() -> Callable[..., CardContent]:
    return _residence_card


@pytest.fixture(name="claims_for", scope="session")
def claims_for_fixture() -> Callable[[CardContent], CardClaims]:
    return _claims_for


@pytest.fixture(scope="session")
def keypair() -> SigningKeyPair:
    # Key ids as the key store makes them: 16 hex digits of the public key's hash.
    return generate_keypair("3f9a1c0b7d2e4a65")


@pytest.fixture(scope="session")
def other_keypair() -> SigningKeyPair:
    return generate_keypair("b81e07c4a9d35f12")

"""An insured person as the e-card sees them, whichever way they are covered, and their status on a day.

Group members (HR enrolment) and residence policyholders (paid premiums) are stored in
different tables with different words; both become an `InsuredPerson`, so listing,
drawing and verifying cards is one code path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from chalicelib.cards.card import (
    CardContent,
    GroupCover,
    ResidenceCover,
    id_note_for,
)
from chalicelib.cards.payload import CardClaims
from chalicelib.errors import Text
from chalicelib.kernel.relationship import Relationship

# The name printed at the top of every card. The product documents do not name the
# insurer, so this is the one place to change it.
INSURER = Text("Gulf Mutual Health", "الخليج للتأمين الصحي")

# Residence health insurance has no plan tiers: one cover at the state's facilities.
RESIDENCE_PLAN = Text("Residence", "إقامة")
RESIDENCE_NETWORK = Text("Ministry of Health facilities", "مرافق وزارة الصحة")

# A residence card's member id is this prefix and the insured's civil ID. Group member ids
# are 13 Crockford base32 characters, which never contain "-", so the two never collide and
# the id alone says which table holds the person (one read to verify, no index needed).
RESIDENCE_PREFIX = "R-"

_RELATIONSHIP_ORDER = {
    Relationship.PRINCIPAL: 0,
    Relationship.SPOUSE: 1,
    Relationship.CHILD: 2,
    Relationship.PARENT: 3,
}


class CoverKind(StrEnum):
    GROUP = "group"
    RESIDENCE = "residence"


class CardStatus(StrEnum):
    """Where a person's cover stands on a given day."""

    ACTIVE = "active"
    UPCOMING = "upcoming"  # enrolled or paid, cover not started yet
    EXPIRED = "expired"  # the last covered day has passed
    TERMINATED = "terminated"  # HR terminated the member
    CANCELLED = "cancelled"  # the residence premium was refunded: the policy was cancelled

    @property
    def ended(self) -> bool:
        """Cover ended before its dates (terminated or cancelled): the card is no longer handed out."""
        return self in (CardStatus.TERMINATED, CardStatus.CANCELLED)


def residence_member_id(civil_id: str) -> str:
    """The member id on the card of a residence policy (what the payments code can show)."""
    return f"{RESIDENCE_PREFIX}{civil_id}"


def residence_civil_id(member_id: str) -> str | None:
    """The civil ID behind a residence member id, or None for a group member id."""
    if not member_id.startswith(RESIDENCE_PREFIX):
        return None
    return member_id[len(RESIDENCE_PREFIX):]


@dataclass(frozen=True)
class InsuredPerson:
    """One person an account covers, with everything their card prints."""

    member_id: str
    account_id: str | None
    kind: CoverKind
    # Each language's slot holds that script or is empty ("" when the Arabic name is not known):
    # one script is never printed as the other.
    name: Text
    date_of_birth: date
    relationship: Relationship
    cover: GroupCover | ResidenceCover
    plan_code: str
    plan: Text
    network: Text
    valid_from: date
    valid_to: date  # the last covered day, inclusive (as printed)
    # Cover ended early: HR terminated a group member, or a residence premium was refunded
    # (its policy cancelled; valid_from/valid_to are then the dates the refunded premium had bought).
    terminated: bool = False
    # Since when the card printed now holds (the record's last change of printed details): cards
    # drawn before it were revoked (cards.use_cases.revoke_cards), so the object key carries it.
    card_since: datetime | None = None
    # The day (Kuwait) HR terminated a group member: covered before it, within the dates. None for a
    # refunded residence premium (it never held) and for anyone not terminated.
    terminated_on: date | None = None

    def status(self, today: date) -> CardStatus:
        """Terminated wins over dates: HR's terminate ends cover on the day it is applied."""
        if self.terminated:
            return CardStatus.CANCELLED if self.kind is CoverKind.RESIDENCE else CardStatus.TERMINATED
        if self.valid_to < today:
            return CardStatus.EXPIRED
        if self.valid_from > today:
            return CardStatus.UPCOMING
        return CardStatus.ACTIVE

    def card_content(self, today: date, insurer: Text = INSURER) -> CardContent:
        """What the card drawn on `today` prints (the ID note depends on the day)."""
        return CardContent(
            insurer=insurer,
            member_id=self.member_id,
            name=self.name,
            date_of_birth=self.date_of_birth,
            cover=self.cover,
            plan=self.plan,
            network=self.network,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            id_note=id_note_for(self.date_of_birth, today),
            relationship=self.relationship,
        )

    def matches(self, claims: CardClaims) -> bool:
        """Whether a card's signed claims still print what is on record (no change since it was drawn)."""
        return (
            claims.member_id == self.member_id
            and claims.name_en == self.name.en
            and claims.name_ar == self.name.ar
            and claims.plan == self.plan.en
            and claims.valid_from == self.valid_from
            and claims.valid_to == self.valid_to
        )


def claims_for(content: CardContent, issued_at: datetime) -> CardClaims:
    """The QR claims of a card: who, which plan, which dates, and when it was drawn."""
    return CardClaims(
        member_id=content.member_id,
        name_en=content.name.en,
        name_ar=content.name.ar,
        plan=content.plan.en,
        valid_from=content.valid_from,
        valid_to=content.valid_to,
        issued_at=issued_at,
    )


def card_order(person: InsuredPerson) -> tuple[int, int, str, str]:
    """Group cover first, the principal before dependents, then by name: how the app lists cards."""
    kind = 0 if person.kind is CoverKind.GROUP else 1
    name = person.name.en or person.name.ar  # a name known only in Arabic sorts by it
    return (kind, _RELATIONSHIP_ORDER.get(person.relationship, 9), name.casefold(), person.member_id)

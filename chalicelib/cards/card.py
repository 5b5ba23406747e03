"""What an e-card shows, which ID note it carries, and the content key it is stored under.

Pure values only: the renderer draws a `CardContent`, the S3 adapter stores the
drawing under `content_key()`, so an unchanged card is drawn once and any change
to what is printed (or to the design) gives a new object.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from chalicelib.errors import Text
from chalicelib.kernel.relationship import Relationship

# Bump when the drawing changes (layout, fonts, colours, QR settings): every card
# then gets a new content key and is drawn again on its next request.
# v3: the QR a SMART Health Card in two segments, modules of 3 px and up; v4: its nbf the record's card_since
# and its signature deterministic (the card and its wallet pass carry the same QR), so every card is drawn anew.
RENDER_VERSION = "card-v4"

CUSTOMER_SERVICE_NUMBER = "19097"

# Dependents under this age show a parent's ID (seed FAQ point 6).
PARENT_ID_BELOW_AGE = 16


class IdNote(StrEnum):
    """Which identity document a provider should ask for with the card."""

    OWN_ID = "own_id"
    PARENT_ID = "parent_id"


ID_NOTE_TEXT: dict[IdNote, Text] = {
    IdNote.OWN_ID: Text(
        "Show a valid ID with this card.",
        "يرجى تقديم بطاقة شخصية سارية مع هذه البطاقة.",
    ),
    IdNote.PARENT_ID: Text(
        "Under 16: show a parent's valid ID with this card.",
        "دون 16 عامًا: يرجى تقديم بطاقة شخصية سارية لأحد الوالدين.",
    ),
}


RELATIONSHIP_TEXT: dict[Relationship, Text] = {
    Relationship.PRINCIPAL: Text("Principal", "المؤمَّن عليه الرئيسي"),
    Relationship.SPOUSE: Text("Spouse", "الزوج/الزوجة"),
    Relationship.CHILD: Text("Child", "الابن/الابنة"),
    Relationship.PARENT: Text("Parent", "الأب/الأم"),
}

RESIDENCE_COVER_TEXT = Text("Residence health insurance", "التأمين الصحي للمقيمين")


def sixteenth_birthday(date_of_birth: date) -> date:
    """The day a person turns 16; a 29 February birth turns 16 on 1 March in common years."""
    return _add_years(date_of_birth, PARENT_ID_BELOW_AGE)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        # 29 Feb in a common year. 1 March rather than 28 Feb: a leapling has not
        # completed the years until 28 Feb is over (the common legal reading), and
        # erring this way shows the parent-ID note one day longer, never shorter.
        return date(day.year + years, 3, 1)


def is_under_16(date_of_birth: date, on: date) -> bool:
    """True when the person has not reached their 16th birthday on `on` (on it, they are 16)."""
    return on < sixteenth_birthday(date_of_birth)


def id_note_for(date_of_birth: date, on: date) -> IdNote:
    """The ID note for a card made on `on`: a parent's ID below 16, one's own from the birthday."""
    return IdNote.PARENT_ID if is_under_16(date_of_birth, on) else IdNote.OWN_ID


@dataclass(frozen=True)
class GroupCover:
    """Cover through an employer's group policy."""

    policy_number: str
    employer: Text


@dataclass(frozen=True)
class ResidenceCover:
    """Cover through a paid residence health-insurance premium."""

    category: Text
    policy_number: str | None = None


@dataclass(frozen=True)
class CardContent:
    """Everything printed on one person's card, and nothing else (no time of drawing)."""

    insurer: Text
    member_id: str
    name: Text
    date_of_birth: date
    cover: GroupCover | ResidenceCover
    plan: Text
    network: Text
    valid_from: date
    valid_to: date
    # Decided once per drawing day by `id_note_for`; stored rather than the day
    # itself so that the key only changes when the note does (the 16th birthday).
    id_note: IdNote
    relationship: Relationship = Relationship.PRINCIPAL
    customer_service: str = CUSTOMER_SERVICE_NUMBER
    render_version: str = field(default=RENDER_VERSION)

    @property
    def is_dependent(self) -> bool:
        """True for a spouse, child or parent: their card names the relationship."""
        return self.relationship is not Relationship.PRINCIPAL

    @property
    def id_note_text(self) -> Text:
        """The note printed at the foot of the card, in both languages."""
        return ID_NOTE_TEXT[self.id_note]

    def canonical(self) -> dict[str, object]:
        """A JSON-ready, ordered description of the content (what the key hashes)."""
        cover: dict[str, object]
        if isinstance(self.cover, GroupCover):
            cover = {
                "kind": "group",
                "policy_number": self.cover.policy_number,
                "employer": _text(self.cover.employer),
            }
        else:
            cover = {
                "kind": "residence",
                "policy_number": self.cover.policy_number,
                "category": _text(self.cover.category),
            }
        return {
            "render_version": self.render_version,
            "insurer": _text(self.insurer),
            "member_id": self.member_id,
            "name": _text(self.name),
            "date_of_birth": self.date_of_birth.isoformat(),
            "relationship": self.relationship.value,
            "cover": cover,
            "plan": _text(self.plan),
            "network": _text(self.network),
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat(),
            "id_note": self.id_note.value,
            "customer_service": self.customer_service,
        }

    def content_key(self, *, signing_kid: str = "", since: int = 0) -> str:
        """A stable hex digest of the content and design; pass the QR key id so rotation redraws, and
        the second the printed details last changed (`since`) so a card revoked then is never re-served."""
        material: dict[str, object] = {"content": self.canonical(), "signing_kid": signing_kid}
        if since:
            material["since"] = since
        # sort_keys + fixed separators: the same content hashes the same in every
        # process and Python version (dict order and repr are not relied on).
        blob = json.dumps(material, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def object_key(self, fmt: str, *, signing_kid: str = "", since: int = 0) -> str:
        """The S3 key of this card drawn as `fmt` ("png" or "pdf")."""
        if fmt not in ("png", "pdf"):
            raise ValueError(f"unknown card format {fmt!r}")
        return f"cards/{self.member_id}/{self.content_key(signing_kid=signing_kid, since=since)}.{fmt}"


def _text(text: Text) -> dict[str, str]:
    return {"en": text.en, "ar": text.ar}

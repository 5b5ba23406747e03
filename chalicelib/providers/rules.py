"""Providers' rules: who a provider names and how, whether cover holds on a day, secrets and the lookup log."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from chalicelib.errors import FieldErrors
from chalicelib.kernel.civil_id import check_civil_id
from chalicelib.providers.errors import invalid

SCOPE = "coverage.read"

# Identifier systems (namespaces, never fetched). A provider may also send the value alone: its shape
# says which it is (12 digits: a civil ID; R-<civil ID> or 13 Crockford base32 characters: a member id).
MEMBER_ID_SYSTEM = "https://fhir.insure.example/sid/member-id"
CIVIL_ID_SYSTEM = "https://fhir.insure.example/sid/kw-civil-id"
_V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
MEMBER_ID_TYPE = {"coding": [{"system": _V2_0203, "code": "MB"}]}
CIVIL_ID_TYPE = {"coding": [{"system": _V2_0203, "code": "NI"}]}

_GROUP_MEMBER_ID = re.compile(r"[0-9ABCDEFGHJKMNPQRSTVWXYZ]{13}")
MAX_IDENTIFIER_CHARS = 64


@dataclass(frozen=True, repr=False)
class PersonId:
    """Who a provider names: a member id (the card number) or a civil ID, checked for shape."""

    kind: str  # "member" | "civil"
    value: str

    def __repr__(self) -> str:  # a repr lands in logs and tracebacks: never a whole civil ID there
        return f"PersonId({self.kind}, ...{self.value[-4:]})"


def parse_identifier(system: object, value: object, *, today: date, expression: str) -> PersonId:
    """The person an identifier names, or a 400 `invalid` naming where it is (nothing is looked up)."""
    if system is not None and system not in (MEMBER_ID_SYSTEM, CIVIL_ID_SYSTEM):
        raise invalid(f"Unknown identifier system; use {MEMBER_ID_SYSTEM} or {CIVIL_ID_SYSTEM}.",
                      f"{expression}.system")
    if not isinstance(value, str) or not value.strip():
        raise invalid("The identifier needs a value: a member id or a civil ID.", f"{expression}.value", "required")
    if len(value) > MAX_IDENTIFIER_CHARS:
        raise invalid("The identifier is too long to be a member id or a civil ID.", f"{expression}.value")
    text = value.strip()
    if system == CIVIL_ID_SYSTEM or (system is None and text.isdecimal()):
        return PersonId("civil", _civil_id(text, today, expression))
    if text[:2].upper() == "R-":
        return PersonId("member", "R-" + _civil_id(text[2:], today, expression))
    if system is None and not _GROUP_MEMBER_ID.fullmatch(text.upper()):
        raise invalid("Not a member id (13 letters and digits, or R- and a civil ID) nor a civil ID (12 digits).",
                      f"{expression}.value")
    if not _GROUP_MEMBER_ID.fullmatch(text.upper()):
        raise invalid("Not a member id: 13 letters and digits, or R- and a civil ID.", f"{expression}.value")
    return PersonId("member", text.upper())


_RESIDENCE_MEMBER_ID = re.compile(r"R-([0-9]{12})")


def civil_id_in(person: PersonId) -> str | None:
    """The civil ID an identifier carries: a civil ID's own, or the one in a residence member id (R-<civil ID>)."""
    if person.kind == "civil":
        return person.value
    residence = _RESIDENCE_MEMBER_ID.fullmatch(person.value)
    return residence.group(1) if residence else None


def _civil_id(text: str, today: date, expression: str) -> str:
    errors = FieldErrors()
    parsed = check_civil_id(text, today=today, field="value", errors=errors)
    if parsed is None:
        problem = next(iter(errors.problems.values()))
        # The check digit and the birth date inside the number are public arithmetic: saying which failed
        # tells nothing about any person.
        raise invalid(f"Not a valid civil ID: {problem.text.en}", f"{expression}.value")
    return parsed.number


@dataclass(frozen=True)
class Cover:
    """One coverage of one insured person, as a provider may learn it (no contact details, no civil ID)."""

    member_id: str
    account_id: str | None
    kind: str  # "group" | "residence"
    name_en: str
    name_ar: str
    birth_date: date
    relationship: str  # principal | spouse | child | parent
    plan_code: str
    plan_en: str
    plan_ar: str
    network_en: str
    policy_number: str | None
    employer_en: str | None  # group cover: the employer holding the policy
    valid_from: date
    valid_to: date  # the last covered day, inclusive
    # HR terminated the member, or the residence premium was refunded.
    ended: bool
    # The day HR's termination took effect (Kuwait): the cover held before it, within its dates (a visit
    # on an earlier day is in force). None for an ended cover: a refunded premium never held.
    ended_on: date | None = None

    def in_force(self, day: date) -> bool:
        if not self.valid_from <= day <= self.valid_to:
            return False
        if self.ended:
            return self.ended_on is not None and day < self.ended_on
        return True


# Arabic marks that spelling leaves out or adds freely (tashkeel, tatweel), and letters typed either way.
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي"})


def _name_words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    folded = _ARABIC_MARKS.sub("", folded).translate(_ARABIC_FOLD)
    words: list[str] = []
    for word in (w for w in re.split(r"[\W_]+", folded) if w):
        # "Al-Mutairi", "Al Mutairi" and "Almutairi" are one family name.
        if words and words[-1] == "al":
            words[-1] += word
        else:
            words.append(word)
    return words


def name_matches(given: str, cover: Cover) -> bool:
    """Whether every word of the name a provider gave is a word of the person's English or Arabic name.

    Order, case, accents, hyphens, "Al-"/"Al" and the usual Arabic spelling variants don't matter; a
    word that is not in the name does. The name confirms whom the identifier names; it identifies nobody.
    """
    words = _name_words(given)
    if not words:
        return False
    return any(name and set(words) <= set(_name_words(name)) for name in (cover.name_en, cover.name_ar))


@dataclass(frozen=True)
class Provider:
    """A hospital or clinic with FHIR credentials."""

    client_id: str
    name: str
    secret_hash: str
    status: str  # active | disabled
    # Bumped by each rotation; tokens carry it, so a rotation ends the tokens issued before it.
    secret_version: int
    created_at: datetime
    version: int | None = None  # the stored item's version: each change is conditional on it

    @property
    def active(self) -> bool:
        return self.status == "active"


def new_client_id() -> str:
    return f"prv-{secrets.token_hex(8)}"


def new_client_secret() -> str:
    """256 bits from the OS's CSPRNG, URL-safe (no ':' so HTTP Basic splits it cleanly)."""
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """What is stored: the SHA-256 of the secret, as accounts keep their emailed tokens (tokens.token_hash).

    Not argon2id: the secret is 256 random bits, not a password a person chose, so no dictionary
    exists to search offline, and a token request must not cost 60 ms of CPU.
    """
    return hashlib.sha256(f"provider-secret:{secret}".encode()).hexdigest()


def same_secret(stored_hash: str | None, secret: str) -> bool:
    """Constant-time comparison of a secret with a stored hash (a dummy hash when there is none)."""
    return hmac.compare_digest(stored_hash or "0" * 64, secret_hash(secret)) and stored_hash is not None


def failed_auth_key(client_id: str) -> str:
    """The counter of a client id's failed authentications: hashed, since the id comes from any request."""
    return "oauth-client#" + hashlib.sha256(f"client-id:{client_id}".encode()).hexdigest()[:32]


def civil_id_hmac(key: bytes, civil_id: str) -> str:
    """How an unknown civil ID is kept in the lookup log: keyed, so the 10^9 possible numbers can't be
    hashed offline to find it, yet the same number gives the same value (repeated lookups show)."""
    return hmac.new(key, f"provider-lookup-civil-id:{civil_id}".encode(), hashlib.sha256).hexdigest()


# What a lookup found, as kept in the log and shown to the insured person.
IN_FORCE, NOT_IN_FORCE, LISTED = "in_force", "not_in_force", "listed"
NOT_FOUND, DETAILS_MISMATCH = "not_found", "details_mismatch"
ELIGIBILITY, SEARCH, READ = "eligibility", "coverage_search", "coverage_read"


@dataclass(frozen=True)
class LookupEntry:
    """One line of the lookup log: which provider asked about whom, when, why, and what it was told."""

    lookup_id: str
    # The member id; for an identifier nobody holds, "civil:<hmac>" (a civil ID, bare or in R-<civil ID>) or
    # "member:<id>" (a group member id, which names no person).
    subject: str
    provider_id: str  # the client id: kept for us, never shown to the insured person (anyone could use it)
    provider_name: str
    looked_up_at: datetime
    interaction: str  # eligibility | coverage_search | coverage_read
    purpose: str  # validation (eligibility) | search | read
    outcome: str
    account_id: str | None = None  # whose people: the account that sees it in /v1/me/access-log
    member_id: str | None = None
    service_date: date | None = None
    expires_at: datetime | None = None


def retention(now: datetime, days: int) -> datetime:
    return now + timedelta(days=days)


def new_lookup_id(now: datetime) -> str:
    """Sortable by time (milliseconds, hex) then random: one id per request, shared by its log lines."""
    return f"{int(now.timestamp() * 1000):012x}{secrets.token_hex(6)}"


_LOOKUP_ID = re.compile(r"[0-9a-f]{24}")
_SUBJECT = re.compile(r"[A-Za-z0-9:_-]{1,80}")
_CURSOR = re.compile(r"[A-Za-z0-9_-]{1,400}")


def utc(moment: datetime) -> datetime:
    """The same moment in UTC (OverflowError at the ends of time); a naive time is refused by the caller."""
    return moment.astimezone(UTC)


def log_time(moment: datetime) -> str:
    """How a time is stored in the lookup log: ISO 8601 in UTC with microseconds, so text order is time order."""
    return utc(moment).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class LogPosition:
    """Where a page of an account's access log ended: its last line by the by_account index's whole key (the time,
    then the table's key), so lines of one moment (a lookup writes one per coverage) are never skipped or repeated."""

    looked_up_at: datetime
    lookup_id: str
    subject: str


def position_of(entry: LookupEntry) -> LogPosition:
    return LogPosition(looked_up_at=entry.looked_up_at, lookup_id=entry.lookup_id, subject=entry.subject)


def encode_cursor(position: LogPosition) -> str:
    """An opaque next_cursor: base64url (unpadded) JSON of the position, its time in UTC."""
    text = json.dumps({"t": log_time(position.looked_up_at), "l": position.lookup_id, "s": position.subject},
                      separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _no_repeats(pairs: list[tuple[str, object]]) -> dict[str, object]:
    if len({k for k, _ in pairs}) != len(pairs):
        raise ValueError("a key is repeated")
    return dict(pairs)


def decode_cursor(cursor: str) -> LogPosition:
    """The position a cursor of encode_cursor names; ValueError for anything else (whatever the client sent)."""
    if not _CURSOR.fullmatch(cursor):
        raise ValueError("not base64url")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        fields = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_repeats)
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValueError("not JSON") from exc
    if not isinstance(fields, dict) or set(fields) != {"t", "l", "s"} \
            or not all(isinstance(v, str) for v in fields.values()):
        raise ValueError("not a position")
    if not _LOOKUP_ID.fullmatch(fields["l"]) or not _SUBJECT.fullmatch(fields["s"]) or len(fields["t"]) > 40:
        raise ValueError("not a position")
    try:
        moment = datetime.fromisoformat(fields["t"])
        if moment.tzinfo is None:
            raise ValueError("no offset")
        moment = utc(moment)
    except (ValueError, OverflowError) as exc:
        raise ValueError("not a time") from exc
    return LogPosition(looked_up_at=moment, lookup_id=fields["l"], subject=fields["s"])

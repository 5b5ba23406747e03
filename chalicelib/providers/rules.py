"""Providers' rules: who a provider names and how, whether cover holds on a day, secrets and the lookup log."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

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
    # HR terminated the member, or the residence premium was refunded. The day it ended is not kept,
    # so an ended cover is answered not in force for every day, the safe side for a provider.
    ended: bool

    def in_force(self, day: date) -> bool:
        return not self.ended and self.valid_from <= day <= self.valid_to


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
    """The counter of a client id's authentications: hashed, since the id comes from any request."""
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
    subject: str  # the member id; for an identifier nobody holds, "civil:<hmac>" or "member:<id>"
    provider_id: str
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

"""What the provider use cases need from outside: credentials, counters, the lookup log, insured people, keys.

store.py (DynamoDB, and the cards capability for people) and tokens.py implement these; so do the
in-memory fakes of tests/providers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from chalicelib.providers.rules import Cover, LogPosition, LookupEntry, Provider
from chalicelib.providers.settings import ProviderSettings


class ProviderStore(Protocol):
    def get(self, client_id: str) -> Provider | None:
        """The provider with this client id, or None (also for text no client id can be)."""
        ...

    def create(self, provider: Provider) -> None:
        """Store a new provider; fails (ValueError) if the client id exists."""
        ...

    def save(self, provider: Provider) -> Provider:
        """Store a changed provider if nobody changed it since it was read (StaleProvider otherwise)."""
        ...


class Counters(Protocol):
    def take(self, key: str, limit: int, window: timedelta, now: datetime) -> bool:
        """Count one event in the current window of `key` if fewer than `limit` were counted; False if not."""
        ...


class LookupLog(Protocol):
    def append(self, entries: list[LookupEntry]) -> None:
        """Add entries; an entry is never overwritten (append-only): ValueError if one exists."""
        ...

    def of_account(self, account_id: str, limit: int, before: datetime | None = None,
                   after: LogPosition | None = None) -> list[LookupEntry]:
        """The account's people's entries, newest first by the index's whole key (time, then lookup id and
        subject), at most `limit`: only those older than `before` (a moment, whatever its offset) and only those
        after the position `after` (the last entry of the page before), when given."""
        ...


class InsuredFinder(Protocol):
    def by_member_id(self, member_id: str) -> Cover | None: ...

    def by_civil_id(self, civil_id: str) -> list[Cover]:
        """Every coverage of the person with this civil ID: group memberships and a residence policy."""
        ...


class TokenIssuer(Protocol):
    def __call__(self, provider: Provider, now: datetime, lifetime_s: int, /) -> str: ...


@dataclass
class ProviderDeps:
    settings: ProviderSettings
    providers: ProviderStore
    counters: Counters
    log: LookupLog
    insured: InsuredFinder
    issue_token: TokenIssuer
    civil_id_hmac_key: Callable[[], bytes]
    now: Callable[[], datetime]
    today: Callable[[datetime], date]  # the calendar day in Kuwait of a moment
    insurer: str
    base_url: str
    # The names of an account's people by member id, for its access log ({member_id: (name_en, name_ar, relationship)}).
    people_of_account: Callable[[str], dict[str, tuple[str, str, str]]]

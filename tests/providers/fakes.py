"""In-memory provider adapters: credentials, counters, the lookup log and insured people, with a clock."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from chalicelib.kernel.kuwait_time import kuwait_today
from chalicelib.providers.errors import StaleProvider
from chalicelib.providers.ports import ProviderDeps
from chalicelib.providers.rules import Cover, LogPosition, LookupEntry, Provider
from chalicelib.providers.settings import ProviderSettings

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class FakeProviders:
    rows: dict[str, Provider] = field(default_factory=dict)

    def get(self, client_id: str) -> Provider | None:
        return self.rows.get(client_id)

    def create(self, provider: Provider) -> None:
        if provider.client_id in self.rows:
            raise ValueError("exists")
        self.rows[provider.client_id] = replace(provider, version=1)

    def save(self, provider: Provider) -> Provider:
        stored = self.rows.get(provider.client_id)
        if stored is None or stored.version != provider.version:
            raise StaleProvider(provider.client_id)
        saved = replace(provider, version=(provider.version or 0) + 1)
        self.rows[provider.client_id] = saved
        return saved


@dataclass
class FakeCounters:
    counts: dict[str, int] = field(default_factory=dict)

    def _key(self, key: str, window: timedelta, now: datetime) -> str:
        return f"{key}#{int(now.timestamp()) // int(window.total_seconds())}"

    def take(self, key: str, limit: int, window: timedelta, now: datetime) -> bool:
        k = self._key(key, window, now)
        if self.counts.get(k, 0) >= limit:
            return False
        self.counts[k] = self.counts.get(k, 0) + 1
        return True


@dataclass
class FakeLog:
    entries: list[LookupEntry] = field(default_factory=list)

    def append(self, entries: list[LookupEntry]) -> None:
        keys = {(e.lookup_id, e.subject) for e in self.entries}
        for entry in entries:
            if (entry.lookup_id, entry.subject) in keys:
                raise ValueError("an entry would be overwritten")
            self.entries.append(entry)

    def of_account(self, account_id: str, limit: int, before: datetime | None = None,
                   after: LogPosition | None = None) -> list[LookupEntry]:
        def key(e: LookupEntry | LogPosition) -> tuple[datetime, str, str]:
            return e.looked_up_at, e.lookup_id, e.subject

        mine = [e for e in self.entries if e.account_id == account_id and (before is None or e.looked_up_at < before)
                and (after is None or key(e) < key(after))]
        return sorted(mine, key=key, reverse=True)[:limit]


@dataclass
class FakeInsured:
    covers: dict[str, Cover] = field(default_factory=dict)
    civil_ids: dict[str, list[str]] = field(default_factory=dict)

    def add(self, cover: Cover, civil_id: str | None = None) -> Cover:
        self.covers[cover.member_id] = cover
        if civil_id:
            self.civil_ids.setdefault(civil_id, []).append(cover.member_id)
        return cover

    def by_member_id(self, member_id: str) -> Cover | None:
        return self.covers.get(member_id)

    def by_civil_id(self, civil_id: str) -> list[Cover]:
        return [self.covers[m] for m in self.civil_ids.get(civil_id, [])]


@dataclass
class Clock:
    moment: datetime = START

    def __call__(self) -> datetime:
        return self.moment

    def shift(self, delta: timedelta) -> None:
        self.moment += delta


def cover(member_id: str = "ABCDEFGHJKMN0", *, account_id: str = "acct-1", name_en: str = "Ahmad Khalid Al-Mutairi",
          name_ar: str = "أحمد خالد المطيري", birth: date = date(1984, 3, 12), relationship: str = "principal",
          valid_from: date = date(2026, 1, 1), valid_to: date = date(2026, 12, 31), ended: bool = False,
          ended_on: date | None = None, kind: str = "group") -> Cover:
    return Cover(member_id=member_id, account_id=account_id, kind=kind, name_en=name_en, name_ar=name_ar,
                 birth_date=birth, relationship=relationship, plan_code="GOLD", plan_en="Gold", plan_ar="ذهبي",
                 network_en="Network A", policy_number="GP-ACME-2026", employer_en="Acme",
                 valid_from=valid_from, valid_to=valid_to, ended=ended, ended_on=ended_on)


@dataclass
class World:
    deps: ProviderDeps
    providers: FakeProviders
    counters: FakeCounters
    log: FakeLog
    insured: FakeInsured
    clock: Clock
    issued: list[tuple[str, int]]


def make_world(**settings: int) -> World:
    providers, counters, log, insured, clock = FakeProviders(), FakeCounters(), FakeLog(), FakeInsured(), Clock()
    issued: list[tuple[str, int]] = []

    def issue(provider: Provider, now: datetime, lifetime_s: int, /) -> str:
        issued.append((provider.client_id, provider.secret_version))
        return f"token-{len(issued)}"

    deps = ProviderDeps(
        settings=ProviderSettings(providers_table="p", lookups_table="l", **settings),
        providers=providers, counters=counters, log=log, insured=insured, issue_token=issue,
        civil_id_hmac_key=lambda: b"k" * 32, now=clock, today=kuwait_today, insurer="Gulf Mutual Health",
        base_url="https://api.example.com",
        people_of_account=lambda account_id: {c.member_id: (c.name_en, c.name_ar, c.relationship)
                                              for c in insured.covers.values() if c.account_id == account_id},
    )
    return World(deps, providers, counters, log, insured, clock, issued)

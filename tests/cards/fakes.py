"""In-memory card adapters: who is insured and where drawn cards live; they pass the cards' contract suite."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import quote

from chalicelib.cards.insured import InsuredPerson
from chalicelib.cards.store import REFRESH_AFTER, URL_SECONDS, SignedUrl


@dataclass
class FakePeople:
    """ports.PeopleReader over InsuredPerson values, by member id."""

    people: dict[str, InsuredPerson] = field(default_factory=dict)

    def add(self, *people: InsuredPerson) -> None:
        for person in people:
            self.people[person.member_id] = person

    def of_account(self, account_id: str) -> list[InsuredPerson]:
        return [p for p in self.people.values() if p.account_id == account_id]

    def covered(self, account_id: str, member_id: str) -> InsuredPerson | None:
        person = self.people.get(member_id)
        return person if person is not None and person.account_id == account_id else None

    def find(self, member_id: str) -> InsuredPerson | None:
        return self.people.get(member_id)


@dataclass
class StoredCard:
    body: bytes
    metadata: dict[str, str]
    written_at: datetime


@dataclass
class FakeCardObjects:
    """ports.CardObjects in memory: objects by key, their write time, and what was drawn."""

    clock: datetime | None = None  # the write time of `put`; None: the `now` of the last `ready`
    objects: dict[str, StoredCard] = field(default_factory=dict)
    puts: int = 0
    _last_now: datetime | None = None

    def ready(self, key: str, now: datetime) -> bool:
        self._last_now = now
        card = self.objects.get(key)
        if card is None:
            return False
        if now - card.written_at > REFRESH_AFTER:
            card.written_at = now  # the real store copies the object onto itself: the lifecycle restarts
        return True

    def put(self, key: str, body: bytes, metadata: dict[str, str] | None = None) -> None:
        written = self.clock or self._last_now or datetime.now().astimezone()
        self.objects[key] = StoredCard(body, dict(metadata or {}), written)
        self.puts += 1

    def get(self, key: str) -> bytes:
        return self.objects[key].body

    def signed_url(self, key: str, now: datetime, filename: str, seconds: int = URL_SECONDS) -> SignedUrl:
        disposition = quote(f'inline; filename="{filename}"')
        return SignedUrl(f"memory://cards-bucket/{key}?response-content-disposition={disposition}",
                         now + timedelta(seconds=seconds))

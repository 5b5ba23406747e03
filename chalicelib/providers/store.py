"""DynamoDB adapters of the provider ports, and the insured people as the cards capability finds them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.platform.dynamo import lost_condition
from chalicelib.providers.errors import StaleProvider
from chalicelib.providers.models import CounterRecord, LookupRecord, MemberCivilIdRow, ProviderRecord
from chalicelib.providers.rules import Cover, LogPosition, LookupEntry, Provider, log_time, utc

if TYPE_CHECKING:
    from chalicelib.cards import InsuredPerson


class DynamoProviderStore:
    """Providers by client id; every write conditional (a new id, or the version read)."""

    def get(self, client_id: str) -> Provider | None:
        # The id comes from an Authorization header: anything DynamoDB would refuse as a key is nobody.
        if not client_id or len(client_id) > 64:
            return None
        try:
            record = ProviderRecord.get(client_id, consistent_read=True)
        except ProviderRecord.DoesNotExist:
            return None
        return Provider(client_id=record.client_id, name=record.name, secret_hash=record.secret_hash,
                        status=record.status, secret_version=int(record.secret_version),
                        created_at=record.created_at, version=record.version)

    def create(self, provider: Provider) -> None:
        record = _record(provider)
        try:
            # The version attribute makes PynamoDB add "the item does not exist" to a first save.
            record.save()
        except PutError as exc:
            if lost_condition(exc):
                raise ValueError(f"client id {provider.client_id} exists") from exc
            raise

    def save(self, provider: Provider) -> Provider:
        record = _record(provider)
        record.version = provider.version
        try:
            # Guarded by the version read: a disable and a rotation at once can't both win.
            record.save()
        except PutError as exc:
            if lost_condition(exc):
                raise StaleProvider(provider.client_id) from exc
            raise
        return replace(provider, version=record.version)


def _record(provider: Provider) -> ProviderRecord:
    from chalicelib.platform.clock import now

    return ProviderRecord(provider.client_id, name=provider.name, secret_hash=provider.secret_hash,
                          status=provider.status, secret_version=provider.secret_version,
                          created_at=provider.created_at, updated_at=now())


class DynamoCounters:
    """Fixed-window counters in the throttles table; each count is a conditional update (below the limit)."""

    def take(self, key: str, limit: int, window: timedelta, now: datetime) -> bool:
        record = CounterRecord(_window_key(key, window, now))
        try:
            record.update(actions=[CounterRecord.count.add(1), CounterRecord.expires_ttl.set(now + window * 2)],
                          condition=CounterRecord.count.does_not_exist() | (CounterRecord.count < limit))
        except UpdateError as exc:
            if lost_condition(exc):
                return False
            raise
        return True


def _window_key(key: str, window: timedelta, now: datetime) -> str:
    return f"{key}#{int(now.timestamp()) // int(window.total_seconds())}"


class DynamoLookupLog:
    """The append-only lookup log: puts that never overwrite, read by account through the index."""

    def append(self, entries: list[LookupEntry]) -> None:
        for entry in entries:
            record = LookupRecord(
                entry.lookup_id, entry.subject, provider_id=entry.provider_id, provider_name=entry.provider_name,
                looked_up_at=log_time(entry.looked_up_at),
                interaction=entry.interaction, purpose=entry.purpose, outcome=entry.outcome,
                account_id=entry.account_id, member_id=entry.member_id,
                service_date=entry.service_date.isoformat() if entry.service_date else None,
                expires_ttl=entry.expires_at)
            # Never an overwrite: a line once written stays as it was (IAM denies updates and deletes too).
            try:
                record.save(condition=LookupRecord.lookup_id.does_not_exist())
            except PutError as exc:
                if lost_condition(exc):
                    raise ValueError(f"lookup {entry.lookup_id} already has an entry for this subject") from exc
                raise

    def of_account(self, account_id: str, limit: int, before: datetime | None = None,
                   after: LogPosition | None = None) -> list[LookupEntry]:
        # A page goes on from the index's whole key of the last line shown (ExclusiveStartKey): lines of one
        # moment are told apart by the table's key. With `before` too, whichever ends earlier bounds the page
        # (a start key outside the key condition would be refused).
        condition = None
        start: dict[str, dict[str, str]] | None = None
        if after is not None and (before is None or utc(after.looked_up_at) < utc(before)):
            start = {"account_id": {"S": account_id}, "looked_up_at": {"S": log_time(after.looked_up_at)},
                     "lookup_id": {"S": after.lookup_id}, "subject": {"S": after.subject}}
        elif before is not None:
            condition = LookupRecord.looked_up_at < log_time(before)
        rows = LookupRecord.by_account.query(account_id, range_key_condition=condition, scan_index_forward=False,
                                             limit=limit, page_size=limit, last_evaluated_key=start)
        return [_entry(row) for row in rows]


def _entry(row: LookupRecord) -> LookupEntry:
    return LookupEntry(lookup_id=row.lookup_id, subject=row.subject, provider_id=row.provider_id,
                       provider_name=row.provider_name, looked_up_at=datetime.fromisoformat(row.looked_up_at),
                       interaction=row.interaction, purpose=row.purpose, outcome=row.outcome,
                       account_id=row.account_id, member_id=row.member_id,
                       service_date=date.fromisoformat(row.service_date) if row.service_date else None,
                       expires_at=row.expires_ttl)


class CardsInsuredFinder:
    """Insured people as the cards capability reads them (group members and residence policies)."""

    def by_member_id(self, member_id: str) -> Cover | None:
        from chalicelib.cards import find_insured

        person = find_insured(member_id)
        return _cover(person) if person is not None else None

    def by_civil_id(self, civil_id: str) -> list[Cover]:
        """A residence policy is keyed by the civil ID (R-<civil ID>); group members are found by the members
        table's sparse by_civil_id index (civil IDs HR gave), then read one by one."""
        ids = [f"R-{civil_id}", *sorted({row.member_id for row in MemberCivilIdRow.by_civil_id.query(civil_id)})]
        return [cover for member_id in ids if (cover := self.by_member_id(member_id)) is not None]


def _cover(person: InsuredPerson) -> Cover:
    employer = getattr(person.cover, "employer", None)
    return Cover(member_id=person.member_id, account_id=person.account_id, kind=person.kind.value,
                 name_en=person.name.en, name_ar=person.name.ar, birth_date=person.date_of_birth,
                 relationship=person.relationship.value, plan_code=person.plan_code, plan_en=person.plan.en,
                 plan_ar=person.plan.ar, network_en=person.network.en,
                 policy_number=person.cover.policy_number, employer_en=employer.en if employer is not None else None,
                 valid_from=person.valid_from, valid_to=person.valid_to, ended=person.terminated,
                 ended_on=person.terminated_on)

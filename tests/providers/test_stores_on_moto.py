"""The provider adapters' contract: the in-memory fakes and the DynamoDB stores on moto pass the same tests;
and the insured people found by member id and by civil ID on the real tables."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from chalicelib.providers.errors import StaleProvider
from chalicelib.providers.rules import LookupEntry, Provider, position_of
from tests.providers.fakes import FakeCounters, FakeLog, FakeProviders

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def provider(client_id: str = "prv-0123456789abcdef") -> Provider:
    return Provider(client_id=client_id, name="Al-Amiri Hospital", secret_hash="a" * 64, status="active",
                    secret_version=1, created_at=NOW)


@pytest.fixture(params=["fake", "moto"])
def providers(request):
    if request.param == "fake":
        return FakeProviders()
    request.getfixturevalue("aws")
    from chalicelib.providers.store import DynamoProviderStore

    return DynamoProviderStore()


@pytest.fixture(params=["fake", "moto"])
def counters(request):
    if request.param == "fake":
        return FakeCounters()
    request.getfixturevalue("aws")
    from chalicelib.providers.store import DynamoCounters

    return DynamoCounters()


@pytest.fixture(params=["fake", "moto"])
def log(request):
    if request.param == "fake":
        return FakeLog()
    request.getfixturevalue("aws")
    from chalicelib.providers.store import DynamoLookupLog

    return DynamoLookupLog()


def test_a_provider_reads_back_as_created_and_a_second_create_of_its_id_fails(providers):
    providers.create(provider())

    stored = providers.get("prv-0123456789abcdef")
    assert stored is not None and replace(stored, version=None) == provider()
    assert providers.get("prv-nobody") is None and providers.get("") is None and providers.get("x" * 100) is None
    with pytest.raises(ValueError):
        providers.create(provider())


def test_a_change_is_saved_only_over_the_version_it_read(providers):
    providers.create(provider())
    first = providers.get("prv-0123456789abcdef")
    second = providers.get("prv-0123456789abcdef")

    saved = providers.save(replace(first, status="disabled"))

    assert providers.get(saved.client_id).status == "disabled"
    with pytest.raises(StaleProvider):
        providers.save(replace(second, secret_version=2))  # read before the disable: refused, nothing written
    assert providers.get(saved.client_id).secret_version == 1


def test_counters_count_up_to_the_limit_per_window(counters):
    window = timedelta(minutes=1)
    assert [counters.take("fhir#p1", 2, window, NOW) for _ in range(3)] == [True, True, False]
    assert counters.take("fhir#p2", 2, window, NOW)  # per key
    assert counters.take("fhir#p1", 2, window, NOW + window)  # a new window


def entry(n: int, account_id: str | None, subject: str | None = None) -> LookupEntry:
    return LookupEntry(lookup_id=f"lookup-{n}", subject=subject or f"M{n}", provider_id="prv-1",
                       provider_name="Al-Amiri Hospital", looked_up_at=NOW + timedelta(minutes=n),
                       interaction="eligibility", purpose="validation", outcome="in_force", account_id=account_id,
                       member_id=f"M{n}" if account_id else None, service_date=date(2026, 3, 1),
                       expires_at=NOW + timedelta(days=730))


def test_the_log_reads_an_account_s_entries_newest_first_and_never_overwrites(log):
    log.append([entry(1, "acc1"), entry(2, "acc2"), entry(3, "acc1"), entry(4, None, "civil:abc")])

    newest = log.of_account("acc1", 10, None)
    assert [e.lookup_id for e in newest] == ["lookup-3", "lookup-1"]
    assert newest[0] == entry(3, "acc1")
    assert [e.lookup_id for e in log.of_account("acc1", 1, None)] == ["lookup-3"]
    assert [e.lookup_id for e in log.of_account("acc1", 10, NOW + timedelta(minutes=3))] == ["lookup-1"]
    with pytest.raises(ValueError, match="entry"):
        log.append([replace(entry(1, "acc1"), outcome="not_in_force")])
    assert log.of_account("acc1", 10, None)[-1].outcome == "in_force"


def test_the_log_pages_through_lines_of_one_moment_from_the_last_one_shown_each_once(log):
    # A lookup by civil ID writes a line per coverage, all at one time: a page may end between them.
    moment = [replace(entry(1, "acc1", f"M{n}"), lookup_id=f"{n % 2:024x}", member_id=f"M{n}") for n in range(7)]
    log.append([*moment, entry(0, "acc1"), entry(9, "acc2")])

    for limit in (1, 2, 3):
        seen: list[LookupEntry] = []
        page = log.of_account("acc1", limit, None)
        while page:
            seen += page
            page = log.of_account("acc1", limit, None, position_of(page[-1]))
        assert sorted((e.lookup_id, e.subject) for e in seen) == sorted(
            [(e.lookup_id, e.subject) for e in moment] + [("lookup-0", "M0")]), limit
        assert seen[-1].lookup_id == "lookup-0"


def test_the_log_compares_times_as_moments_whatever_their_offset(log):
    log.append([entry(1, "acc1"), entry(3, "acc1")])  # 09:01 and 09:03 UTC
    kuwait = timezone(timedelta(hours=3))

    assert [e.lookup_id for e in log.of_account("acc1", 10, datetime(2026, 3, 1, 12, 2, tzinfo=kuwait))] == [
        "lookup-1"]
    newest = log.of_account("acc1", 1, None)[0]
    # A page's end and a `before` together: whichever ends earlier.
    assert [e.lookup_id for e in log.of_account("acc1", 10, NOW + timedelta(minutes=2), position_of(newest))] == [
        "lookup-1"]
    assert [e.lookup_id for e in log.of_account("acc1", 10, NOW + timedelta(hours=1), position_of(newest))] == [
        "lookup-1"]
    assert log.of_account("acc1", 10, NOW, position_of(newest)) == []


def test_a_line_written_at_another_offset_is_kept_in_utc(log):
    kuwait = timezone(timedelta(hours=3))
    log.append([replace(entry(5, "acc1"), looked_up_at=(NOW + timedelta(minutes=5)).astimezone(kuwait)),
                entry(4, "acc1")])

    assert [e.lookup_id for e in log.of_account("acc1", 10, None)] == ["lookup-5", "lookup-4"]
    assert [e.lookup_id for e in log.of_account("acc1", 10, NOW + timedelta(minutes=5))] == ["lookup-4"]


def test_a_civil_id_finds_its_group_memberships_and_its_residence_policy(aws):
    from chalicelib.enrolment.models import MemberRecord
    from chalicelib.providers.store import CardsInsuredFinder
    from tests.contract.test_card_store_contract import CIVIL_ID, _store_on_tables, group_person, residence_person

    _store_on_tables(group_person("7Q2M9XK4TB3VZ", "acc1"), residence_person("acc2"),
                     group_person("8R3N0YM5VC4W0", "acc1", "Sara Ali"))
    for member_id in ("7Q2M9XK4TB3VZ",):
        record = MemberRecord.get(member_id)
        record.national_id = CIVIL_ID
        record.save()

    finder = CardsInsuredFinder()
    covers = finder.by_civil_id(CIVIL_ID)

    assert [(c.member_id, c.kind, c.account_id) for c in covers] == [
        (f"R-{CIVIL_ID}", "residence", "acc2"), ("7Q2M9XK4TB3VZ", "group", "acc1")]
    assert covers[1].plan_en == "Gold" and covers[1].employer_en == "Acme Logistics Co."
    assert finder.by_civil_id("287070201212") == []
    assert finder.by_member_id("8R3N0YM5VC4W0").name_en == "Sara Ali"
    assert finder.by_member_id("ZZZZZZZZZZZZZ") is None

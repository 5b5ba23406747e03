"""The scheduled expiry jobs on a controlled clock: due means handled, not yet due means untouched."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from chalicelib.errors import StaleState
from tests.support import NEW_PASSWORD


def run(client, name):
    """Run a scheduled function as EventBridge would; its summary comes back."""
    from app import app
    from devstack.lambdas import invoke, scheduled_event

    return invoke(app, name, scheduled_event("me-south-1", name))


def account(account_id):
    from chalicelib.accounts.models import AccountRecord

    return AccountRecord.get(account_id)


def test_an_unused_welcome_link_marks_the_account_invite_expired_after_fourteen_days(clock, client, invite):
    invited, _ = invite()
    clock.shift(timedelta(days=14) - timedelta(minutes=1))
    assert run(client, "expire_invites")["done"] == 0
    assert account(invited.account_id).status == "invited"

    clock.shift(timedelta(minutes=2))
    assert run(client, "expire_invites") | {"job": None} == {
        "job": None, "due": 1, "done": 1, "skipped": 0, "failed": 0, "stopped_early": False}
    assert account(invited.account_id).status == "invite_expired"
    assert run(client, "expire_invites")["due"] == 0  # nothing is read twice


def test_a_run_as_of_a_later_time_sees_what_is_due_then_without_the_clock_moving(clock, client, invite):
    """`make job NAME=expire_invites AT=...`: the event's time is the run's, for the account jobs too."""
    from app import app
    from chalicelib.platform.clock import now
    from devstack.lambdas import invoke, scheduled_event

    invited, _ = invite()
    event = scheduled_event("me-south-1", "expire_invites")
    event["time"] = (now() + timedelta(days=15)).strftime("%Y-%m-%dT%H:%M:%SZ")

    assert invoke(app, "expire_invites", event)["done"] == 1
    assert account(invited.account_id).status == "invite_expired"
    assert run(client, "expire_invites")["due"] == 0


def test_an_invite_expired_person_still_gets_in_with_forgot_password(clock, client, api, invite, outbox):
    from tests.support import token_of

    invite()
    clock.shift(timedelta(days=15))
    run(client, "expire_invites")
    api.post("/v1/auth/password/forgot", {"username": "omar.k@acme.example"})
    link = outbox.last(template="password_reset")["links"][0]
    assert api.post("/v1/auth/password/reset", {"token": token_of(link), "new_password": NEW_PASSWORD}).status == 200
    assert api.login("omar.k@acme.example", NEW_PASSWORD).status == 200


def test_one_reminder_seven_days_before_the_password_expires_then_it_expires(clock, client, api, resident, outbox):
    clock.shift(timedelta(days=83) - timedelta(minutes=1))
    run(client, "expire_passwords")
    assert outbox.messages(template="password_expiry_reminder") == []

    clock.shift(timedelta(minutes=2))
    assert run(client, "expire_passwords")["done"] == 1
    reminder = outbox.last(template="password_expiry_reminder")
    assert reminder["to"] == resident["email"] and reminder["vars"]["days"] == 6
    clock.shift(timedelta(hours=1))
    run(client, "expire_passwords")
    assert len(outbox.messages(template="password_expiry_reminder")) == 1  # never two for one password

    clock.shift(timedelta(days=7))
    assert run(client, "expire_passwords")["done"] == 1
    assert account(resident["account_id"]).password_expired == "yes"
    login = api.login(resident["civil_id"], NEW_PASSWORD)
    assert login.body["challenge"] == "NEW_PASSWORD_REQUIRED" and login.body["reason"] == "expired"


def test_a_changed_password_gets_its_own_reminder_later(clock, client, api, resident, outbox):
    clock.shift(timedelta(days=50))
    api.post("/v1/auth/password/change", {"current_password": NEW_PASSWORD, "new_password": "Calm-River-Stone-5"},
             token=api.login(resident["civil_id"], NEW_PASSWORD).body["access_token"])
    clock.shift(timedelta(days=40))  # 90 days after the first password, 40 after the second
    run(client, "expire_passwords")
    assert outbox.messages(template="password_expiry_reminder") == []
    assert account(resident["account_id"]).password_expired is None


def test_a_temporary_password_stops_working_after_seven_days(clock, client, api, outbox, registration_body):
    started = api.post("/v1/auth/register", registration_body).body
    code = outbox.last(template="registration_code")["vars"]["code"]
    api.post("/v1/auth/register/verify", {"registration_id": started["registration_id"], "code": code})
    temporary = outbox.last(template="temporary_password")["vars"]["password"]

    clock.shift(timedelta(days=7) - timedelta(minutes=1))
    assert run(client, "expire_passwords")["done"] == 0
    clock.shift(timedelta(minutes=2))
    assert run(client, "expire_passwords")["done"] == 1
    answer = api.login(registration_body["civil_id"], temporary)
    assert answer.status == 401 and answer.code == "TEMPORARY_PASSWORD_EXPIRED"


def test_expired_codes_challenges_and_links_are_removed(clock, client, api, resident, outbox):
    from chalicelib.accounts.models import TokenRecord
    from chalicelib.accounts.tokens import token_hash

    api.post("/v1/auth/password/forgot", {"username": resident["civil_id"]})
    reset_token = outbox.last(template="password_reset")["links"][0].split("token=")[1]
    clock.shift(timedelta(hours=24) - timedelta(minutes=1))
    run(client, "purge_tokens")
    assert TokenRecord.count(token_hash(reset_token)) == 1

    clock.shift(timedelta(minutes=2))
    summary = run(client, "purge_tokens")
    assert summary["done"] >= 1
    assert TokenRecord.count(token_hash(reset_token)) == 0
    assert run(client, "purge_tokens")["due"] == 0


def test_sessions_unused_past_their_life_are_removed_and_used_ones_stay(clock, client, api, resident):
    from chalicelib.accounts.models import SessionRecord

    other = api.login(resident["civil_id"], NEW_PASSWORD, device="tablet").body
    clock.shift(timedelta(days=20))
    api.post("/v1/auth/refresh", {"refresh_token": other["refresh_token"]})  # the tablet is used

    clock.shift(timedelta(days=10, minutes=1))  # the phone: 30 days and a minute unused
    assert run(client, "purge_sessions")["done"] == 1
    assert SessionRecord.count(resident["tokens"]["session_id"]) == 0
    assert SessionRecord.count(other["session_id"]) == 1


@pytest.fixture
def many_invites(clock, invite, monkeypatch):
    from chalicelib.settings import reset_settings

    monkeypatch.setenv("JOB_PAGE_SIZE", "1")
    reset_settings()
    return [invite(f"person{n}@acme.example", f"Person {n}")[0] for n in range(12)]


def test_more_due_items_than_one_page_are_all_handled(clock, client, many_invites):
    from devstack.counting import count_aws_calls

    clock.shift(timedelta(days=15))
    with count_aws_calls() as calls:
        summary = run(client, "expire_invites")
    assert summary["done"] == 12
    assert calls[("dynamodb", "Query")] >= 12  # one item a page: every item took a page of its own
    assert all(account(a.account_id).status == "invite_expired" for a in many_invites)


def test_a_run_stops_before_its_time_limit_and_the_next_run_finishes(clock, client, many_invites):
    from chalicelib.accounts.expiry import JobRun, expire_invites
    from chalicelib.accounts.store import DueStore
    from chalicelib.platform.clock import now

    clock.shift(timedelta(days=15))
    budget = iter([False] * 5 + [True] * 100)
    first = expire_invites(DueStore(page_size=2), now(), JobRun("expire_invites", out_of_time=lambda: next(budget)))
    assert first.stopped_early and first.done == 5

    second = expire_invites(DueStore(page_size=2), now(), JobRun("expire_invites", out_of_time=lambda: False))
    assert second.done == 7 and not second.stopped_early
    assert all(account(a.account_id).status == "invite_expired" for a in many_invites)


def test_two_runs_at_once_do_nothing_twice(clock, client, many_invites):
    from chalicelib.accounts.expiry import JobRun, expire_invites
    from chalicelib.accounts.store import DueStore
    from chalicelib.platform.clock import now

    clock.shift(timedelta(days=15))
    second_summary = {}
    first_write = threading.Lock()  # this run's writes go out side by side: the first one lets the other run in

    class RacingStore(DueStore):
        def expire_invite(self, record, at):
            with first_write:
                if not second_summary:
                    # The other run does everything between this run's read and its first write.
                    second_summary.update(expire_invites(DueStore(), at, JobRun("b", lambda: False)).summary())
            return super().expire_invite(record, at)

    first = expire_invites(RacingStore(page_size=2), now(), JobRun("a", out_of_time=lambda: False))
    assert second_summary["done"] == 12
    assert first.done == 0 and first.skipped == first.due and first.failed == 0


def test_one_items_failure_never_stops_the_others(clock, client, many_invites):
    from chalicelib.accounts.expiry import JobRun, expire_invites
    from chalicelib.accounts.store import DueStore
    from chalicelib.platform.clock import now

    clock.shift(timedelta(days=15))
    broken = many_invites[3].account_id

    class FlakyStore(DueStore):
        def expire_invite(self, record, at):
            if record.account_id == broken:
                raise RuntimeError("one bad item")
            return super().expire_invite(record, at)

    summary = expire_invites(FlakyStore(), now(), JobRun("a", out_of_time=lambda: False))
    assert (summary.done, summary.failed) == (11, 1)
    assert account(broken).status == "invited"


def test_a_lost_race_is_a_skip_not_a_failure():
    from chalicelib.accounts.expiry import JobRun, run_due

    def act(_item):
        raise StaleState()

    summary = run_due(JobRun("x", lambda: False), lambda shard: [shard] if shard == "0" else [], act)
    assert (summary.due, summary.skipped, summary.failed) == (1, 1, 0)


def test_operations_can_list_who_never_activated(clock, client, invite, capsys):
    from admin.__main__ import main as admin

    invite("early@acme.example", "Early Bird")
    clock.shift(timedelta(days=1))
    invite("late@acme.example", "Late Comer")
    clock.shift(timedelta(days=15))
    run(client, "expire_invites")
    capsys.readouterr()

    assert admin(["never-activated"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("{")]
    assert lines[0] == "expired_at,email,name"
    assert sorted(line.split(",")[1] for line in lines[1:]) == ["early@acme.example", "late@acme.example"]
    assert run(client, "expire_invites")["due"] == 0  # listed, never re-read by the job


def test_reminders_go_out_ten_to_a_queue_request_and_the_rest_when_the_run_ends():
    from chalicelib.accounts.expiry import JobRun, password_lifecycle
    from tests.accounts.fakes import FakeAccountStore
    from tests.contract.test_account_store_contract import NOW, account, shard_of

    store = FakeAccountStore()
    set_at = NOW - timedelta(days=84)  # 6 days before its 90
    for n in range(23):
        store.create_account(account(f"acc{n}", password_set_at=set_at, password_shard=shard_of(f"acc{n}"),
                                     password_due_at=NOW - timedelta(hours=1)), {"email": f"acc{n}@example.com"})
    requests = []

    def lifecycle():
        return password_lifecycle(store, NOW, JobRun("expire_passwords", lambda: False), max_age_days=90,
                                  temporary_days=7, enqueue=requests.append)

    assert lifecycle().done == 23
    assert sorted(len(jobs) for jobs in requests) == [3, 10, 10]
    assert len({job["message"]["to"] for jobs in requests for job in jobs}) == 23
    assert lifecycle().due == 0 and len(requests) == 3  # one reminder per password


def test_a_reminder_batch_that_cannot_be_queued_is_counted_and_logged_not_raised():
    from chalicelib.accounts.expiry import JobRun, password_lifecycle
    from tests.accounts.fakes import FakeAccountStore
    from tests.contract.test_account_store_contract import NOW, account, shard_of

    store = FakeAccountStore()
    for n in range(3):
        store.create_account(account(f"acc{n}", password_set_at=NOW - timedelta(days=84),
                                     password_shard=shard_of(f"acc{n}"), password_due_at=NOW - timedelta(hours=1)),
                             {"email": f"acc{n}@example.com"})

    def broken_queue(jobs):
        raise RuntimeError("SQS is down")

    summary = password_lifecycle(store, NOW, JobRun("expire_passwords", lambda: False), max_age_days=90,
                                 temporary_days=7, enqueue=broken_queue).summary()
    assert (summary["done"], summary["failed"], summary["reminders_not_queued"]) == (3, 0, 3)


def test_two_purges_at_once_delete_each_session_once(client):
    from datetime import UTC, datetime

    from chalicelib.accounts.expiry import JobRun, purge_sessions
    from chalicelib.accounts.models import SessionRecord
    from chalicelib.accounts.store import DueStore
    from chalicelib.platform.jobs import shard_of

    now = datetime.now(UTC)
    past = now - timedelta(minutes=1)
    with SessionRecord.batch_write() as batch:
        for n in range(60):
            key = f"s{n:03d}"
            batch.save(SessionRecord(key, account_id="a", created_at=now.isoformat(), device_id="d", device_name="d",
                                     refresh_hash="h", last_used_at=past, idle_expires_at=past,
                                     absolute_expires_at=now + timedelta(days=90), expires_ttl=past,
                                     due_shard=shard_of(key), due_at=past))
    atomic = threading.Lock()

    class AtomicStore(DueStore):
        # DynamoDB applies each request atomically; moto in-process does not under threads (a delete may
        # pass its condition twice, a query may see its table change under it): one request at a time.
        def delete_due_session(self, session, at):
            with atomic:
                return super().delete_due_session(session, at)

        def _due(self, index, shard, range_attr, at):
            rows = iter(super()._due(index, shard, range_attr, at))
            while True:
                with atomic:
                    row = next(rows, None)
                if row is None:
                    return
                yield row

    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda name: purge_sessions(AtomicStore(page_size=5), now, JobRun(name, lambda: False)),
                             ["a", "b"]))
    assert sum(run.done for run in runs) == 60  # each delete is conditional: one run wins each session
    assert all(run.done + run.skipped == run.due and run.failed == 0 for run in runs)
    assert list(SessionRecord.scan()) == []


def test_side_by_side_writes_all_finish_before_more_is_read():
    import time

    from chalicelib.platform.jobs import JobRun, run_due

    in_flight, lock, read_beside_a_write = set(), threading.Lock(), []

    def due(shard):
        for n in range(250):
            read_beside_a_write.append(bool(in_flight))
            yield f"{shard}-{n}"

    def act(item):
        with lock:
            in_flight.add(item)
        time.sleep(0.001)
        with lock:
            in_flight.discard(item)
        return True

    summary = run_due(JobRun("x", lambda: False), due, act, workers=8)
    assert (summary.due, summary.done) == (2000, 2000)
    assert not any(read_beside_a_write)

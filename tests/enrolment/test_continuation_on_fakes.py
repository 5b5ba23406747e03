"""HR files of any size: stopped before the invocation's time runs out, handed over, finished by a fresh one.

The clock moves one second each time the use case reads it (once per chunk of 100 rows), so an
invocation with a budget of 6 seconds stops after a few chunks, without any sleeping.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from datetime import datetime, timedelta

import pytest

from chalicelib.enrolment import use_cases
from chalicelib.enrolment.continuation import Budget, checkpoint_key, continue_file, start_file
from chalicelib.enrolment.hr_csv import resume_hr_csv
from chalicelib.enrolment.hr_report import ReportWriter
from chalicelib.enrolment.ports import EnrolmentDeps
from chalicelib.enrolment.report_rules import Upload
from chalicelib.enrolment.use_cases import FileResult, enrol_file
from tests.enrolment.fakes import FakeEnrolmentStore
from tests.enrolment.support import KEY, NOW, POLICY_NO, dependent_line, enrolment_on_fakes, principal_line

UPLOAD = Upload(key=KEY, uploaded_at=NOW, identity="v1")
CHECKPOINT = checkpoint_key(POLICY_NO, UPLOAD)


class Clock:
    """One second per reading."""

    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at

    def invocation(self, seconds: float) -> Budget:
        """A fresh invocation's budget: `seconds` from now on this clock (no margin beyond one chunk)."""
        deadline = self.at + timedelta(seconds=seconds)

        def remaining_s() -> float:  # read when asked: the clock moves on meanwhile
            return (deadline - self.at).total_seconds()

        return Budget(remaining_s, margin_s=1.0)


def family(n: int) -> list[str]:
    return [principal_line(f"E{n}", f"p{n}@acme.example"), dependent_line(f"E{n}", "child", "Omar Ali")]


def lines(families: int) -> list[str]:
    return [line for n in range(families) for line in family(n)]


def continuing(*file_lines: str, store: FakeEnrolmentStore | None = None,
               ) -> tuple[EnrolmentDeps, FakeEnrolmentStore, Clock, list[tuple[str, int]]]:
    deps, store, _ = enrolment_on_fakes(*file_lines, store=store)
    clock = Clock()
    tokens: list[tuple[str, int]] = []
    deps = dataclasses.replace(deps, now=clock, resume_csv=resume_hr_csv, resume_report=ReportWriter.resumed,
                               continue_later=lambda key, seq: tokens.append((key, seq)))
    return deps, store, clock, tokens


def run_to_the_end(deps: EnrolmentDeps, store: FakeEnrolmentStore, clock: Clock, tokens: list[tuple[str, int]],
                   seconds: float = 6) -> tuple[FileResult, int]:
    """The dropped file, then every token it leaves, each in a fresh invocation: (the result, invocations)."""
    result = start_file(deps, store.bucket, KEY, None, UPLOAD, clock.invocation(seconds))
    invocations = 1
    while result is None:
        key, seq = tokens[-1]
        result = continue_file(deps, key, seq, clock.invocation(seconds))
        invocations += 1
    return result, invocations


def go_on_to_the_end(deps: EnrolmentDeps, clock: Clock, tokens: list[tuple[str, int]]) -> FileResult:
    """Every token left from the last one on, each in a fresh invocation, until the run's report."""
    result = None
    while result is None:
        key, seq = tokens[-1]
        result = continue_file(deps, key, seq, clock.invocation(6))
    return result


def test_a_file_too_big_for_one_invocation_finishes_in_several_with_one_report_every_row_once():
    deps, store, clock, tokens = continuing(*lines(1050))  # 2,100 rows

    result, invocations = run_to_the_end(deps, store, clock, tokens)

    assert invocations >= 3
    assert [seq for _, seq in tokens] == list(range(1, invocations))
    assert store.ranged_reads == invocations - 1  # each later one reads from its saved byte offset on
    assert result.totals == {"rows": 2100, "created": 2100, "updated": 0, "unchanged": 0, "terminated": 0,
                             "errors": 0}
    assert len(store.member_rows) == 2100 and len(store.account_rows) == 1050
    report = store.report(result.report_keys[0])
    assert [r["line"] for r in report["rows"]] == list(range(2, 2102))  # each row once, in order
    assert report["totals"] == result.totals and report["status"] == "completed"
    assert report["encoding"] == "utf-8"
    csv_lines = store.objects[result.report_keys[1]][0].decode("utf-8-sig").splitlines()
    assert len([line for line in csv_lines if line[:1].isdigit()]) == 2100 and csv_lines[0].startswith("line,")
    (entry,) = store.report_index(POLICY_NO)
    assert entry["totals"] == result.totals
    # The run's parts and state are gone; the checkpoint says it is done.
    assert store.run_objects == {}
    checkpoint, _ = store.load_checkpoint(CHECKPOINT) or ({}, "")
    assert checkpoint["status"] == "finished" and checkpoint["invocations"] == invocations


def test_the_report_in_parts_is_the_report_of_one_invocation_row_for_row():
    file_lines = lines(400)
    deps, store, clock, tokens = continuing(*file_lines)
    in_parts, invocations = run_to_the_end(deps, store, clock, tokens, seconds=3)
    one_deps, one_store, _ = enrolment_on_fakes(*file_lines)

    one_go = enrol_file(one_deps, one_store.bucket, KEY)

    assert invocations >= 3
    parts_report, whole_report = store.report(in_parts.report_keys[0]), one_store.report(one_go.report_keys[0])
    assert parts_report["rows"] == whole_report["rows"]
    assert parts_report["totals"] == whole_report["totals"]


def test_a_redelivered_token_and_a_redelivered_drop_change_nothing():
    deps, store, clock, tokens = continuing(*lines(600))
    result, _ = run_to_the_end(deps, store, clock, tokens)
    members = {k: dataclasses.asdict(v) for k, v in store.member_rows.items()}
    transactions, report = store.transactions, store.objects[result.report_keys[0]]

    for key, seq in list(tokens):
        assert continue_file(deps, key, seq, clock.invocation(6)) is None
    assert start_file(deps, store.bucket, KEY, None, UPLOAD, clock.invocation(6)) is None

    assert store.transactions == transactions
    assert {k: dataclasses.asdict(v) for k, v in store.member_rows.items()} == members
    assert store.objects[result.report_keys[0]] == report


def test_two_invocations_for_one_token_at_once_apply_the_rows_once():
    deps, store, clock, tokens = continuing(*lines(600))
    assert start_file(deps, store.bucket, KEY, None, UPLOAD, clock.invocation(6)) is None
    key, seq = tokens[-1]
    others: list[FileResult | None] = []
    write = store.write

    def the_other_arrives_meanwhile(rows):  # the same token, delivered twice, runs while this one works
        if not others:
            others.append(continue_file(deps, key, seq, clock.invocation(6)))
        write(rows)

    store.write = the_other_arrives_meanwhile  # type: ignore[method-assign]
    assert continue_file(deps, key, seq, clock.invocation(6)) is None
    store.write = write  # type: ignore[method-assign]
    assert others == [None]
    result = go_on_to_the_end(deps, clock, tokens)

    report = store.report(result.report_keys[0])
    assert [r["line"] for r in report["rows"]] == list(range(2, 1202))
    assert result.totals["created"] == 1200 and result.totals["rows"] == 1200


def test_an_invocation_that_dies_is_taken_over_from_the_last_hand_over_once_its_lease_is_over():
    deps, store, clock, tokens = continuing(*lines(600))
    assert start_file(deps, store.bucket, KEY, None, UPLOAD, clock.invocation(6)) is None
    key, seq = tokens[-1]
    store.fail_writes_with = RuntimeError("the invocation dies")
    with pytest.raises(RuntimeError):
        continue_file(deps, key, seq, clock.invocation(6))
    store.fail_writes_with = None
    # Redelivered at once (impossible on SQS before the visibility timeout): the lease still holds.
    assert continue_file(deps, key, seq, clock.invocation(6)) is None and tokens[-1] == (key, seq)
    clock.at += timedelta(minutes=15)

    result = go_on_to_the_end(deps, clock, tokens)

    report = store.report(result.report_keys[0])
    assert [r["line"] for r in report["rows"]] == list(range(2, 1202))
    assert result.totals["created"] == 1200


def test_a_hand_over_whose_token_was_never_dropped_is_handed_on_by_the_redelivery():
    deps, store, clock, tokens = continuing(*lines(600))
    dropped: list[tuple[str, int]] = []

    def fails_once(key: str, seq: int) -> None:
        if not dropped:
            dropped.append((key, seq))
            raise RuntimeError("S3 refused the token")
        tokens.append((key, seq))

    deps = dataclasses.replace(deps, continue_later=fails_once)
    with pytest.raises(RuntimeError):
        start_file(deps, store.bucket, KEY, None, UPLOAD, clock.invocation(6))

    assert start_file(deps, store.bucket, KEY, None, UPLOAD, clock.invocation(6)) is None  # SQS redelivers
    assert tokens == dropped

    result = go_on_to_the_end(deps, clock, tokens)
    assert result.totals["created"] == 1200
    assert [r["line"] for r in store.report(result.report_keys[0])["rows"]] == list(range(2, 1202))


@pytest.mark.parametrize("kept", [use_cases.PRINCIPALS_KEPT, 3])
def test_a_dependent_before_its_principal_and_a_duplicate_across_invocations_are_decided_at_the_end(
        kept, monkeypatch):
    monkeypatch.setattr(use_cases, "PRINCIPALS_KEPT", kept)  # 3: the late principal is asked of the table
    early_child = dependent_line("E9000", "child", "Lina Saad")
    late_principal = principal_line("E9000", "late@acme.example")
    duplicate = principal_line("E5", "again@acme.example")
    deps, store, clock, tokens = continuing(early_child, *lines(500), duplicate, late_principal)

    result, invocations = run_to_the_end(deps, store, clock, tokens)

    assert invocations >= 3
    rows = {r["line"]: r for r in store.report(result.report_keys[0])["rows"]}
    assert rows[2]["outcome"] == "created"  # the child waited for its principal, 1,000 rows later
    assert rows[1003]["outcome"] == "error" and rows[1003]["errors"][0]["rule"] == "duplicate"
    assert rows[1004]["outcome"] == "created"
    assert result.totals["rows"] == 1003 and result.totals["errors"] == 1


def test_a_file_problem_after_a_hand_over_is_reported_after_the_rows_before_it():
    deps, store, clock, tokens = continuing(*lines(500))
    body = store.files[(store.bucket, KEY)]
    store.files[(store.bucket, KEY)] = body + b"E77,principal,Bad \xff name,x,1980-01-01,male,b@x.example,,,GOLD,,,\n"

    result, invocations = run_to_the_end(deps, store, clock, tokens)

    assert invocations >= 3
    report = store.report(result.report_keys[0])
    assert result.status == "completed_with_errors" and result.totals["created"] == 1000
    (problem,) = report["file_errors"]
    assert problem["rule"] == "undecodable" and problem["line"] == 1002


def test_the_saved_state_is_json_and_names_the_next_unread_row():
    deps, store, clock, _ = continuing(*lines(500))
    assert start_file(deps, store.bucket, KEY, None, UPLOAD, clock.invocation(6)) is None
    checkpoint, _ = store.load_checkpoint(CHECKPOINT) or ({}, "")
    state = json.loads(gzip.decompress(store.run_objects[checkpoint["state"]]))
    offset, line = state["reader"]["offset"], state["reader"]["line"]
    body = store.files[(store.bucket, KEY)]
    assert body[:offset].count(b"\n") == line  # the header and every row before the next unread one
    assert state["report"]["rows"] == line - 1
    assert checkpoint["seq"] == 1 and checkpoint["lease_until"] is None


def saved_states(store: FakeEnrolmentStore) -> list[tuple[int, dict]]:
    """Every state handed over, as (its gzipped size, its JSON), in order."""
    states: list[tuple[int, dict]] = []
    put = store.put_run_object

    def keeping(key, body):
        if key.endswith(".state.json.gz"):
            packed = body.getvalue()
            states.append((len(packed), json.loads(gzip.decompress(packed))))
        put(key, body)

    store.put_run_object = keeping  # type: ignore[method-assign]
    return states


def test_the_saved_state_stays_small_however_many_rows_came_before(monkeypatch):
    monkeypatch.setattr(use_cases, "PRINCIPALS_KEPT", 50)
    deps, store, clock, tokens = continuing(*lines(2000))  # 4,000 rows
    states = saved_states(store)

    result, invocations = run_to_the_end(deps, store, clock, tokens)

    assert invocations >= 8 and result.totals["created"] == 4000
    rows_read = [state["report"]["rows"] for _, state in states]
    for _, state in states:
        assert len(state["run"]["principal_accounts"]) <= 50  # the last principals only
        assert state["run"]["deferred"] == []
    # What grows with the rows read is the duplicate check's 12 bytes a row (16 in base64), no more.
    (first_size, _), (last_size, _) = states[0], states[-1]
    assert (last_size - first_size) / (rows_read[-1] - rows_read[0]) < 16
    # Every dependent carries its principal's account, the principal's far back or not.
    for n in range(2000):
        people = [m for m in store.member_rows.values() if m.employee_no == f"E{n}"]
        assert len(people) == 2 and people[0].account_id == people[1].account_id is not None


class CountingStore(FakeEnrolmentStore):
    """Counts the DynamoDB requests the real store would make: BatchGetItem takes 100 keys a request."""

    def __init__(self) -> None:
        super().__init__()
        self.batch_gets = 0

    def _pages(self, keys) -> list[str]:
        keys = list(set(keys))
        self.batch_gets += -(-len(keys) // 100)
        return keys

    def members(self, member_ids):
        return super().members(self._pages(member_ids))

    def login_names(self, usernames):
        return super().login_names(self._pages(usernames))

    def accounts(self, account_ids):
        return super().accounts(self._pages(account_ids))


@pytest.mark.parametrize("families", [500, 2000])
def test_dynamodb_requests_per_row_do_not_grow_with_the_file(families):
    deps, store, clock, tokens = continuing(*lines(families), store=CountingStore())
    assert isinstance(store, CountingStore)

    result, invocations = run_to_the_end(deps, store, clock, tokens)

    assert invocations >= 3 and result.totals["created"] == 2 * families
    # Per chunk of 100 rows (50 families): one read of members, one of login names, two transactions.
    assert (store.batch_gets + store.transactions) / (2 * families) == pytest.approx(0.04)

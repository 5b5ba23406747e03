"""The enrolment store's contract: the in-memory fake and EnrolmentStore on moto pass the same tests.

Each port method's observable behaviour: a policy read back with its plan codes, members, login
names and accounts read in batches (unknown ids absent), writes guarded by their conditions and
by the records' versions (a concurrent change raises StaleState and writes nothing of the
transaction), plans larger than one transaction written whole, the HR file read back and the
report index listed oldest first.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.enrolment.ports import EnrolmentStorage, GroupPolicy, Records, RowWrite
from chalicelib.enrolment.report_rules import INDEX_FOLDER, continuation_key, report_folder
from chalicelib.enrolment.rules import EnrolmentRow, Gender
from chalicelib.errors import StaleState
from chalicelib.kernel.relationship import Relationship
from tests.enrolment.fakes import FakeEnrolmentStore, FakeRecords

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
POLICY_NO = "GP-ACME-2026"
PLANS = {code: {"name_en": code.title(), "name_ar": "ب", "network_en": "A", "network_ar": "أ"}
         for code in ("GOLD", "SILVER")}


@dataclass
class Backend:
    store: EnrolmentStorage
    records: Records
    bucket: str
    put_file: object  # (key, bytes) -> None
    report_index: object  # policy_no -> list[dict]
    drop_token: object  # (checkpoint key, seq) -> None: what a hand-over drops
    report_body: object  # key -> bytes


@pytest.fixture(params=["fake", "moto"])
def backend(request) -> Backend:
    if request.param == "fake":
        fake = FakeEnrolmentStore()

        def fake_token(checkpoint: str, seq: int) -> None:
            fake.tokens[continuation_key(checkpoint, seq)] = (checkpoint, seq)

        return Backend(fake, FakeRecords(), fake.bucket, fake.put_file, fake.report_index, fake_token,
                       lambda key: fake.objects[key][0])
    request.getfixturevalue("aws")
    from chalicelib.enrolment import records
    from chalicelib.enrolment.store import EnrolmentStore, drop_continuation
    from chalicelib.platform.aws import client
    from chalicelib.settings import get_settings

    real = EnrolmentStore()
    bucket = get_settings().hr_bucket

    def put_file(key: str, body: bytes) -> None:
        client("s3").put_object(Bucket=bucket, Key=key, Body=body)

    def report_body(key: str) -> bytes:
        body: bytes = client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        return body

    return Backend(real, records, bucket, put_file, real.report_index, drop_continuation, report_body)


def row(employee_no: str = "E1", *, email: str | None = "a@acme.example", plan: str = "GOLD") -> EnrolmentRow:
    return EnrolmentRow(line=2, employee_no=employee_no, relationship=Relationship.PRINCIPAL, name_en="Ahmad Ali",
                        name_ar="أحمد علي", date_of_birth=date(1980, 1, 1), gender=Gender.MALE, email=email,
                        mobile=None, national_id=None, plan=plan, coverage_start=date(2026, 1, 1),
                        coverage_end=date(2026, 12, 31))


def new_member(b: Backend, member_id: str, **changes: object) -> RowWrite:
    record = b.records.member(None, member_id, POLICY_NO, row(**changes), f"fp-{member_id}", None, NOW,
                                card_fingerprint=f"card-{member_id}", card_since=NOW)  # type: ignore[arg-type]
    return RowWrite(saves=[(record, b.records.new_condition())])


def test_a_policy_is_read_back_with_its_plan_codes_and_an_unknown_one_is_none(backend):
    from chalicelib.enrolment.policies import create_group_policy

    create_group_policy(backend.store, {"policy_no": POLICY_NO, "employer_en": "Acme", "employer_ar": "أكمي",  # type: ignore[arg-type]
                                        "plans": PLANS}, NOW)

    assert backend.store.policy(POLICY_NO) == GroupPolicy(POLICY_NO, frozenset({"GOLD", "SILVER"}))
    assert backend.store.policy("GP-NOBODY-2026") is None


def test_members_are_read_in_one_batch_and_ids_that_are_nobody_are_absent(backend):
    backend.store.write([new_member(backend, "M1"), new_member(backend, "M2", employee_no="E2")])

    found = backend.store.members(["M1", "M2", "M9"])

    assert sorted(found) == ["M1", "M2"]
    assert found["M2"].status == "active" and found["M2"].fingerprint == "fp-M2"
    assert found["M2"].card_fingerprint == "card-M2"  # what the card prints: a change reissues it
    assert backend.store.members([]) == {}


def test_a_member_created_twice_loses_the_second_time_with_stale_state(backend):
    backend.store.write([new_member(backend, "M1")])

    with pytest.raises(StaleState):
        backend.store.write([new_member(backend, "M1")])


def test_a_member_changed_since_it_was_read_raises_stale_state_and_nothing_of_the_transaction_is_written(backend):
    b = backend
    b.store.write([new_member(b, "M1")])
    first, second = b.store.members(["M1"])["M1"], b.store.members(["M1"])["M1"]
    b.store.write([RowWrite(saves=[(b.records.member(first, "M1", POLICY_NO, row(plan="SILVER"), "fp-2", None, NOW,
                                                      card_fingerprint="card-2", card_since=NOW),
                                    None)])])
    late = b.records.member(second, "M1", POLICY_NO, row(plan="GOLD"), "fp-3", None, NOW, card_fingerprint="card-3",
                              terminated=True)
    other = new_member(b, "M2", employee_no="E2")

    with pytest.raises(StaleState):
        b.store.write([RowWrite(saves=[*other.saves, (late, None)])])

    assert b.store.members(["M1"])["M1"].fingerprint == "fp-2"
    assert b.store.members(["M2"]) == {}  # the other row of that transaction is not written either


def test_a_terminated_member_reads_back_terminated(backend):
    b = backend
    record = b.records.member(None, "M1", POLICY_NO, row(), "fp", None, NOW, card_fingerprint="card", card_since=NOW,
                              terminated=True)
    b.store.write([RowWrite(saves=[(record, b.records.new_condition())])])

    assert b.store.members(["M1"])["M1"].status == "terminated"


def test_a_login_name_is_claimed_once_and_released_only_by_its_owner(backend):
    b = backend
    account = b.records.invited_account("acc1", "a@acme.example", "Ahmad", NOW)
    b.store.write([RowWrite(saves=[(account, b.records.new_account_condition()),
                                   (b.records.username("a@acme.example", "acc1"), b.records.free_name())])])

    with pytest.raises(StaleState):
        b.store.write([RowWrite(saves=[(b.records.username("a@acme.example", "acc2"), b.records.free_name())])])
    with pytest.raises(StaleState):
        b.store.write([RowWrite(deletes=[(b.records.username("a@acme.example", "acc2"), b.records.owned_by("acc2"))])])
    assert b.store.login_names(["a@acme.example", "b@acme.example"])["a@acme.example"].account_id == "acc1"

    b.store.write([RowWrite(deletes=[(b.records.username("a@acme.example", "acc1"), b.records.owned_by("acc1"))])])
    assert b.store.login_names(["a@acme.example"]) == {}


def test_an_account_is_created_once_and_readdressed_with_a_new_welcome_generation(backend):
    b = backend
    b.store.write([RowWrite(saves=[(b.records.invited_account("acc1", "a@acme.example", "Ahmad", NOW),
                                    b.records.new_account_condition())])])
    with pytest.raises(StaleState):
        b.store.write([RowWrite(saves=[(b.records.invited_account("acc1", "x@acme.example", "X", NOW),
                                        b.records.new_account_condition())])])
    (read,) = b.store.accounts(["acc1", "acc9"]).values()

    b.store.write([RowWrite(saves=[(b.records.readdressed(read, "new@acme.example", NOW, reinvite=True), None)])])

    again = b.store.accounts(["acc1"])["acc1"]
    assert (again.email, again.status, again.welcome_generation) == ("new@acme.example", "invited", 2)


def test_an_account_changed_since_it_was_read_raises_stale_state(backend):
    b = backend
    b.store.write([RowWrite(saves=[(b.records.invited_account("acc1", "a@acme.example", "Ahmad", NOW),
                                    b.records.new_account_condition())])])
    first, second = b.store.accounts(["acc1"])["acc1"], b.store.accounts(["acc1"])["acc1"]
    b.store.write([RowWrite(saves=[(b.records.readdressed(first, "b@acme.example", NOW, reinvite=True), None)])])

    with pytest.raises(StaleState):
        b.store.write([RowWrite(saves=[(b.records.readdressed(second, "c@acme.example", NOW, reinvite=True), None)])])
    assert b.store.accounts(["acc1"])["acc1"].email == "b@acme.example"


def test_a_write_larger_than_one_transaction_is_written_whole(backend):
    plan = [new_member(backend, f"M{i:03d}", employee_no=f"E{i}") for i in range(130)]

    backend.store.write(plan)

    assert len(backend.store.members(f"M{i:03d}" for i in range(130))) == 130


def test_the_dropped_file_is_read_back_as_a_stream(backend):
    backend.put_file("hr/incoming/GP-ACME-2026/staff.csv", b"employee_no,relationship\n")

    stream = backend.store.open_file(backend.bucket, "hr/incoming/GP-ACME-2026/staff.csv", None)

    assert stream.read(11) == b"employee_no" and stream.read() == b",relationship\n"


def test_the_report_index_lists_a_policys_entries_oldest_first(backend):
    folder = report_folder(POLICY_NO) + INDEX_FOLDER
    for minutes, name in ((5, "later"), (0, "first")):
        at = NOW + timedelta(minutes=minutes)
        entry = json.dumps({"file": name, "uploaded_at": at.isoformat()}).encode()
        backend.store.put_report(f"{folder}{at:%Y%m%dT%H%M%S}000Z_x.json", io.BytesIO(entry), "application/json")
    backend.store.put_report(report_folder(POLICY_NO) + "r.report.csv", io.BytesIO(b"line\r\n"), "text/csv")

    assert [e["file"] for e in backend.report_index(POLICY_NO)] == ["first", "later"]  # type: ignore[operator]
    assert backend.report_index("GP-OTHER-2026") == []  # type: ignore[operator]


def test_the_dropped_file_is_read_from_a_byte_offset_on_and_from_its_end_as_empty(backend):
    backend.put_file("hr/incoming/GP-ACME-2026/staff.csv", b"employee_no,relationship\n")

    rest = backend.store.open_file(backend.bucket, "hr/incoming/GP-ACME-2026/staff.csv", None, 12)
    end = backend.store.open_file(backend.bucket, "hr/incoming/GP-ACME-2026/staff.csv", None, 25)

    assert rest.read() == b"relationship\n" and end.read() == b""


RUN = "hr/runs/GP-ACME-2026/20260301T090000000Z_abc/"


def test_a_checkpoint_is_created_once_and_advanced_only_from_the_version_read(backend):
    store = backend.store
    first = store.save_checkpoint(RUN + "checkpoint.json", {"seq": 0}, None)
    assert first is not None
    assert store.save_checkpoint(RUN + "checkpoint.json", {"seq": 0, "other": True}, None) is None

    second = store.save_checkpoint(RUN + "checkpoint.json", {"seq": 1}, first)

    assert second is not None and second != first
    assert store.save_checkpoint(RUN + "checkpoint.json", {"seq": 1, "stale": True}, first) is None
    assert store.load_checkpoint(RUN + "checkpoint.json") == ({"seq": 1}, second)
    assert store.load_checkpoint(RUN + "other.json") is None


def test_run_objects_are_kept_read_back_joined_in_front_of_a_report_and_deleted(backend):
    store = backend.store
    store.put_run_object(RUN + "1.part.csv", io.BytesIO(b"line,a\r\n2,x\r\n"))
    store.put_run_object(RUN + "2.part.csv", io.BytesIO(b"3,y\r\n"))
    key = report_folder(POLICY_NO) + "r.report.csv"

    store.put_report(key, io.BytesIO(b"4,z\r\n"), "text/csv", [RUN + "1.part.csv", RUN + "2.part.csv"])
    store.delete_run_objects([RUN + "1.part.csv", RUN + "2.part.csv"])

    assert backend.report_body(key) == b"line,a\r\n2,x\r\n3,y\r\n4,z\r\n"  # type: ignore[operator]
    store.put_run_object(RUN + "state", io.BytesIO(b"{}"))
    assert store.run_object(RUN + "state") == b"{}"


def test_a_continuation_token_names_its_run_until_it_is_deleted(backend):
    checkpoint = RUN + "checkpoint.json"
    backend.drop_token(checkpoint, 3)  # type: ignore[operator]
    key = continuation_key(checkpoint, 3)

    assert key.startswith("hr/incoming/GP-ACME-2026/_continue/") and key.endswith(".csv")
    assert backend.store.continuation_token(backend.bucket, key) == (checkpoint, 3)
    backend.store.delete_continuation_token(backend.bucket, key)
    assert backend.store.continuation_token(backend.bucket, key) is None

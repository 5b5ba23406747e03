"""A workbook too big for one invocation: resumed by sheet row, one report in file order, every row once (fakes)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from chalicelib.enrolment.continuation import Budget, continue_file, start_file
from chalicelib.enrolment.hr_report import ReportWriter
from chalicelib.enrolment.hr_xlsx import open_hr_file, resume_hr_file
from chalicelib.enrolment.ports import EnrolmentDeps, GroupPolicy
from chalicelib.enrolment.report_rules import Upload
from chalicelib.enrolment.use_cases import enrol_file
from tests.enrolment.fakes import FakeEnrolmentStore, FakeQueue, FakeRecords
from tests.enrolment.support import workbook

NOW = datetime(2026, 3, 1, 9, 0)
POLICY_NO = "GP-ACME-2026"
KEY = f"hr/incoming/{POLICY_NO}/staff.xlsx"
HEADER = ["employee_no", "relationship", "name_en", "name_ar", "date_of_birth", "gender", "email", "mobile",
          "national_id", "plan", "coverage_start", "coverage_end", "action"]


def family_rows(families: int) -> list[list[object]]:
    """Each child listed before her principal: she waits for the end of the file, the last invocation's."""
    rows: list[list[object]] = []
    for n in range(families):
        rows.append([f"E{n}", "child", "Sara Ali", "سارة", datetime(2015, 5, 5), "female", None, None, None, "GOLD",
                     datetime(2026, 1, 1), datetime(2026, 12, 31), None])
        rows.append([f"E{n}", "principal", "Ahmad Ali", "أحمد علي", datetime(1980, 1, 1), "male",
                     f"p{n}@acme.example", None, None, "GOLD", datetime(2026, 1, 1), datetime(2026, 12, 31), None])
    return rows


class Clock:
    """One second per reading: an invocation of a few seconds stops after a few chunks of 100 rows."""

    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at

    def invocation(self, seconds: float) -> Budget:
        deadline = self.at + timedelta(seconds=seconds)

        def remaining_s() -> float:  # read when asked: the clock moves on meanwhile
            return (deadline - self.at).total_seconds()

        return Budget(remaining_s, margin_s=1.0)


def deps_on_fakes(body: bytes, clock: Clock | None = None) -> tuple[EnrolmentDeps, FakeEnrolmentStore, list]:
    store = FakeEnrolmentStore()
    store.policies[POLICY_NO] = GroupPolicy(POLICY_NO, frozenset({"GOLD"}))
    store.put_file(KEY, body)
    tokens: list[tuple[str, int]] = []
    deps = EnrolmentDeps(store=store, records=FakeRecords(), enqueue=FakeQueue(), open_csv=open_hr_file,
                         new_report=ReportWriter, now=clock or (lambda: NOW), resume_csv=resume_hr_file,
                         resume_report=ReportWriter.resumed, continue_later=lambda k, s: tokens.append((k, s)))
    return deps, store, tokens


def test_a_workbook_read_in_several_invocations_is_reported_once_in_file_order_like_one_invocations():
    body = workbook(HEADER, family_rows(300))  # 600 rows
    clock = Clock()
    deps, store, tokens = deps_on_fakes(body, clock)
    upload = Upload(key=KEY, uploaded_at=NOW, identity="v1")

    result = start_file(deps, store.bucket, KEY, None, upload, clock.invocation(3))
    invocations = 1
    while result is None:
        key, seq = tokens[-1]
        result = continue_file(deps, key, seq, clock.invocation(3))
        invocations += 1

    assert invocations >= 3
    assert store.ranged_reads == 0  # a zip is read whole again each time, never from a byte offset
    report = store.report(result.report_keys[0])
    assert [r["line"] for r in report["rows"]] == list(range(2, 602))  # each row once, in file order
    assert result.totals["created"] == 600 and result.totals["errors"] == 0
    assert len(store.member_rows) == 600 and len(store.account_rows) == 300
    assert report["encoding"] == "xlsx"
    # The fake store joins the parts as the real one does: the CSV, too, is the one-invocation report.
    one_deps, one_store, _ = deps_on_fakes(body)
    one_go = enrol_file(one_deps, one_store.bucket, KEY)
    assert one_store.report(one_go.report_keys[0])["rows"] == report["rows"]
    in_parts = store.objects[result.report_keys[1]][0].decode("utf-8-sig").splitlines()
    whole = one_store.objects[one_go.report_keys[1]][0].decode("utf-8-sig").splitlines()
    assert [line for line in in_parts if line[:1].isdigit()] == [line for line in whole if line[:1].isdigit()]


def test_a_resumed_workbook_whose_state_went_through_json_reads_on_from_the_next_row():
    import json

    body = workbook(HEADER, family_rows(3))
    reader = open_hr_file(io.BytesIO(body))
    rows = iter(reader)
    next(rows), next(rows)
    position = json.loads(json.dumps(reader.position()))
    rest = resume_hr_file(io.BytesIO(body), position)
    assert [line for line, _ in rest] == [4, 5, 6, 7]

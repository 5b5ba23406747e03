"""Enrolment on fakes: deps wired to the in-memory store, a fixed clock, an HR file in the fake bucket."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime

from chalicelib.enrolment.hr_csv import open_hr_csv
from chalicelib.enrolment.hr_report import ReportWriter
from chalicelib.enrolment.ports import EnrolmentDeps, GroupPolicy
from tests.enrolment.fakes import FakeEnrolmentStore, FakeQueue, FakeRecords

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
POLICY_NO = "GP-ACME-2026"
KEY = f"hr/incoming/{POLICY_NO}/staff.csv"
HEADER = ("employee_no,relationship,name_en,name_ar,date_of_birth,gender,email,mobile,national_id,plan,"
          "coverage_start,coverage_end,action\n")


def principal_line(employee_no: str, email: str, name: str = "Ahmad Ali", plan: str = "GOLD", action: str = "") -> str:
    return f"{employee_no},principal,{name},أحمد علي,1980-01-01,male,{email},,,{plan},2026-01-01,2026-12-31,{action}"


def dependent_line(employee_no: str, relationship: str, name: str, born: str = "2015-05-05") -> str:
    return f"{employee_no},{relationship},{name},سارة,{born},female,,,,GOLD,2026-01-01,2026-12-31,"


def enrolment_on_fakes(*lines: str, store: FakeEnrolmentStore | None = None,
                       key: str = KEY) -> tuple[EnrolmentDeps, FakeEnrolmentStore, FakeQueue]:
    """Deps on fakes with the policy in place and `lines` dropped as `key`."""
    store = store or FakeEnrolmentStore()
    store.policies.setdefault(POLICY_NO, GroupPolicy(POLICY_NO, frozenset({"GOLD", "SILVER"})))
    store.put_file(key, (HEADER + "".join(line + "\n" for line in lines)).encode())
    queue = FakeQueue()
    deps = EnrolmentDeps(store=store, records=FakeRecords(), enqueue=queue, open_csv=open_hr_csv,
                         new_report=ReportWriter, now=lambda: NOW)
    return deps, store, queue


def workbook(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """An .xlsx as Excel saves one: the header, then the rows, on the first sheet (cells keep their types)."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

"""Helpers for the HR enrolment tests: files built from rows, and the example policy."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from chalicelib.enrolment.hr_csv import open_hr_csv
from chalicelib.enrolment.rules import EnrolmentRow, RowError, parse_row

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "hr"
POLICY_NO = "GP-ACME-2026"
PLANS = frozenset({"GOLD", "SILVER"})
TODAY = date(2026, 11, 22)

HEADER = [
    "employee_no",
    "relationship",
    "name_en",
    "name_ar",
    "date_of_birth",
    "gender",
    "email",
    "mobile",
    "national_id",
    "plan",
    "coverage_start",
    "coverage_end",
    "action",
]
PRINCIPAL = {
    "employee_no": "E1001",
    "relationship": "principal",
    "name_en": "Ahmad Khalid Al-Mutairi",
    "name_ar": "أحمد خالد المطيري",
    "date_of_birth": "1984-03-12",
    "gender": "male",
    "email": "ahmad@acme.example",
    "mobile": "",
    "national_id": "284031201072",
    "plan": "GOLD",
    "coverage_start": "2026-01-01",
    "coverage_end": "2026-12-31",
    "action": "",
}
CHILD = PRINCIPAL | {
    "relationship": "child",
    "name_en": "Yousef Ahmad Al-Mutairi",
    "name_ar": "يوسف أحمد المطيري",
    "date_of_birth": "2015-09-20",
    "email": "",
    "national_id": "315092001284",
}


def csv_text(rows: list[dict[str, str]], header: list[str] = HEADER, newline: str = "\r\n") -> str:
    """A CSV as a spreadsheet writes it, quoting cells that need it."""

    def cell(value: str) -> str:
        if any(c in value for c in ',"\r\n'):
            return '"' + value.replace('"', '""') + '"'
        return value

    lines = [",".join(cell(h) for h in header)]
    lines += [",".join(cell(row.get(h, "")) for h in header) for row in rows]
    return newline.join(lines) + newline


def read_rows(data: bytes, **kw: int) -> list[tuple[int, dict[str, str]]]:
    return list(open_hr_csv(io.BytesIO(data), **kw))


def parse(raw: dict[str, str], line: int = 2) -> EnrolmentRow | tuple[RowError, ...]:
    return parse_row(line, raw, plans=PLANS, today=TODAY)


def valid(raw: dict[str, str], line: int = 2) -> EnrolmentRow:
    result = parse(raw, line)
    assert isinstance(result, EnrolmentRow), result
    return result


@pytest.fixture(scope="session")
def big_hr_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bench.hr_file import generate_hr_csv

    path = tmp_path_factory.mktemp("hr") / "generated-50k.csv"
    generate_hr_csv(path, rows=50_000, policy_no="GP-BENCH-2026", seed=7)
    return path

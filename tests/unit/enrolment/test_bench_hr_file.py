"""The bench's generated HR file says how many welcomes its first enrolment must queue."""

from __future__ import annotations

import csv
from pathlib import Path

from bench.hr_file import generate_hr_csv


def test_new_principals_are_the_principal_rows_not_terminated(tmp_path: Path) -> None:
    made = generate_hr_csv(tmp_path / "hr.csv", rows=3000, seed=11)

    with made.path.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    principals = [r for r in rows if r[" Relationship "] == "principal"]
    assert len(rows) == made.rows == 3000 and len(principals) == made.principals
    assert made.new_principals == sum(1 for r in principals if r["Action"] != "terminate")
    assert 0 < made.principals - made.new_principals < made.principals // 20  # about 1% terminated

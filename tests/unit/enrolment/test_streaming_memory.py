"""A 50,000-row file is read and reported in bounded memory, never whole."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from chalicelib.enrolment.hr_csv import open_hr_csv
from chalicelib.enrolment.hr_report import ReportWriter
from chalicelib.enrolment.report_rules import Outcome, ReportLine

MB = 1024 * 1024


def peak_bytes(work: Callable[[], object]) -> tuple[int, object]:
    tracemalloc.start()
    try:
        result = work()
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def test_a_50000_row_file_is_read_row_by_row_in_a_small_fraction_of_its_size(
    big_hr_file: Path,
) -> None:
    size = big_hr_file.stat().st_size

    def read_all() -> tuple[int, int]:
        rows = arabic = 0
        with big_hr_file.open("rb") as stream:
            for _, raw in open_hr_csv(stream):
                rows += 1
                arabic += bool(raw["name_ar"])
        return rows, arabic

    peak, (rows, arabic) = peak_bytes(read_all)

    assert rows == 50_000 and arabic == 50_000
    assert size > 7 * MB
    # Decoded, the file would be about twice its size in memory; the reader holds ~1 chunk.
    assert peak < 2 * MB, f"peak {peak / MB:.1f} MB for a {size / MB:.1f} MB file"


def test_a_50000_line_report_is_written_in_bounded_memory(tmp_path: Path) -> None:
    def write_report() -> int:
        out = ReportWriter(
            file_name="generated-50k.csv",
            policy_no="GP-BENCH-2026",
            received_at=datetime(2026, 11, 22, tzinfo=UTC),
            spool_bytes=MB,
            spool_dir=str(tmp_path),
        )
        for line in range(2, 50_002):
            out.add(ReportLine(line, f"E{100000 + line}", "principal", "Y31DA3QZR1X04", Outcome.CREATED))
        report = out.finish(finished_at=datetime(2026, 11, 22, tzinfo=UTC))
        json_size = sum(len(block) for block in iter(lambda: report.json.read(64 * 1024), b""))
        report.close()
        return json_size

    peak, json_size = peak_bytes(write_report)

    assert json_size > 5 * MB  # the body itself is far bigger than what was held
    assert peak < 4 * MB, f"peak {peak / MB:.1f} MB"

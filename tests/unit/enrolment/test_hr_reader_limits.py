"""Hostile HR files: reading costs work linear in the file's size and memory bounded by a row.

Work is counted, not timed: `HrCsv.work` is the bytes read from the stream plus the characters
the line search went over plus the characters handed to `csv` (which parses each once). The
regex the reader used before (`[^\r\n]*(?:\r\n|\r|\n)` over the unfinished tail) went over
the tail once per starting position: a 40,000-character line took ~21 s of CPU and a
120 KB field more than a minute. `test_hostile_lines_take_under_a_few_seconds_of_cpu` checks
that outcome on CPU time in a child process, the only check that needs no counter inside.
"""

from __future__ import annotations

import io
import random
import resource
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.enrolment.hr_csv import HrCsv, HrFileError, open_hr_csv
from chalicelib.enrolment.rules import CELL_MAX_CHARS, ROW_MAX_CHARS, EnrolmentRow, parse_row

from .conftest import CHILD, HEADER, PRINCIPAL, csv_text

ROOT = Path(__file__).resolve().parents[3]
HEAD = (",".join(HEADER) + "\r\n").encode()
GOOD = csv_text([CHILD]).split("\r\n", 1)[1].encode()  # one valid row, after the header
# Per byte: read once, gone over by the CR and the LF search once each, handed to csv once;
# plus a few characters per chunk and per line.
WORK_PER_BYTE = 4
WORK_CONSTANT = 256


def outcome(data: bytes, chunk_size: int = 64 * 1024) -> tuple[list[tuple[int, object]], HrFileError | None, int]:
    """Every row as `parse_row` judges it, the file error that stopped reading, and the work done."""
    rows: list[tuple[int, object]] = []
    reader: HrCsv | None = None
    try:
        reader = open_hr_csv(io.BytesIO(data), chunk_size=chunk_size)
        for line, raw in reader:
            result = parse_row(line, raw, plans={"GOLD"}, today=date(2026, 11, 22))
            rows.append((line, result if isinstance(result, EnrolmentRow) else {(e.column, e.rule) for e in result}))
    except HrFileError as error:
        return rows, error, reader.work if reader else 0
    return rows, None, reader.work


def errors_of(data: bytes, line: int) -> list:
    reader = open_hr_csv(io.BytesIO(data))
    raw = dict(reader)[line]
    result = parse_row(line, raw, plans={"GOLD"}, today=date(2026, 11, 22))
    assert isinstance(result, tuple), result
    return list(result)


def test_a_40000_character_line_is_a_row_error_naming_the_cell_and_the_next_row_is_read() -> None:
    data = HEAD + b"E1001,principal," + b"A" * 40_000 + b",x\r\n" + GOOD

    rows, stopped, work = outcome(data)

    assert stopped is None
    assert rows[0] == (2, {("name_en", "too_long")})
    assert isinstance(rows[1][1], EnrolmentRow) and rows[1][0] == 3
    assert work <= WORK_PER_BYTE * len(data) + WORK_CONSTANT
    (error,) = errors_of(data, 2)
    assert f"{CELL_MAX_CHARS:,}" in error.text.en and "name_en" in error.text.en
    assert "name_en" in error.text.ar and "أطول" in error.text.ar


def test_an_unfinished_120_kb_field_is_a_row_error_found_in_linear_work() -> None:
    data = HEAD + b'E1001,principal,"' + b"A" * 120 * 1024

    rows, stopped, work = outcome(data)

    assert stopped is None
    assert rows == [(2, {("", "row_too_long")})]
    assert work <= WORK_PER_BYTE * len(data) + WORK_CONSTANT
    (error,) = errors_of(data, 2)
    assert f"{ROW_MAX_CHARS:,}" in error.text.en and "سطر واحد" in error.text.ar


def test_a_line_over_the_row_limit_is_skipped_to_its_line_break_whatever_the_line_ends_and_chunks() -> None:
    for newline in (b"\r\n", b"\n", b"\r"):
        for chunk_size in (1000, 4096, 64 * 1024):
            data = HEAD.replace(b"\r\n", newline) + b"E1001,principal," + b"B" * (ROW_MAX_CHARS * 3) + newline
            data += GOOD.replace(b"\r\n", newline)

            rows, stopped, work = outcome(data, chunk_size)

            assert stopped is None, (newline, chunk_size)
            assert [(line, type(r).__name__) for line, r in rows] == [(2, "set"), (3, "EnrolmentRow")]
            assert rows[0][1] == {("", "row_too_long")}
            assert work <= WORK_PER_BYTE * len(data) + WORK_CONSTANT


def test_a_too_long_line_is_reported_with_the_employee_no_it_starts_with() -> None:
    data = HEAD + b"E1007,spouse," + b"C" * (ROW_MAX_CHARS + 10) + b"\r\n"

    ((line, raw),) = list(open_hr_csv(io.BytesIO(data)))

    assert line == 2 and raw["employee_no"] == "E1007" and raw["relationship"] == "spouse"


def test_a_quote_that_never_closes_over_many_lines_stops_the_file_at_its_row_keeping_rows_before() -> None:
    data = HEAD + GOOD + b'E1001,principal,"Smith\r\n' + b"and more text\r\n" * 10_000 + GOOD

    rows, stopped, work = outcome(data)

    assert [line for line, _ in rows] == [2]
    assert stopped is not None and stopped.problem.rule == "row_too_long" and stopped.problem.line == 3
    assert "Row 3" in stopped.problem.text.en and "double quote" in stopped.problem.text.en
    assert "الصف 3" in stopped.problem.text.ar and "علامة تنصيص" in stopped.problem.text.ar
    assert work <= WORK_PER_BYTE * len(data) + WORK_CONSTANT


def test_a_header_line_over_the_row_limit_rejects_the_file() -> None:
    _, stopped, _ = outcome(b"employee_no," + b"x" * (ROW_MAX_CHARS + 1))

    assert stopped is not None and stopped.problem.rule == "malformed"


class LazyStream:
    """A big file made on demand, so the test itself holds no more of it than the reader does."""

    def __init__(self, parts: Iterator[bytes]) -> None:
        self._parts = parts
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while len(self._buffer) < size:
            part = next(self._parts, b"")
            if not part:
                break
            self._buffer += part
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def test_a_10_mb_line_is_read_in_memory_bounded_by_a_row_not_by_the_line() -> None:
    def parts() -> Iterator[bytes]:
        yield HEAD + b"E1001,principal,"
        for _ in range(160):
            yield b"D" * 64 * 1024
        yield b"\r\n" + GOOD

    tracemalloc.start()
    try:
        rows = list(open_hr_csv(LazyStream(parts())))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert [line for line, _ in rows] == [2, 3]
    assert peak < 2 * 1024 * 1024, f"peak {peak / 1024:.0f} KiB for a 10 MiB line"


def test_hostile_lines_take_under_a_few_seconds_of_cpu() -> None:
    # Before: ~21 s of CPU for the line and over a minute for the field; now milliseconds.
    # CPU time of a child process, capped by the kernel: other load on the machine does not count.
    script = (
        "import io\n"
        "from chalicelib.enrolment.hr_csv import open_hr_csv, HrFileError\n"
        f"head = {HEAD!r}\n"
        "for data in (head + b'E1,principal,' + b'A' * 40_000, head + b'E1,principal,\"' + b'A' * 120 * 1024):\n"
        "    try:\n"
        "        list(open_hr_csv(io.BytesIO(data)))\n"
        "    except HrFileError:\n"
        "        pass\n"
        "print('done')\n"
    )

    def cap_cpu() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (5, 5))

    finished = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                              preexec_fn=cap_cpu, timeout=120, check=False)

    assert finished.returncode == 0 and finished.stdout.strip() == "done", finished.stderr[-2000:]


# --- property: any bytes at all ----------------------------------------------------------

_PIECES = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([b",", b'"', b'""', b"\r", b"\n", b"\r\n", b";", b"\t", b"\x00", b"\xef\xbb\xbf",
                     "أحمد".encode(), "أحمد".encode("cp1256"), "田中".encode("shift_jis"),
                     "张伟".encode("gbk"), "Иван".encode("koi8_r"), b"\xff\xfe", b"PK\x03\x04"]),
    # Long runs: lines and fields over the limits, built cheaply.
    st.tuples(st.sampled_from([b"A", b'"', b"\xd8", "ع".encode(), b"\r", b"a,"]),
              st.integers(1, 3 * ROW_MAX_CHARS)).map(lambda run: run[0] * run[1]),
)


@st.composite
def hostile_files(draw: st.DrawFn) -> bytes:
    header = draw(st.sampled_from([HEAD, HEAD.replace(b",", b";"), b"", b"\xef\xbb\xbf" + HEAD]))
    return header + b"".join(draw(st.lists(_PIECES, max_size=12)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=hostile_files(), chunk_size=st.sampled_from([5, 1000, 64 * 1024]))
def test_any_bytes_read_in_linear_work_and_fail_only_as_a_file_error_in_the_report(data: bytes,
                                                                                   chunk_size: int) -> None:
    # Anything but HrFileError escaping here would escape enrol_file and dead-letter the file.
    rows, _, work = outcome(data, chunk_size)

    assert work <= WORK_PER_BYTE * len(data) + WORK_CONSTANT
    assert all(line >= 2 for line, _ in rows)


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=20_000), chunk_size=st.sampled_from([3, 4096]))
def test_random_bytes_read_in_linear_work_and_fail_only_as_a_file_error(data: bytes, chunk_size: int) -> None:
    _, _, work = outcome(data, chunk_size)

    assert work <= WORK_PER_BYTE * len(data) + WORK_CONSTANT


# --- encodings -------------------------------------------------------------------------------

NAMES = {
    "shift_jis": ["田中太郎", "山田花子", "佐藤健", "鈴木一郎", "テスト"],
    "gbk": ["张伟", "王芳", "李娜", "陈静", "杨磊"],
    "koi8_r": ["Иванов Иван", "Петрова Анна", "Смирнов"],
}


def file_in(encoding: str, names: list[str]) -> bytes:
    rows = [PRINCIPAL | {"employee_no": f"E{i}", "name_ar": name} for i, name in enumerate(names)]
    return csv_text(rows).encode(encoding)


def test_shift_jis_gbk_and_koi8_r_files_are_refused_naming_the_accepted_encodings() -> None:
    for encoding, names in NAMES.items():
        rows, stopped, _ = outcome(file_in(encoding, names))

        assert rows == [], encoding
        assert stopped is not None and stopped.problem.rule == "unsupported_encoding", encoding
        assert "UTF-8" in stopped.problem.text.en and "Windows-1256" in stopped.problem.text.en
        assert "UTF-8" in stopped.problem.text.ar and "Windows-1256" in stopped.problem.text.ar


def test_random_bytes_after_a_header_are_refused_not_read_as_arabic() -> None:
    noise = random.Random(10).randbytes(2000).replace(b"\x00", b"\x01")

    rows, stopped, _ = outcome(HEAD + noise)

    assert rows == []
    assert stopped is not None and stopped.problem.rule in ("unsupported_encoding", "undecodable")


def test_windows_1256_arabic_persian_and_french_names_are_still_read() -> None:
    names = ["أحمد خالد المطيري", "بزرگ مهر", "پرويز چمن", "علي «الكبير»", "موضي محمد الشمري"]
    rows = [PRINCIPAL | {"employee_no": f"E{i}", "name_ar": n, "name_en": "Hélène Cœur"} for i, n in enumerate(names)]

    reader = open_hr_csv(io.BytesIO(csv_text(rows).encode("cp1256")))

    assert [raw["name_ar"] for _, raw in reader] == names
    assert reader.encoding == "cp1256"


def test_a_windows_1256_file_that_turns_into_shift_jis_stops_where_it_does_keeping_rows_before() -> None:
    arabic = [PRINCIPAL | {"employee_no": f"E{i}"} for i in range(40)]
    japanese = [PRINCIPAL | {"employee_no": f"J{i}", "name_ar": "田中太郎"} for i in range(200)]
    data = csv_text(arabic).encode("cp1256") + csv_text(japanese).split("\r\n", 1)[1].encode("shift_jis")

    reader = open_hr_csv(io.BytesIO(data), chunk_size=4096)
    read: list[int] = []
    try:
        for line, _ in reader:
            read.append(line)
    except HrFileError as error:
        stopped = error
    else:
        raise AssertionError("the Shift-JIS rows were read as Arabic")

    assert read[:40] == list(range(2, 42)) and len(read) < 240
    assert stopped.problem.rule == "unsupported_encoding" and stopped.problem.line == read[-1] + 1

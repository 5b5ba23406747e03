"""Reading an HR file in several goes: stopped between any two rows, resumed at the saved byte offset."""

from __future__ import annotations

import io
import json

import pytest

from chalicelib.enrolment.hr_csv import open_hr_csv, resume_hr_csv
from chalicelib.enrolment.rules import ROW_MAX_CHARS, ROW_TOO_LONG

from .conftest import EXAMPLES


def read_in_goes(data: bytes, stop_after: set[int], chunk_size: int) -> tuple[list[tuple[int, dict]], list[int]]:
    """Every row, reading anew (a fresh reader over the bytes from the saved offset) after each count in stop_after."""
    rows: list[tuple[int, dict]] = []
    offsets: list[int] = []
    reader = open_hr_csv(io.BytesIO(data), chunk_size=chunk_size)
    while True:
        stopped = False
        for line, raw in reader:
            rows.append((line, raw))
            if len(rows) in stop_after:
                # What a checkpoint keeps: JSON, read back by a fresh invocation.
                position = json.loads(json.dumps(reader.position()))
                offsets.append(position["offset"])
                reader = resume_hr_csv(io.BytesIO(data[position["offset"]:]), position, chunk_size=chunk_size)
                stopped = True
                break
        if not stopped:
            return rows, offsets


def whole(data: bytes) -> list[tuple[int, dict]]:
    return list(open_hr_csv(io.BytesIO(data)))


SAMPLES = {
    "utf8 bom": (EXAMPLES / "acme-2026.csv").read_bytes(),
    "cp1256": (EXAMPLES / "acme-2026-cp1256.csv").read_bytes(),
    "utf8 no bom, lf": (EXAMPLES / "acme-2026.csv").read_bytes()[3:].replace(b"\r\n", b"\n"),
    "lone cr": (EXAMPLES / "acme-2026.csv").read_bytes().replace(b"\r\n", b"\r"),
}


@pytest.mark.parametrize("name", list(SAMPLES))
@pytest.mark.parametrize("chunk_size", [7, 64 * 1024])
def test_resuming_after_any_row_reads_every_row_once_exactly_as_in_one_go(name: str, chunk_size: int) -> None:
    data = SAMPLES[name]
    expected = whole(data)
    for stop in range(1, len(expected)):
        rows, offsets = read_in_goes(data, {stop}, chunk_size)
        assert rows == expected, (name, stop)
        # The offset is where the next row's bytes start.
        next_line = expected[stop][0]
        assert data[offsets[0]:].lstrip(b"\r\n").startswith(
            whole_line_start(data, next_line)), (name, stop)
    rows, _ = read_in_goes(data, set(range(1, len(expected))), chunk_size)
    assert rows == expected


def whole_line_start(data: bytes, line: int) -> bytes:
    """The first bytes of spreadsheet row `line` (no quoted line breaks in the samples)."""
    text = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    start = text.split(b"\n")[line - 1]
    return start.removeprefix(b"\xef\xbb\xbf")[:12]


def test_a_quoted_line_break_and_a_line_too_long_survive_a_resume() -> None:
    header = "employee_no,relationship,name_en,name_ar,date_of_birth,gender,email,national_id,plan," \
             "coverage_start,coverage_end\r\n"
    good = "E{n},principal,Name {n},اسم,1980-01-01,male,e{n}@x.example,,GOLD,2026-01-01,2026-12-31\r\n"
    quoted = 'E9,principal,"Two\r\nLines",اسم,1980-01-01,male,e9@x.example,,GOLD,2026-01-01,2026-12-31\r\n'
    too_long = "E7,principal," + "x" * (ROW_MAX_CHARS + 10) + "\r\n"
    text = header + good.format(n=1) + quoted + good.format(n=2) + too_long + good.format(n=3) + good.format(n=4)
    data = text.encode("utf-8")
    expected = whole(data)
    assert [line for line, _ in expected] == [2, 3, 4, 5, 6, 7]
    assert ROW_TOO_LONG in expected[3][1]
    for chunk_size in (5, 1000, 64 * 1024):
        for stop in range(1, len(expected)):
            rows, _ = read_in_goes(data, {stop}, chunk_size)
            assert rows == expected, (chunk_size, stop)


def test_the_offset_counts_bytes_not_characters() -> None:
    data = (EXAMPLES / "acme-2026.csv").read_bytes()
    reader = open_hr_csv(io.BytesIO(data))
    for _ in zip(range(3), reader, strict=False):
        pass
    offset = reader.position()["offset"]
    # The three rows after the header hold Arabic: characters and bytes differ; the offset is a line start.
    assert data[offset - 2:offset] == b"\r\n"
    assert offset == sum(len(line) for line in data.split(b"\r\n")[:4]) + 4 * 2

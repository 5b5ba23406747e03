"""Reading HR CSV files as spreadsheets really export them."""

from __future__ import annotations

import codecs
import io

import pytest

from chalicelib.enrolment.hr_csv import HrFileError, normalize_header, open_hr_csv
from chalicelib.enrolment.rules import EXTRA_CELLS, EnrolmentRow, FamilyCheck

from .conftest import CHILD, EXAMPLES, HEADER, PRINCIPAL, csv_text, parse, read_rows

EXAMPLE_ARABIC_NAMES = [
    "أحمد خالد المطيري",
    "فاطمة علي المطيري",
    "يوسف أحمد المطيري",
    "نورة أحمد المطيري",
    "جون سميث",
    "ماري سميث",
    "مريم عبدالله العنزي",
    "عبدالله سعد العنزي",
    "راجيش كومار",
    "بريا كومار",
    "ليلى كومار",
    "إبراهيم يوسف الكندري",
    "حصة ناصر الشمري",
    "سليمان فهد الشمري",
    "موضي محمد الشمري",
]


def example_rows(name: str) -> tuple[list[EnrolmentRow], object]:
    with (EXAMPLES / name).open("rb") as stream:
        hr_csv = open_hr_csv(stream)
        rows = [parse(raw, line) for line, raw in hr_csv]
    assert all(isinstance(r, EnrolmentRow) for r in rows), rows
    return rows, hr_csv  # type: ignore[return-value]


def test_the_example_file_enrols_every_row_with_arabic_names_exact() -> None:
    rows, hr_csv = example_rows("acme-2026.csv")

    assert len(rows) == 15
    assert [r.line for r in rows] == list(range(2, 17))
    assert [r.name_ar for r in rows] == EXAMPLE_ARABIC_NAMES
    assert hr_csv.encoding == "utf-8-sig"
    assert hr_csv.unknown_columns == ("Department",)
    assert rows[4].name_en == "Smith, John"  # the quoted comma stays in the name
    family = FamilyCheck()
    assert [family.add(r) for r in rows] == [None] * 15
    assert family.missing_principals(set()) == []


def test_the_windows_1256_example_reads_exactly_like_the_utf8_one() -> None:
    utf8, _ = example_rows("acme-2026.csv")
    cp1256, hr_csv = example_rows("acme-2026-cp1256.csv")

    assert hr_csv.encoding == "cp1256"
    assert cp1256 == utf8


def test_utf8_with_and_without_bom_read_the_same() -> None:
    text = csv_text([PRINCIPAL, CHILD])

    with_bom = read_rows(codecs.BOM_UTF8 + text.encode())
    without = read_rows(text.encode())

    assert with_bom == without
    assert with_bom[0][1]["name_ar"] == "أحمد خالد المطيري"


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 64])
def test_arabic_split_across_read_chunks_decodes_intact(chunk_size: int) -> None:
    data = csv_text([PRINCIPAL, CHILD]).encode()

    rows = read_rows(data, chunk_size=chunk_size)

    assert [raw["name_ar"] for _, raw in rows] == [PRINCIPAL["name_ar"], CHILD["name_ar"]]


def test_windows_1256_arabic_appearing_only_late_in_the_file_is_still_detected() -> None:
    english_only = [PRINCIPAL | {"employee_no": f"E{n}", "name_ar": ""} for n in range(400)]
    late = PRINCIPAL | {"employee_no": "E9999"}
    data = csv_text([*english_only, late]).encode("cp1256")
    assert data.index("أحمد".encode("cp1256")) > 64 * 1024 // 2

    hr_csv = open_hr_csv(io.BytesIO(data), chunk_size=4096)
    rows = list(hr_csv)

    assert hr_csv.encoding == "cp1256"
    assert rows[-1][1]["name_ar"] == "أحمد خالد المطيري"


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_crlf_lf_and_old_mac_cr_line_ends_give_the_same_rows(newline: str) -> None:
    rows = read_rows(csv_text([PRINCIPAL, CHILD], newline=newline).encode())

    assert [(line, raw["employee_no"], raw["name_en"]) for line, raw in rows] == [
        (2, "E1001", "Ahmad Khalid Al-Mutairi"),
        (3, "E1001", "Yousef Ahmad Al-Mutairi"),
    ]
    assert rows[0][1]["action"] == ""  # no stray \r in the last column


def test_quoted_fields_keep_commas_quotes_and_line_breaks_and_rows_count_as_in_excel() -> None:
    odd = PRINCIPAL | {"name_en": 'Smith, John "Jack"\r\nJr.', "employee_no": "E2"}
    rows = read_rows(csv_text([odd, CHILD]).encode())

    assert rows[0][1]["name_en"] == 'Smith, John "Jack"\r\nJr.'
    # The quoted line break does not start a new spreadsheet row.
    assert [line for line, _ in rows] == [2, 3]


def test_header_names_match_in_any_order_case_and_spacing() -> None:
    header = [
        " Coverage End ",
        "PLAN",
        "Employee No",
        "relationship",
        "Name EN",
        "name-ar",
        "DOB",
        "Gender",
        " EMAIL ",
        "Civil ID",
        "coverage_start",
        "Date Of Birth ",
    ]
    header.remove("DOB")
    text = ",".join(header) + "\r\n"
    text += "2026-12-31,gold,E7,principal,Sara,سارة,female,S@A.EXAMPLE,,2026-01-01,1990-01-02\r\n"

    hr_csv = open_hr_csv(io.BytesIO(text.encode()))
    ((line, raw),) = list(hr_csv)

    assert set(hr_csv.columns) >= {"employee_no", "email", "national_id", "coverage_end"}
    assert raw["employee_no"] == "E7"
    assert raw["name_ar"] == "سارة"
    assert raw["date_of_birth"] == "1990-01-02"
    assert "mobile" not in raw and "action" not in raw  # optional columns may be absent
    row = parse(raw, line)
    assert isinstance(row, EnrolmentRow) and row.plan == "GOLD" and row.email == "s@a.example"


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("Employee No", "employee_no"),
        (" EMAIL ", "email"),
        ("\ufeffDate of Birth", "date_of_birth"),
        ("E-mail", "email"),
        ("Civil ID", "national_id"),
        ("Name (EN)", "name_en"),
    ],
)
def test_header_spellings_normalize_to_canonical_names(header: str, canonical: str) -> None:
    assert normalize_header(header) == canonical


def test_a_missing_required_column_rejects_the_file_naming_it() -> None:
    header = [h for h in HEADER if h not in ("plan", "gender")]

    with pytest.raises(HrFileError) as caught:
        open_hr_csv(io.BytesIO(csv_text([PRINCIPAL], header=header).encode()))

    problem = caught.value.problem
    assert problem.rule == "missing_columns"
    assert problem.columns == ("gender", "plan")
    assert "gender" in problem.text.en and "plan" in problem.text.en
    assert "gender" in problem.text.ar and "plan" in problem.text.ar


def test_unknown_columns_are_ignored_and_listed() -> None:
    header = [*HEADER, "Department", "", "Cost Centre"]
    rows = [PRINCIPAL | {"Department": "Finance", "Cost Centre": "CC-1"}]

    hr_csv = open_hr_csv(io.BytesIO(csv_text(rows, header=header).encode()))
    ((_, raw),) = list(hr_csv)

    assert hr_csv.unknown_columns == ("Department", "Cost Centre")
    assert set(raw) == set(HEADER)


def test_a_column_given_twice_rejects_the_file() -> None:
    header = [*HEADER, "E-Mail"]

    with pytest.raises(HrFileError) as caught:
        open_hr_csv(io.BytesIO(csv_text([PRINCIPAL], header=header).encode()))

    assert caught.value.problem.rule == "duplicate_columns"
    assert caught.value.problem.columns == ("email",)


def test_a_row_with_more_cells_than_the_header_is_refused_as_a_whole_row() -> None:
    text = csv_text([PRINCIPAL]).replace("Ahmad Khalid Al-Mutairi", "Al-Mutairi, Ahmad")

    ((line, raw),) = read_rows(text.encode())
    result = parse(raw, line)

    assert EXTRA_CELLS in raw
    assert isinstance(result, tuple)
    assert ("", "too_many_cells") in [(e.column, e.rule) for e in result]


def test_blank_rows_are_skipped_but_still_counted_as_spreadsheet_rows() -> None:
    text = csv_text([PRINCIPAL]) + "\r\n,,,,,,,,,,,,\r\n" + csv_text([CHILD]).split("\r\n", 1)[1]

    rows = read_rows(text.encode())

    assert [line for line, _ in rows] == [2, 5]


def test_a_semicolon_delimited_export_is_read() -> None:
    text = csv_text([PRINCIPAL]).replace(",", ";")

    ((_, raw),) = read_rows(text.encode())

    assert raw["employee_no"] == "E1001" and raw["plan"] == "GOLD"


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"", "empty_file"),
        (b"\r\n\r\n", "empty_file"),
        (b"PK\x03\x04\x14\x00\x06\x00", "not_csv"),
        (codecs.BOM_UTF16_LE + "employee_no".encode("utf-16-le"), "unsupported_encoding"),
        (b"employee_no\x00,relationship", "undecodable"),
    ],
)
def test_files_that_are_not_readable_csv_are_rejected_with_a_reason(data: bytes, rule: str) -> None:
    with pytest.raises(HrFileError) as caught:
        open_hr_csv(io.BytesIO(data))

    assert caught.value.problem.rule == rule
    assert caught.value.problem.text.ar


def test_a_bad_byte_after_utf8_was_chosen_stops_the_file_at_its_row_keeping_rows_before() -> None:
    good = csv_text([PRINCIPAL] * 50).encode()
    bad = csv_text([CHILD]).split("\r\n", 1)[1].encode("cp1256")
    read: list[int] = []

    with pytest.raises(HrFileError) as caught:
        for line, _ in open_hr_csv(io.BytesIO(good + bad), chunk_size=1 << 16):
            read.append(line)

    assert read == list(range(2, 52))
    assert caught.value.problem.rule == "undecodable"
    assert caught.value.problem.line == 52
    assert "52" in caught.value.problem.text.en


class RecordingStream:
    """An S3 StreamingBody stand-in that remembers how it was read."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.sizes: list[int | None] = []

    def read(self, size: int | None = None) -> bytes:
        self.sizes.append(size)
        return self._data.read(size)


def test_the_stream_is_read_in_bounded_chunks_only_as_rows_are_consumed() -> None:
    stream = RecordingStream(csv_text([PRINCIPAL] * 2000).encode())

    hr_csv = open_hr_csv(stream, chunk_size=4096)
    reads_for_header = len(stream.sizes)
    rows = iter(hr_csv)
    next(rows)

    assert reads_for_header <= 2  # the first chunk, and look-ahead to judge the encoding
    assert len(stream.sizes) == reads_for_header
    assert sum(1 for _ in rows) == 1999
    assert set(stream.sizes) == {4096}


def test_windows_1256_names_with_persian_letters_are_not_mistaken_for_utf8() -> None:
    # "بزرگ" ends in bytes D1 90, which happen to be valid UTF-8: a few such pairs must not
    # flip a Windows-1256 file.
    names = ["بزرگ مهر", "گلزار", "پرويز چمن", "ژاله", "بزرگمهر نادر"]
    rows = [PRINCIPAL | {"employee_no": f"E{i}", "name_ar": n} for i, n in enumerate(names)]
    data = csv_text(rows).encode("cp1256")

    hr_csv = open_hr_csv(io.BytesIO(data))

    assert [raw["name_ar"] for _, raw in hr_csv] == names
    assert hr_csv.encoding == "cp1256"

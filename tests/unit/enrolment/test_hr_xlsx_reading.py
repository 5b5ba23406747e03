"""HR teams live in Excel: a workbook reads as its CSV would, and a hostile one is refused from its zip directory."""

from __future__ import annotations

import io
import re
import struct
import time
import zipfile
from datetime import date, datetime

import openpyxl
import pytest

from chalicelib.enrolment import hr_xlsx
from chalicelib.enrolment.hr_csv import HrCsv, open_hr_csv
from chalicelib.enrolment.hr_xlsx import CFB_MAGIC, HrXlsx, open_hr_file, open_hr_xlsx, resume_hr_file
from chalicelib.enrolment.rules import OVERSIZED_CELLS, ROW_TOO_LONG, EnrolmentRow, HrFileError, parse_row

from .conftest import HEADER, PLANS, TODAY


def workbook(rows: list[list[object]], *, formats: dict[str, str] | None = None) -> bytes:
    """A workbook as Excel users make it, saved by openpyxl: `rows` on the first sheet from A1."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Staff"
    for row in rows:
        sheet.append(row)
    for coordinate, number_format in (formats or {}).items():
        sheet[coordinate].number_format = number_format
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def sheet_xml_replaced(book: bytes, change) -> bytes:
    """The same workbook with its first sheet's XML changed (what openpyxl cannot write: cached values, DTDs)."""
    source, out = zipfile.ZipFile(io.BytesIO(book)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = change(data)
            target.writestr(info.filename, data)
    return out.getvalue()


def ahmad(**cells: object) -> list[object]:
    values: dict[str, object] = {
        "employee_no": "E1001", "relationship": "principal", "name_en": "Ahmad Khalid Al-Mutairi",
        "name_ar": "أحمد خالد المطيري", "date_of_birth": datetime(1984, 3, 12), "gender": "male",
        "email": "ahmad@acme.example", "mobile": 96550001234, "national_id": 284031201072, "plan": "GOLD",
        "coverage_start": datetime(2026, 1, 1), "coverage_end": datetime(2026, 12, 31), "action": None,
    } | cells
    return [values[column] for column in HEADER]


def rows_of(reader) -> list[tuple[int, dict[str, str]]]:
    return list(reader)


def refused(data: bytes) -> HrFileError:
    with pytest.raises(HrFileError) as caught:
        reader = open_hr_file(io.BytesIO(data))
        list(reader)
    return caught.value


def test_a_workbook_with_numbers_as_civil_ids_real_dates_and_arabic_reads_as_its_csv_would():
    headed = ["Employee No", "RELATIONSHIP", "Name EN", "name_ar", "DOB", "Sex", "E-mail", "Mobile Number",
              "Civil ID", "plan", "coverage_start", "coverage_end", "action", "Department"]
    book = workbook([headed, [*ahmad(), "Finance"], [None] * 14, [*ahmad(employee_no=1002, email="b@acme.example",
                                                                          national_id=290010100013), None]])
    reader = open_hr_file(io.BytesIO(book))

    assert isinstance(reader, HrXlsx) and reader.encoding == "xlsx"
    assert reader.unknown_columns == ("Department",)
    (line, raw), (second_line, second) = rows_of(reader)
    csv_text = ("employee_no,relationship,name_en,name_ar,date_of_birth,gender,email,mobile,national_id,plan,"
                "coverage_start,coverage_end,action\nE1001,principal,Ahmad Khalid Al-Mutairi,أحمد خالد المطيري,"
                "1984-03-12,male,ahmad@acme.example,96550001234,284031201072,GOLD,2026-01-01,2026-12-31,\n")
    ((_, from_csv),) = list(open_hr_csv(io.BytesIO(csv_text.encode())))
    assert (line, raw) == (2, from_csv)  # the same raw row, letter for letter: no ".0", no exponent, ISO dates
    assert second_line == 4 and second["employee_no"] == "1002" and second["national_id"] == "290010100013"
    parsed = parse_row(line, raw, plans=PLANS, today=TODAY)
    assert isinstance(parsed, EnrolmentRow)
    assert parsed.national_id == "284031201072" and parsed.date_of_birth == date(1984, 3, 12)
    assert parsed.name_ar == "أحمد خالد المطيري" and parsed.mobile == "+96550001234"


def test_numbers_keep_the_leading_zeros_their_format_shows_and_never_gain_an_exponent():
    book = workbook([HEADER, ahmad(employee_no=123, mobile=55001234.0, national_id=2.84031201072e11)],
                    formats={"A2": "000000"})
    ((_, raw),) = rows_of(open_hr_xlsx(io.BytesIO(book)))
    assert raw["employee_no"] == "000123" and raw["mobile"] == "55001234" and raw["national_id"] == "284031201072"
    assert hr_xlsx._number_text(0.1 + 0.2, "General") == "0.30000000000000004"
    assert hr_xlsx._number_text(1.5e-7, "General") == "0.00000015"


def test_an_error_cell_is_an_error_on_its_row_and_column_and_never_an_employee_number():
    book = workbook([HEADER, ahmad(date_of_birth="#N/A"), ahmad(employee_no="#REF!", email="x@acme.example")])
    (first, second) = rows_of(open_hr_xlsx(io.BytesIO(book)))

    errors = parse_row(*first, plans=PLANS, today=TODAY)
    assert not isinstance(errors, EnrolmentRow)
    assert [(e.line, e.column, e.rule) for e in errors] == [(2, "date_of_birth", "invalid_date")]
    assert first[1]["date_of_birth"] == "#N/A"  # what the report shows as the offending value
    errors = parse_row(*second, plans=PLANS, today=TODAY)
    assert not isinstance(errors, EnrolmentRow)
    assert [(e.line, e.column, e.rule) for e in errors] == [(3, "employee_no", "required")]
    # A row holding nothing but an error is still a row, refused, never skipped as blank.
    ((line, raw),) = rows_of(open_hr_xlsx(io.BytesIO(workbook([HEADER, ["#N/A"]]))))
    assert line == 2 and raw["employee_no"] == ""
    assert not isinstance(parse_row(line, raw, plans=PLANS, today=TODAY), EnrolmentRow)


def test_a_formula_reads_as_the_value_excel_saved_with_it():
    book = workbook([HEADER, ahmad(plan='=UPPER("gold")')])
    cached = sheet_xml_replaced(book, lambda xml: xml.replace(b'<f>UPPER("gold")</f><v />',
                                                              b'<f>UPPER("gold")</f><v>GOLD</v>').replace(
        b'<c r="J2">', b'<c r="J2" t="str">'))
    assert b"<v>GOLD</v>" in zipfile.ZipFile(io.BytesIO(cached)).read("xl/worksheets/sheet1.xml")
    ((_, raw),) = rows_of(open_hr_xlsx(io.BytesIO(cached)))
    assert raw["plan"] == "GOLD"
    # Saved without a calculated value (openpyxl writes none): an empty cell, reported as one.
    ((_, raw),) = rows_of(open_hr_xlsx(io.BytesIO(book)))
    assert raw["plan"] == ""


def test_a_huge_cell_or_row_is_a_row_error_like_the_csvs():
    book = workbook([HEADER, ahmad(name_en="A" * 5000), ahmad(**{c: "x" * 6000 for c in HEADER[:12]})])
    (cut, too_long) = rows_of(open_hr_xlsx(io.BytesIO(book)))
    assert cut[1][OVERSIZED_CELLS] == "name_en" and len(cut[1]["name_en"]) == 4096
    assert too_long[1][ROW_TOO_LONG] == "1"
    assert [e.rule for e in parse_row(*cut, plans=PLANS, today=TODAY)] == ["too_long"]  # type: ignore[union-attr]


def test_header_rules_are_the_csvs_and_cells_right_of_the_header_are_not_read():
    assert refused(workbook([HEADER[:3]])).problem.rule == "missing_columns"
    assert refused(workbook([[*HEADER, "Email"]])).problem.rule == "duplicate_columns"
    assert refused(workbook([])).problem.rule == "empty_file"
    wide = [*HEADER] + [None] * 300
    wide[299] = "notes"
    assert refused(workbook([wide])).problem.rule == "too_many_columns"
    rows = rows_of(open_hr_xlsx(io.BytesIO(workbook([HEADER, [*ahmad(), None, None, "stray note"]]))))
    assert set(rows[0][1]) == set(HEADER)


def test_a_sheet_claiming_fewer_rows_than_it_has_is_read_to_its_end():
    book = workbook([HEADER, *[ahmad(employee_no=f"E{n}") for n in range(5)]])
    lying = sheet_xml_replaced(book, lambda xml: re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:M2"', xml))
    assert len(rows_of(open_hr_xlsx(io.BytesIO(lying)))) == 5


def test_a_workbook_is_resumed_after_the_last_row_read_every_row_once():
    book = workbook([HEADER, *[ahmad(employee_no=f"E{n}") for n in range(10)], [None] * 13, ahmad(employee_no="E99")])
    reader = open_hr_xlsx(io.BytesIO(book))
    rows = iter(reader)
    first = [next(rows) for _ in range(4)]
    position = reader.position()
    assert position["kind"] == "xlsx" and position["line"] == 5 and position["offset"] == 0

    rest = list(resume_hr_file(io.BytesIO(book), position))
    numbers = [line for line, _ in first + rest]
    assert numbers == [*range(2, 12), 13]
    assert [raw["employee_no"] for _, raw in rest][-1] == "E99"


def test_csv_text_still_goes_to_the_csv_reader_whatever_the_name():
    reader = open_hr_file(io.BytesIO((",".join(HEADER) + "\n").encode()))
    assert isinstance(reader, HrCsv)


# --- hostile workbooks ---------------------------------------------------------------------------------


def zip_of(parts: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return out.getvalue()


def test_a_zip_bomb_is_refused_from_the_zip_directory_before_unpacking():
    # 50 MB of one byte packs to about 50 KB: a thousand to one.
    bomb = zip_of({"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": b" " * (50 * 1024 * 1024)})
    problem = refused(bomb).problem
    assert problem.rule == "workbook_unpacks_too_big"
    assert "xl/worksheets/sheet1.xml" in problem.text.en and "times its packed size" in problem.text.en
    assert "يتمدد" in problem.text.ar


def test_a_part_declaring_more_than_its_limit_is_refused_and_one_declaring_less_fails_when_read():
    book = workbook([HEADER, ahmad()])
    # The central directory's declared size of the sheet, set to 300 MB: refused without unpacking.
    at = book.rindex(b"xl/worksheets/sheet1.xml") - 46
    assert book[at:at + 4] == b"PK\x01\x02"
    huge = book[:at + 24] + struct.pack("<I", 300 * 1024 * 1024) + book[at + 28:]
    problem = refused(huge).problem
    assert problem.rule == "workbook_unpacks_too_big" and "300 MB" in problem.text.en
    # Declared smaller than it is: zipfile stops at the declared size and the CRC fails: a file error.
    small = book[:at + 24] + struct.pack("<I", 100) + book[at + 28:]
    assert refused(small).problem.rule == "unreadable_workbook"


def test_too_many_parts_or_a_workbook_over_the_size_limit_is_refused(monkeypatch):
    many = zip_of({f"xl/media/{n}.bin": b"" for n in range(1001)})
    assert refused(many).problem.rule == "workbook_unpacks_too_big"
    monkeypatch.setattr(hr_xlsx, "FILE_MAX_BYTES", 1000)
    problem = refused(workbook([HEADER, ahmad()])).problem
    assert problem.rule == "workbook_too_big" and "CSV UTF-8" in problem.text.en


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
                             for n in range(1, 10))
                  + b']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                  b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>')


def test_a_billion_laughs_sheet_is_refused_and_never_expanded():
    book = workbook([HEADER, ahmad()])
    problem = refused(sheet_xml_replaced(book, lambda xml: BILLION_LAUGHS)).problem
    assert problem.rule == "unsafe_workbook" and "DTD" in problem.text.en


def test_a_billion_laughs_past_the_prolog_check_is_still_refused_by_the_parser():
    book = workbook([HEADER, ahmad()])
    padded = BILLION_LAUGHS.replace(b"?><!DOCTYPE", b"?><!--" + b"x" * 20_000 + b"--><!DOCTYPE")
    problem = refused(sheet_xml_replaced(book, lambda xml: padded)).problem
    assert problem.rule == "unreadable_workbook"  # defusedxml forbids entities: an error, not 3 GB of "lol"


def test_an_encrypted_workbook_and_an_old_xls_are_told_apart():
    sector = CFB_MAGIC + b"\x00" * 504
    encrypted = sector + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 1000
    problem = refused(encrypted).problem
    assert problem.rule == "encrypted_workbook" and "password" in problem.text.en and "كلمة مرور" in problem.text.ar
    assert refused(sector + "Workbook".encode("utf-16-le")).problem.rule == "xls_workbook"


def test_a_zip_that_is_no_workbook_or_a_workbook_without_a_worksheet_is_a_file_error():
    assert refused(zip_of({"hello.txt": b"hi"})).problem.rule == "unreadable_workbook"
    assert refused(b"PK\x03\x04" + b"\x00" * 100).problem.rule == "unreadable_workbook"
    book = openpyxl.Workbook()
    book.create_chartsheet()
    book.remove(book.active)
    out = io.BytesIO()
    book.save(out)
    assert refused(out.getvalue()).problem.rule == "no_sheet"


def test_a_row_of_more_cells_than_excel_has_columns_or_more_rows_than_excel_has_is_refused_before_parsing():
    book = workbook([HEADER, ahmad()])
    wide_row = b'<row r="3">' + b"<c><v>1</v></c>" * 16_385 + b"</row></sheetData>"
    problem = refused(sheet_xml_replaced(book, lambda xml: xml.replace(b"</sheetData>", wide_row))).problem
    assert problem.rule == "workbook_unpacks_too_big" and "16,384 cells in a row" in problem.text.en

    many_rows = b"<row/>" * 1_048_577 + b"</sheetData>"
    stored = sheet_xml_replaced(book, lambda xml: xml.replace(b"</sheetData>", many_rows))
    problem = refused(stored).problem
    # Packed a thousand to one, so the zip directory refuses it first; either way, nothing is parsed.
    assert problem.rule == "workbook_unpacks_too_big"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(stored)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
    problem = refused(out.getvalue()).problem
    assert problem.rule == "workbook_unpacks_too_big" and "1,048,576 rows" in problem.text.en


def test_a_sheet_with_a_row_number_past_excels_last_row_is_read_up_to_it_and_quickly():
    book = workbook([HEADER, ahmad()])
    far_row = b'<row r="999999999"><c r="A999999999" t="inlineStr"><is><t>E9</t></is></c></row></sheetData>'
    far = sheet_xml_replaced(book, lambda xml: xml.replace(b"</sheetData>", far_row))
    started = time.perf_counter()
    assert [line for line, _ in rows_of(open_hr_xlsx(io.BytesIO(far)))] == [2]
    assert time.perf_counter() - started < 5  # a million rows skipped as missing: about 0.5 s

"""Read an HR enrolment workbook (.xlsx) row by row: the first sheet, the CSV's columns and rules.

HR teams live in Excel. A workbook is read with openpyxl in read-only streaming mode (`data_only`:
a formula reads as the value Excel last calculated and saved) and yields the same raw rows as the
CSV reader (`hr_csv.HrCsv`): canonical column -> cell text, the same header rule (`read_header`),
the same cell and row limits, so `rules.parse_row` validates both alike.

Cells to the text the CSV holds:
- a date (a number with a date format) -> ISO `YYYY-MM-DD`; a date with a time of day keeps it
  (`YYYY-MM-DD HH:MM:SS`), which no date column accepts: a time is not a birth date.
- a number -> its digits, never `.0` or an exponent: Excel stores a 12-digit civil ID as the number
  284031201072.0, which reads "284031201072". A number formatted with zeros (`000000`) gets the
  leading zeros the format shows, as HR sees them. Leading zeros Excel dropped from a number with no
  such format are not guessed back: employee numbers are compared without leading zeros anyway
  (`normalize_employee_no`), civil IDs start with the century digit 1-3 and mobiles with 5, 6 or 9
  (or 965), so none of them loses anything.
- TRUE/FALSE -> "TRUE"/"FALSE" (no column takes them: a row error naming the column).
- an error (`#N/A`, `#REF!`, `#VALUE!`...) -> its text, which every checked column refuses with
  the cell shown in the report. Only `employee_no` accepts any text, so there an error reads as an
  empty cell: "employee_no is required" on that row, never an employee called "#N/A".

A workbook is a zip, read from a spooled temp file (a zip's directory is at its end): hostile ones
are refused from the zip directory before anything is unpacked (`_check_archive`: the file's size,
the number of parts, each part's and the total's declared unpacked size, the packing ratio), and
`zipfile` never unpacks more than a part declares (more fails its CRC). XML with a DTD is refused
(OOXML has none: entity expansion is a "billion laughs" bomb); openpyxl also parses with defusedxml
when it is installed (fpdf2 brings it), which forbids entities. A password-protected workbook or an
old .xls is an OLE2 file, not a zip: a file error saying what to do.

Resuming: a zip cannot be read from a byte offset, so `position()` says which sheet row was read
last; `resume_hr_xlsx` opens the workbook again (the same S3 version) and skips to the row after it.
openpyxl parses the rows it skips as it parses the rows it reads, so each invocation re-reads what the
ones before read: time grows with the invocations, though parsing stays small beside enrolling (one
DynamoDB round of reads and a transaction per 100 rows), and a file needing many invocations is
better sent as CSV, which resumes at a byte offset.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
import zlib
from collections.abc import Generator, Iterator, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any

from chalicelib.enrolment.hr_csv import open_hr_csv, read_header, resume_hr_csv
from chalicelib.enrolment.ports import ByteStream, HrRows, JsonObject
from chalicelib.enrolment.rules import (
    CELL_MAX_CHARS,
    OVERSIZED_CELLS,
    ROW_MAX_CHARS,
    ROW_TOO_LONG,
    FileProblem,
    HrFileError,
)
from chalicelib.errors import Text
from chalicelib.logs import log_event

ZIP_MAGIC = b"PK\x03\x04"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2: an encrypted workbook or an old .xls

# A 50,000-row staff list is about 3 MB as a workbook and 20 MB of sheet XML unpacked.
FILE_MAX_BYTES = 64 * 1024 * 1024
SHEET_MAX_BYTES = 200 * 1024 * 1024  # one worksheet's XML, unpacked
SHARED_STRINGS_MAX_BYTES = 64 * 1024 * 1024  # openpyxl holds every shared string in memory
PART_MAX_BYTES = 16 * 1024 * 1024  # styles, workbook, relationships, anything else
TOTAL_MAX_BYTES = 320 * 1024 * 1024
# Sheet XML packs 10-30 to 1; a zip bomb a thousand to one. Small parts may pack better harmlessly.
RATIO_MAX = 200
RATIO_FROM_BYTES = 1024 * 1024
PARTS_MAX = 1000  # a workbook has a dozen or so; checked before zipfile parses the directory
DIRECTORY_MAX_BYTES = 1024 * 1024
COLUMNS_MAX = 256  # a header wider than this is no staff list (an HR sheet has 13 columns)
SHEET_COLUMNS = 16_384  # Excel's: the header row is read this wide, the data rows as wide as the header
HEADER_ROWS_MAX = 100  # the header is among the first rows (read at full width: blank ones cost that)
SHEET_ROWS_MAX = 1_048_576  # Excel's; rows a sheet names beyond it are never read
_PROLOG_BYTES = 8 * 1024
_DTD = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_SPOOL_CHUNK = 1024 * 1024
_ZEROS_FORMAT = re.compile(r"0+")

ENCODING = "xlsx"  # what the report's summary says of a workbook where a CSV says its encoding

_SAVE_AS = (
    ' Open it in Excel and save it as "Excel Workbook (.xlsx)" without a password, or as "CSV UTF-8".',
    ' افتحه في إكسل واحفظه بصيغة "مصنف Excel (.xlsx)" بدون كلمة مرور، أو بصيغة "CSV UTF-8".',
)


def _problem(rule: str, en: str, ar: str, *, columns: tuple[str, ...] = (), line: int | None = None) -> HrFileError:
    return HrFileError(FileProblem(rule, Text(en, ar), columns, line))


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f} MB"


def _too_big(size: int) -> HrFileError:
    return _problem(
        "workbook_too_big",
        f"The workbook is {_mb(size)} or more: at most {_mb(FILE_MAX_BYTES)} is accepted. Keep only the staff "
        'list in it (no pictures or other sheets), or save it as "CSV UTF-8", which has no size limit.',
        f"حجم المصنف {_mb(size)} أو أكثر: الحد المقبول {_mb(FILE_MAX_BYTES)}. أبقِ فيه قائمة الموظفين فقط "
        '(بلا صور أو أوراق أخرى)، أو احفظه بصيغة "CSV UTF-8" التي لا حد لحجمها.',
    )


def _unpacks_too_big(what: str, what_ar: str) -> HrFileError:
    return _problem(
        "workbook_unpacks_too_big",
        f"The workbook {what}: it was not opened (a workbook that unpacks this far is refused, "
        'to keep every file quick to read). Save the staff list alone as a new workbook, or as "CSV UTF-8".',
        f"المصنف {what_ar}: لم يُفتح (يُرفض المصنف الذي يتمدد إلى هذا الحد ليبقى كل ملف سريع القراءة). "
        'احفظ قائمة الموظفين وحدها في مصنف جديد، أو بصيغة "CSV UTF-8".',
    )


def _not_a_workbook(line: int | None = None) -> HrFileError:
    where = f" at row {line}" if line else ""
    where_ar = f" عند الصف {line}" if line else ""
    return _problem(
        "unreadable_workbook",
        f"The file could not be read as an Excel workbook{where}: it is damaged or not a workbook." + _SAVE_AS[0],
        f"تعذرت قراءة الملف كمصنف إكسل{where_ar}: الملف تالف أو ليس مصنفًا." + _SAVE_AS[1],
        line=line,
    )


def _no_sheet() -> HrFileError:
    return _problem("no_sheet", "The workbook has no worksheet to read (only charts, or nothing).",
                    "لا يحتوي المصنف على ورقة عمل لقراءتها (رسوم بيانية فقط أو لا شيء).")


def _ole2(encrypted: bool) -> HrFileError:
    if encrypted:
        return _problem(
            "encrypted_workbook",
            "The workbook is protected with a password (encrypted), so it cannot be read." + _SAVE_AS[0],
            "المصنف محمي بكلمة مرور (مشفّر)، فلا يمكن قراءته." + _SAVE_AS[1],
        )
    return _problem(
        "xls_workbook",
        'The file is an old Excel 97-2003 workbook (.xls), which is not accepted.' + _SAVE_AS[0],
        "الملف مصنف إكسل قديم بصيغة 97-2003 (.xls) وهي غير مقبولة." + _SAVE_AS[1],
    )


def is_workbook(head: bytes) -> bool:
    """Whether a file's first bytes are a zip (.xlsx) or an OLE2 file (an encrypted workbook, an .xls)."""
    return head.startswith((ZIP_MAGIC, CFB_MAGIC))


class _Peeked:
    """A stream whose first bytes were read already (to tell a workbook from CSV text): they come first."""

    def __init__(self, head: bytes, stream: ByteStream) -> None:
        self._head = head
        self._stream = stream

    def read(self, size: int = -1, /) -> bytes:
        if self._head:
            if size < 0:
                head, self._head = self._head, b""
                return head + self._stream.read()
            head, self._head = self._head[:size], self._head[size:]
            return head
        return self._stream.read(size)


def open_hr_file(stream: ByteStream) -> HrRows:
    """An HR upload by what it holds, whatever its name says: a workbook (zip or OLE2) or CSV text."""
    head = b""
    while len(head) < len(CFB_MAGIC):
        more = stream.read(len(CFB_MAGIC) - len(head))
        if not more:
            break
        head += more
    peeked = _Peeked(head, stream)
    return open_hr_xlsx(peeked) if is_workbook(head) else open_hr_csv(peeked)


def resume_hr_file(stream: ByteStream, position: Mapping[str, Any]) -> HrRows:
    """Read on from an earlier `position()`: the reader that wrote it says which (`kind`)."""
    if position.get("kind") == "xlsx":
        return resume_hr_xlsx(stream, position)
    return resume_hr_csv(stream, position)


def _spool(stream: ByteStream) -> IO[bytes]:
    """The upload in a temp file (Lambda's /tmp), at most FILE_MAX_BYTES: a zip is read from its end."""
    file = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the reader, which closes it
    size = 0
    try:
        while chunk := stream.read(_SPOOL_CHUNK):
            size += len(chunk)
            if size > FILE_MAX_BYTES:
                raise _too_big(size)
            file.write(chunk)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    return file


def _check_ole2(file: IO[bytes]) -> HrFileError:
    """An OLE2 file: encrypted OOXML holds an `EncryptionInfo` stream; anything else is an old .xls."""
    marker = "EncryptionInfo".encode("utf-16-le")
    carry = b""
    file.seek(0)
    while chunk := file.read(_SPOOL_CHUNK):
        if marker in carry + chunk:
            return _ole2(encrypted=True)
        carry = chunk[-len(marker):]
    return _ole2(encrypted=False)


def _check_archive(file: IO[bytes]) -> None:
    """Refuse a zip bomb from the zip's directory alone, before zipfile or openpyxl unpacks anything."""
    file.seek(0, 2)
    size = file.tell()
    tail = min(size, 22 + 65535)  # the end record and the longest comment it may carry
    file.seek(size - tail)
    end = file.read(tail)
    at = end.rfind(b"PK\x05\x06")
    if at < 0 or len(end) < at + 22:
        raise _not_a_workbook()
    parts = int.from_bytes(end[at + 10:at + 12], "little")
    directory = int.from_bytes(end[at + 12:at + 16], "little")
    if parts > PARTS_MAX or directory > DIRECTORY_MAX_BYTES:
        raise _unpacks_too_big(f"holds {parts:,} parts (at most {PARTS_MAX:,})",
                               f"يضم {parts:,} جزءًا (الحد {PARTS_MAX:,})")
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
            if "xl/workbook.xml" in names and not any(n.startswith("xl/worksheets/") for n in names):
                raise _no_sheet()
            total = 0
            for info in infos:
                limit = _part_limit(info.filename)
                total += info.file_size
                if info.file_size > limit:
                    raise _unpacks_too_big(
                        f"part {info.filename} unpacks to {_mb(info.file_size)} (at most {_mb(limit)})",
                        f"الجزء {info.filename} يتمدد إلى {_mb(info.file_size)} (الحد {_mb(limit)})")
                if info.file_size > RATIO_FROM_BYTES and info.file_size > RATIO_MAX * max(info.compress_size, 1):
                    ratio = info.file_size // max(info.compress_size, 1)
                    raise _unpacks_too_big(
                        f"part {info.filename} unpacks {ratio:,} times its packed size (at most {RATIO_MAX})",
                        f"الجزء {info.filename} يتمدد {ratio:,} ضعف حجمه المضغوط (الحد {RATIO_MAX})")
            if total > TOTAL_MAX_BYTES:
                raise _unpacks_too_big(f"unpacks to {_mb(total)} in all (at most {_mb(TOTAL_MAX_BYTES)})",
                                       f"يتمدد إلى {_mb(total)} إجمالًا (الحد {_mb(TOTAL_MAX_BYTES)})")
            for info in infos:
                if info.filename.endswith((".xml", ".rels")) and _has_dtd(archive, info):
                    raise _problem(
                        "unsafe_workbook",
                        f"The workbook's part {info.filename} declares XML entities (a DTD), which no Excel "
                        "workbook holds; it was not opened." + _SAVE_AS[0],
                        f"الجزء {info.filename} من المصنف يعرّف كيانات XML (DTD)، ولا يحتوي أي مصنف إكسل "
                        "على ذلك؛ لم يُفتح." + _SAVE_AS[1],
                    )
    except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError) as exc:
        raise _not_a_workbook() from exc


_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row(?=[\s/>])")
_CELL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c(?=[\s/>])")
_SCAN_CHUNK = 1024 * 1024


def _check_sheet_shape(archive: zipfile.ZipFile, name: str) -> None:
    """At most Excel's rows, and Excel's columns of cells a row, before openpyxl parses the sheet.

    openpyxl builds each row's XML element whole before handing it over, and keeps an emptied element
    per row: one row of millions of cells, or millions of rows, fit in the 200 MB a sheet may unpack
    to and would take gigabytes. A pass over the XML (C-level searches, about 1 s for 100 MB) counts
    the row tags and the cell tags after each: the rows are then bounded by 16,384 cells each.
    """
    rows, cells, pending = 0, 0, b""
    with archive.open(name) as part:
        while True:
            chunk = part.read(_SCAN_CHUNK)
            data = pending + chunk
            # Searched up to the last "<" (a tag cut by the chunk's end is searched with the next one); what
            # follows it is a tag's name and attributes, of which the first 4 KB are plenty.
            cut = data.rfind(b"<") if chunk else len(data)
            body, pending = (data[:cut], data[cut:cut + 4096]) if cut >= 0 else (data, b"")
            pieces = _ROW_TAG.split(body)
            cells += len(_CELL_TAG.findall(pieces[0]))
            for piece in pieces[1:]:
                rows += 1
                if cells > SHEET_COLUMNS:
                    break
                cells = len(_CELL_TAG.findall(piece))
            if rows > SHEET_ROWS_MAX or cells > SHEET_COLUMNS:
                raise _unpacks_too_big(
                    f"sheet {name} holds more than Excel's {SHEET_ROWS_MAX:,} rows or {SHEET_COLUMNS:,} cells in a row",
                    f"الورقة {name} تضم أكثر من {SHEET_ROWS_MAX:,} صف أو {SHEET_COLUMNS:,} خلية في صف، وهو حد إكسل")
            if not chunk:
                return


def _part_limit(name: str) -> int:
    if name.startswith("xl/worksheets/") and name.endswith(".xml"):
        return SHEET_MAX_BYTES
    if name == "xl/sharedStrings.xml":
        return SHARED_STRINGS_MAX_BYTES
    return PART_MAX_BYTES


def _has_dtd(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    # A DTD comes before the root element, so in a part's first bytes (one padded past them with
    # comments is still refused by defusedxml's entity ban and expat's amplification limit).
    with archive.open(info) as part:
        return _DTD.search(part.read(_PROLOG_BYTES)) is not None


def cell_text(cell: Any) -> str:
    """A read-only cell's value as the CSV would hold it (see the module's docstring)."""
    value = cell.value
    if value is None:
        return ""
    if getattr(cell, "data_type", None) == "e":
        return str(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, int | float):
        return _number_text(value, getattr(cell, "number_format", "General") or "General")
    return str(value)


def _number_text(value: float, number_format: str) -> str:
    if isinstance(value, float) and not value.is_integer():
        # repr is the shortest text that reads back as the same float; Decimal writes it without exponent
        return format(Decimal(repr(value)), "f") if abs(value) < 1e16 else repr(value)
    if isinstance(value, float) and abs(value) >= 1e16:
        return repr(value)  # past the digits a float holds exactly: nothing honest to write
    digits = str(int(value))
    if _ZEROS_FORMAT.fullmatch(number_format) and value >= 0:
        digits = digits.zfill(len(number_format))
    return digits


class HrXlsx:
    """An HR workbook whose header was read: iterate it for `(row_number, raw_row)` pairs, as `HrCsv`.

    Row numbers are the sheet's. Blank rows are skipped but counted. A cell over CELL_MAX_CHARS is cut
    and named under OVERSIZED_CELLS; a row whose cells hold more than ROW_MAX_CHARS in all is
    ROW_TOO_LONG. Cells right of the header's last column are not read (no column to put them in).
    Iterating may raise `HrFileError` (a sheet damaged part-way): the rows yielded before it stand.
    """

    encoding = ENCODING

    def __init__(self, stream: ByteStream, *, resumed: Mapping[str, Any] | None = None) -> None:
        self._file = _spool(stream)
        self._book: Any = None
        try:
            self._open()
            if resumed is not None:
                self.line = int(resumed["line"])
                self._index = dict(resumed["columns"])
                self._width = int(resumed["width"])
                self.unknown_columns: tuple[str, ...] = tuple(resumed["unknown_columns"])
                self._rows = self._sheet_rows(self.line + 1, self._width)
            else:
                self.line = 0
                self._read_header()
                self._rows = self._sheet_rows(self.line + 1, self._width)
        except BaseException:
            self.close()
            raise
        self.columns = tuple(self._index)

    def _open(self) -> None:
        head = self._file.read(len(CFB_MAGIC))
        if head.startswith(CFB_MAGIC):
            raise _check_ole2(self._file)
        if not head.startswith(ZIP_MAGIC):
            raise _not_a_workbook()
        _check_archive(self._file)
        self._file.seek(0)
        from openpyxl import load_workbook

        try:
            self._book = load_workbook(self._file, read_only=True, data_only=True, keep_links=False)
            sheets = self._book.worksheets
        except HrFileError:
            raise
        except Exception as exc:  # a hostile or damaged workbook: whatever openpyxl raises is the file's fault
            log_event("hr_workbook_unreadable", error=type(exc).__name__)
            raise _not_a_workbook() from exc
        if not sheets:
            raise _no_sheet()
        self._sheet = sheets[0]
        archive = self._book._archive
        path = getattr(self._sheet, "_worksheet_path", None)  # openpyxl 3.1's read-only sheet (locked)
        try:
            for name in [path] if path else [n for n in archive.namelist() if n.startswith("xl/worksheets/")]:
                _check_sheet_shape(archive, name)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:  # unpacks to more than it declares
            raise _not_a_workbook() from exc

    def _sheet_rows(self, first: int, width: int, last: int = SHEET_ROWS_MAX) -> Generator[tuple[int, tuple[Any, ...]]]:
        # max_row given: read-only mode otherwise stops at the row count the sheet claims (its dimension).
        rows = self._sheet.iter_rows(min_row=first, max_row=last, max_col=width)
        yield from enumerate(rows, start=first)

    def _next(self, rows: Iterator[tuple[int, tuple[Any, ...]]] | None = None) -> tuple[int, tuple[Any, ...]] | None:
        try:
            return next(rows or self._rows, None)
        except HrFileError:
            raise
        except Exception as exc:  # damaged XML or a part unpacking past what it declared (its CRC fails)
            log_event("hr_workbook_unreadable", error=type(exc).__name__, line=self.line + 1)
            raise _not_a_workbook(self.line + 1) from exc

    def _read_header(self) -> None:
        """The first row with text, among the first HEADER_ROWS_MAX, every column of it (a sheet has 16,384)."""
        rows = self._sheet_rows(1, SHEET_COLUMNS, last=HEADER_ROWS_MAX)
        try:
            while (found := self._next(rows)) is not None:
                self.line, cells = found
                texts = [cell_text(c) for c in cells]
                if any(t.strip() for t in texts):
                    break
            else:
                raise _problem(
                    "empty_file",
                    f"The first sheet has no header row in its first {HEADER_ROWS_MAX} rows: it is empty.",
                    f"لا يوجد صف عناوين في أول {HEADER_ROWS_MAX} صف من الورقة الأولى: الورقة فارغة.",
                )
        finally:
            rows.close()  # the data rows are read by a parse of their own, as wide as the header
        while texts and not texts[-1].strip():
            texts.pop()
        if len(texts) > COLUMNS_MAX:
            raise _problem(
                "too_many_columns",
                f"The first sheet's header row has {len(texts):,} columns, more than {COLUMNS_MAX}: "
                "it is not a staff list.",
                f"صف العناوين في الورقة الأولى يضم {len(texts):,} عمودًا، أكثر من {COLUMNS_MAX}: ليس قائمة موظفين.",
            )
        if any(len(t) > CELL_MAX_CHARS for t in texts):
            raise _problem("malformed", f"A header cell is longer than {CELL_MAX_CHARS:,} characters.",
                           f"إحدى خلايا العناوين أطول من {CELL_MAX_CHARS:,} حرف.")
        self._index, self.unknown_columns = read_header(texts)
        self._width = len(texts)

    def position(self) -> JsonObject:
        """The last sheet row read and what the header said (JSON); valid between rows."""
        return {
            "kind": "xlsx",
            "offset": 0,  # a zip is read whole again: the ranged read starts at its first byte
            "line": self.line,
            "columns": [[name, i] for name, i in self._index.items()],
            "width": self._width,
            "unknown_columns": list(self.unknown_columns),
        }

    def _row(self, cells: tuple[Any, ...]) -> dict[str, str] | None:
        texts = {name: cell_text(cells[i]) if i < len(cells) else "" for name, i in self._index.items()}
        if not any(t.strip() for t in texts.values()):
            return None
        at = self._index["employee_no"]
        if at < len(cells) and getattr(cells[at], "data_type", None) == "e":
            texts["employee_no"] = ""  # any text is an employee number: an error must not become one
        if sum(len(t) for t in texts.values()) > ROW_MAX_CHARS:
            # As the CSV's line too long: refused whole; the cells kept (cut) name the person in the report.
            return {**{n: t[:CELL_MAX_CHARS] for n, t in texts.items()}, ROW_TOO_LONG: "1"}
        oversized = [name for name, text in texts.items() if len(text) > CELL_MAX_CHARS]
        for name in oversized:
            texts[name] = texts[name][:CELL_MAX_CHARS]
        if oversized:
            texts[OVERSIZED_CELLS] = ",".join(oversized)
        return texts

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        from openpyxl.cell.read_only import EMPTY_CELL

        blank: tuple[Any, ...] | None = None
        try:
            while (found := self._next()) is not None:
                self.line, cells = found
                # Rows missing from the sheet's XML come as one shared tuple of empty cells (a sheet may
                # skip from row 3 to row 1,048,576): known at once, a million of them cost a fraction of a second.
                if cells is blank:
                    continue
                if all(cell is EMPTY_CELL for cell in cells):
                    blank = cells
                    continue
                if len(cells) > self._width:
                    cells = cells[:self._width]
                row = self._row(cells)
                if row is not None:
                    yield self.line, row
        finally:
            self.close()

    def close(self) -> None:
        """Let go of the workbook and its temp file (also when the sheet is read to its end)."""
        if self._book is not None:
            self._book.close()
            self._book = None
        self._file.close()


def open_hr_xlsx(stream: ByteStream) -> HrXlsx:
    """Read the header of an HR workbook; raises `HrFileError` for a workbook that can't be enrolled."""
    return HrXlsx(stream)


def resume_hr_xlsx(stream: ByteStream, position: Mapping[str, Any]) -> HrXlsx:
    """Read on after the row `position` names (an earlier `HrXlsx.position()`), over the whole file again."""
    return HrXlsx(stream, resumed=position)

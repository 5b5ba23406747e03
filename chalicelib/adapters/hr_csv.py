"""Read an HR enrolment CSV from a binary stream, row by row, never whole into memory.

The stream is anything with `.read(n) -> bytes`: an S3 `StreamingBody`, an open file.
It is read once, forward only, in chunks.

Encoding rule (S3 streams cannot be rewound, so the decision is made on buffered bytes):
1. The first chunk starts with the UTF-8 BOM -> UTF-8 (the BOM is dropped).
2. A UTF-16 BOM, a ZIP (xlsx) or OLE (xls) signature, or a NUL byte -> the file is refused
   with a sentence telling HR to save it as "CSV UTF-8".
3. Otherwise the text stays undecided while it is ASCII, which reads the same in both
   candidates, so nothing needs buffering. At the first non-ASCII byte a window of 4 KiB
   from there (or up to the end of the file) is judged: it is UTF-8 when it decodes as
   UTF-8, or when its valid multi-byte characters are at least 8 and outnumber its invalid
   sequences; else the file is Windows-1256 (Arabic Excel's "CSV" export). Windows-1256
   Arabic is almost all invalid UTF-8 (a letter byte 0xC1-0xFE is rarely followed by the
   0x80-0xBF continuation bytes UTF-8 needs), while real UTF-8 is valid by construction.
   The majority clause is for a UTF-8 file with one stray Windows-1256 row near the top:
   choosing Windows-1256 there would silently garble every Arabic name in the file, while
   UTF-8 reads them right and reports the stray row (rule 4).
4. Once UTF-8 is chosen, a later invalid byte stops the file with `HrFileError` naming the
   row; the rows before it stand. Windows-1256 maps every byte, so a file decided as
   Windows-1256 always decodes.

Lines: CRLF, LF or lone CR (old Mac Excel). Fields: `csv` quoting, so commas and line breaks
inside double quotes are kept. The delimiter is the one of `,` `;` or TAB found most in the
header line (European-locale Excel writes `;`).

Row numbers are spreadsheet row numbers (the header is row 1; a quoted line break does not
start a new row), which is what HR sees when opening the file in Excel.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
import unicodedata
from collections.abc import Iterator
from typing import Protocol

from chalicelib.domain.enrolment import EXTRA_CELLS, FileProblem
from chalicelib.errors import Text

REQUIRED_COLUMNS = (
    "employee_no",
    "relationship",
    "name_en",
    "name_ar",
    "date_of_birth",
    "gender",
    "email",
    "national_id",
    "plan",
    "coverage_start",
    "coverage_end",
)
# mobile is optional in PRODUCT.md's sense too: HR systems often hold no phone numbers.
OPTIONAL_COLUMNS = ("mobile", "action")
CANONICAL_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

# Header spellings seen in HR exports, after `normalize_header`.
_ALIASES = {
    "employee_number": "employee_no",
    "emp_no": "employee_no",
    "employee_id": "employee_no",
    "staff_no": "employee_no",
    "relation": "relationship",
    "english_name": "name_en",
    "name_english": "name_en",
    "arabic_name": "name_ar",
    "name_arabic": "name_ar",
    "dob": "date_of_birth",
    "birth_date": "date_of_birth",
    "sex": "gender",
    "e_mail": "email",
    "email_address": "email",
    "mobile_no": "mobile",
    "mobile_number": "mobile",
    "phone": "mobile",
    "civil_id": "national_id",
    "civil_id_no": "national_id",
    "national_id_no": "national_id",
    "plan_code": "plan",
    "coverage_start_date": "coverage_start",
    "coverage_end_date": "coverage_end",
}

CHUNK_SIZE = 64 * 1024
_LOOKAHEAD = 4 * 1024
_MIN_UTF8_CHARS = 8
# A "line" longer than this has no line breaks at all: not a CSV, and not worth buffering.
_MAX_LINE = 1024 * 1024

_NON_ASCII = re.compile(rb"[\x80-\xff]")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)")
_HEADER_JUNK = re.compile(r"[^0-9a-z\u0600-\u06ff]+")


class ByteStream(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class HrFileError(Exception):
    """The file (or the rest of it) cannot be enrolled; `problem` says why, in both languages."""

    def __init__(self, problem: FileProblem) -> None:
        self.problem = problem
        super().__init__(f"{problem.rule}: {problem.text.en}")


_SAVE_AS = (
    ' Open it in Excel and save it as "CSV UTF-8 (Comma delimited)".',
    ' افتحه في إكسل واحفظه بصيغة "CSV UTF-8 (Comma delimited)".',
)


def _problem(
    rule: str, en: str, ar: str, *, columns: tuple[str, ...] = (), line: int | None = None
) -> HrFileError:
    return HrFileError(FileProblem(rule, Text(en, ar), columns, line))


def _workbook() -> HrFileError:
    return _problem(
        "not_csv",
        "The file is an Excel workbook, not a CSV file." + _SAVE_AS[0],
        "الملف مصنف إكسل وليس ملف CSV." + _SAVE_AS[1],
    )


def _utf16() -> HrFileError:
    return _problem(
        "unsupported_encoding",
        'The file is UTF-16 text (Excel "Unicode Text").' + _SAVE_AS[0],
        'الملف نص بترميز UTF-16 ("نص يونيكود" في إكسل).' + _SAVE_AS[1],
    )


def _undecodable(line: int | None) -> HrFileError:
    where = f" at row {line}" if line else ""
    where_ar = f" عند الصف {line}" if line else ""
    return _problem(
        "undecodable",
        f"The file could not be read as UTF-8 or Windows-1256 text{where}." + _SAVE_AS[0],
        f"تعذرت قراءة الملف كنص بترميز UTF-8 أو Windows-1256{where_ar}." + _SAVE_AS[1],
        line=line,
    )


def normalize_header(name: str) -> str:
    """The canonical column name for a header cell: "Employee No" and " EMAIL " -> employee_no, email."""
    text = unicodedata.normalize("NFKC", name).replace("\ufeff", "").strip().lower()
    text = _HEADER_JUNK.sub("_", text).strip("_")
    return _ALIASES.get(text, text)


class _Decoder:
    """Turns the byte stream into text chunks, choosing the encoding by the rule above."""

    def __init__(self, stream: ByteStream, chunk_size: int) -> None:
        self._stream = stream
        self._chunk_size = chunk_size
        self._eof = False
        self._started = False
        # None while everything read so far is ASCII.
        self.encoding: str | None = None

    def _read(self) -> bytes:
        if self._eof:
            return b""
        data = self._stream.read(self._chunk_size)
        if not data:
            self._eof = True
            return b""
        # NUL never occurs in text in either encoding: this is a binary file.
        if self._started and b"\x00" in data:
            raise _undecodable(None)
        return data

    def chunks(self) -> Iterator[str]:
        pending = self._read_start()
        while self.encoding is None:
            found = _NON_ASCII.search(pending)
            if found is None:
                yield pending.decode("ascii")
                pending = self._read()
                if not pending:
                    return
                continue
            start = found.start()
            while len(pending) - start < _LOOKAHEAD and not self._eof:
                pending += self._read()
            window = pending[start : start + _LOOKAHEAD]
            at_end = self._eof and start + _LOOKAHEAD >= len(pending)
            self.encoding = "utf-8" if _looks_utf8(window, at_end=at_end) else "cp1256"
        decoder = codecs.getincrementaldecoder(self.encoding)()
        while pending:
            held = decoder.getstate()[0]
            try:
                text = decoder.decode(pending)
            except UnicodeDecodeError as exc:
                # Hand over the good text first, so the error surfaces on the row that
                # holds the bad byte rather than up to a chunk of rows earlier.
                yield (held + pending)[: exc.start].decode(self.encoding)
                raise
            yield text
            pending = self._read()
        yield decoder.decode(b"", final=True)

    def _read_start(self) -> bytes:
        first = self._read()
        while len(first) < 4 and not self._eof:
            first += self._read()
        if first.startswith(codecs.BOM_UTF8):
            self.encoding = "utf-8-sig"
            return first[len(codecs.BOM_UTF8) :]
        if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise _utf16()
        if first.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
            raise _workbook()
        self._started = True
        if b"\x00" in first:
            raise _undecodable(None)
        return first


def _looks_utf8(window: bytes, *, at_end: bool) -> bool:
    """Rule 3: valid UTF-8, or mostly valid with at least `_MIN_UTF8_CHARS` characters."""
    # A sequence cut by the window's end is held back, not counted as invalid.
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(window, final=at_end)
    invalid = text.count("\ufffd")
    valid = sum(1 for char in text if char > "\x7f") - invalid
    return invalid == 0 or (valid >= _MIN_UTF8_CHARS and valid > invalid)


def _lines(chunks: Iterator[str]) -> Iterator[str]:
    """Physical lines with their endings, so `csv` can join lines inside quoted fields."""
    carry = ""
    for chunk in chunks:
        text = carry + chunk if carry else chunk
        end = 0
        for match in _LINE.finditer(text):
            # A CR at the very end may be the first half of a CRLF split across chunks.
            if match.end() == len(text) and text.endswith("\r"):
                break
            yield match.group()
            end = match.end()
        carry = text[end:]
        if len(carry) > _MAX_LINE:
            raise _problem(
                "malformed",
                "The file has no line breaks; it is not a CSV file." + _SAVE_AS[0],
                "الملف لا يحتوي على فواصل أسطر؛ إنه ليس ملف CSV." + _SAVE_AS[1],
            )
    if carry:
        yield carry


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


class HrCsv:
    """An HR CSV whose header has been read: iterate it for `(row_number, raw_row)` pairs.

    `raw_row` maps canonical column names to cell text (unstripped; "" for a missing cell);
    cells beyond the header are joined under `EXTRA_CELLS`. Blank rows are
    skipped but counted. Iterating may raise `HrFileError` (undecodable or malformed rest of
    file): rows yielded before it stand.
    """

    def __init__(self, stream: ByteStream, *, chunk_size: int = CHUNK_SIZE) -> None:
        self._decoder = _Decoder(stream, chunk_size)
        lines = _lines(self._decoder.chunks())
        self.line = 0
        try:
            # Sniff the delimiter on the first line with text; blank lines before it still count.
            leading: list[str] = []
            for text in lines:
                leading.append(text)
                if text.strip():
                    break
            self.delimiter = _delimiter(leading[-1] if leading else "")
            self._records = csv.reader(itertools.chain(leading, lines), delimiter=self.delimiter)
            header = self._next_record()
            while header is not None and not any(cell.strip() for cell in header):
                header = self._next_record()
        except UnicodeDecodeError as exc:
            raise _undecodable(self.line + 1) from exc
        if header is None:
            raise _problem("empty_file", "The file is empty.", "الملف فارغ.")
        self._index, self.unknown_columns = self._read_header(header)
        self._width = len(header)
        self.columns = tuple(self._index)

    @property
    def encoding(self) -> str:
        """The encoding decided so far: utf-8-sig, utf-8 or cp1256 (all-ASCII reads as utf-8)."""
        return self._decoder.encoding or "utf-8"

    def _next_record(self) -> list[str] | None:
        try:
            record = next(self._records, None)
        except csv.Error as exc:
            raise _problem(
                "malformed",
                f"The file could not be read past row {self.line}: {exc}. "
                "Check for a double quote that is never closed.",
                f"تعذرت قراءة الملف بعد الصف {self.line}. تحقق من وجود علامة تنصيص مزدوجة غير مغلقة.",
                line=self.line,
            ) from exc
        if record is not None:
            self.line += 1
        return record

    @staticmethod
    def _read_header(header: list[str]) -> tuple[dict[str, int], tuple[str, ...]]:
        index: dict[str, int] = {}
        unknown: list[str] = []
        duplicates: list[str] = []
        for position, cell in enumerate(header):
            name = normalize_header(cell)
            if not name:
                continue  # trailing empty header cells: Excel writes them for formatted columns
            if name not in CANONICAL_COLUMNS:
                unknown.append(cell.strip())
            elif name in index:
                duplicates.append(name)
            else:
                index[name] = position
        if duplicates:
            names = ", ".join(duplicates)
            raise _problem(
                "duplicate_columns",
                f"These columns appear more than once: {names}.",
                f"هذه الأعمدة مكررة: {names}.",
                columns=tuple(duplicates),
            )
        missing = tuple(c for c in REQUIRED_COLUMNS if c not in index)
        if missing:
            names = ", ".join(missing)
            raise _problem(
                "missing_columns",
                f"Required columns are missing: {names}.",
                f"أعمدة مطلوبة غير موجودة: {names}.",
                columns=missing,
            )
        return index, tuple(unknown)

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        index, width = self._index, self._width
        try:
            while (record := self._next_record()) is not None:
                if not any(cell.strip() for cell in record):
                    continue
                row = {name: record[i] if i < len(record) else "" for name, i in index.items()}
                # Even an empty extra cell means the row is shifted: every row of a sheet
                # has the header's width, and an unquoted comma adds one cell.
                if len(record) > width:
                    row[EXTRA_CELLS] = ",".join(record[width:])
                yield self.line, row
        except UnicodeDecodeError as exc:
            raise _undecodable(self.line + 1) from exc


def open_hr_csv(stream: ByteStream, *, chunk_size: int = CHUNK_SIZE) -> HrCsv:
    """Read the header of an HR CSV stream; raises `HrFileError` for a file that can't be enrolled."""
    return HrCsv(stream, chunk_size=chunk_size)

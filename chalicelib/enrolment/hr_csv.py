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
   Windows-1256 maps every byte, so any file "decodes" as it: Shift-JIS, GBK or KOI8-R would
   be stored as mojibake. So Windows-1256 text must also read as Arabic or Latin
   (`_Cp1256Judge`): its non-ASCII characters are Arabic letters and marks, Latin-1 letters or
   common punctuation, and an Arabic letter never touches a Latin one inside a word. Anything
   else is refused with a sentence naming the two accepted encodings.
   The majority clause is for a UTF-8 file with one stray Windows-1256 row near the top:
   choosing Windows-1256 there would silently garble every Arabic name in the file, while
   UTF-8 reads them right and reports the stray row (rule 4).
4. Once UTF-8 is chosen, a later invalid byte stops the file with `HrFileError` naming the
   row; the rows before it stand. Once Windows-1256 is chosen, the judge keeps counting: when
   the text read so far stops looking like Arabic or Latin, the file stops the same way.

Lines: CRLF, LF or lone CR (old Mac Excel). Fields: `csv` quoting, so commas and line breaks
inside double quotes are kept. The delimiter is the one of `,` `;` or TAB found most in the
header line (European-locale Excel writes `;`).

Limits, enforced while reading, so any input costs time linear in its size and memory bounded
by a chunk plus one row: a row (one line, or several joined by quoted line breaks) holds at
most `ROW_MAX_CHARS` characters and a cell `CELL_MAX_CHARS`. Line breaks are found with
`str.find` from where the last search stopped; the unfinished tail of a chunk is carried as
pieces and never searched again. A single line over the limit is skipped to its line break
and reported as a row error (`ROW_TOO_LONG`); a row over the limit that spans quoted line
breaks means a double quote never closes, the reader cannot tell where the next row starts,
so the rest of the file stops with `HrFileError`. An oversized cell is cut and named under
`OVERSIZED_CELLS`, for a row error.

Row numbers are spreadsheet row numbers (the header is row 1; a quoted line break does not
start a new row), which is what HR sees when opening the file in Excel.

Resuming: between two rows, `HrCsv.position()` says where the next unread row starts (its byte
offset, counted from the text handed on, which re-encodes to the bytes read) and what reading
decided so far (encoding, delimiter, header, row number, the Windows-1256 judge's counts).
`resume_hr_csv` reads on from there over a stream that starts at that byte (a ranged GET), so a
file too big for one invocation is read in several, each row once.
"""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from chalicelib.enrolment.ports import ByteStream
from chalicelib.enrolment.rules import (
    CELL_MAX_CHARS,
    EXTRA_CELLS,
    OVERSIZED_CELLS,
    ROW_MAX_CHARS,
    ROW_TOO_LONG,
    FileProblem,
    HrFileError,
)
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
# The start of a line too long to read, kept to name its employee_no in the report.
_HEAD_CHARS = 1024

_NON_ASCII = re.compile(rb"[\x80-\xff]")
_HEADER_JUNK = re.compile(r"[^0-9a-z\u0600-\u06ff]+")


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


def _not_arabic_or_latin(line: int | None) -> HrFileError:
    where = f" (from row {line})" if line else ""
    where_ar = f" (ابتداءً من الصف {line})" if line else ""
    return _problem(
        "unsupported_encoding",
        f"The file's text{where} is neither UTF-8 nor Windows-1256 (Arabic) text: only these two "
        "encodings are accepted." + _SAVE_AS[0],
        f"نص الملف{where_ar} ليس بترميز UTF-8 ولا Windows-1256 (العربي): لا يُقبل غير هذين الترميزين."
        + _SAVE_AS[1],
        line=line,
    )


def _row_never_ends(line: int) -> HrFileError:
    return _problem(
        "row_too_long",
        f"Row {line} runs past {ROW_MAX_CHARS:,} characters over several lines: a double quote is "
        "probably never closed, so where the next row starts is unknown. Reading stopped at this row; "
        "the rows before it were read.",
        f"الصف {line} يتجاوز {ROW_MAX_CHARS:,} حرف على عدة أسطر: على الأرجح علامة تنصيص مزدوجة لم "
        "تُغلق، فلا يُعرف أين يبدأ الصف التالي. توقفت القراءة عند هذا الصف؛ وقُرئت الصفوف التي قبله.",
        line=line,
    )


def _header_too_long() -> HrFileError:
    return _problem(
        "malformed",
        f"The first line is longer than {ROW_MAX_CHARS:,} characters: it is not a CSV header."
        + _SAVE_AS[0],
        f"السطر الأول أطول من {ROW_MAX_CHARS:,} حرف: ليس سطر عناوين ملف CSV." + _SAVE_AS[1],
    )


def normalize_header(name: str) -> str:
    """The canonical column name for a header cell: "Employee No" and " EMAIL " -> employee_no, email."""
    text = unicodedata.normalize("NFKC", name).replace("\ufeff", "").strip().lower()
    text = _HEADER_JUNK.sub("_", text).strip("_")
    return _ALIASES.get(text, text)


def read_header(header: Sequence[str]) -> tuple[dict[str, int], tuple[str, ...]]:
    """Canonical column -> position, and the unknown header cells; raises `HrFileError` for duplicate or
    missing columns. The one header rule of every HR file: the CSV reader and the workbook reader use it."""
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


class _Decoder:
    """Turns the byte stream into text chunks, choosing the encoding by the rule above."""

    def __init__(self, stream: ByteStream, chunk_size: int, *, resumed: Mapping[str, Any] | None = None) -> None:
        self._stream = stream
        self._chunk_size = chunk_size
        self._eof = False
        self._started = False
        # None while everything read so far is ASCII.
        self.encoding: str | None = None
        self.bytes_read = 0
        self.bom_bytes = 0
        self._judge = _Cp1256Judge()
        self._resumed = resumed is not None
        if resumed is not None:
            # Mid-file: no BOM or signature to look for, the encoding as decided before.
            self._started = True
            self.encoding = resumed["encoding"]
            self._judge.non_ascii, self._judge.suspicious = resumed["judge"]

    def byte_length(self, text: str) -> int:
        """How many bytes of the file this text was decoded from (valid text re-encodes to them)."""
        if self.encoding == "cp1256" or text.isascii():
            return len(text)
        return len(text.encode("utf-8"))

    def _read(self) -> bytes:
        if self._eof:
            return b""
        data = self._stream.read(self._chunk_size)
        self.bytes_read += len(data)
        if not data:
            self._eof = True
            return b""
        # NUL never occurs in text in either encoding: this is a binary file.
        if self._started and b"\x00" in data:
            raise _undecodable(None)
        return data

    def chunks(self) -> Iterator[str]:
        pending = self._read() if self._resumed else self._read_start()
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
        # Resumed after the BOM: the rest of the file is plain UTF-8.
        decoder = codecs.getincrementaldecoder("utf-8" if self.encoding == "utf-8-sig" and self._resumed
                                               else self.encoding)()
        while pending:
            held = decoder.getstate()[0]
            try:
                text = decoder.decode(pending)
            except UnicodeDecodeError as exc:
                # Hand over the good text first, so the error surfaces on the row that
                # holds the bad byte rather than up to a chunk of rows earlier.
                yield (held + pending)[: exc.start].decode(self.encoding)
                raise
            if self.encoding == "cp1256" and (bad := self._judge.feed(text)) is not None:
                # As for a bad byte: the lines before the foreign text are handed over first.
                yield text[:bad]
                raise _NotArabicOrLatin
            yield text
            pending = self._read()
        yield decoder.decode(b"", final=True)

    def _read_start(self) -> bytes:
        first = self._read()
        while len(first) < 4 and not self._eof:
            first += self._read()
        if first.startswith(codecs.BOM_UTF8):
            self.encoding = "utf-8-sig"
            self.bom_bytes = len(codecs.BOM_UTF8)
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


class _NotArabicOrLatin(Exception):
    """Text decided as Windows-1256 that reads as neither Arabic nor Latin: another encoding."""


# Windows-1256 characters that real Arabic or Latin text is made of: Arabic letters, marks and
# punctuation (U+0600-U+06FF), Latin-1 letters (no x or division sign) and the French oe, and
# the punctuation and invisible joiners Excel users type. Everything else it maps to (dagger,
# per mille, florin, degree, currency signs, superscripts, C0 controls) is what other
# encodings turn into.
_CP1256_ODD = re.compile(
    "[^\t\n\r\x20-\x7e\u0600-\u06ff\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0152\u0153"
    "\u00a0\u00ab\u00bb\u2013\u2014\u2018\u2019\u201c\u201d\u2022\u2026"
    "\u200c-\u200f\u20ac\u2122\u00a9\u00ae]"
)
# An Arabic letter touching a Latin one: no word is written so, while a two-byte character
# of Shift-JIS, GBK or a Cyrillic code page read as Windows-1256 gives exactly that.
_CP1256_MIXED = re.compile(
    "[\u0600-\u06ff][A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0152\u0153]"
    "|[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0152\u0153][\u0600-\u06ff]"
)
# Tolerated share of suspicious characters among the non-ASCII ones: a stray symbol in a
# real Arabic file must not refuse it, a file in another encoding is far above this.
_ODD_PER_NON_ASCII = 1 / 50
_MIXED_CHECKED_UP_TO = 64 * 1024


class _Cp1256Judge:
    """Keeps count, over the text read so far, of how plausible it is as Windows-1256."""

    def __init__(self) -> None:
        self.non_ascii = 0
        self.suspicious = 0

    def feed(self, text: str) -> int | None:
        """Count this text in; when the text so far is no longer plausible, where its bad part starts.

        That is the start of the line holding the first suspicious character of `text`.
        """
        # Linear passes in C (single-character classes: no backtracking), no per-character Python.
        # The mixed-script pass costs most; once plenty of text read as Arabic or Latin, the
        # encoding is established and odd characters alone flag a change of encoding.
        mixed = self.non_ascii < _MIXED_CHECKED_UP_TO
        if mixed:
            self.suspicious += len(_CP1256_MIXED.findall(text))
        self.non_ascii += len(text) - len(text.encode("ascii", "ignore"))
        self.suspicious += len(_CP1256_ODD.findall(text))
        if self.suspicious <= self.non_ascii * _ODD_PER_NON_ASCII:
            return None
        found = [m.start() for m in (_CP1256_ODD.search(text), _CP1256_MIXED.search(text) if mixed else None) if m]
        first = min(found, default=0)
        return max(text.rfind("\n", 0, first), text.rfind("\r", 0, first)) + 1


class _RowOverflow(Exception):
    """The row being read passed `ROW_MAX_CHARS`; raised by `_Lines` in the middle of `csv`'s read."""

    def __init__(self, *, single_line: bool, head: str) -> None:
        super().__init__("row too long")
        self.single_line = single_line
        self.head = head


class _Lines:
    """Physical lines with their endings, so `csv` can join lines inside quoted fields.

    One pass over the text: each chunk is searched for CR and LF with `str.find` from where the
    previous search stopped (the found positions are kept, so a chunk with no CR is searched
    for CR once), and the unfinished tail is carried as pieces that are never searched again.
    `scanned` counts the characters the searches went over and `handed` those handed to `csv`
    (which parses each once), for the work-budget tests.

    The row limit is checked as pieces arrive: `record_chars` counts what was handed to `csv`
    for the row being read (the reader resets it at each row), and a row passing
    `ROW_MAX_CHARS` raises `_RowOverflow`. `csv` resets its state on its next call, and this
    iterator (a class, not a generator, so it survives raising) skips to the line's end.
    """

    def __init__(self, chunks: Iterator[str]) -> None:
        self._chunks = chunks
        self._text = ""
        self._pos = 0
        self._next_cr = self._next_lf = -1  # positions found in _text, len(_text) for none
        self._parts: list[str] = []
        self._held = 0
        self._skipping = False
        self._cr_at_chunk_end = False
        self._eof = False
        self._replay: list[str] = []
        self.record_chars = 0
        self.scanned = 0
        self.handed = 0
        # Bytes of the file behind the text taken in so far (see `HrCsv.position`).
        self.bytes_passed = 0
        self.byte_length: Callable[[str], int] = len

    def skip_to_line_end(self) -> None:
        """Resumed inside a line too long to read: its rest is skipped as it arrives."""
        self._skipping = True

    def __iter__(self) -> _Lines:
        return self

    def replay(self, lines: list[str]) -> None:
        """Hand these lines out again first (the lines read to sniff the delimiter)."""
        self._replay = lines[::-1] + self._replay

    def __next__(self) -> str:
        if self._replay:
            line = self._replay.pop()
            self.record_chars += len(line)  # already counted in `handed` when first read
            return line
        while True:
            if self._pos >= len(self._text):
                completed, more = self._next_chunk()
                if completed is not None:
                    return completed
                if not more:
                    raise StopIteration
                continue
            found = self._scan()
            if found is not None:
                return found

    def _next_chunk(self) -> tuple[str | None, bool]:
        """Move on to the next chunk: a line that its start completes, and whether text remains."""
        if not self._refill():
            return self._take() or None, False
        if not self._cr_at_chunk_end:
            return None, True
        # The CR that ended the last chunk: a CRLF split across chunks, or a lone CR.
        self._cr_at_chunk_end = False
        if self._text.startswith("\n"):
            self._pos = 1
            self._hold("\n", ends_line=True)
        else:
            self._hold("", ends_line=True)
        return self._take(), True

    def _scan(self) -> str | None:
        """Up to the next line break of the chunk: the line it ends, or None (held or skipped)."""
        text, pos = self._text, self._pos
        if self._next_cr < pos:
            self._next_cr = self._find(text, "\r", pos)
        if self._next_lf < pos:
            self._next_lf = self._find(text, "\n", pos)
        end = min(self._next_cr, self._next_lf)
        if end == len(text):
            self._pos = end
            self._hold(text[pos:], ends_line=False)
            return None
        if text[end] == "\r" and end + 1 == len(text):
            self._pos = end + 1
            self._cr_at_chunk_end = True
            self._hold(text[pos:], ends_line=False)
            return None
        stop = end + 2 if text[end] == "\r" and text[end + 1] == "\n" else end + 1
        self._pos = stop
        self._hold(text[pos:stop], ends_line=True)
        return self._take()

    def _find(self, text: str, char: str, pos: int) -> int:
        found = text.find(char, pos)
        if found < 0:
            self.scanned += len(text) - pos
            return len(text)
        self.scanned += found - pos + 1
        return found

    def _refill(self) -> bool:
        if self._eof:
            return False
        for chunk in self._chunks:
            if chunk:
                self._text, self._pos = chunk, 0
                self._next_cr = self._next_lf = -1
                return True
        self._eof = True
        self._text, self._pos = "", 0
        return False

    def _hold(self, piece: str, *, ends_line: bool) -> None:
        # Every character of the text passes here exactly once.
        self.bytes_passed += self.byte_length(piece)
        if self._skipping:
            if ends_line:
                self._skipping = False
                self._parts, self._held = [], 0
            return
        if self.record_chars + self._held + len(piece) > ROW_MAX_CHARS:
            head = "".join(self._parts)[:_HEAD_CHARS]
            head = head if len(head) == _HEAD_CHARS else (head + piece)[:_HEAD_CHARS]
            single_line = self.record_chars == 0
            # Drop what was held; the rest of this line is skipped as it arrives.
            self._parts, self._held = [], 0
            self._skipping = not ends_line
            raise _RowOverflow(single_line=single_line, head=head)
        self._parts.append(piece)
        self._held += len(piece)

    def _take(self) -> str | None:
        """The held line, or None right after a skipped line ended (nothing to hand out)."""
        if not self._parts:
            return None
        line = self._parts[0] if len(self._parts) == 1 else "".join(self._parts)
        self._parts, self._held = [], 0
        self.record_chars += len(line)
        self.handed += len(line)
        return line


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


class HrCsv:
    """An HR CSV whose header has been read: iterate it for `(row_number, raw_row)` pairs.

    `raw_row` maps canonical column names to cell text (unstripped; "" for a missing cell);
    cells beyond the header are joined under `EXTRA_CELLS`. A cell over `CELL_MAX_CHARS` is cut
    there and its column named under `OVERSIZED_CELLS`; a line over `ROW_MAX_CHARS` comes as
    the cells of its start and `ROW_TOO_LONG`. Blank rows are skipped but counted. Iterating
    may raise `HrFileError` (undecodable, not Arabic or Latin, or a row that never ends): rows
    yielded before it stand.
    """

    def __init__(self, stream: ByteStream, *, chunk_size: int = CHUNK_SIZE,
                 resumed: Mapping[str, Any] | None = None) -> None:
        self._decoder = _Decoder(stream, chunk_size, resumed=resumed)
        self._lines = _Lines(self._decoder.chunks())
        self._lines.byte_length = self._decoder.byte_length
        self.line = 0
        self._start = 0
        if resumed is not None:
            self._resume(resumed)
            return
        try:
            # Sniff the delimiter on the first line with text; blank lines before it still count.
            leading: list[str] = []
            for text in self._lines:
                leading.append(text)
                if text.strip():
                    break
            self.delimiter = _delimiter(leading[-1] if leading else "")
            self._lines.replay(leading)
            self._lines.record_chars = 0
            self._records = csv.reader(self._lines, delimiter=self.delimiter)
            header = self._next_record()
            while header is not None and not any(cell.strip() for cell in header):
                header = self._next_record()
        except _RowOverflow as exc:
            raise _header_too_long() from exc
        except UnicodeDecodeError as exc:
            raise _undecodable(self.line + 1) from exc
        except _NotArabicOrLatin as exc:
            raise _not_arabic_or_latin(None) from exc
        if header is None:
            raise _problem("empty_file", "The file is empty.", "الملف فارغ.")
        self._index, self.unknown_columns = self._read_header(header)
        self._width = len(header)
        self.columns = tuple(self._index)

    def _resume(self, at: Mapping[str, Any]) -> None:
        self._start = at["offset"]
        self.line = at["line"]
        self.delimiter = at["delimiter"]
        self._index = dict(at["columns"])
        self._width = at["width"]
        self.unknown_columns = tuple(at["unknown_columns"])
        self.columns = tuple(self._index)
        self._records = csv.reader(self._lines, delimiter=self.delimiter)
        if at["skipping"]:
            self._lines.skip_to_line_end()

    def position(self) -> dict[str, Any]:
        """Where the next unread row starts and what reading decided so far (JSON); valid between rows."""
        return {
            "offset": self._start + self._decoder.bom_bytes + self._lines.bytes_passed,
            "line": self.line,
            "encoding": self._decoder.encoding,
            "judge": [self._decoder._judge.non_ascii, self._decoder._judge.suspicious],
            "delimiter": self.delimiter,
            "columns": list(self._index.items()),
            "width": self._width,
            "unknown_columns": list(self.unknown_columns),
            # After a line too long to read, the rest of it is still to be skipped.
            "skipping": self._lines._skipping,
        }

    @property
    def encoding(self) -> str:
        """The encoding decided so far: utf-8-sig, utf-8 or cp1256 (all-ASCII reads as utf-8)."""
        return self._decoder.encoding or "utf-8"

    @property
    def work(self) -> int:
        """Bytes read, characters searched for line breaks and handed to csv: linear in the file's size."""
        return self._decoder.bytes_read + self._lines.scanned + self._lines.handed

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
        finally:
            # The row limit counts from the start of each row (or of what follows a skipped one).
            self._lines.record_chars = 0
        if record is not None:
            self.line += 1
        return record

    @staticmethod
    def _read_header(header: list[str]) -> tuple[dict[str, int], tuple[str, ...]]:
        return read_header(header)

    def _row(self, record: list[str]) -> dict[str, str]:
        index, width = self._index, self._width
        row = {name: record[i] if i < len(record) else "" for name, i in index.items()}
        # Even an empty extra cell means the row is shifted: every row of a sheet
        # has the header's width, and an unquoted comma adds one cell.
        if len(record) > width:
            row[EXTRA_CELLS] = ",".join(record[width:])
        oversized = [name for name, cell in row.items() if len(cell) > CELL_MAX_CHARS]
        for name in oversized:
            row[name] = row[name][:CELL_MAX_CHARS]
        if oversized:
            row[OVERSIZED_CELLS] = ",".join(oversized)
        return row

    def _too_long_row(self, head: str) -> dict[str, str]:
        """What can be told of a line too long to read: the cells its start holds."""
        cells = next(csv.reader([head], delimiter=self.delimiter), [])
        row = {name: cells[i] if i < len(cells) else "" for name, i in self._index.items()}
        # The last cell of the head is cut; only whole cells before it are kept.
        for name, i in self._index.items():
            if i >= len(cells) - 1:
                row[name] = ""
        row[ROW_TOO_LONG] = "1"
        return row

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        try:
            while True:
                try:
                    record = self._next_record()
                except _RowOverflow as overflow:
                    self.line += 1
                    if not overflow.single_line:
                        raise _row_never_ends(self.line) from overflow
                    # One line too long: the next line break is a sure start of the next row.
                    yield self.line, self._too_long_row(overflow.head)
                    continue
                if record is None:
                    return
                if not any(cell.strip() for cell in record):
                    continue
                yield self.line, self._row(record)
        except UnicodeDecodeError as exc:
            raise _undecodable(self.line + 1) from exc
        except _NotArabicOrLatin as exc:
            raise _not_arabic_or_latin(self.line + 1) from exc


def open_hr_csv(stream: ByteStream, *, chunk_size: int = CHUNK_SIZE) -> HrCsv:
    """Read the header of an HR CSV stream; raises `HrFileError` for a file that can't be enrolled."""
    return HrCsv(stream, chunk_size=chunk_size)


def resume_hr_csv(stream: ByteStream, position: Mapping[str, Any], *, chunk_size: int = CHUNK_SIZE) -> HrCsv:
    """Read on from `position` (an earlier `HrCsv.position()`) over a stream starting at its offset."""
    return HrCsv(stream, chunk_size=chunk_size, resumed=position)

"""Reading the user's files: what they are, and CSV files (encodings, delimiters, irregular rows, quotes).

Reading never trusts the file: size, type (by content, not only by name), encoding, delimiter,
header-only and oversized files each get a problem row that says what is wrong and what to do.
Every cell is read as text, so a problem quotes the value exactly as typed. A CSV file is decoded
and parsed as a stream, record by record, into a TableBuilder (core.importer.table), which applies
the row, column and cell limits as the records arrive. Workbooks: core.importer.workbook.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

from core.importer.files import (
    CohortFiles,
    InputFile,
    binary_kind,
    refuse_empty,
    refuse_too_big,
)
from core.importer.limits import ReadLimits
from core.importer.problems import ERROR, WARNING, ProblemReport
from core.importer.table import TableBuilder, TextTable

CSV_FIELD_CEILING = 1 << 20     # characters the csv module gathers into one value before it gives up
SEPARATORS_PER_COLUMN = 4096    # separators in one line beyond which it cannot be a row (quoted text has some)
_DECODE_BLOCK = 1 << 20
def _first_bad_utf8(data: bytes) -> int | None:
    """Where UTF-8 decoding fails (None when the bytes are UTF-8); decoded block by block, the text is not kept."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(data), _DECODE_BLOCK):
        try:
            decoder.decode(data[start:start + _DECODE_BLOCK], final=start + _DECODE_BLOCK >= len(data))
        except UnicodeDecodeError as exc:
            return start + exc.start
    return None


def text_encoding(file: InputFile, report: ProblemReport) -> str | None:
    """How to decode the bytes: UTF-8 (with or without BOM); UTF-16 with a BOM; else Windows-1252/Latin-1,
    with a warning. None (after a problem row) when the file is not text."""
    data = file.data
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        report.add(WARNING, file.name, None, "", "UTF-16 text", "UTF-8; read as UTF-16 (it had a byte-order mark)")
        return "utf-16"
    if b"\x00" in data:
        report.add(ERROR, file.name, None, "", "NUL bytes in the text",
                   "a text CSV file (this looks binary, or UTF-16 without a byte-order mark)")
        return None
    bad = _first_bad_utf8(data)
    if bad is None:
        return "utf-8-sig"
    row = data.count(b"\n", 0, bad) + 1
    cp1252 = not any(byte in data for byte in (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d"))  # undefined there
    encoding, name = ("cp1252", "Windows-1252") if cp1252 else ("latin-1", "Latin-1")
    report.add(WARNING, file.name, row, "", f"byte 0x{data[bad]:02X} is not UTF-8",
               f"a UTF-8 file (save as 'CSV UTF-8'); read as {name} — check accented letters")
    return encoding


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


class _Lines:
    """The text's lines for the csv module, keeping those of the record being read (to explain a bad one).

    Stops at a NUL character, and at a line with more separators than `max_separators`: the csv module
    builds a whole record before the column limit can look at it, and a line of millions of commas
    would be millions of values.
    """

    def __init__(self, stream: io.TextIOBase, delimiter: str, max_separators: int) -> None:
        self.stream = stream
        self.delimiter = delimiter
        self.max_separators = max_separators
        self.record: list[str] = []
        self.nul = False
        self.too_wide = False

    def __iter__(self) -> Iterator[str]:
        for line in self.stream:
            if "\x00" in line:
                self.nul = True
                return
            if len(line) > self.max_separators and line.count(self.delimiter) > self.max_separators:
                self.too_wide = True
                return
            self.record.append(line)
            yield line


def _field_at_end(text: str, delimiter: str) -> tuple[int, int | None]:
    """Scan one record's text as the csv module does: (index of the field the text ends in, where that
    field's quote opened — None when the text does not end inside a quoted value)."""
    field, i, n = 0, 0, len(text)
    while i < n:
        opened = None
        if text[i] == '"':
            opened, i = i, i + 1
            while True:
                j = text.find('"', i)
                if j < 0:
                    return field, opened
                if text.startswith('""', j):
                    i = j + 2
                    continue
                i = j + 1
                break
        ends = [k for k in (text.find(delimiter, i), text.find("\n", i), text.find("\r", i)) if k >= 0]
        if not ends:
            return field, None
        k = min(ends)
        if text[k] != delimiter:
            return field, None
        field, i = field + 1, k + 1
    return field, None


def read_csv_table(file: InputFile, table: str, report: ProblemReport, limits: ReadLimits) -> TextTable | None:
    """One CSV file → TextTable (or None after reporting why it cannot be read), streamed record by record."""
    if refuse_empty(file, report) or refuse_too_big(file, report, limits):
        return None
    kind = binary_kind(file.data)
    if kind is not None:
        hint = ("one Excel workbook with the sheets patients and events (upload it as the workbook), or a CSV "
                "saved as 'CSV UTF-8'") if "Excel" in kind else "a CSV text file (download the template)"
        report.add(ERROR, file.name, None, "", f"this is {kind}", hint)
        return None
    encoding = text_encoding(file, report)
    if encoding is None:
        return None
    stream = io.TextIOWrapper(io.BytesIO(file.data), encoding=encoding, newline="")
    try:
        return _read_records(stream, table, file.name, report, limits)
    except UnicodeDecodeError:
        report.add(ERROR, file.name, None, "", "UTF-16 text that does not decode",
                   "a CSV saved as 'CSV UTF-8 (comma delimited)'")
        return None


def _read_records(stream: io.TextIOBase, table: str, name: str, report: ProblemReport,
                  limits: ReadLimits) -> TextTable | None:
    first = stream.readline()
    delimiter = _delimiter(first.split("\n", 1)[0])
    stream.seek(0)
    if delimiter != ",":
        report.add(WARNING, name, 1, "", f"separator {'TAB' if delimiter == chr(9) else delimiter}",
                   "commas between values; read with the separator the header uses")
    lines = _Lines(stream, delimiter, limits.max_columns * SEPARATORS_PER_COLUMN)
    # The csv module's limit is a ceiling that bounds memory; the cell limit itself is checked with
    # the column's name (TableBuilder); past the ceiling only a quote left open is likely.
    csv.field_size_limit(max(CSV_FIELD_CEILING, limits.max_cell_chars + 1))
    reader = csv.reader(lines, delimiter=delimiter, strict=False)
    builder = TableBuilder(table, name, report, limits, fixed_width=True)
    row, spanned = 0, False
    try:
        for record in reader:
            row += 1
            spanned = len(lines.record) > 1
            if not spanned:
                lines.record.clear()
            if not builder.add(row, record):
                return None
            if spanned:
                last = lines.record
                lines.record = []
    except csv.Error as exc:
        text = "".join(lines.record)
        field, opened = _field_at_end(text, delimiter)
        column = _column_of(builder, field)
        if opened is not None:
            report.add(ERROR, name, row + 1, column, text[opened:opened + 200],
                       f"a closing quote (\") for the value that opens here: it runs on past "
                       f"{CSV_FIELD_CEILING:,} characters, taking the rows below it with it")
        else:
            report.add(ERROR, name, row + 1, column, f"more than {CSV_FIELD_CEILING:,} characters ({exc})",
                       f"at most {limits.max_cell_chars:,} characters in one cell")
        return None
    if lines.nul:
        report.add(ERROR, name, None, "", "NUL bytes in the text",
                   "a text CSV file (this looks binary, or UTF-16 without a byte-order mark)")
        return None
    if lines.too_wide:
        report.add(ERROR, name, row + 1, "", f"more than {lines.max_separators:,} separators in one line",
                   f"at most {limits.max_columns:,} columns (one value per header column)")
        return None
    if spanned:
        text = "".join(last)
        field, opened = _field_at_end(text, delimiter)
        if opened is not None:
            report.add(ERROR, name, row, _column_of(builder, field), text[opened:opened + 200],
                       "a closing quote (\") for the value that opens here: it is never closed, so every "
                       "row below it was read as part of this one value")
            return None
    return builder.finish()


def _column_of(builder: TableBuilder, index: int) -> str:
    if builder.header is None:
        return f"column {index + 1}"
    return builder.column_name(index)


def read_cohort_files(files: CohortFiles, report: ProblemReport,
                      limits: ReadLimits = ReadLimits()) -> tuple[TextTable | None, TextTable | None]:
    """Both tables as text, from two CSV files or one workbook (None for a table that cannot be read)."""
    if files.workbook is not None:
        if files.patients is not None or files.events is not None:
            report.add(ERROR, files.workbook.name, None, "", "a workbook and CSV files",
                       "either one workbook or two CSV files, not both")
            return None, None
        from core.importer.workbook import read_workbook  # only workbook uploads need openpyxl

        tables = read_workbook(files.workbook, report, limits)
        return tables["patients"], tables["events"]
    if files.patients is None or files.events is None:
        missing = "patients" if files.patients is None else "events"
        report.add(ERROR, f"{missing}.csv", None, "", "(no file)",
                   "two CSV files (patients and events) or one workbook with both sheets")
        return (read_csv_table(files.patients, "patients", report, limits) if files.patients else None,
                read_csv_table(files.events, "events", report, limits) if files.events else None)
    return (read_csv_table(files.patients, "patients", report, limits),
            read_csv_table(files.events, "events", report, limits))



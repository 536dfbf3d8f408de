"""Reading an XLSX workbook's sheets `patients` and `events`, streamed row by row.

openpyxl reads the workbook's small parts (content types, sheet names, shared strings, number
formats and the 1900/1904 date system); the sheets themselves are inflated block by block and cut
into rows and cells with regular expressions, so memory stays at one block and the limits (rows,
columns, cell length, unpacked size) apply as the rows arrive. openpyxl's own reader is exact but
builds a Python object per cell — about a minute for 190,000 rows of 26 cells — and its read-only
mode scans a whole sheet before the first row when the sheet does not state its size.

A cell reads as the text the CSV route would have read: numbers without a trailing .0, dates
(number cells with a date format) as YYYY-MM-DD, booleans as true/false. Formulas, Excel errors and
merged cells each get a problem row naming the cell.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeGuard

import numpy as np

from core.importer.files import ZIP_MAGIC, InputFile, binary_kind, refuse_empty, refuse_too_big
from core.importer.limits import ReadLimits
from core.importer.problems import ERROR, WARNING, ProblemReport
from core.importer.rules import EXCEL_ERRORS, TABLES
from core.importer.table import TableBuilder, TextTable

IGNORED_SHEETS = frozenset({"dictionary", "readme", "read me", "instructions", "notes"})
_BLOCK = 1 << 20
_MEMO_LIMIT = 65_536

_ATTR_T = re.compile(rb'\bt="(\w+)"')
_ATTR_S = re.compile(rb'\bs="(\d+)"')
_ATTR_R = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_PHONETIC = re.compile(rb"<(\w+:)?rPh\b.*?</(\w+:)?rPh>", re.S)
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+\d+(?::[A-Z]+\d+)?)"')
_SHEET_DATA = re.compile(rb"<(\w+:)?sheetData\b")


@dataclass(frozen=True)
class _Formula:
    text: str


@dataclass(frozen=True)
class _ExcelError:
    text: str


@dataclass
class _Book:
    """What the sheets need from the rest of the workbook."""

    archive: zipfile.ZipFile
    sheets: list[tuple[str, str]]                   # (title, part name), in workbook order
    shared_strings: list[str]
    epoch: dt.datetime
    date_styles: frozenset[int]
    duration_styles: frozenset[int]
    inflated: int = 0
    memo: dict[tuple[bytes, bytes, bytes], tuple[int, str | None]] = field(default_factory=dict)


def _open_book(data: bytes) -> _Book:
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet

    reader = ExcelReader(io.BytesIO(data), read_only=True, keep_vba=False, data_only=False)
    reader.read_manifest()
    reader.read_strings()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)
    sheets = [(sheet.name, rel.target) for sheet, rel in reader.parser.find_sheets()
              if rel.target in reader.valid_files and "chartsheet" not in rel.Type]
    return _Book(archive=reader.archive, sheets=sheets, shared_strings=list(reader.shared_strings),
                 epoch=reader.wb.epoch, date_styles=frozenset(getattr(reader.wb, "_date_formats", ())),
                 duration_styles=frozenset(getattr(reader.wb, "_timedelta_formats", ())))


def read_workbook(file: InputFile, report: ProblemReport, limits: ReadLimits = ReadLimits()
                  ) -> dict[str, TextTable | None]:
    """An XLSX workbook → {"patients": TextTable, "events": TextTable} (None for a sheet that cannot be read)."""
    out: dict[str, TextTable | None] = {t: None for t in TABLES}
    if refuse_empty(file, report) or refuse_too_big(file, report, limits):
        return out
    if not file.data.startswith(ZIP_MAGIC):
        kind = binary_kind(file.data)
        what = f"this is {kind}" if kind else "not an XLSX workbook"
        hint = ("an .xlsx workbook (in Excel: File → Save As → Excel Workbook)" if kind and "legacy" in kind
                else "an .xlsx workbook with the sheets patients and events, or two CSV files")
        report.add(ERROR, file.name, None, "", what, hint)
        return out
    try:
        with zipfile.ZipFile(io.BytesIO(file.data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            names = set(archive.namelist())
            shared_text = sum(info.file_size for info in archive.infolist()
                              if info.filename.lower().endswith("sharedstrings.xml"))
    except zipfile.BadZipFile as exc:
        report.add(ERROR, file.name, None, "", f"a damaged ZIP/XLSX file ({exc})", "an .xlsx workbook saved again")
        return out
    # The sizes a ZIP declares bound what can be inflated from it (zipfile stops reading at the
    # declared size); the sheets are also counted as they are inflated.
    if unpacked > limits.max_xlsx_unpacked_bytes:
        _too_big_unpacked(file.name, unpacked, limits, report)
        return out
    if shared_text > limits.max_shared_text_bytes:   # read whole, unlike the sheets
        report.add(ERROR, file.name, None, "", f"{shared_text / 1024 / 1024:.0f} MB of shared text when unpacked",
                   f"a workbook whose text table is at most {limits.max_shared_text_bytes // 1024 // 1024} MB "
                   "unpacked (save it again from Excel, or send the sheets as two CSV files)")
        return out
    if "xl/workbook.xml" not in names:
        report.add(ERROR, file.name, None, "", "a ZIP archive without an Excel workbook",
                   "an .xlsx workbook with the sheets patients and events")
        return out
    try:
        book = _open_book(file.data)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on damaged files
        report.add(ERROR, file.name, None, "", f"could not be read as a workbook ({type(exc).__name__}: {exc})",
                   "an .xlsx workbook saved again from Excel or LibreOffice")
        return out
    try:
        sheets = {title.strip().lower(): (title, part) for title, part in book.sheets}
        for name, (title, _) in sheets.items():
            if name not in TABLES and name not in IGNORED_SHEETS:
                report.add(WARNING, f"{file.name} (sheet {title})", None, "", title,
                           "only the sheets patients and events are read; this sheet is ignored")
        for table in TABLES:
            if table not in sheets:
                found = ", ".join(title for title, _ in book.sheets) or "none"
                report.add(ERROR, file.name, None, "", f"sheets: {found}", f"a sheet named {table}")
                continue
            title, part = sheets[table]
            try:
                out[table] = _read_sheet(book, part, table, f"{file.name} (sheet {title})", report, limits)
            except _Unpacked:
                _too_big_unpacked(file.name, book.inflated, limits, report)
                return {t: None for t in TABLES}
            except (zipfile.BadZipFile, EOFError, ValueError, IndexError) as exc:
                report.add(ERROR, f"{file.name} (sheet {title})", None, "",
                           f"could not be read ({type(exc).__name__}: {exc})",
                           "an .xlsx workbook saved again from Excel or LibreOffice")
    finally:
        book.archive.close()
    return out


class _Unpacked(Exception):
    """The sheets inflate to more than the limit."""


def _too_big_unpacked(name: str, size: int, limits: ReadLimits, report: ProblemReport) -> None:
    report.add(ERROR, name, None, "", f"{size / 1024 / 1024:.0f} MB when unpacked",
               f"a workbook of at most {limits.max_xlsx_unpacked_bytes // 1024 // 1024} MB unpacked (remove "
               "formatting of empty rows, images and unused sheets)")


# ---------------------------------------------------------------------------------- one sheet
def _blocks(book: _Book, part: str, limits: ReadLimits) -> Iterator[bytes]:
    with book.archive.open(part) as source:
        while block := source.read(_BLOCK):
            book.inflated += len(block)
            if book.inflated > limits.max_xlsx_unpacked_bytes:
                raise _Unpacked
            yield block


def _read_sheet(book: _Book, part: str, table: str, label: str, report: ProblemReport,
                limits: ReadLimits) -> TextTable | None:
    builder = TableBuilder(table, label, report, limits)
    header: dict[int, str] = {}
    pending = b""
    sheet: _SheetSyntax | None = None
    last_row = 0
    for block in _blocks(book, part, limits):
        pending += block
        if sheet is None:
            found = _SHEET_DATA.search(pending)
            if found is None:
                continue
            sheet = _SheetSyntax(found.group(1) or b"")
        cut = pending.rfind(sheet.row_end)
        if cut < 0:
            continue
        text, pending = pending[:cut + len(sheet.row_end)], pending[cut + len(sheet.row_end):]
        last_row, go_on = _read_block(book, text, sheet, last_row, header, builder, label, report)
        if not go_on:
            return None
    from openpyxl.utils.cell import get_column_letter, range_boundaries

    for ref in _MERGE.findall(pending):
        coord = ref.decode("ascii")
        min_col, min_row, _, _ = range_boundaries(coord)
        column = header.get(min_col, f"column {get_column_letter(min_col)}")
        report.add(ERROR, label, min_row, f"{column} (cells {coord})", f"merged cells {coord}",
                   "no merged cells: unmerge them and type the value into every cell")
    return builder.finish()


def _column_index(letters: bytes) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + (ch - 64)
    return index


class _SheetSyntax:
    """The tags of one sheet (some writers put a namespace prefix on every tag, e.g. <x:row>)."""

    def __init__(self, prefix: bytes) -> None:
        self.row_start = b"<" + prefix + b"row"
        self.row_end = b"</" + prefix + b"row>"
        escaped = re.escape(prefix)
        self.cell = re.compile(rb"<" + escaped + rb'c\b(?:\s+r="([A-Z]{1,3})\d+")?([^>]*)>(?:(?<=/>)|(.*?)</'
                               + escaped + rb"c>)", re.S)
        # the same, with the row number: (letters, row, attributes, content)
        self.cell_in_row = re.compile(rb"<" + escaped + rb'c\b(?:\s+r="([A-Z]{1,3})(\d+)")?([^>]*)>(?:(?<=/>)|'
                                      rb"(.*?)</" + escaped + rb"c>)", re.S)


def _read_block(book: _Book, text: bytes, sheet: _SheetSyntax, last_row: int, header: dict[int, str],
                builder: TableBuilder, label: str, report: ProblemReport) -> tuple[int, bool]:
    """Complete rows → the builder. Returns the last row number and whether to read on.

    When every cell names its row and column (as Excel, LibreOffice and openpyxl write them), the
    block is handled whole: one pass of the cell pattern, each distinct cell converted once
    (remembered as (column, text)), and the values dropped into a row × column grid by numpy. A
    sheet that leaves cell references out is read row by row instead (_read_rows).
    """
    cells = sheet.cell_in_row.findall(text)
    if not cells:
        return last_row, True
    letters, row_digits, attrs, contents = zip(*cells)
    if b"" in letters:
        return _read_rows(book, text.split(sheet.row_end), sheet, last_row, header, builder, label, report)
    keys = list(zip(letters, attrs, contents))
    numbers = np.array(row_digits).astype(np.int64)     # numpy parses the digits itself
    distinct: dict[tuple[bytes, bytes, bytes], tuple[int, str | None | _Formula | _ExcelError]] = {}
    marked: list[tuple[bytes, bytes, bytes]] = []
    for key in dict.fromkeys(keys):
        remembered = book.memo.get(key)
        if remembered is not None:
            distinct[key] = remembered
            continue
        column = _column_index(key[0])
        value = _cell_value(book, key[1], key[2])
        if isinstance(value, _Formula | _ExcelError):
            marked.append(key)
        else:
            if len(book.memo) >= _MEMO_LIMIT:
                book.memo.clear()
            book.memo[key] = (column, value)
        distinct[key] = (column, value)
    pairs = list(map(distinct.__getitem__, keys))
    if numbers[0] == 1:                   # the header first, so later problems can name their column
        header.update((column, value.strip().lower()) for (column, value), row in zip(pairs, numbers.tolist())
                      if row == 1 and isinstance(value, str))
    if marked:                            # formulas and Excel errors: one problem per cell
        where = set(marked)
        for i, key in enumerate(keys):
            if key in where:
                column, value = pairs[i]
                assert isinstance(value, _Formula | _ExcelError)    # marked when it was converted
                _report_cell(value, int(numbers[i]), column, header, label, report)
                pairs[i] = (column, None)
    columns, values = zip(*pairs)
    column_numbers = np.fromiter(columns, dtype=np.int64, count=len(columns))
    rows, row_index = np.unique(numbers, return_inverse=True)
    width = int(column_numbers.max())
    if width > builder.limits.max_columns:           # the builder reports it, naming the row
        builder.add(int(numbers[int(np.argmax(column_numbers > builder.limits.max_columns))]), [None] * width)
        return int(rows[-1]), False
    grid = np.full((len(rows), width), None, dtype=object)
    cell_values = np.empty(len(values), dtype=object)
    cell_values[:] = values
    grid[row_index, column_numbers - 1] = cell_values   # a cell written twice: the last one counts
    for row, row_values in zip(rows.tolist(), grid.tolist()):
        if not builder.add(row, row_values):
            return row, False
    return int(rows[-1]), True


def _read_rows(book: _Book, rows: list[bytes], sheet: _SheetSyntax, last_row: int, header: dict[int, str],
               builder: TableBuilder, label: str, report: ProblemReport) -> tuple[int, bool]:
    """Complete rows (each text ends where its </row> was) → the builder. Returns the last row number and
    whether to read on.

    A cell as written (column letters, attributes, content) is converted once and remembered as
    (column, text): most cells of a sheet repeat one seen before, so a row costs a few C-level passes.
    """
    memo_get = book.memo.get
    for text in rows:
        opens = text.rfind(sheet.row_start)      # rows left empty (<row r="7"/>) may come before it
        if opens < 0:
            continue
        closes = text.find(b">", opens)
        number_match = _ROW_NUMBER.search(text, opens, closes)
        row = int(number_match.group(1)) if number_match else last_row + 1
        last_row = row
        cells = sheet.cell.findall(text, closes + 1)
        found = list(map(memo_get, cells))
        pairs = found if _all_remembered(found) else _with_new_cells(book, cells, found, row, header, label, report)
        if row == 1:
            header.update((column, value.strip().lower()) for column, value in pairs if value is not None)
        by_column = dict(pairs)
        values = list(map(by_column.get, range(1, max(by_column) + 1))) if by_column else []
        if not builder.add(row, values):
            return last_row, False
    return last_row, True


def _all_remembered(pairs: list[tuple[int, str | None] | None]) -> TypeGuard[list[tuple[int, str | None]]]:
    return None not in pairs


def _with_new_cells(book: _Book, cells: list[tuple[bytes, bytes, bytes]], found: list[tuple[int, str | None] | None],
                    row: int, header: dict[int, str], label: str,
                    report: ProblemReport) -> list[tuple[int, str | None]]:
    """The row's (column, text) pairs, converting the cells not remembered (a cell without a reference
    follows the one before it)."""
    pairs = []
    previous = 0
    for cell, pair in zip(cells, found):
        if pair is None:
            pair = _new_cell(book, cell, previous, row, header, label, report)
        pairs.append(pair)
        previous = pair[0]
    return pairs


def _new_cell(book: _Book, cell: tuple[bytes, bytes, bytes], previous: int, row: int, header: dict[int, str],
              label: str, report: ProblemReport) -> tuple[int, str | None]:
    """A cell not seen before: (column, text), remembered unless its meaning depends on where it is."""
    letters, attrs, inner = cell
    if letters:
        column = _column_index(letters)
    else:
        found = _ATTR_R.search(attrs)                  # r written after another attribute, or left out
        column = _column_index(found.group(1)) if found else previous + 1
    value = _cell_value(book, attrs, inner)
    if isinstance(value, _Formula | _ExcelError):      # reported cell by cell, never remembered
        _report_cell(value, row, column, header, label, report)
        return column, None
    if letters:
        if len(book.memo) >= _MEMO_LIMIT:
            book.memo.clear()
        book.memo[cell] = (column, value)
    return column, value


def _report_cell(value: _Formula | _ExcelError, row: int, column: int, header: dict[int, str], label: str,
                 report: ProblemReport) -> None:
    from openpyxl.utils.cell import get_column_letter

    letter = get_column_letter(column)
    name = header.get(column, f"column {letter}")
    report.claim(label, row, name)
    if isinstance(value, _Formula):
        report.add(ERROR, label, row, f"{name} (cell {letter}{row})", value.text,
                   "a typed value, not a formula (copy the column, then Paste Special → Values)")
    else:
        report.add(ERROR, label, row, f"{name} (cell {letter}{row})", value.text,
                   "a value, not an Excel error (fix the formula in your source sheet)")


# ---------------------------------------------------------------------------------- one cell
_TEXT = re.compile(rb"<(?:\w+:)?t\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?t>)", re.S)
_VALUE = re.compile(rb"<(?:\w+:)?v\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?v>)", re.S)
_FORMULA = re.compile(rb"<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)


def _xml_text(raw: bytes) -> str:
    text = raw.decode("utf-8")
    return html.unescape(text) if "&" in text else text


def _cell_value(book: _Book, attrs: bytes, inner: bytes | None) -> str | None | _Formula | _ExcelError:
    """One cell's XML → the text the CSV route would have read (None when empty), or what is wrong with it."""
    if not inner:
        return None
    kind_match = _ATTR_T.search(attrs)
    kind = kind_match.group(1) if kind_match else b"n"
    formula = _FORMULA.search(inner)
    if formula is not None:
        return _Formula("=" + (_xml_text(formula.group(1)) if formula.group(1) else "(shared formula)"))
    if kind == b"inlineStr":
        text = "".join(_xml_text(t) for t in _TEXT.findall(_PHONETIC.sub(b"", inner)) if t)
        return _text_value(text)
    found = _VALUE.search(inner)
    raw = found.group(1) if found else None
    if not raw:
        return None
    if kind == b"s":
        return _text_value(book.shared_strings[int(raw)])
    if kind == b"b":
        return "true" if int(raw) else "false"
    if kind == b"e":
        return _ExcelError(_xml_text(raw))
    if kind in (b"str", b"d"):
        text = _xml_text(raw)
        if kind == b"d":
            from openpyxl.utils.datetime import from_ISO8601

            return _cell_text(from_ISO8601(text))
        return _text_value(text)
    from openpyxl.worksheet._reader import _cast_number

    number = _cast_number(raw.decode("ascii"))
    style_match = _ATTR_S.search(attrs)
    style = int(style_match.group(1)) if style_match else 0
    if style in book.date_styles:
        from openpyxl.utils.datetime import from_excel

        try:
            return _cell_text(from_excel(number, book.epoch, timedelta=style in book.duration_styles))
        except (OverflowError, ValueError):
            return _ExcelError("#VALUE! (a date cell holding a number outside the calendar)")
    return _cell_text(number)


def _text_value(text: str) -> str | _ExcelError:
    return _ExcelError(text) if text.strip() in EXCEL_ERRORS else text


def _cell_text(value: object) -> str | None:
    """An Excel cell value → the text the CSV route would have read."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


__all__ = ["IGNORED_SHEETS", "read_workbook"]

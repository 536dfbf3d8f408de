"""Reading the user's files: CSV (encodings, delimiters, irregular rows) and XLSX workbooks.

Reading never trusts the file: size, type (by content, not only by name), encoding, delimiter,
formulas, merged cells, Excel error values, header-only and oversized files each get a problem row
that says what is wrong and what to do. Every cell is read as text, so a problem quotes the value
exactly as typed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.importer.problems import ERROR, WARNING, ProblemReport
from core.importer.rules import EXCEL_ERRORS, TABLES
from core.importer.limits import MAX_FILE_BYTES, ReadLimits
from core.importer.table import TextTable, _raw_frame, table_from_raw

IGNORED_SHEETS = frozenset({"dictionary", "readme", "read me", "instructions", "notes"})

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # legacy .xls / .doc
_SNIFF = {b"%PDF": "a PDF document", b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image",
          b"SQLite format 3": "an SQLite database", b"DUCK": "a DuckDB database", b"\x1f\x8b": "a gzip archive"}




# ---------------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class InputFile:
    """A file as uploaded: its name (for messages only) and its bytes."""

    name: str
    data: bytes

    @classmethod
    def from_path(cls, path: str | Path, *, max_bytes: int = MAX_FILE_BYTES) -> InputFile:
        """Read a file from disk, refusing to read more than the size limit (+1 byte to tell)."""
        path = Path(path)
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
        return cls(name=path.name, data=data)

    @property
    def size_text(self) -> str:
        return f"{len(self.data) / 1024 / 1024:.1f} MB"


@dataclass(frozen=True)
class CohortFiles:
    """What the user gave: two CSVs, or one workbook."""

    patients: InputFile | None = None
    events: InputFile | None = None
    workbook: InputFile | None = None

    @classmethod
    def from_csv(cls, patients: InputFile, events: InputFile) -> CohortFiles:
        return cls(patients=patients, events=events)

    @classmethod
    def from_workbook(cls, workbook: InputFile) -> CohortFiles:
        return cls(workbook=workbook)

    def describe(self) -> str:
        if self.workbook is not None:
            return self.workbook.name
        return " + ".join(f.name for f in (self.patients, self.events) if f is not None)



# ---------------------------------------------------------------------------------- reading
def _too_big(file: InputFile, report: ProblemReport, limits: ReadLimits) -> bool:
    if len(file.data) > limits.max_file_bytes:
        report.add(ERROR, file.name, None, "", f"{file.size_text} or more",
                   f"a file of at most {limits.max_file_bytes // 1024 // 1024} MB (split the cohort or remove unused "
                   "columns and sheets)")
        return True
    return False


def _empty(file: InputFile, report: ProblemReport) -> bool:
    if not file.data.strip():
        report.add(ERROR, file.name, None, "", "(empty file)",
                   "a file with a header row and one row per record (download the template)")
        return True
    return False


def _binary_kind(data: bytes) -> str | None:
    if data.startswith(_ZIP_MAGIC):
        return "an Excel workbook or ZIP archive"
    if data.startswith(_OLE_MAGIC):
        return "a legacy Excel (.xls) or Office file"
    for magic, kind in _SNIFF.items():
        if data.startswith(magic):
            return kind
    return None


def decode_text(file: InputFile, report: ProblemReport) -> str | None:
    """Bytes → text: UTF-8 (with or without BOM); UTF-16 with a BOM; else Windows-1252/Latin-1, with a warning."""
    data = file.data
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            report.add(ERROR, file.name, None, "", "UTF-16 text that does not decode",
                       "a CSV saved as 'CSV UTF-8 (comma delimited)'")
            return None
        report.add(WARNING, file.name, None, "", "UTF-16 text", "UTF-8; read as UTF-16 (it had a byte-order mark)")
        return text
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data[:exc.start].count(b"\n") + 1
        for encoding, name in (("cp1252", "Windows-1252"), ("latin-1", "Latin-1")):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            report.add(WARNING, file.name, row, "", f"byte 0x{data[exc.start]:02X} is not UTF-8",
                       f"a UTF-8 file (save as 'CSV UTF-8'); read as {name} — check accented letters")
            break
        else:  # pragma: no cover - latin-1 decodes every byte
            return None
    if "\x00" in text:
        report.add(ERROR, file.name, None, "", "NUL bytes in the text",
                   "a text CSV file (this looks binary, or UTF-16 without a byte-order mark)")
        return None
    return text


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _read_csv_fast(text: str, delimiter: str) -> pd.DataFrame | None:
    """pandas' C parser, every cell as text; None when the file is irregular (the careful reader then explains)."""
    try:
        raw = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, dtype=str, keep_default_na=False,
                          na_filter=False, skip_blank_lines=False, engine="c")
    except Exception:  # noqa: BLE001 - any parser complaint: the careful reader reports it precisely
        return None
    raw.index = pd.RangeIndex(1, len(raw) + 1)
    return raw.astype(object)


def _read_csv_careful(text: str, delimiter: str, file: str, report: ProblemReport) -> pd.DataFrame | None:
    """The csv module, record by record: reports rows with more values than the header."""
    try:
        csv.field_size_limit(1024 * 1024)
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False))
    except csv.Error as exc:
        report.add(ERROR, file, None, "", str(exc), "a well-formed CSV (quotes closed, one record per row)")
        return None
    if not records:
        return _raw_frame([])
    width = len(records[0])
    if sum(1 for c in records[0] if c.strip()) < 2:   # a title line, not a header: the header check explains
        return _raw_frame(records)
    for number, record in enumerate(records[1:], start=2):
        if len(record) > width:
            spill = [c for c in record[width:] if c.strip()]
            if spill:
                report.add(ERROR, file, number, "", spill[0],
                           f"at most {width} values, one per header column (this row has {len(record)}: "
                           "a stray separator, or a value with a comma that needs quotes?)")
            del record[width:]
    return _raw_frame(records)


def read_csv_table(file: InputFile, table: str, report: ProblemReport, limits: ReadLimits) -> TextTable | None:
    """One CSV file → TextTable (or None after reporting why it cannot be read)."""
    if _empty(file, report) or _too_big(file, report, limits):
        return None
    kind = _binary_kind(file.data)
    if kind is not None:
        hint = ("one Excel workbook with the sheets patients and events (upload it as the workbook), or a CSV "
                "saved as 'CSV UTF-8'") if "Excel" in kind else "a CSV text file (download the template)"
        report.add(ERROR, file.name, None, "", f"this is {kind}", hint)
        return None
    text = decode_text(file, report)
    if text is None:
        return None
    delimiter = _delimiter(text.split("\n", 1)[0])
    if delimiter != ",":
        report.add(WARNING, file.name, 1, "", f"separator {'TAB' if delimiter == chr(9) else delimiter}",
                   "commas between values; read with the separator the header uses")
    raw = _read_csv_fast(text, delimiter)
    if raw is None:
        raw = _read_csv_careful(text, delimiter, file.name, report)
        if raw is None:
            return None
    return table_from_raw(raw, table, file.name, report, limits.max_rows)


def _cell_text(cell: object, value: object) -> object:
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


def read_workbook(file: InputFile, report: ProblemReport, limits: ReadLimits) -> dict[str, TextTable | None]:
    """An XLSX workbook → {"patients": TextTable, "events": TextTable} (None for a sheet that cannot be read)."""
    out: dict[str, TextTable | None] = {t: None for t in TABLES}
    if _empty(file, report) or _too_big(file, report, limits):
        return out
    if not file.data.startswith(_ZIP_MAGIC):
        kind = _binary_kind(file.data)
        what = f"this is {kind}" if kind else "not an XLSX workbook"
        hint = ("an .xlsx workbook (in Excel: File → Save As → Excel Workbook)" if kind and "legacy" in kind
                else "an .xlsx workbook with the sheets patients and events, or two CSV files")
        report.add(ERROR, file.name, None, "", what, hint)
        return out
    try:
        with zipfile.ZipFile(io.BytesIO(file.data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            names = set(archive.namelist())
    except zipfile.BadZipFile as exc:
        report.add(ERROR, file.name, None, "", f"a damaged ZIP/XLSX file ({exc})", "an .xlsx workbook saved again")
        return out
    if unpacked > limits.max_xlsx_unpacked_bytes:
        report.add(ERROR, file.name, None, "", f"{unpacked / 1024 / 1024:.0f} MB when unpacked",
                   f"a workbook of at most {limits.max_xlsx_unpacked_bytes // 1024 // 1024} MB unpacked (remove "
                   "formatting of empty rows, images and unused sheets)")
        return out
    if "xl/workbook.xml" not in names:
        report.add(ERROR, file.name, None, "", "a ZIP archive without an Excel workbook",
                   "an .xlsx workbook with the sheets patients and events")
        return out
    import openpyxl  # imported here: only workbook uploads need it

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(file.data), data_only=False, read_only=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on damaged files
        report.add(ERROR, file.name, None, "", f"could not be read as a workbook ({type(exc).__name__}: {exc})",
                   "an .xlsx workbook saved again from Excel or LibreOffice")
        return out
    try:
        sheets = {ws.title.strip().lower(): ws for ws in workbook.worksheets}
        for name, ws in sheets.items():
            if name not in TABLES and name not in IGNORED_SHEETS:
                report.add(WARNING, f"{file.name} (sheet {ws.title})", None, "", ws.title,
                           "only the sheets patients and events are read; this sheet is ignored")
        for table in TABLES:
            ws = sheets.get(table)
            if ws is None:
                found = ", ".join(w.title for w in workbook.worksheets) or "none"
                report.add(ERROR, file.name, None, "", f"sheets: {found}", f"a sheet named {table}")
                continue
            out[table] = _read_sheet(ws, table, f"{file.name} (sheet {ws.title})", report, limits.max_rows)
    finally:
        workbook.close()
    return out


def _read_sheet(ws: object, table: str, label: str, report: ProblemReport, max_rows: int) -> TextTable | None:
    from openpyxl.utils import get_column_letter

    max_row = getattr(ws, "max_row", 0) or 0
    if max_row > max_rows + 1:
        report.add(ERROR, label, None, "", f"{max_row:,} rows in use",
                   f"at most {max_rows:,} data rows (delete formatted empty rows below the data)")
        return None
    header_cells: dict[int, str] = {}
    rows: list[list[object]] = []
    for r, cells in enumerate(ws.iter_rows(), start=1):  # type: ignore[attr-defined]
        values: list[object] = []
        for c, cell in enumerate(cells, start=1):
            kind = getattr(cell, "data_type", None)
            value = cell.value
            if r == 1 and value is not None:
                header_cells[c] = str(value).strip().lower()
            column = header_cells.get(c, f"column {get_column_letter(c)}")
            if kind == "f":
                report.claim(label, r, column)
                report.add(ERROR, label, r, f"{column} (cell {cell.coordinate})", str(value),
                           "a typed value, not a formula (copy the column, then Paste Special → Values)")
                values.append(None)
                continue
            if kind == "e" or (isinstance(value, str) and value.strip() in EXCEL_ERRORS):
                report.claim(label, r, column)
                report.add(ERROR, label, r, f"{column} (cell {cell.coordinate})", str(value),
                           "a value, not an Excel error (fix the formula in your source sheet)")
                values.append(None)
                continue
            values.append(_cell_text(cell, value))
        rows.append(values)
    for merged in ws.merged_cells.ranges:  # type: ignore[attr-defined]
        column = header_cells.get(merged.min_col, f"column {get_column_letter(merged.min_col)}")
        report.add(ERROR, label, merged.min_row, f"{column} (cells {merged.coord})", f"merged cells {merged.coord}",
                   "no merged cells: unmerge them and type the value into every cell")
    return table_from_raw(_raw_frame(rows), table, label, report, max_rows)


def read_cohort_files(files: CohortFiles, report: ProblemReport,
                      limits: ReadLimits = ReadLimits()) -> tuple[TextTable | None, TextTable | None]:
    """Both tables as text, from two CSV files or one workbook (None for a table that cannot be read)."""
    if files.workbook is not None:
        if files.patients is not None or files.events is not None:
            report.add(ERROR, files.workbook.name, None, "", "a workbook and CSV files",
                       "either one workbook or two CSV files, not both")
            return None, None
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



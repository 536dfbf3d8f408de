"""Importing a centre's cohort: read the user's files, validate them, store a new cohort file atomically.

    result = import_cohort(CohortFiles.from_csv(patients, events), label="Centre X 2024")
    result.ok, result.report.frame(), result.path

Input is either two CSV files (`patients`, `events`) or one XLSX workbook with the sheets `patients`
and `events`. Reading never trusts the file: size, type (by content, not only by name), encoding,
delimiter, formulas, merged cells, Excel error values, header-only and oversized files each get a
problem row that says what is wrong and what to do. Every cell is read as text, so a problem quotes
the value exactly as typed (see core.validation for the rules and the row convention).

A valid import is written by core.store.write_cohort_file to a hidden staging file in the cohorts
directory, completed there (unknown columns kept in `patients_extra` / `events_extra`), flushed,
and only then renamed to its final name, so a failed or killed import never leaves a listed
half-cohort and never touches an existing one. The default cohort is never a target.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from core import cohorts as cohort_store
from core.cohort_export import to_import_text
from core.database import CohortError
from core.store import write_cohort_file
from core.validation import (
    ERROR,
    EXCEL_ERRORS,
    MISSING_TEXT,
    SPECS,
    WARNING,
    ProblemReport,
    TextTable,
    ValidatedCohort,
    validate_tables,
)

MAX_FILE_BYTES = 50 * 1024 * 1024            # = server.maxUploadSize in .streamlit/config.toml
MAX_ROWS = 200_000                           # data rows per table
MAX_XLSX_UNCOMPRESSED_BYTES = 150 * 1024 * 1024
TABLES = ("patients", "events")
IGNORED_SHEETS = frozenset({"dictionary", "readme", "read me", "instructions", "notes"})
IMPORTER_VERSION = "1"

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
    def from_path(cls, path: str | Path) -> InputFile:
        """Read a file from disk, refusing to read more than the size limit (+1 byte to tell)."""
        path = Path(path)
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
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


@dataclass
class ImportResult:
    """The outcome: the problem report, and the new cohort's path when it was written."""

    report: ProblemReport
    path: Path | None = None
    label: str = ""
    n_patients: int = 0
    n_events: int = 0

    @property
    def ok(self) -> bool:
        return self.path is not None


# ---------------------------------------------------------------------------------- reading
def _too_big(file: InputFile, report: ProblemReport) -> bool:
    if len(file.data) > MAX_FILE_BYTES:
        report.add(ERROR, file.name, None, "", f"{file.size_text} or more",
                   f"a file of at most {MAX_FILE_BYTES // 1024 // 1024} MB (split the cohort or remove unused "
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


def _clean_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """Every cell → stripped text, or None when empty or a missing-value word (NA, NULL, …)."""
    if raw.empty:
        return raw.astype(object)
    text = np.strings.strip(raw.where(raw.notna(), "").to_numpy(dtype=str))
    empty = (text == "") | np.isin(text, np.array(sorted(MISSING_TEXT)))
    values = text.astype(object)
    values[empty] = None
    return pd.DataFrame(values, index=raw.index, columns=raw.columns, dtype=object)


def _header_name(cell: object) -> str:
    text = "" if cell is None or (isinstance(cell, float) and pd.isna(cell)) else str(cell)
    return text.replace("\ufeff", "").strip().lower()


def table_from_raw(raw: pd.DataFrame, table: str, file: str, report: ProblemReport) -> TextTable | None:
    """Cells as read (row 1 = the header; index = the file's row numbers) → a TextTable of data rows.

    Blank rows are skipped but keep their numbers; trailing columns with neither a name nor a value
    (what spreadsheets leave behind) are dropped quietly.
    """
    if raw.empty or raw.iloc[0].map(_header_name).eq("").all():
        report.add(ERROR, file, 1, "", "(no header)",
                   f"the header row of the {table} table in row 1 (column names as in the template)")
        return None
    header = [_header_name(v) for v in raw.iloc[0]]
    body = _clean_frame(raw.iloc[1:])
    body = body[body.notna().any(axis=1)]
    if len(body) > MAX_ROWS:
        report.add(ERROR, file, int(body.index[MAX_ROWS]), "", f"more than {MAX_ROWS:,} rows",
                   f"at most {MAX_ROWS:,} data rows per table")
        return None
    keep: list[int] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if name == "":
            if body.iloc[:, i].notna().any():
                report.add(ERROR, file, 1, f"column {i + 1}", "(no name)",
                           "a column name in the header for every column that holds values")
            continue
        if name in seen:
            report.add(ERROR, file, 1, name, name,
                       f"each column once (also column {seen[name] + 1}); the repeat is ignored")
            continue
        seen[name] = i
        keep.append(i)
    frame = body.iloc[:, keep].copy()
    frame.columns = [header[i] for i in keep]
    frame.index = pd.Index(frame.index.astype("int64"), name="row")
    if frame.empty:
        report.add(ERROR, file, 2, "", "(no data rows)", f"at least one {table[:-1]} row under the header")
        _hint_header_row(raw, table, file, report)
        return None
    if not any(s.name in frame.columns for s in SPECS[table] if s.in_header):
        _hint_header_row(raw, table, file, report)
    return TextTable(table=table, file=file, frame=frame)


def _hint_header_row(raw: pd.DataFrame, table: str, file: str, report: ProblemReport) -> None:
    """When the column names sit lower down (a title above the table), say where."""
    wanted = {s.name for s in SPECS[table] if s.in_header}
    for row_number, record in raw.iloc[1:20].iterrows():
        if len(wanted & {_header_name(v) for v in record}) >= 2:
            report.add(ERROR, file, int(row_number), "", "(column names found here)",
                       "the column names in row 1: delete the rows above the header")
            return


def _raw_frame(records: Sequence[Sequence[object]]) -> pd.DataFrame:
    raw = pd.DataFrame(list(records), dtype=object)
    raw.index = pd.RangeIndex(1, len(raw) + 1)
    return raw


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


def read_csv_table(file: InputFile, table: str, report: ProblemReport) -> TextTable | None:
    """One CSV file → TextTable (or None after reporting why it cannot be read)."""
    if _empty(file, report) or _too_big(file, report):
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
    return table_from_raw(raw, table, file.name, report)


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


def read_workbook(file: InputFile, report: ProblemReport) -> dict[str, TextTable | None]:
    """An XLSX workbook → {"patients": TextTable, "events": TextTable} (None for a sheet that cannot be read)."""
    out: dict[str, TextTable | None] = {t: None for t in TABLES}
    if _empty(file, report) or _too_big(file, report):
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
    if unpacked > MAX_XLSX_UNCOMPRESSED_BYTES:
        report.add(ERROR, file.name, None, "", f"{unpacked / 1024 / 1024:.0f} MB when unpacked",
                   f"a workbook of at most {MAX_XLSX_UNCOMPRESSED_BYTES // 1024 // 1024} MB unpacked (remove "
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
            out[table] = _read_sheet(ws, table, f"{file.name} (sheet {ws.title})", report)
    finally:
        workbook.close()
    return out


def _read_sheet(ws: object, table: str, label: str, report: ProblemReport) -> TextTable | None:
    from openpyxl.utils import get_column_letter

    max_row = getattr(ws, "max_row", 0) or 0
    if max_row > MAX_ROWS + 1:
        report.add(ERROR, label, None, "", f"{max_row:,} rows in use",
                   f"at most {MAX_ROWS:,} data rows (delete formatted empty rows below the data)")
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
    return table_from_raw(_raw_frame(rows), table, label, report)


def read_cohort_files(files: CohortFiles, report: ProblemReport) -> tuple[TextTable | None, TextTable | None]:
    if files.workbook is not None:
        if files.patients is not None or files.events is not None:
            report.add(ERROR, files.workbook.name, None, "", "a workbook and CSV files",
                       "either one workbook or two CSV files, not both")
            return None, None
        tables = read_workbook(files.workbook, report)
        return tables["patients"], tables["events"]
    if files.patients is None or files.events is None:
        missing = "patients" if files.patients is None else "events"
        report.add(ERROR, f"{missing}.csv", None, "", "(no file)",
                   "two CSV files (patients and events) or one workbook with both sheets")
        return (read_csv_table(files.patients, "patients", report) if files.patients else None,
                read_csv_table(files.events, "events", report) if files.events else None)
    return read_csv_table(files.patients, "patients", report), read_csv_table(files.events, "events", report)


# ---------------------------------------------------------------------------------- checking
def check_cohort_files(files: CohortFiles, report: ProblemReport | None = None) -> ValidatedCohort:
    """Read and validate without writing anything."""
    report = report if report is not None else ProblemReport()
    patients, events = read_cohort_files(files, report)
    if patients is None or events is None:
        return ValidatedCohort(report=report)
    return validate_tables(patients, events, report)


def check_label(label: str, report: ProblemReport) -> str:
    clean = cohort_store.clean_label(label)
    if not clean:
        report.add(ERROR, "(cohort label)", None, "label", label,
                   "a label for the cohort, e.g. Centre X 2024 (1–120 characters)")
    elif len(" ".join(str(label).split())) > cohort_store.MAX_LABEL_CHARS:
        report.add(WARNING, "(cohort label)", None, "label", label,
                   f"at most {cohort_store.MAX_LABEL_CHARS} characters; the label was shortened")
    return clean


# ---------------------------------------------------------------------------------- writing
def import_cohort(files: CohortFiles, label: str, *, source: str = "", directory: Path | None = None,
                  now: dt.datetime | None = None) -> ImportResult:
    """Validate, then (only if there is no error) write a new cohort file. Never raises on bad input."""
    report = ProblemReport()
    clean = check_label(label, report)
    validated = check_cohort_files(files, report)
    if not validated.ok or not report.ok:
        return ImportResult(report=report, label=clean)
    assert validated.patients is not None and validated.events is not None
    directory = directory or cohort_store.cohorts_dir()
    meta = {
        "label": clean,
        "source": cohort_store.clean_label(source) or f"Imported from {files.describe()}",
        "imported_at": (now or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat(),
        "reconstructed": "false",
        "import_files": files.describe(),
        "importer_version": IMPORTER_VERSION,
    }
    extras = {t: c for t, c in validated.extra_columns.items() if c}
    if extras:
        meta["extra_columns"] = "; ".join(f"{t}: {', '.join(c)}" for t, c in extras.items())
    try:
        path = store_cohort(validated, meta, directory)
    except (OSError, duckdb.Error, CohortError) as exc:
        report.add(ERROR, "(cohort store)", None, "", f"{type(exc).__name__}: {exc}",
                   f"a writable cohorts directory ({directory}); nothing was changed")
        return ImportResult(report=report, label=clean)
    return ImportResult(report=report, path=path, label=clean, n_patients=len(validated.patients),
                        n_events=len(validated.events))


def store_cohort(validated: ValidatedCohort, meta: Mapping[str, str], directory: Path) -> Path:
    """Write the cohort to a hidden staging file, complete it, flush it, then rename it into place."""
    assert validated.patients is not None and validated.events is not None
    directory.mkdir(parents=True, exist_ok=True)
    cohort_store.clean_leftovers(directory)
    final = directory / cohort_store.cohort_file_name(meta["label"])
    if final.resolve() == cohort_store.default_cohort_path().resolve():  # pragma: no cover - names carry a uuid
        raise CohortError("Refusing to overwrite the default cohort.")
    staging = directory / f".{final.stem}.staging{cohort_store.TEMP_SUFFIX}"
    try:
        write_cohort_file(staging, validated.patients, validated.events, meta)
        extra_tables = {"patients_extra": validated.patients_extra, "events_extra": validated.events_extra}
        if any(frame is not None for frame in extra_tables.values()):
            con = duckdb.connect(str(staging))
            try:
                for name, frame in extra_tables.items():
                    if frame is not None:
                        con.from_df(frame.astype(object).where(frame.notna(), None)).create(name)
                con.execute("CHECKPOINT")
            finally:
                con.close()
        _fsync(staging)
        os.replace(staging, final)
        _fsync(directory)
    except BaseException:
        for leftover in (staging, staging.with_name(staging.name + ".wal")):
            if leftover.exists():
                leftover.unlink()
        raise
    return final


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. directories on some platforms
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------- templates
def template_frames() -> dict[str, pd.DataFrame]:
    """The import templates: every contract column, with example rows for one patient."""
    patients = pd.DataFrame([{s.name: s.example for s in SPECS["patients"]}])
    events = pd.DataFrame([
        {"patient_id": "P01", "event_date": "2024-01-08", "event_type": "ino_dose", "cycle": "1", "cycle_day": "1",
         "dose_mg_m2": "0.8"},
        {"patient_id": "P01", "event_date": "2024-02-01", "event_type": "response", "cycle": "1", "response": "CR",
         "marrow_blast_pct": "2", "platelets_10e9_l": "150", "anc_10e9_l": "1.8", "emd_present": "false"},
        {"patient_id": "P01", "event_date": "2024-02-01", "event_type": "mrd", "cycle": "1", "mrd": "negative"},
        {"patient_id": "P01", "event_date": "2024-01-20", "event_type": "adverse_event", "ae_term": "thrombocytopenia",
         "ae_grade": "3"},
        {"patient_id": "P01", "event_date": "2025-06-30", "event_type": "last_contact",
         "followup_status": "alive at cut-off"},
    ]).reindex(columns=[s.name for s in SPECS["events"]]).fillna("")
    return {"patients": patients, "events": events}


def template_csv(table: str) -> bytes:
    buffer = io.StringIO()
    template_frames()[table].to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


def template_xlsx() -> bytes:
    """One workbook: sheets patients and events (text cells, dates as YYYY-MM-DD) and a dictionary sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from core.validation import dictionary_frame

    workbook = Workbook()
    workbook.remove(workbook.active)
    for table, frame in template_frames().items():
        ws = workbook.create_sheet(table)
        ws.append(list(frame.columns))
        for record in frame.itertuples(index=False):
            ws.append([_template_cell(v) for v in record])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for i, name in enumerate(frame.columns, start=1):
            ws.column_dimensions[ws.cell(1, i).column_letter].width = max(12, len(name) + 2)
    ws = workbook.create_sheet("dictionary")
    ws.append(["table", "column", "type", "required", "allowed values / range", "meaning"])
    for table in TABLES:
        for row in dictionary_frame(table).to_dict("records"):
            ws.append([table, row["column"], row["type"], row["required"], row["allowed values / range"],
                       row["meaning"]])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _template_cell(value: str) -> object:
    """Numbers as numbers, everything else as text (dates stay text: no locale can reformat them)."""
    if value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() else number


def write_templates(directory: Path) -> list[Path]:
    """The template files shipped in data/templates/ (regenerate with scripts/import_cohort.py --write-templates)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for table in TABLES:
        path = directory / f"{table}_template.csv"
        path.write_bytes(template_csv(table))
        written.append(path)
    path = directory / "cohort_template.xlsx"
    path.write_bytes(template_xlsx())
    written.append(path)
    return written


def frames_to_csv_files(patients: pd.DataFrame, events: pd.DataFrame, directory: Path) -> tuple[Path, Path]:
    """Write a cohort's tables as import-format CSVs (used by the round-trip test and exports)."""
    directory.mkdir(parents=True, exist_ok=True)
    p, e = directory / "patients.csv", directory / "events.csv"
    to_import_text(patients).to_csv(p, index=False)
    to_import_text(events).to_csv(e, index=False)
    return p, e


__all__ = [
    "MAX_FILE_BYTES", "MAX_ROWS", "CohortFiles", "ImportResult", "InputFile", "check_cohort_files",
    "import_cohort", "read_cohort_files", "template_csv", "template_frames", "template_xlsx", "write_templates",
]

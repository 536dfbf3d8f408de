"""Tables and slice data as files that carry their provenance and cannot run as formulas.

* **Table CSV** — comment lines at the top, one per item, `# Key: value`, then the header row and
  the data. Chosen over a side file because a CSV travels alone (e-mail attachments); a reader
  skips them with `pandas.read_csv(path, comment=None, skiprows=<number of # lines>)` or sees them
  as the first rows in a spreadsheet. UTF-8 with a byte-order mark, so Excel reads "≥" and "—".
  A comment line is quoted as one cell when it holds a quote, or when a comma in it would start a
  cell that a spreadsheet could run.
* **Numbers** — a table whose estimates are printed as text ("7/13", "25.1–80.8") also gets them
  as numeric columns at its end (`estimates`); patient-level tables are written as they are.
* **Table XLSX** — a header block (bold keys, values beside them) above the table on the same
  sheet; the workbook's document properties carry the same lines.
* **Slice data** (the slice's `patients` and `events` rows, the contract's columns) must load again
  through the importer, which expects the header in the first row: the CSV route is a ZIP with
  `patients.csv`, `events.csv` and a side file `PROVENANCE.txt`; the XLSX has the sheets
  `patients`, `events` and `readme` (a sheet the importer ignores) holding the provenance.

Spreadsheet safety: a text cell starting with a tab or a carriage return, or whose first character
after any leading whitespace (spaces, tabs, CR, LF) is `=`, `+`, `-` or `@`, is prefixed with a
single quote `'` so no spreadsheet runs it as a formula. Numbers stored as numbers (and text that
is exactly a plain number, like "-1.5") are left as they are.

CSV cells are quoted by `csv_text`, not by pandas: with LF line ends pandas (through the csv
module) leaves a cell holding a bare CR unquoted, and a reader that ends lines at CR then starts a
new row in the middle of that cell — a row whose first cell can be a formula. Every cell holding
CR, LF, a quote or the separator is quoted. Rows come out in the order given (slice rows are
sorted on every column by the query), and the slice ZIP's entries carry the export date instead of
the clock, so exporting the same slice twice gives the same bytes apart from the export date.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import zipfile
from typing import Any

import numpy as np
import pandas as pd

from core.export.estimates import with_estimate_columns
from core.export.suppression import refuse_row_level, suppress_small_counts
from core.provenance import PRODUCT_NAME, RECONSTRUCTED_TAG, Provenance

FORMULA_CHARACTERS = ("=", "+", "-", "@")
CONTROL_PREFIXES = ("\t", "\r")       # some spreadsheets read what follows these as a formula
CSV_SEPARATOR = ","
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def neutralise_cell(value: Any) -> Any:
    """'=1+1' → "'=1+1", and ' =1+1' → "' =1+1"; numbers, and text that is exactly a plain number, are unchanged."""
    if not isinstance(value, str):
        return value
    start = value.lstrip()
    if value.startswith(CONTROL_PREFIXES) or (start.startswith(FORMULA_CHARACTERS)
                                              and not _PLAIN_NUMBER.match(start)):
        return "'" + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every formula-looking text cell (and column name) neutralised."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise_cell).astype(object)
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    return out


def _prepare_table(frame: pd.DataFrame, provenance: Provenance, row_level: bool) -> pd.DataFrame:
    if row_level:
        refuse_row_level(provenance)
    out = frame
    if provenance.suppress_below is not None:
        out = suppress_small_counts(out, provenance.suppress_below)
    if not row_level:   # after suppression: numbers never say more than the suppressed text
        out = with_estimate_columns(out, provenance)
    return neutralise_formulas(out)


def csv_cell(text: str) -> str:
    """One CSV cell as written: quoted (quotes doubled) when it holds CR, LF, a quote or the separator."""
    if any(character in text for character in ("\r", "\n", '"', CSV_SEPARATOR)):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_text(frame: pd.DataFrame) -> str:
    """The frame as CSV text: a header row, then one row per record, LF line ends (see `csv_cell`).

    pandas turns the values into text (numbers, dates and missing values as `to_csv` writes them).
    Without a CR anywhere its own quoting is already this rule; otherwise it writes every cell
    quoted, the csv module reads that back exactly, and the cells are quoted again where they need it.
    """
    text = frame.to_csv(index=False, sep=CSV_SEPARATOR, lineterminator="\n")
    if "\r" not in text:
        return text
    formatted = frame.to_csv(index=False, sep=CSV_SEPARATOR, quoting=csv.QUOTE_ALL, lineterminator="\n")
    lines = []
    for row in csv.reader(io.StringIO(formatted, newline=""), delimiter=CSV_SEPARATOR):
        # one empty cell alone on a row is written "" so readers do not skip the row as blank
        lines.append('""' if row == [""] else CSV_SEPARATOR.join(csv_cell(cell) for cell in row))
    return "".join(line + "\n" for line in lines)


def _comment_line(key: str, value: object) -> str:
    """`# Key: value` on one line; quoted as one cell when a comma in it would start a cell a spreadsheet
    could run, or when it holds a quote (a cell opening with a quote could swallow the lines after it)."""
    line = f"# {key}: {' '.join(str(value).split())}"
    unsafe = '"' in line or any(neutralise_cell(piece) != piece for piece in line.split(CSV_SEPARATOR)[1:])
    return csv_cell(line) if unsafe else line


def _comment_block(provenance: Provenance) -> str:
    return "".join(_comment_line(k, v) + "\n" for k, v in provenance.items())


def table_csv(frame: pd.DataFrame, provenance: Provenance, *, row_level: bool = False) -> bytes:
    """CSV: `# Key: value` provenance lines, then the table (UTF-8 with BOM)."""
    table = _prepare_table(frame, provenance, row_level)
    return ("\ufeff" + _comment_block(provenance) + csv_text(table)).encode("utf-8")


def _excel_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        value = float(value)
    if isinstance(value, float):
        return None if not math.isfinite(value) else value
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time(0, 0) and value.tzinfo is None else value.replace(tzinfo=None)
    if isinstance(value, (list, tuple, np.ndarray)):
        return neutralise_cell(", ".join(str(v) for v in value))
    if isinstance(value, (str, bool, int, dt.date)):
        return value
    return neutralise_cell(str(value))


def _write_sheet(ws: Any, table: pd.DataFrame, first_row: int) -> None:
    from openpyxl.styles import Border, Font, PatternFill, Side

    header_font = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8EEF4")
    rule = Border(bottom=Side(style="thin", color="666666"))
    for c, name in enumerate(table.columns, start=1):
        cell = ws.cell(row=first_row, column=c, value=str(name))
        cell.font, cell.fill, cell.border = header_font, fill, rule
    widths = [len(str(name)) for name in table.columns]
    for r, row in enumerate(table.itertuples(index=False), start=first_row + 1):
        for c, value in enumerate(row, start=1):
            v = _excel_value(value)
            cell = ws.cell(row=r, column=c)
            cell.value = v
            if isinstance(v, str):
                cell.data_type = "s"      # never a formula, whatever the text
            elif isinstance(v, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(v, dt.date):
                cell.number_format = "yyyy-mm-dd"
            widths[c - 1] = max(widths[c - 1], min(60, len(str(v)) if v is not None else 0))
    from openpyxl.utils import get_column_letter
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = max(8, min(60, width + 2))


def _provenance_block(ws: Any, provenance: Provenance) -> int:
    """Write the header block from A1; return the next free row (after one blank row)."""
    from openpyxl.styles import Font

    r = 1
    for key, value in provenance.items():
        key_cell = ws.cell(row=r, column=1, value=key)
        value_cell = ws.cell(row=r, column=2, value=neutralise_cell(value))
        value_cell.data_type = "s"
        key_cell.font = Font(bold=True, color="9C0006" if value == RECONSTRUCTED_TAG else "333333")
        if value == RECONSTRUCTED_TAG:
            value_cell.font = Font(bold=True, color="9C0006")
        r += 1
    return r + 1


def _workbook(provenance: Provenance) -> Any:
    from openpyxl import Workbook

    wb = Workbook()
    wb.properties.creator = f"{PRODUCT_NAME} {provenance.product_version}"
    wb.properties.title = provenance.analysis or provenance.slice_text
    wb.properties.description = "\n".join(provenance.lines())
    return wb


def _sheet_title(name: str) -> str:
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", name).strip() or "table"
    return cleaned[:31]


def _save(wb: Any) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def table_xlsx(frame: pd.DataFrame, provenance: Provenance, *, sheet: str = "table",
               row_level: bool = False) -> bytes:
    """XLSX: the provenance block from A1, a blank row, then the table (header frozen)."""
    table = _prepare_table(frame, provenance, row_level)
    wb = _workbook(provenance)
    ws = wb.active
    ws.title = _sheet_title(sheet)
    first = _provenance_block(ws, provenance)
    _write_sheet(ws, table, first)
    ws.freeze_panes = ws.cell(row=first + 1, column=1)
    return _save(wb)


# ---------------------------------------------------------------------------- slice data in the import format
def _import_text(frame: pd.DataFrame) -> pd.DataFrame:
    from core.importer import to_import_text
    return to_import_text(frame)


def slice_data_zip(patients: pd.DataFrame, events: pd.DataFrame, provenance: Provenance) -> bytes:
    """A ZIP of patients.csv and events.csv (import format, loadable as is) and PROVENANCE.txt."""
    refuse_row_level(provenance)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, frame in (("patients.csv", patients), ("events.csv", events)):
            text = csv_text(neutralise_formulas(_import_text(frame)))
            archive.writestr(zip_entry(name, provenance), "\ufeff" + text)
        readme = ("Rows of one slice of a cohort, in the import format (the data contract's columns).\n"
                  "Load them again on the import page: patients.csv and events.csv.\n"
                  "Text cells that began with = + - @ were prefixed with ' so spreadsheets do not run them.\n\n"
                  + "\n".join(provenance.lines()) + "\n")
        archive.writestr(zip_entry("PROVENANCE.txt", provenance), readme)
    return buffer.getvalue()


def zip_entry(name: str, provenance: Provenance) -> zipfile.ZipInfo:
    """An entry dated with the export date (not the clock), so the same export gives the same bytes."""
    day = provenance.exported_on
    entry = zipfile.ZipInfo(name, date_time=(max(day.year, 1980), day.month, day.day, 0, 0, 0))
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.external_attr = 0o600 << 16          # what ZipFile.writestr gives a name: rw for the owner
    return entry


def slice_data_xlsx(patients: pd.DataFrame, events: pd.DataFrame, provenance: Provenance) -> bytes:
    """An XLSX with sheets patients, events (header in row 1, loadable as is) and readme (provenance)."""
    refuse_row_level(provenance)
    wb = _workbook(provenance)
    ws = wb.active
    ws.title = "patients"
    _write_sheet(ws, neutralise_formulas(patients), 1)
    ws.freeze_panes = "A2"
    ws_events = wb.create_sheet("events")
    _write_sheet(ws_events, neutralise_formulas(events), 1)
    ws_events.freeze_panes = "A2"
    readme = wb.create_sheet("readme")
    _provenance_block(readme, provenance)
    return _save(wb)

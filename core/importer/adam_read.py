"""Reading CDISC ADaM datasets: SAS transport files (.xpt, XPORT version 5) or CSV files, one per dataset.

A dataset is known by its file name (adsl.xpt, ADTTE.csv, …). Every value is read as text, as for any
import, within the same limits (file size, rows, columns, cell length); variable names are kept in
lower case here and shown in upper case, as ADaM writes them. A numeric SAS date (days since
1960-01-01, with a date format) is written as YYYY-MM-DD; other numbers as plain decimals.
Observation n of a dataset is its row n + 1 (the header counts as row 1, as in every problem table).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.importer.files import InputFile, refuse_empty, refuse_too_big
from core.importer.limits import ReadLimits
from core.importer.problems import ERROR, WARNING, ProblemReport
from core.importer.read import read_csv_table
from core.importer.table import TableBuilder, TextTable

DATASETS: tuple[str, ...] = ("adsl", "adtte", "adrs", "adae", "adex")
REQUIRED_DATASETS: tuple[str, ...] = ("adsl", "adtte")
SUFFIXES: tuple[str, ...] = (".xpt", ".csv")
SAS_EPOCH = dt.date(1960, 1, 1)
_XPORT_MAGIC = b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!"
_XPORT_V8_MAGIC = b"HEADER RECORD*******LIBV8   HEADER RECORD!!!!!!!"
_DATE_FORMATS = re.compile(r"^(DATE|YYMMDD|E8601DA|IS8601DA|MMDDYY|DDMMYY|WORDDATE|DAY|MONYY)", re.IGNORECASE)
_DATE9 = re.compile(r"^(\d{1,2})([A-Za-z]{3})(\d{4})$")
_MONTHS = {m: i for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV",
                                       "DEC"), start=1)}
_CHUNK_ROWS = 4096
# pandas reads the IBM zero (eight zero bytes, as SAS writes 0) as 16**-65, the smallest IBM magnitude;
# no ADaM value is that small, so anything below this is a zero.
_IBM_ZERO = 1e-77


@dataclass(frozen=True)
class AdamFiles:
    """The datasets given, by name (adsl, adtte, …), and any file that is not one of them."""

    datasets: dict[str, InputFile]
    ignored: tuple[str, ...] = ()

    @classmethod
    def from_files(cls, files: Sequence[InputFile]) -> AdamFiles:
        datasets: dict[str, InputFile] = {}
        ignored: list[str] = []
        for file in files:
            stem, suffix = Path(file.name).stem.lower(), Path(file.name).suffix.lower()
            if stem in DATASETS and suffix in SUFFIXES and stem not in datasets:
                datasets[stem] = file
            else:
                ignored.append(file.name)
        return cls(datasets=datasets, ignored=tuple(ignored))

    @classmethod
    def from_directory(cls, directory: str | Path, *, max_bytes: int) -> AdamFiles:
        """The datasets in a folder (adsl.xpt, adtte.xpt, … or .csv); other files are left alone."""
        paths = sorted(p for p in Path(directory).iterdir()
                       if p.is_file() and p.stem.lower() in DATASETS and p.suffix.lower() in SUFFIXES)
        return cls.from_files([InputFile.from_path(p, max_bytes=max_bytes) for p in paths])

    def describe(self) -> str:
        return " + ".join(f.name for f in self.datasets.values())


def adam_date(text: str | None) -> str | None:
    """An ADaM date as YYYY-MM-DD: ISO text, SAS DATE9 (13FEB2017) or a SAS day number; else the text as given."""
    if text is None:
        return None
    match = _DATE9.match(text)
    if match and match.group(2).upper() in _MONTHS:
        try:
            return dt.date(int(match.group(3)), _MONTHS[match.group(2).upper()], int(match.group(1))).isoformat()
        except ValueError:
            return text
    try:
        days = float(text)
    except ValueError:
        return text
    if not np.isfinite(days) or days != int(days) or abs(days) > 3_000_000:
        return text
    return (SAS_EPOCH + dt.timedelta(days=int(days))).isoformat()


def read_dataset(file: InputFile, report: ProblemReport, limits: ReadLimits) -> TextTable | None:
    """One dataset → TextTable (variable names in lower case), or None after problem rows."""
    if Path(file.name).suffix.lower() == ".csv":
        if len([line for line in file.data.splitlines() if line.strip()]) == 1:
            return _empty(file, file.data.decode("utf-8-sig", "replace").splitlines()[0].split(","))
        return read_csv_table(file, "events", report, limits)
    if refuse_empty(file, report) or refuse_too_big(file, report, limits):
        return None
    if file.data.startswith(_XPORT_V8_MAGIC):
        report.add(ERROR, file.name, None, "", "SAS transport version 8",
                   "a SAS transport file of version 5 (what regulators take: the xport engine or %loc2xpt with "
                   "FORMAT=V5), or the dataset as CSV")
        return None
    if not file.data.startswith(_XPORT_MAGIC):
        report.add(ERROR, file.name, None, "", "not a SAS transport file",
                   "a SAS transport file (XPORT version 5, as submitted to regulators), or the dataset as CSV")
        return None
    try:
        return _read_xport(file, report, limits)
    except Exception as exc:   # pandas' XPORT reader raises ValueError, struct.error, … on a damaged file
        report.add(ERROR, file.name, None, "", f"{type(exc).__name__}: {exc}",
                   "a complete SAS transport file (XPORT version 5); write it again, or give the dataset as CSV")
        return None


def _empty(file: InputFile, header: Sequence[str]) -> TextTable:
    columns = [name.strip().strip('"').lower() for name in header]
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in columns if c})
    frame.index = pd.Index([], dtype="int64", name="row")
    return TextTable(table="events", file=file.name, frame=frame)


def _read_xport(file: InputFile, report: ProblemReport, limits: ReadLimits) -> TextTable | None:
    reader = pd.read_sas(io.BytesIO(file.data), format="xport", encoding=None, chunksize=_CHUNK_ROWS)
    try:
        reader.nobs = _observations(file.data, reader.record_start, reader.record_length)
        names = [str(c).lower() for c in reader.columns]
        if len(names) > limits.max_columns:
            report.add(ERROR, file.name, 1, "", f"{len(names):,} variables",
                       f"at most {limits.max_columns:,} variables (keep the ones the import reads)")
            return None
        dates = {str(f["name"].decode("ascii", "replace")).strip().lower() for f in reader.fields
                 if f["ntype"] == "numeric" and _DATE_FORMATS.match(f["nform"].decode("ascii", "replace").strip())}
        builder = TableBuilder("events", file.name, report, limits, fixed_width=True)
        builder.add(1, [n.upper() for n in names])
        decoding = _Decoding(file.name, report)
        row = 1
        for chunk in _chunks(reader):
            texts = [_column_text(chunk[column], column.lower() in dates, decoding) for column in chunk.columns]
            for cells in zip(*texts):
                row += 1
                if not builder.add(row, list(cells)):
                    return None
    finally:
        reader.close()
    if row == 1:
        return TextTable(table="events", file=file.name,
                         frame=pd.DataFrame({n: pd.Series(dtype=object) for n in names},
                                            index=pd.Index([], dtype="int64", name="row")))
    return builder.finish()


def _observations(data: bytes, start: int, length: int) -> int:
    """How many observations the file holds. The records fill the file up to a multiple of 80 bytes with
    blanks; pandas counts every 8 blank bytes of the last 80 as padding, so it drops the last observation
    when that one ends in blank text (a short AEDECOD). Here only whole blank records at the end are
    padding: a real record is never all blanks unless every variable is empty text."""
    count = (len(data) - start) // length if length else 0
    while count and data[start + (count - 1) * length:start + count * length].strip(b" ") == b"":
        count -= 1
    return count


def _chunks(reader: object) -> Iterator[pd.DataFrame]:
    while True:
        try:
            yield reader.read(_CHUNK_ROWS)  # type: ignore[attr-defined]
        except StopIteration:
            return


class _Decoding:
    """Text variables as UTF-8, else Latin-1 with one warning per file."""

    def __init__(self, file: str, report: ProblemReport) -> None:
        self.file, self.report, self.warned = file, report, False

    def __call__(self, value: bytes) -> str:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            if not self.warned:
                self.warned = True
                self.report.add(WARNING, self.file, None, "", "text that is not UTF-8",
                                "UTF-8 text; read as Latin-1 — check accented letters")
            return value.decode("latin-1")


def _column_text(values: pd.Series, is_date: bool, decode: _Decoding) -> list[str | None]:
    if values.dtype == object:
        return [decode(v).rstrip() if isinstance(v, bytes) else (None if v is None else str(v)) for v in values]
    out: list[str | None] = []
    numbers = values.to_numpy(dtype="float64")
    numbers = np.where(np.abs(numbers) < _IBM_ZERO, 0.0, numbers)
    for v in numbers:
        if np.isnan(v):
            out.append(None)
        elif is_date and v == int(v):
            out.append((SAS_EPOCH + dt.timedelta(days=int(v))).isoformat())
        else:
            out.append(f"{v:.12g}")
    return out


def read_adam_files(files: AdamFiles, report: ProblemReport, limits: ReadLimits) -> dict[str, TextTable] | None:
    """Every dataset given, read; None when a required one is missing or any cannot be read."""
    for name in files.ignored:
        report.add(WARNING, name, None, "", name, "one file per ADaM dataset, named " + ", ".join(
                   f"{d}.xpt" for d in DATASETS) + " (or .csv); this file was not read")
    missing = [d for d in REQUIRED_DATASETS if d not in files.datasets]
    for name in missing:
        report.add(ERROR, f"{name}.xpt", None, "", "(no file)",
                   f"the {name.upper()} dataset ({name}.xpt or {name}.csv): ADSL and ADTTE are needed")
    tables: dict[str, TextTable] = {}
    for name, file in files.datasets.items():
        table = read_dataset(file, report, limits)
        if table is not None:
            tables[name] = table
    if missing or len(tables) < len(files.datasets):
        return None
    return tables

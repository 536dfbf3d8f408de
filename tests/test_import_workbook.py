"""The streamed sheet reader reads every cell as openpyxl does, as text the CSV route would have read.

Oracle: openpyxl's own (full, slow) reader on the same workbook, each value turned into text the way
the importer always has (numbers without a trailing .0, dates as YYYY-MM-DD, true/false).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest

from core.importer import InputFile, ProblemReport
from core.importer.workbook import _cell_text, read_workbook

BAD = Path(__file__).resolve().parent / "bad_files"


def _rows(name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO((BAD / name).read_text(), newline="")))


def _typed_workbook(epoch_1904: bool = False) -> bytes:
    from openpyxl import Workbook
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    wb = Workbook()
    if epoch_1904:
        wb.epoch = CALENDAR_MAC_1904
    wb.remove(wb.active)
    for name in ("patients", "events"):
        ws = wb.create_sheet(name)
        for row in _rows(f"{name}.csv"):
            ws.append([v if v != "" else None for v in row])
    ws = wb["patients"]
    ws["D2"], ws["D3"] = 45, 44.5                                  # whole and decimal numbers
    ws["L2"], ws["M2"] = dt.datetime(2024, 1, 8), dt.date(2025, 6, 30)
    ws["K2"], ws["K3"] = False, True
    ws["F2"] = 1e20                                                # a float too big to be written as a whole
    ws = wb["events"]
    ws["R2"] = dt.datetime(2024, 1, 8, 14, 30)                     # a date with a time, in a text column
    ws["R3"] = "  spaced & <escaped> \u00e9 "
    ws["R4"] = 0.1 + 0.2
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _oracle(data: bytes, sheet: str) -> list[list[str | None]]:
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(data))[sheet]
    return [[_cell_text(c.value) for c in row] for row in ws.iter_rows()]


def _read(data: bytes, sheet: str) -> tuple[list[list[str | None]], ProblemReport]:
    report = ProblemReport()
    table = read_workbook(InputFile("cohort.xlsx", data), report)[sheet]
    assert table is not None, report.problems()
    frame = table.frame
    return [[None if v is None else str(v) for v in record] for record in frame.itertuples(index=False)], report


def _cleaned(rows: list[list[str | None]], width: int) -> list[list[str | None]]:
    """The oracle's body as the importer keeps it: stripped, empty → None."""
    out = []
    for row in rows[1:]:
        cells = [(v.strip() or None) if isinstance(v, str) else v for v in row][:width]
        out.append(cells + [None] * (width - len(cells)))
    return out


@pytest.mark.parametrize("epoch_1904", [False, True])
@pytest.mark.parametrize("sheet", ["patients", "events"])
def test_cells_read_as_openpyxl_reads_them(sheet: str, epoch_1904: bool) -> None:
    data = _typed_workbook(epoch_1904)
    got, report = _read(data, sheet)
    assert got == _cleaned(_oracle(data, sheet), len(got[0]))
    assert [p for p in report.problems() if p.severity == "error"] == []


def test_typed_values_become_the_text_a_csv_would_hold() -> None:
    got, _ = _read(_typed_workbook(), "patients")
    header = _rows("patients.csv")[0]
    first, second = got[0], got[1]
    assert (first[header.index("age_years")], second[header.index("age_years")]) == ("45", "44.5")
    assert (first[header.index("ino_start_date")], first[header.index("data_cutoff_date")]) == ("2024-01-08",
                                                                                               "2025-06-30")
    assert (first[header.index("emd_baseline")], second[header.index("emd_baseline")]) == ("false", "true")
    events, _ = _read(_typed_workbook(), "events")
    assert events[0][-1] == "2024-01-08 14:30:00" and events[1][-1] == "spaced & <escaped> \u00e9"


def test_cells_without_references_are_placed_by_their_order() -> None:
    data = _typed_workbook()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet2.xml":       # events: no r="…" on any cell or row
                body = re.sub(rb'(<c|<row) r="[A-Z]*\d+"', rb"\1", body)
            target.writestr(info, body)
    stripped, _ = _read(out.getvalue(), "events")
    original, _ = _read(data, "events")
    # without references an empty cell is simply absent: rows whose first cells are all filled compare equal
    assert len(stripped) == len(original)
    full = [i for i, r in enumerate(original) if all(r[:3])]
    assert len(full) > 5 and [stripped[i][:3] for i in full] == [original[i][:3] for i in full]

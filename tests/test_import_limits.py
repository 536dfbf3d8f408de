"""Limits enforced while reading, and the problems they give: file · row · column, each said once.

Each case starts from the valid cohort in tests/bad_files/ (see tests/test_import_bad_files.py for
its rows) and makes one file heavy or odd in one way: one very long cell, a quote left open, more
rows or columns than allowed, a workbook that unpacks too large, dates in the future.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from core import importer
from core.importer import CohortFiles, InputFile, ProblemReport, check_cohort_files, import_cohort

BAD = Path(__file__).resolve().parent / "bad_files"
P, E = "patients.csv", "events.csv"
Rows = list[list[str]]


def tables() -> dict[str, Rows]:
    return {name: list(csv.reader(io.StringIO((BAD / name).read_text(), newline=""))) for name in (P, E)}


def to_bytes(rows: Rows, lineterminator: str = "\n") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=lineterminator).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def check(t: dict[str, Rows], raw: dict[str, bytes] | None = None) -> ProblemReport:
    data = {name: to_bytes(rows) for name, rows in t.items()} | (raw or {})
    report = ProblemReport()
    check_cohort_files(CohortFiles.from_csv(InputFile(P, data[P]), InputFile(E, data[E])), report)
    return report


def where(report: ProblemReport, severity: str) -> set[tuple[str, int | None, str]]:
    return {(p.file, p.row, p.column) for p in report.problems() if p.severity == severity}


def set_cell(t: dict[str, Rows], file: str, row: int, column: str, value: str) -> None:
    t[file][row - 1][t[file][0].index(column)] = value


# ---------------------------------------------------------------------------------- one long cell
@pytest.mark.parametrize("length", [100_000, 1_000_000])
def test_a_very_long_cell_is_one_problem_naming_its_cell(length: int) -> None:
    t = tables()
    set_cell(t, E, 12, "detail", "x" * length)              # P02's HSCT row
    report = check(t)
    assert where(report, "error") == {(E, 12, "detail")}
    (problem,) = report.problems()
    assert f"{length:,}" in problem.expected and len(problem.value) < 200


def test_a_long_required_cell_is_not_reported_twice() -> None:
    t = tables()
    set_cell(t, P, 3, "centre", "C" * 40_000)
    assert where(check(t), "error") == {(P, 3, "centre")}


# ---------------------------------------------------------------------------------- quotes
def test_an_unclosed_quote_is_reported_once_where_it_opened() -> None:
    t = tables()
    text = to_bytes(t[P]).decode()
    lines = text.split("\n")
    lines[1] = lines[1].replace(",Centre", ',"Centre', 1)    # row 2 opens a quote that never closes
    report = check(t, {P: "\n".join(lines).encode()})
    assert where(report, "error") == {(P, 2, "centre")}
    assert "closing quote" in report.problems()[0].expected


def test_an_unclosed_quote_past_the_csv_ceiling_is_still_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.importer import read

    monkeypatch.setattr(read, "CSV_FIELD_CEILING", 64)
    monkeypatch.setattr(importer, "MAX_CELL_CHARS", 32)
    t = tables()
    lines = to_bytes(t[E]).decode().split("\n")
    lines[4] = lines[4].replace(",response", ',"response', 1)   # row 5, event_type
    report = check(t, {E: "\n".join(lines).encode()})
    assert where(report, "error") == {(E, 5, "event_type")}
    assert "closing quote" in report.problems()[0].expected


def test_a_quoted_line_break_or_carriage_return_stays_in_its_cell() -> None:
    t = tables()
    set_cell(t, E, 12, "detail", "donor: sibling\rconditioning: TBI\nday 0")
    data = {name: to_bytes(rows, "\r\n") for name, rows in t.items()}
    result = importer.check_cohort_files(CohortFiles.from_csv(InputFile(P, data[P]), InputFile(E, data[E])))
    assert result.ok, result.report.problems()
    assert "donor: sibling\rconditioning: TBI\nday 0" in set(result.events["detail"].dropna())


# ---------------------------------------------------------------------------------- rows and columns
def test_too_many_columns_are_refused_at_the_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "MAX_COLUMNS", 20)
    t = tables()
    for i, row in enumerate(t[E]):
        row.extend([f"extra_{k}" if i == 0 else "" for k in range(5)])
    assert where(check(t), "error") == {(E, 1, "")}


def _workbook(t: dict[str, Rows], edit: Callable[[object], None] | None = None) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name in (P, E):
        ws = wb.create_sheet(name.removesuffix(".csv"))
        for row in t[name]:
            ws.append([v if v != "" else None for v in row])
    if edit is not None:
        edit(wb)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def check_workbook(data: bytes) -> ProblemReport:
    report = ProblemReport()
    check_cohort_files(CohortFiles.from_workbook(InputFile("cohort.xlsx", data)), report)
    return report


def test_workbook_row_limit_applies_as_rows_arrive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "MAX_ROWS", 5)
    report = check_workbook(_workbook(tables()))
    assert where(report, "error") == {("cohort.xlsx (sheet events)", 7, "")}   # the 6th data row


def test_workbook_unpacked_size_is_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _workbook(tables())
    monkeypatch.setattr(importer, "MAX_XLSX_UNCOMPRESSED_BYTES", 2_000)
    assert where(check_workbook(data), "error") == {("cohort.xlsx", None, "")}


def _rewrite(data: bytes, edit: Callable[[str, str], str]) -> bytes:
    """The workbook with each XML part passed through edit(part name, text)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename.endswith(".xml"):
                body = edit(info.filename, body.decode()).encode()
            target.writestr(info, body)
    return out.getvalue()


def test_workbook_shared_text_is_limited_before_it_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.BytesIO()                 # openpyxl writes text inline: add the table Excel writes
    with zipfile.ZipFile(io.BytesIO(_workbook(tables()))) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info.filename))
        target.writestr("xl/sharedStrings.xml", '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                        'main">' + "<si><t>Centre A</t></si>" * 20 + "</sst>")
    data = out.getvalue()
    monkeypatch.setattr(importer, "MAX_SHARED_TEXT_BYTES", 100)    # openpyxl reads this part whole
    report = check_workbook(data)
    assert where(report, "error") == {("cohort.xlsx", None, "")}
    assert "text table" in report.problems()[0].expected


def test_workbook_long_cell_names_sheet_row_and_column() -> None:
    t = tables()
    set_cell(t, E, 12, "detail", "LONG-CELL")
    # openpyxl cuts a cell to Excel's 32,767 characters when it writes: lengthen it in the file itself
    data = _rewrite(_workbook(t), lambda name, text: text.replace("LONG-CELL", "x" * 100_000))
    assert where(check_workbook(data), "error") == {("cohort.xlsx (sheet events)", 12, "detail")}


def test_workbook_sheet_with_a_namespace_prefix_reads_like_any_other() -> None:
    def prefixed(name: str, text: str) -> str:
        if not name.startswith("xl/worksheets/sheet"):
            return text
        text = text.replace('<worksheet xmlns="', '<x:worksheet xmlns:x="').replace("</worksheet>", "</x:worksheet>")
        for tag in ("sheetData", "row", "c", "v", "is", "t", "f", "dimension", "sheetViews", "sheetView", "selection",
                    "sheetFormatPr", "pageMargins", "sheetPr", "outlinePr", "pageSetUpPr"):
            text = text.replace(f"<{tag}>", f"<x:{tag}>").replace(f"<{tag} ", f"<x:{tag} ")
            text = text.replace(f"<{tag}/>", f"<x:{tag}/>").replace(f"</{tag}>", f"</x:{tag}>")
        return text

    t = tables()
    set_cell(t, E, 12, "detail", "=1+1")
    report = check_workbook(_rewrite(_workbook(t), prefixed))
    assert where(report, "error") == {("cohort.xlsx (sheet events)", 12, "detail (cell R12)")}


# ---------------------------------------------------------------------------------- likely slips
def test_future_dates_and_absurd_lines_are_warnings_naming_the_cell() -> None:
    t = tables()
    set_cell(t, P, 2, "salvage_line", "2147483647")
    set_cell(t, P, 3, "data_cutoff_date", "9999-12-31")
    report = check(t)
    assert where(report, "error") == set()
    assert {(P, 2, "salvage_line"), (P, 3, "data_cutoff_date")} <= where(report, "warning")


def test_a_start_in_2099_warns_on_the_date_itself() -> None:
    t = tables()
    start = t[P][0].index("ino_start_date")
    set_cell(t, P, 3, "ino_start_date", "2099-01-01")
    set_cell(t, P, 3, "data_cutoff_date", "2099-12-31")
    for row in t[E][1:]:
        if row[0] == "P02" and row[1]:
            row[1] = "2099-0" + row[1][6:]                   # keep P02's events inside the new window
    report = check(t)
    assert (P, 3, "ino_start_date") in where(report, "warning")
    assert t[P][2][start] == "2099-01-01"


def test_a_cohort_with_warnings_only_still_imports(tmp_path: Path) -> None:
    t = tables()
    set_cell(t, P, 2, "salvage_line", "2147483647")
    set_cell(t, P, 3, "data_cutoff_date", "9999-12-31")
    data = {name: to_bytes(rows) for name, rows in t.items()}
    result = import_cohort(CohortFiles.from_csv(InputFile(P, data[P]), InputFile(E, data[E])), "Odd",
                           directory=tmp_path, now=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    assert result.ok and result.report.n_warnings >= 2


# ---------------------------------------------------------------------------------- many problems
def test_a_column_wrong_on_every_row_lists_the_first_thousand_and_counts_the_rest() -> None:
    t = tables()
    header = t[E][0]
    for _ in range(1_500):
        row = ["" for _ in header]
        row[header.index("patient_id")], row[header.index("event_type")] = "P02", "hsct"
        row[header.index("event_date")] = "31/12/2024"
        t[E].append(row)
    report = check(t)
    assert report.n_errors == 1_500
    frame = report.frame()
    dates = frame[(frame["column"] == "event_date") & (frame["severity"] == "error")]
    assert dates["row"].notna().sum() == 1_000
    (summary,) = dates[dates["row"].isna()].itertuples()
    assert "500 more rows" in summary.value


def test_a_line_of_a_million_separators_is_refused_before_it_is_split() -> None:
    t = tables()
    data = to_bytes(t[E]).split(b"\n")
    data[4] = b"P01" + b"," * 1_100_000                      # row 5
    report = check(t, {E: b"\n".join(data)})
    assert where(report, "error") == {(E, 5, "")}

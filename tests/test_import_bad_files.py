"""One hand-made mistake per case, and exactly where the importer must point: file · row · column.

Each case starts from the valid cohort in tests/bad_files/ (patients.csv: P01 on row 2, P02 on row
3; events.csv: P01's events on rows 2–9 — doses 2–4, response 5, MRD 6, AE 7, relapse 8, death 9 —
and P02's on rows 10–13 — dose 10, undated response 11, HSCT 12, last contact 13) and changes one
thing. Rows are spreadsheet rows: the header is row 1, the first data row is row 2.
`errors` is the complete set of (file, row, column) errors expected; `warnings` must be among the
warnings. A case without errors must import.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from core import importer
from core.importer import ROW_CONVENTION, CohortFiles, InputFile, ProblemReport, check_cohort_files, import_cohort

BAD = Path(__file__).resolve().parent / "bad_files"
P, E = "patients.csv", "events.csv"

Rows = list[list[str]]
Tables = dict[str, Rows]


def base_tables() -> Tables:
    return {name: list(csv.reader(io.StringIO((BAD / name).read_text(), newline=""))) for name in (P, E)}


def to_bytes(rows: Rows, *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def set_cell(file: str, row: int, column: str, value: str) -> Callable[[Tables], None]:
    def edit(t: Tables) -> None:
        t[file][row - 1][t[file][0].index(column)] = value
    return edit


def append_row(file: str, values: dict[str, str]) -> Callable[[Tables], None]:
    def edit(t: Tables) -> None:
        t[file].append([values.get(c, "") for c in t[file][0]])
    return edit


def drop_column(file: str, column: str) -> Callable[[Tables], None]:
    def edit(t: Tables) -> None:
        i = t[file][0].index(column)
        for row in t[file]:
            del row[i]
    return edit


def add_column(file: str, column: str, value: str) -> Callable[[Tables], None]:
    def edit(t: Tables) -> None:
        t[file][0].append(column)
        for row in t[file][1:]:
            row.append(value)
    return edit


def header_only(file: str) -> Callable[[Tables], None]:
    def edit(t: Tables) -> None:
        del t[file][1:]
    return edit


@dataclass(frozen=True)
class Case:
    name: str
    edit: Callable[[Tables], None] | None = None
    errors: frozenset[tuple[str, int | None, str]] = frozenset()
    warnings: frozenset[tuple[str, int | None, str]] = frozenset()
    raw: dict[str, bytes] = field(default_factory=dict)    # replace a file's bytes outright


def case(name: str, edit: Callable[[Tables], None] | None = None, errors: set | None = None,  # type: ignore[type-arg]
         warnings: set | None = None, raw: dict[str, bytes] | None = None) -> Case:  # type: ignore[type-arg]
    return Case(name, edit, frozenset(errors or ()), frozenset(warnings or ()), raw or {})


CASES = [
    # --- patients: types, allowed values, ranges, required values and columns, uniqueness
    case("sex not F/M", set_cell(P, 2, "sex", "f"), {(P, 2, "sex")}),
    case("age under 18", set_cell(P, 3, "age_years", "17"), {(P, 3, "age_years")}),
    case("age not a number", set_cell(P, 2, "age_years", "forty"), {(P, 2, "age_years")}),
    case("age with a decimal comma", set_cell(P, 2, "age_years", "45,5"), {(P, 2, "age_years")}),
    case("blasts over 100", set_cell(P, 2, "blast_pct", "101"), {(P, 2, "blast_pct")}),
    case("blasts with a % sign", set_cell(P, 2, "blast_pct", "60%"), {(P, 2, "blast_pct")}),
    case("salvage line 0", set_cell(P, 2, "salvage_line", "0"), {(P, 2, "salvage_line")}),
    case("salvage line not whole", set_cell(P, 2, "salvage_line", "1.5"), {(P, 2, "salvage_line")}),
    case("ph status unknown word", set_cell(P, 3, "ph_status", "positive"), {(P, 3, "ph_status")}),
    case("disease status misspelt", set_cell(P, 2, "disease_status", "relapsd"), {(P, 2, "disease_status")}),
    case("boolean not true/false", set_cell(P, 2, "emd_baseline", "maybe"), {(P, 2, "emd_baseline")}),
    case("date that does not exist", set_cell(P, 3, "ino_start_date", "2024-02-30"), {(P, 3, "ino_start_date")}),
    case("date in day/month/year", set_cell(P, 2, "ino_start_date", "08/01/2024"), {(P, 2, "ino_start_date")}),
    case("cut-off before first dose", set_cell(P, 3, "data_cutoff_date", "2024-03-01"),
         {(P, 3, "data_cutoff_date"), (E, 10, "event_date"), (E, 12, "event_date"), (E, 13, "event_date")}),
    case("required value empty", set_cell(P, 2, "centre", ""), {(P, 2, "centre")}),
    case("NA read as missing", set_cell(P, 2, "centre", "NA"), {(P, 2, "centre")}),
    case("Excel error value", set_cell(P, 2, "age_years", "#N/A"), {(P, 2, "age_years")}),
    case("required column missing", drop_column(P, "sex"), {(P, 1, "sex")}),
    case("duplicate patient id", append_row(P, {"patient_id": "P01", "centre": "Centre X", "sex": "F",
                                                "age_years": "45", "disease_status": "relapsed",
                                                "salvage_line": "1", "ino_start_date": "2024-01-08",
                                                "data_cutoff_date": "2025-06-30"}),
         {(P, 2, "patient_id"), (P, 4, "patient_id")}),
    case("unknown extra column kept", add_column(P, "favourite_colour", "blue"), set(),
         {(P, 1, "favourite_colour")}),
    case("optional column left out", drop_column(E, "detail"), set(), {(E, 1, "detail")}),
    # --- events: the fields an event type needs
    case("undated HSCT", set_cell(E, 12, "event_date", ""), {(E, 12, "event_date")}),
    case("response row without response", set_cell(E, 5, "response", ""), {(E, 5, "response")}),
    case("response not CR/CRi/NR", set_cell(E, 5, "response", "PR"), {(E, 5, "response")}),
    case("mrd row without result", set_cell(E, 6, "mrd", ""), {(E, 6, "mrd")}),
    case("AE without term", set_cell(E, 7, "ae_term", ""), {(E, 7, "ae_term")}),
    case("AE without grade", set_cell(E, 7, "ae_grade", ""), {(E, 7, "ae_grade")}),
    case("AE grade 6", set_cell(E, 7, "ae_grade", "6"), {(E, 7, "ae_grade")}),
    case("AE grade 2.5", set_cell(E, 7, "ae_grade", "2.5"), {(E, 7, "ae_grade")}),
    case("AE term in the wrong case", set_cell(E, 7, "ae_term", "Thrombocytopenia"), {(E, 7, "ae_term")}),
    case("death without cause (warning)", set_cell(E, 9, "cause", ""), set(), {(E, 9, "cause")}),
    case("last contact without status", set_cell(E, 13, "followup_status", ""), {(E, 13, "followup_status")}),
    case("dose row without dose", set_cell(E, 2, "dose_mg_m2", ""), {(E, 2, "dose_mg_m2")}),
    case("event type in capitals", set_cell(E, 9, "event_type", "Death"), {(E, 9, "event_type")},
         {(P, 2, "patient_id")}),
    case("other event type (warning)", append_row(E, {"patient_id": "P02", "event_date": "2024-06-01",
                                                      "event_type": "car_t_infusion"}), set(),
         {(E, 14, "event_type")}),
    case("subsequent_therapy is the contract's own (silent)",
         append_row(E, {"patient_id": "P02", "event_date": "2024-06-01", "event_type": "subsequent_therapy"})),
    # --- events: dates against the patient's window and death; patients that exist
    case("event before first dose", set_cell(E, 3, "event_date", "2024-01-01"), {(E, 3, "event_date")}),
    case("event after cut-off", set_cell(E, 13, "event_date", "2025-07-01"), {(E, 13, "event_date")}),
    case("event after death", set_cell(E, 8, "event_date", "2024-10-05"), {(E, 8, "event_date")}),
    case("two deaths", append_row(E, {"patient_id": "P01", "event_date": "2024-10-01", "event_type": "death",
                                      "cause": "relapse"}), {(E, 14, "event_type")}),
    case("event of an unknown patient", set_cell(E, 10, "patient_id", "P03"), {(E, 10, "patient_id")}),
    case("row with an extra value", set_cell(E, 13, "detail", "a,b"), set()),  # quoted: fine
    # --- whole files
    case("empty file", raw={P: b""}, errors={(P, None, "")}),
    case("header only", header_only(E), {(E, 2, "")}),
    case("a PDF named .csv", raw={E: b"%PDF-1.7\n..."}, errors={(E, None, "")}),
    case("a workbook named .csv", raw={P: b"PK\x03\x04rest-of-zip"}, errors={(P, None, "")}),
    case("binary with NUL bytes", raw={E: b"patient_id,event_date\x00\x00\x01"}, errors={(E, None, "")}),
]


def _files(t: Tables, raw: dict[str, bytes]) -> CohortFiles:
    data = {name: raw.get(name, to_bytes(rows)) for name, rows in t.items()}
    return CohortFiles.from_csv(InputFile(P, data[P]), InputFile(E, data[E]))


def _where(report: ProblemReport, severity: str) -> set[tuple[str, int | None, str]]:
    return {(p.file, p.row, p.column) for p in report.problems() if p.severity == severity}


def test_the_base_files_are_valid() -> None:
    result = check_cohort_files(_files(base_tables(), {}))
    assert result.ok and result.report.problems() == []


@pytest.mark.parametrize("c", CASES, ids=[c.name for c in CASES])
def test_bad_file_is_reported_where_it_is(c: Case, tmp_path: Path) -> None:
    tables = base_tables()
    if c.edit is not None:
        c.edit(tables)
    report = ProblemReport()
    check_cohort_files(_files(tables, c.raw), report)
    assert _where(report, "error") == set(c.errors)
    assert set(c.warnings) <= _where(report, "warning")
    frame = report.frame()
    assert list(frame.columns) == ["severity", "file", "row", "column", "value", "expected"]
    assert frame["expected"].str.len().min() > 5 if len(frame) else True
    result = import_cohort(_files(tables, c.raw), "case", directory=tmp_path)
    assert result.ok == (not c.errors)
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".duckdb"] == ([result.path.name] if result.ok else [])


def test_every_problem_at_once_with_values_and_expectations() -> None:
    tables = base_tables()
    for edit in (set_cell(P, 2, "sex", "x"), set_cell(P, 3, "age_years", "12"), set_cell(E, 7, "ae_grade", "9"),
                 set_cell(E, 10, "patient_id", "P9")):
        edit(tables)
    report = ProblemReport()
    check_cohort_files(_files(tables, {}), report)
    rows = {(p.file, p.row, p.column): p for p in report.problems()}
    assert set(rows) == {(P, 2, "sex"), (P, 3, "age_years"), (E, 7, "ae_grade"), (E, 10, "patient_id")}
    assert rows[(P, 3, "age_years")].value == "12"
    assert rows[(P, 3, "age_years")].expected == "a value from 18 to 120"
    assert rows[(E, 10, "patient_id")].expected == "a patient_id listed in patients.csv"
    assert rows[(P, 2, "sex")].expected.startswith("one of: F, M")
    csv_text = report.to_csv_bytes().decode("utf-8-sig")
    assert csv_text.splitlines()[0] == "severity,file,row,column,value,expected"
    assert "row 2" in ROW_CONVENTION and "row 1" in ROW_CONVENTION


def test_problem_csv_defuses_formulas() -> None:
    report = ProblemReport()
    report.add("error", "p.csv", 2, "centre", "=HYPERLINK(\"http://x\")", "text")
    report.add("error", "p.csv", 3, "age_years", "-5", "a value from 18 to 120")
    text = report.to_csv_bytes().decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ",-5," in text


# ---------------------------------------------------------------------------------- encodings, separators
def test_latin1_file_is_read_with_a_warning_on_the_first_bad_row() -> None:
    tables = base_tables()
    set_cell(P, 3, "centre", "Hôpital Saint-Louis")(tables)
    files = CohortFiles.from_csv(InputFile(P, to_bytes(tables[P], encoding="latin-1")), InputFile(E, to_bytes(tables[E])))
    result = check_cohort_files(files)
    assert result.ok
    assert (P, 3, "") in _where(result.report, "warning")
    assert result.patients is not None and result.patients["centre"].iloc[1] == "Hôpital Saint-Louis"


def test_utf8_with_bom_and_semicolons_and_crlf() -> None:
    tables = base_tables()
    data = b"\xef\xbb\xbf" + to_bytes(tables[P], delimiter=";").replace(b"\n", b"\r\n")
    result = check_cohort_files(CohortFiles.from_csv(InputFile(P, data), InputFile(E, to_bytes(tables[E]))))
    assert result.ok
    assert _where(result.report, "warning") == {(P, 1, "")}   # the separator, said once


def test_utf16_with_bom_is_read() -> None:
    tables = base_tables()
    data = to_bytes(tables[E]).decode().encode("utf-16")
    result = check_cohort_files(CohortFiles.from_csv(InputFile(P, to_bytes(tables[P])), InputFile(E, data)))
    assert result.ok and (E, None, "") in _where(result.report, "warning")


def test_title_row_above_the_header_is_pointed_out() -> None:
    tables = base_tables()
    tables[P].insert(0, ["Patients of Centre X"] + [""] * (len(tables[P][0]) - 1))
    report = ProblemReport()
    check_cohort_files(_files(tables, {}), report)
    errors = _where(report, "error")
    assert (P, 2, "") in errors                       # "the column names are on row 2"
    assert (P, 1, "patient_id") in errors             # and row 1 lacks them


def test_ragged_row_reports_the_row() -> None:
    tables = base_tables()
    tables[E][12].append("stray")                     # row 13 gets one value more than the header
    report = ProblemReport()
    check_cohort_files(_files(tables, {}), report)
    assert _where(report, "error") == {(E, 13, "")}


def test_size_and_row_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    tables = base_tables()
    monkeypatch.setattr(importer, "MAX_FILE_BYTES", 100)
    report = ProblemReport()
    check_cohort_files(_files(tables, {}), report)
    big = [p for p in report.problems() if p.row is None]
    assert {p.file for p in big} == {P, E} and all("at most 0 MB" in p.expected or "MB" in p.expected for p in big)
    monkeypatch.setattr(importer, "MAX_FILE_BYTES", 50 * 1024 * 1024)
    monkeypatch.setattr(importer, "MAX_ROWS", 5)
    report = ProblemReport()
    check_cohort_files(_files(tables, {}), report)
    assert _where(report, "error") == {(E, 7, "")}    # the 6th data row is row 7


def test_label_is_required() -> None:
    result = import_cohort(_files(base_tables(), {}), "   ")
    assert not result.ok and ("(cohort label)", None, "label") in _where(result.report, "error")


# ---------------------------------------------------------------------------------- workbooks
def _workbook(tables: Tables, mutate: Callable[[object], None] | None = None, sheets: tuple[str, ...] = ("patients", "events")) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for sheet in sheets:
        ws = wb.create_sheet(sheet)
        for row in tables[f"{sheet}.csv"]:
            ws.append([v if v != "" else None for v in row])
    if mutate is not None:
        mutate(wb)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _check_workbook(data: bytes) -> ProblemReport:
    report = ProblemReport()
    check_cohort_files(CohortFiles.from_workbook(InputFile("cohort.xlsx", data)), report)
    return report


def test_workbook_with_typed_cells_is_valid() -> None:
    import datetime as dt

    def typed(wb) -> None:  # type: ignore[no-untyped-def]
        ws = wb["patients"]
        ws["D2"] = 45                                   # age as a number
        ws["L2"] = dt.datetime(2024, 1, 8)              # ino_start_date as a real date cell
        ws["K2"] = False                                # emd_baseline as a boolean cell
    assert _check_workbook(_workbook(base_tables(), typed)).problems() == []


def test_workbook_formula_is_reported_by_cell() -> None:
    def formula(wb) -> None:  # type: ignore[no-untyped-def]
        wb["patients"]["D2"] = "=40+5"
    report = _check_workbook(_workbook(base_tables(), formula))
    assert _where(report, "error") == {("cohort.xlsx (sheet patients)", 2, "age_years (cell D2)")}


def test_workbook_merged_cells_are_reported_by_range() -> None:
    def merge(wb) -> None:  # type: ignore[no-untyped-def]
        wb["patients"].merge_cells("B2:B3")
    report = _check_workbook(_workbook(base_tables(), merge))
    assert ("cohort.xlsx (sheet patients)", 2, "centre (cells B2:B3)") in _where(report, "error")
    assert ("cohort.xlsx (sheet patients)", 3, "centre") in _where(report, "error")   # B3 is empty once merged


def test_workbook_without_events_sheet() -> None:
    report = _check_workbook(_workbook(base_tables(), sheets=("patients",)))
    assert _where(report, "error") == {("cohort.xlsx", None, "")}
    assert "events" in report.problems()[0].expected


def test_legacy_xls_and_non_workbooks_are_refused() -> None:
    assert _where(_check_workbook(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100), "error") == {("cohort.xlsx", None, "")}
    assert _where(_check_workbook(b"patient_id,centre\n"), "error") == {("cohort.xlsx", None, "")}
    assert _where(_check_workbook(b"PK\x03\x04 damaged"), "error") == {("cohort.xlsx", None, "")}


def test_template_files_are_current_and_import_cleanly() -> None:
    from openpyxl import load_workbook

    templates = BAD.parent.parent / "data" / "templates"
    assert (templates / "patients_template.csv").read_bytes() == importer.template_csv("patients")
    assert (templates / "events_template.csv").read_bytes() == importer.template_csv("events")
    shipped = load_workbook(templates / "cohort_template.xlsx")
    fresh = load_workbook(io.BytesIO(importer.template_xlsx()))
    for sheet in ("patients", "events", "dictionary"):
        assert list(shipped[sheet].values) == list(fresh[sheet].values)
    for files in (CohortFiles.from_csv(InputFile.from_path(templates / "patients_template.csv"),
                                       InputFile.from_path(templates / "events_template.csv")),
                  CohortFiles.from_workbook(InputFile.from_path(templates / "cohort_template.xlsx"))):
        result = check_cohort_files(files)
        assert result.ok and result.report.problems() == []

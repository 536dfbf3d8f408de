"""Property-based fuzzing of the importer: malformed files never crash it and never leave a partial cohort.

The strategy starts from the valid cohort in tests/bad_files/ and applies up to five random
mutations — a cell replaced by odd text, rows dropped or duplicated, columns dropped or renamed,
the bytes truncated, re-encoded, spliced with garbage, or replaced outright — and hands the result
to the importer as two CSV files or (sometimes) one workbook. After every case:

* no exception escapes `import_cohort`;
* every problem names a severity, a file and what is expected;
* the cohorts directory holds exactly the complete files it held before, plus the new cohort when
  (and only when) the import succeeded — no temporary file, no half cohort, nothing unreadable.

`scripts/fuzz_import.py --cases 10000` runs the same property for longer.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.cohorts import is_temporary, read_cohort_info, remove_cohort
from core.importer import CohortFiles, ImportResult, InputFile, import_cohort

BAD = Path(__file__).resolve().parent / "bad_files"
NAMES = ("patients.csv", "events.csv")
ODD_VALUES = ("", " ", "NA", "-1", "0", "1.5", "101", "1e309", "nan", "2024-02-30", "2024-13-01", "01/02/2024",
              "2099-01-01", "1900-01-01", "Death", "death", "CR", "CRi", "cr", "P01", "P02", "P99", "#N/A", "=1+1",
              "true", "maybe", "\x00", "\ufeff", '"', '""', ",", ";", "\n", "\r\n", "é", "😀", "<b>x</b>",
              "'; DROP TABLE patients; --", "x" * 500)


def base_rows() -> dict[str, list[list[str]]]:
    return {n: list(csv.reader(io.StringIO((BAD / n).read_text(), newline=""))) for n in NAMES}


def rows_to_bytes(rows: list[list[str]], delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


@dataclass
class Case:
    files: CohortFiles
    description: str


@st.composite
def malformed_cohorts(draw: st.DrawFn) -> Case:
    tables = base_rows()
    notes: list[str] = []
    for _ in range(draw(st.integers(0, 5))):
        name = draw(st.sampled_from(NAMES))
        rows = tables[name]
        op = draw(st.sampled_from(("cell", "cell", "cell", "drop_row", "dup_row", "drop_col", "rename_col",
                                   "short_row", "long_row")))
        if not rows:
            continue
        r = draw(st.integers(0, len(rows) - 1))
        c = draw(st.integers(0, max(0, len(rows[r]) - 1)))
        if op == "cell" and rows[r]:
            value = draw(st.one_of(st.sampled_from(ODD_VALUES), st.text(max_size=12)))
            rows[r][c] = value
        elif op == "drop_row":
            del rows[r]
        elif op == "dup_row":
            rows.insert(r, list(rows[r]))
        elif op == "drop_col":
            for row in rows:
                if c < len(row):
                    del row[c]
        elif op == "rename_col" and rows[0]:
            rows[0][min(c, len(rows[0]) - 1)] = draw(st.text(max_size=10))
        elif op == "short_row":
            del rows[r][c:]
        elif op == "long_row":
            rows[r].extend(draw(st.lists(st.text(max_size=5), max_size=3)))
        notes.append(f"{op} {name} r{r} c{c}")
    data = {n: rows_to_bytes(tables[n], draw(st.sampled_from((",", ",", ";", "\t")))) for n in NAMES}
    for name in NAMES:
        byte_op = draw(st.sampled_from(("none",) * 6 + ("truncate", "splice", "latin1", "utf16", "random", "empty")))
        raw = data[name]
        if byte_op == "truncate":
            raw = raw[: draw(st.integers(0, len(raw)))]
        elif byte_op == "splice":
            at = draw(st.integers(0, len(raw)))
            raw = raw[:at] + draw(st.binary(max_size=16)) + raw[at:]
        elif byte_op == "latin1":
            raw = raw.decode("utf-8").encode("latin-1", errors="replace")
        elif byte_op == "utf16":
            raw = raw.decode("utf-8").encode("utf-16")
        elif byte_op == "random":
            raw = draw(st.binary(max_size=300))
        elif byte_op == "empty":
            raw = b""
        data[name] = raw
        if byte_op != "none":
            notes.append(f"{byte_op} {name}")
    if draw(st.integers(0, 9)) == 0:
        return Case(CohortFiles.from_workbook(InputFile("cohort.xlsx", _workbook(tables, draw))),
                    "; ".join(notes + ["as workbook"]))
    return Case(CohortFiles.from_csv(InputFile(NAMES[0], data[NAMES[0]]), InputFile(NAMES[1], data[NAMES[1]])),
                "; ".join(notes))


def _workbook(tables: dict[str, list[list[str]]], draw: st.DrawFn) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name in NAMES:
        ws = wb.create_sheet(name.removesuffix(".csv"))
        for row in tables[name]:
            ws.append([_xlsx_safe(v) for v in row])
    ws = wb[draw(st.sampled_from(("patients", "events")))]
    trick = draw(st.sampled_from(("none", "formula", "merge", "error")))
    if trick == "formula":
        ws["D2"] = "=1+1"
    elif trick == "merge":
        ws.merge_cells("A2:B3")
    elif trick == "error":
        ws["C2"] = "#DIV/0!"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _xlsx_safe(value: str) -> str | None:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", value) or None


def complete_files(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir() if p.name.endswith(".duckdb")} if directory.exists() else set()


def check_one(case: Case, directory: Path) -> ImportResult:
    """Run one import and assert the invariants; a successful cohort is removed again afterwards."""
    before = complete_files(directory)
    result = import_cohort(case.files, "Fuzz <i>case</i>", directory=directory)
    after = complete_files(directory)
    assert not any(is_temporary(p) for p in directory.iterdir()) if directory.exists() else True
    frame = result.report.frame()
    assert set(frame["severity"]) <= {"error", "warning"}
    assert frame["file"].str.len().min() > 0 if len(frame) else True
    assert frame["expected"].str.len().min() > 0 if len(frame) else True
    assert ((frame["row"].isna()) | (frame["row"] >= 1)).all()
    if result.ok:
        assert result.path is not None and result.report.n_errors == 0
        assert after == before | {result.path.name}
        info = read_cohort_info(result.path)
        assert info.n_patients == result.n_patients and info.label == "Fuzz <i>case</i>"
        remove_cohort(result.path, directory)
    else:
        assert result.report.n_errors > 0 and after == before
    return result


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(case=malformed_cohorts())
def test_malformed_files_never_crash_or_leave_partial_cohorts(case: Case, tmp_path: Path) -> None:
    directory = tmp_path / "cohorts"
    directory.mkdir(exist_ok=True)
    sentinel = directory / "existing-00000000.duckdb"
    if not sentinel.exists():
        from tests.cohort_factory import TinyPatient, write_tiny_cohort

        write_tiny_cohort(sentinel, [TinyPatient("S1")], label="Existing")
    stamp = sentinel.read_bytes()
    check_one(case, directory)
    assert sentinel.read_bytes() == stamp

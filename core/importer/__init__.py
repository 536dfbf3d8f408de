"""Importing a centre's cohort: read the user's files, validate them, store a new cohort file atomically.

    result = import_cohort(CohortFiles.from_csv(patients, events), label="Centre X 2024")
    result.ok, result.report.frame(), result.path

Input is either two CSV files (`patients`, `events`) or one XLSX workbook with the sheets `patients`
and `events`. The work is cut by job:

    read        the files → one TextTable per table (every cell as typed), within the limits below
    table       raw rows → TextTable: header, blank rows, missing-value words
    rules       the data contract: every column, what it accepts, what each event type needs
    parse       text → typed values
    validate    pandera column rules, then the checks across rows and files
    problems    the problem report: file · row · column · value · expected
    write       a valid import → a new cohort file, written atomically
    mapping     a centre's own columns and values → the contract's (saved as JSON, reused by the next cut)
    proposal    a mapping proposed from a file's headers and values, for the user to confirm
    synonyms    what investigators call the contract's columns and values
    dates       dates as investigators write them (13/02/2017, 13-Feb-2017) → YYYY-MM-DD
    centres     several centres' files as one cohort; a new cut with one centre's rows swapped
    templates   the import templates and the data dictionary
    cohort_rows a cohort's own rows back out in the import format

The limits are module attributes here, read at every call, so a deployment (or a test) can lower them.
Every other public name is importable from here too; each submodule is loaded on first use, so a
module that only needs, say, `count_table_rows` does not pay for pandera and openpyxl.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import importlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from core.importer.limits import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    MAX_SHARED_TEXT_BYTES,
    MAX_XLSX_UNCOMPRESSED_BYTES,
    ReadLimits,
)

if TYPE_CHECKING:
    from core.importer.centres import WHOLE_COHORT, CentreFiles, CentresResult
    from core.importer.cohort_rows import (
        count_table_rows,
        export_import_format,
        fetch_extra_rows,
        fetch_table_rows,
        format_cell,
        to_import_text,
    )
    from core.importer.files import CohortFiles, InputFile
    from core.importer.mapping import DROP, KEEP, ImportMapping, MappingError, TableMapping, apply_mapping
    from core.importer.problems import ERROR, PROBLEM_COLUMNS, ROW_CONVENTION, WARNING, Problem, ProblemReport
    from core.importer.proposal import ColumnProposal, MappingProposal, ValueProposal, propose_mapping, with_choices
    from core.importer.read import read_cohort_files, read_csv_table
    from core.importer.rules import SPECS, TABLES, ColumnSpec
    from core.importer.table import TextTable
    from core.importer.templates import (
        dictionary_frame,
        endpoints_frame,
        template_csv,
        template_frames,
        template_xlsx,
        write_templates,
    )
    from core.importer.validate import ValidatedCohort, validate_tables
    from core.importer.workbook import IGNORED_SHEETS, read_workbook
    from core.importer.write import IMPORTER_VERSION, ImportResult, check_label, store_cohort, write_import

# public name → the submodule that defines it
_HOMES: dict[str, str] = {
    **dict.fromkeys(("count_table_rows", "export_import_format", "fetch_table_rows", "format_cell",
                     "to_import_text"), "cohort_rows"),
    **dict.fromkeys(("ERROR", "PROBLEM_COLUMNS", "ROW_CONVENTION", "WARNING", "Problem", "ProblemReport"),
                    "problems"),
    **dict.fromkeys(("CohortFiles", "InputFile"), "files"),
    **dict.fromkeys(("read_cohort_files", "read_csv_table"), "read"),
    **dict.fromkeys(("IGNORED_SHEETS", "read_workbook"), "workbook"),
    **dict.fromkeys(("SPECS", "TABLES", "ColumnSpec"), "rules"),
    "TextTable": "table",
    **dict.fromkeys(("dictionary_frame", "endpoints_frame", "template_csv", "template_frames",
                     "template_xlsx", "write_templates"), "templates"),
    **dict.fromkeys(("ValidatedCohort", "validate_tables"), "validate"),
    **dict.fromkeys(("IMPORTER_VERSION", "ImportResult", "check_label", "store_cohort", "write_import"), "write"),
    # mapping a centre's own columns; several centres at once; new cuts
    **dict.fromkeys(("WHOLE_COHORT", "CentreFiles", "CentresResult"), "centres"),
    "fetch_extra_rows": "cohort_rows",
    **dict.fromkeys(("DROP", "KEEP", "ImportMapping", "MappingError", "TableMapping", "apply_mapping"), "mapping"),
    **dict.fromkeys(("ColumnProposal", "MappingProposal", "ValueProposal", "propose_mapping", "with_choices"),
                    "proposal"),
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


def read_limits() -> ReadLimits:
    """The limits in force: this module's attributes as they are now."""
    return ReadLimits(max_file_bytes=MAX_FILE_BYTES, max_rows=MAX_ROWS,
                      max_xlsx_unpacked_bytes=MAX_XLSX_UNCOMPRESSED_BYTES,
                      max_shared_text_bytes=MAX_SHARED_TEXT_BYTES, max_columns=MAX_COLUMNS,
                      max_cell_chars=MAX_CELL_CHARS)


def check_cohort_files(files: CohortFiles, report: ProblemReport | None = None) -> ValidatedCohort:
    """Read and validate without writing anything."""
    from core.importer.problems import ProblemReport
    from core.importer.read import read_cohort_files
    from core.importer.validate import ValidatedCohort, validate_tables

    report = report if report is not None else ProblemReport()
    with _collector_paused():
        patients, events = read_cohort_files(files, report, read_limits())
        if patients is None or events is None:
            return ValidatedCohort(report=report)
        return validate_tables(patients, events, report)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Reading a big file allocates millions of small tuples and strings, none of them in a cycle; each
    pass of Python's cycle collector then walks every object alive, which made reading a 190,000-row
    workbook 2.5 times slower. Paused for one import, switched back on afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def import_cohort(files: CohortFiles, label: str, *, source: str = "", directory: Path | None = None,
                  now: dt.datetime | None = None) -> ImportResult:
    """Validate, then (only if there is no error) write a new cohort file. Never raises on bad input."""
    from core.importer.problems import ProblemReport
    from core.importer.write import check_label, write_import

    report = ProblemReport()
    clean = check_label(label, report)
    validated = check_cohort_files(files, report)
    return write_import(validated, report, label=clean, files=files.describe(), source=source,
                        directory=directory, now=now)


def read_for_mapping(sources: Sequence[CentreFiles], report: ProblemReport | None = None
                     ) -> dict[str, list[TextTable]]:
    """Each centre's tables as read, before any mapping: what core.importer.proposal proposes a mapping from."""
    from core.importer.centres import read_sources
    from core.importer.problems import ProblemReport

    with _collector_paused():
        return read_sources(sources, report if report is not None else ProblemReport(), read_limits())


def import_centres(sources: Sequence[CentreFiles], label: str, *, mapping: ImportMapping | None = None,
                   prefix_ids: bool = False, new_cut_of: Path | None = None, source: str = "",
                   directory: Path | None = None, now: dt.datetime | None = None,
                   write: bool = True) -> CentresResult:
    """Several centres' files (each mapped, then validated) as one new cohort, or as the next cut of the
    imported cohort `new_cut_of` with only their centres' rows replaced. Never raises on bad input; with
    `write=False` it only checks. See core.importer.centres."""
    from core.importer.centres import import_sources

    with _collector_paused():
        return import_sources(sources, label, limits=read_limits(), mapping=mapping, prefix_ids=prefix_ids,
                              new_cut_of=new_cut_of, source=source, directory=directory, now=now, write=write)


__all__ = [  # noqa: F822 - the submodules' names are loaded on first use (see __getattr__)
    "MAX_CELL_CHARS", "MAX_COLUMNS", "MAX_FILE_BYTES", "MAX_ROWS", "MAX_SHARED_TEXT_BYTES",
    "MAX_XLSX_UNCOMPRESSED_BYTES", "ReadLimits",
    "check_cohort_files", "import_cohort", "read_limits", "count_table_rows", "export_import_format",
    "fetch_table_rows", "format_cell", "to_import_text", "ERROR", "PROBLEM_COLUMNS", "ROW_CONVENTION", "WARNING",
    "Problem", "ProblemReport", "CohortFiles", "InputFile", "read_cohort_files", "read_csv_table", "IGNORED_SHEETS",
    "read_workbook", "SPECS", "TABLES", "ColumnSpec", "TextTable", "dictionary_frame",
    "endpoints_frame", "template_csv", "template_frames", "template_xlsx", "write_templates", "ValidatedCohort",
    "validate_tables", "IMPORTER_VERSION", "ImportResult", "check_label", "store_cohort", "write_import",
    "WHOLE_COHORT", "CentreFiles", "CentresResult", "import_centres", "read_for_mapping", "fetch_extra_rows",
    "DROP", "KEEP", "ImportMapping", "MappingError", "TableMapping", "apply_mapping",
    "ColumnProposal", "MappingProposal", "ValueProposal", "propose_mapping", "with_choices",
]

"""Turning a valid import into a cohort file, written atomically into the cohorts directory.

A valid import is written by core.store.write_cohort_file to a hidden temporary file in the cohorts
directory, completed there (unknown columns kept in `patients_extra` / `events_extra`), flushed,
and only then renamed to its final name, so a failed or killed import never leaves a listed
half-cohort and never touches an existing one. The default cohort is never a target.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from core import cohorts as cohort_store
from core.database import CohortError
from core.importer.problems import ERROR, WARNING, ProblemReport
from core.importer.validate import ValidatedCohort
from core.store import write_cohort_file

IMPORTER_VERSION = "1"


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


def check_label(label: str, report: ProblemReport) -> str:
    """The label as stored (spaces collapsed, shortened to the limit); a problem row when it is empty or long."""
    clean = cohort_store.clean_label(label)
    if not clean:
        report.add(ERROR, "(cohort label)", None, "label", label,
                   "a label for the cohort, e.g. Centre X 2024 (1–120 characters)")
    elif len(" ".join(str(label).split())) > cohort_store.MAX_LABEL_CHARS:
        report.add(WARNING, "(cohort label)", None, "label", label,
                   f"at most {cohort_store.MAX_LABEL_CHARS} characters; the label was shortened")
    return clean


def write_import(validated: ValidatedCohort, report: ProblemReport, *, label: str, files: str, source: str = "",
                 directory: Path | None = None, now: dt.datetime | None = None) -> ImportResult:
    """Write a validated import as a new cohort file, only when the report holds no error.

    `label` is the cleaned label (see check_label); `files` names the input files for the cohort's
    provenance. A failure to write becomes a problem row; nothing is left behind.
    """
    if not validated.ok or not report.ok:
        return ImportResult(report=report, label=label)
    assert validated.patients is not None and validated.events is not None
    directory = directory or cohort_store.cohorts_dir()
    meta = {
        "label": label,
        "source": cohort_store.clean_label(source) or f"Imported from {files}",
        "imported_at": (now or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat(),
        "reconstructed": "false",
        "import_files": files,
        "importer_version": IMPORTER_VERSION,
        **first_cut_meta(),
    }
    extras = {t: c for t, c in validated.extra_columns.items() if c}
    if extras:
        meta["extra_columns"] = "; ".join(f"{t}: {', '.join(c)}" for t, c in extras.items())
    try:
        path = store_cohort(validated, meta, directory)
    except (OSError, duckdb.Error, CohortError) as exc:
        report.add(ERROR, "(cohort store)", None, "", f"{type(exc).__name__}: {exc}",
                   f"a writable cohorts directory ({directory}); nothing was changed")
        return ImportResult(report=report, label=label)
    return ImportResult(report=report, path=path, label=label, n_patients=len(validated.patients),
                        n_events=len(validated.events))


def first_cut_meta() -> dict[str, str]:
    """A new cohort starts a lineage: later cuts of it carry the same id (see core.cohorts)."""
    return {"lineage": uuid.uuid4().hex, "cut": "1"}


def store_cohort(validated: ValidatedCohort, meta: Mapping[str, str], directory: Path) -> Path:
    """Write the cohort (with any unknown columns kept) under a new name in `directory`, atomically."""
    assert validated.patients is not None and validated.events is not None
    directory.mkdir(parents=True, exist_ok=True)
    cohort_store.clean_leftovers(directory)
    final = directory / cohort_store.cohort_file_name(meta["label"])
    if final.resolve() == cohort_store.default_cohort_path().resolve():  # pragma: no cover - names carry a uuid
        raise CohortError("Refusing to overwrite the default cohort.")
    extra_tables = {name: frame for name, frame in (("patients_extra", validated.patients_extra),
                                                    ("events_extra", validated.events_extra)) if frame is not None}
    return write_cohort_file(final, validated.patients, validated.events, meta, extra_tables=extra_tables)

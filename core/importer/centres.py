"""Several centres, one cohort — and a new cut of an imported cohort with one centre's rows swapped.

    sources = [CentreFiles("Centre A", CohortFiles.from_workbook(a)), CentreFiles("Centre B", CohortFiles.from_csv(p, e))]
    result = import_centres(sources, "Registry 2024", mapping=mapping)          # core.importer
    result = import_centres([CentreFiles("Centre B", CohortFiles.from_workbook(b2))], "", new_cut_of=result.path)

Each centre's files are read, mapped (core.importer.mapping) and validated on their own, so every
problem names that centre's file and row. A centre named by the user fills the `centre` column (or
must agree with it); an unnamed source takes its centres from its own centre column. Patient ids
that two centres share are refused, naming both files and rows, unless the user asks to prefix each
id with its centre. Nothing is written while any problem is an error.

A new cut starts from the latest cut of an imported cohort, keeps the rows of every centre the new
files do not cover, replaces the rows of those they do, and is written as a new file with the same
lineage and the next cut number; the earlier cut is kept as it was, read-only (core.cohorts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from core import cohorts as cohort_store
from core.database import CohortError, open_cohort
from core.importer.cohort_rows import fetch_extra_rows, fetch_table_rows
from core.importer.files import CohortFiles, InputFile
from core.importer.limits import ReadLimits
from core.importer.mapping import ImportMapping, apply_mapping
from core.importer.problems import ERROR, ProblemReport
from core.importer.read import read_cohort_files
from core.importer.rules import SPECS
from core.importer.table import TextTable
from core.importer.validate import ValidatedCohort, validate_tables
from core.importer.write import IMPORTER_VERSION, ImportResult, check_label, first_cut_meta, store_cohort
from core.queries import fetch_study_meta

MAX_CENTRES = 50
WHOLE_COHORT = "(whole cohort)"
_CENTRES_FILE = "(centres)"
_CUT_FILE = "(data cut)"


@dataclass(frozen=True)
class CentreFiles:
    """One centre's files: two CSVs or one workbook. `centre` "" = the files' own centre column says."""

    centre: str
    files: CohortFiles

    def describe(self) -> str:
        return f"{self.centre}: {self.files.describe()}" if self.centre else self.files.describe()

    def input_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in (self.files.workbook, self.files.patients, self.files.events) if f is not None)


@dataclass
class CentresResult(ImportResult):
    """An import of several centres (or a new cut): the ImportResult, and which problems are whose."""

    centres: dict[str, tuple[str, ...]] = field(default_factory=dict)    # centre → its files' names
    cut: int = 1
    replaced_centres: tuple[str, ...] = ()
    kept_centres: tuple[str, ...] = ()

    def problems_by_centre(self) -> dict[str, pd.DataFrame]:
        """The problem table cut by centre (a file's problems go to its centre; the rest to the whole cohort)."""
        frame = self.report.frame()
        owner = pd.Series(WHOLE_COHORT, index=frame.index, dtype=object)
        for centre, names in self.centres.items():
            for name in names:
                mine = frame["file"].astype(str).str.startswith(name)
                owner[mine.to_numpy()] = centre or WHOLE_COHORT
        return {centre: frame[(owner == centre).to_numpy()].reset_index(drop=True)
                for centre in [*self.centres, WHOLE_COHORT] if (owner == centre).any()}


@dataclass
class _Centre:
    source: CentreFiles
    patients: TextTable | None = None
    events: TextTable | None = None

    @property
    def readable(self) -> bool:
        return self.patients is not None and self.events is not None


@dataclass
class _BaseCut:
    """The cut a new cut starts from: its rows (typed as a validated import's) and what study_meta says."""

    path: Path
    meta: dict[str, str]
    patients: pd.DataFrame
    events: pd.DataFrame
    patients_extra: pd.DataFrame | None
    events_extra: pd.DataFrame | None

    @property
    def label(self) -> str:
        return self.meta.get("label", self.path.stem)

    @property
    def cut(self) -> int:
        return cohort_store.cut_of(self.meta)


# ---------------------------------------------------------------------------------- reading
def _distinct_names(sources: Sequence[CentreFiles]) -> list[CentreFiles]:
    """Two centres may both send patients.csv: their problems then name the centre too."""
    seen: dict[str, int] = {}
    for source in sources:
        for name in source.input_names():
            seen[name] = seen.get(name, 0) + 1
    out = []
    for source in sources:
        def renamed(file: InputFile | None, centre: str = source.centre) -> InputFile | None:
            if file is None or seen[file.name] < 2:
                return file
            return InputFile(name=f"{centre} · {file.name}", data=file.data)
        files = source.files
        out.append(CentreFiles(source.centre, CohortFiles(patients=renamed(files.patients),
                                                          events=renamed(files.events),
                                                          workbook=renamed(files.workbook))))
    return out


def read_sources(sources: Sequence[CentreFiles], report: ProblemReport, limits: ReadLimits
                 ) -> dict[str, list[TextTable]]:
    """Every centre's tables as read, before any mapping: what a mapping is proposed from."""
    tables: dict[str, list[TextTable]] = {"patients": [], "events": []}
    for source in _distinct_names(sources):
        patients, events = read_cohort_files(source.files, report, limits)
        tables["patients"] += [patients] if patients is not None else []
        tables["events"] += [events] if events is not None else []
    return tables


def _check_sources(sources: Sequence[CentreFiles], report: ProblemReport) -> bool:
    if not sources:
        report.add(ERROR, _CENTRES_FILE, None, "", "(no files)", "one centre's files at least")
        return False
    if len(sources) > MAX_CENTRES:
        report.add(ERROR, _CENTRES_FILE, None, "", f"{len(sources)} centres", f"at most {MAX_CENTRES} at once")
        return False
    ok = True
    names: dict[str, str] = {}
    for source in sources:
        centre = " ".join(source.centre.split())
        if len(sources) > 1 and not centre:
            report.add(ERROR, _CENTRES_FILE, None, "centre", source.files.describe(),
                       "the centre each file comes from, when several files are imported at once")
            ok = False
        elif centre and centre.casefold() in names:
            report.add(ERROR, _CENTRES_FILE, None, "centre", centre,
                       f"each centre once (its files were given twice: {names[centre.casefold()]} and "
                       f"{source.files.describe()})")
            ok = False
        names[centre.casefold()] = source.files.describe()
    return ok


def _read_centre(source: CentreFiles, mapping: ImportMapping, report: ProblemReport, limits: ReadLimits) -> _Centre:
    centre = _Centre(source)
    patients, events = read_cohort_files(source.files, report, limits)
    tag = " ".join(source.centre.split())
    derived = {"centre": tag} if tag else {}
    if patients is not None:
        centre.patients = apply_mapping(patients, mapping.patients, report, derived=derived)
    if events is not None:
        centre.events = apply_mapping(events, mapping.events, report)
    if centre.patients is not None and tag:
        _agree_on_centre(centre.patients, tag, report)
    return centre


def _agree_on_centre(patients: TextTable, tag: str, report: ProblemReport) -> None:
    """A file tagged with a centre: its own centre cells, when it has them, say the same (empty ones are filled)."""
    column = patients.frame["centre"]
    other = column.notna() & (column != tag)
    rows = patients.frame.index[other.to_numpy()]
    report.add_many(ERROR, patients.file, rows, "centre", column[rows],
                    f"{tag}, the centre these files were given as (or map the centre column to (drop))")
    patients.frame["centre"] = column.where(column.notna(), tag)


# ---------------------------------------------------------------------------------- patient ids
def _prefix_ids(centre: _Centre) -> None:
    """Each patient id becomes "<centre>-<id>", in both tables: the centre the files were given as, else the
    patient's own centre cell (an event takes its patient's)."""
    assert centre.patients is not None and centre.events is not None
    frame = centre.patients.frame
    tag = " ".join(centre.source.centre.split())
    ids = frame["patient_id"]
    centres = pd.Series(tag, index=frame.index, dtype=object) if tag else frame["centre"]
    once = ~ids.duplicated(keep=False) & ids.notna() & centres.notna()
    by_id = dict(zip(ids[once], centres[once]))
    frame["patient_id"] = [None if i is None else f"{c}-{i}" if c is not None else i for i, c in zip(ids, centres)]
    events = centre.events.frame
    events["patient_id"] = [None if i is None else f"{by_id[i]}-{i}" if i in by_id else i
                            for i in events["patient_id"]]


def _check_collisions(centres: Sequence[_Centre], base: _BaseCut | None, kept_ids: dict[str, str],
                      report: ProblemReport) -> None:
    """A patient id two centres use: one problem on the later row, naming the first file and row."""
    first: dict[str, tuple[str, str, int]] = {}
    for centre in centres:
        assert centre.patients is not None
        frame = centre.patients.frame
        name = centre.source.centre or "its centre"
        seen_here: set[str] = set()
        for row, pid in zip(frame.index, frame["patient_id"]):
            if pid is None or pid in seen_here:
                continue          # a repeat inside one file: the validator names it
            seen_here.add(pid)
            if pid in kept_ids and base is not None:
                report.add(ERROR, centre.patients.file, int(row), "patient_id", pid,
                           f"a patient_id no other centre uses: {pid} is a patient of {kept_ids[pid]} in "
                           f"{base.label} (cut {base.cut}), whose rows this cut keeps; prefix patient ids with the "
                           "centre (--prefix-ids) when they are different patients")
            elif pid in first:
                other_centre, other_file, other_row = first[pid]
                report.add(ERROR, centre.patients.file, int(row), "patient_id", pid,
                           f"a patient_id no other centre uses: {pid} is also a patient of {other_centre} "
                           f"({other_file} row {other_row}); prefix patient ids with the centre (--prefix-ids) "
                           "when they are different patients")
            else:
                first[pid] = (name, centre.patients.file, int(row))


# ---------------------------------------------------------------------------------- the earlier cut
def _as_validated(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Rows read back from a cohort file, typed as a validated import's rows (so the two can be joined)."""
    out = frame.copy()
    for spec in SPECS[table]:
        column = out[spec.name]
        if spec.kind == "date":
            out[spec.name] = [None if pd.isna(v) else pd.Timestamp(v).date() for v in column]
        elif spec.kind == "boolean":
            out[spec.name] = pd.Series([None if pd.isna(v) else bool(v) for v in column], dtype=object,
                                       index=out.index)
        elif spec.kind == "integer":
            out[spec.name] = column.astype("Int64")
        elif spec.kind == "number":
            out[spec.name] = column.astype("float64")
        else:
            out[spec.name] = column.astype(object).where(column.notna(), None)
    return out


def _read_base(path: Path, directory: Path, report: ProblemReport) -> _BaseCut | None:
    """The latest cut of an imported cohort, read whole; None (after a problem row) for anything else."""
    if path.resolve() == cohort_store.default_cohort_path().resolve():
        report.add(ERROR, _CUT_FILE, None, "", path.name,
                   "an imported cohort: the default cohort is the reconstruction's and gets no new cuts")
        return None
    later = cohort_store.later_cut(path, directory)
    if later is not None:
        report.add(ERROR, _CUT_FILE, None, "", f"{path.name} (cut {later.cut - 1} or earlier)",
                   f"the latest cut of {later.label} (cut {later.cut}, {later.path.name}): earlier cuts are kept "
                   "read-only and a new cut builds on the latest")
        return None
    try:
        cohort = open_cohort(path)
    except CohortError as exc:
        report.add(ERROR, _CUT_FILE, None, "", path.name, f"a readable imported cohort ({exc})")
        return None
    try:
        meta = fetch_study_meta(cohort)
        patients = _as_validated(fetch_table_rows(cohort, "patients"), "patients")
        events = _as_validated(fetch_table_rows(cohort, "events"), "events")
        extras = fetch_extra_rows(cohort, "patients"), fetch_extra_rows(cohort, "events")
    finally:
        cohort.close()
    return _BaseCut(path, meta, patients, events, *extras)


# ---------------------------------------------------------------------------------- together
def _stack(frames: Sequence[pd.DataFrame | None], files: Sequence[str]) -> pd.DataFrame | None:
    """Extra columns of several files in one table; `source_file` says whose row it is."""
    present = [(f, name) for f, name in zip(frames, files) if f is not None]
    if not present:
        return None
    if len(frames) == 1:
        return present[0][0]
    parts = []
    for frame, name in present:
        part = frame.copy()
        if "source_file" not in part.columns:
            part.insert(1, "source_file", name)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _kept_rows(base: _BaseCut, replaced: set[str]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    keep = ~base.patients["centre"].isin(replaced)
    patients = base.patients[keep.to_numpy()]
    ids = set(patients["patient_id"])
    events = base.events[base.events["patient_id"].isin(ids).to_numpy()]
    return patients, events, dict(zip(patients["patient_id"], patients["centre"]))


def _kept_extra(frame: pd.DataFrame | None, ids: set[str]) -> pd.DataFrame | None:
    if frame is None or "patient_id" not in frame.columns:
        return frame
    kept = frame[frame["patient_id"].isin(ids).to_numpy()]
    return kept if len(kept) else None


def _centres_of(centres: Sequence[_Centre]) -> set[str]:
    found: set[str] = set()
    for centre in centres:
        if centre.source.centre:
            found.add(" ".join(centre.source.centre.split()))
        elif centre.patients is not None:
            found.update(v for v in centre.patients.frame["centre"].dropna())
    return found


def import_sources(sources: Sequence[CentreFiles], label: str, *, limits: ReadLimits,
                   mapping: ImportMapping | None = None, prefix_ids: bool = False, new_cut_of: Path | None = None,
                   source: str = "", directory: Path | None = None, now: dt.datetime | None = None,
                   write: bool = True) -> CentresResult:
    """Read, map, check and (only when nothing is an error, and `write`) store several centres' files as one
    cohort, or as the next cut of `new_cut_of`. Never raises on bad input. `label` "" keeps the cut's label."""
    report = ProblemReport()
    directory = directory or cohort_store.cohorts_dir()
    mapping = mapping or ImportMapping()
    sources = _distinct_names(sources)
    result = CentresResult(report=report, centres={s.centre: s.input_names() for s in sources})
    base = _read_base(Path(new_cut_of), directory, report) if new_cut_of is not None else None
    if new_cut_of is not None and base is None:
        return result
    label = check_label(label if label.strip() or base is None else base.label, report)
    if not _check_sources(sources, report):
        return result
    centres = [_read_centre(s, mapping, report, limits) for s in sources]
    if not all(c.readable for c in centres):
        return result
    replaced = _centres_of(centres)
    kept_patients, kept_events, kept_ids = (_kept_rows(base, replaced) if base is not None
                                            else (None, None, {}))
    prefix = prefix_ids or (base is not None and base.meta.get("patient_ids_prefixed") == "true")
    if prefix:
        for centre in centres:
            _prefix_ids(centre)
    _check_collisions(centres, base, kept_ids, report)
    tables = [(c.patients, c.events) for c in centres if c.patients is not None and c.events is not None]
    validated = [validate_tables(patients, events, report) for patients, events in tables]
    n_rows = sum(len(p.frame) for p, _ in tables) + (0 if kept_patients is None else len(kept_patients))
    n_events = sum(len(e.frame) for _, e in tables) + (0 if kept_events is None else len(kept_events))
    if max(n_rows, n_events) > limits.max_rows:
        report.add(ERROR, WHOLE_COHORT, None, "", f"{max(n_rows, n_events):,} rows in one table",
                   f"at most {limits.max_rows:,} rows per table for the whole cohort")
    result.label = label
    result.replaced_centres = tuple(sorted(replaced))
    if base is not None:
        result.kept_centres = tuple(sorted(set(kept_ids.values())))
    if not report.ok or not all(v.ok for v in validated) or not write:
        return result
    combined = _combine(validated, centres, base, kept_patients, kept_events, set(kept_ids))
    meta = _meta(label, source, sources, base, replaced, prefix, combined, now)
    try:
        path = store_cohort(combined, meta, directory)
    except (OSError, duckdb.Error, CohortError) as exc:
        report.add(ERROR, "(cohort store)", None, "", f"{type(exc).__name__}: {exc}",
                   f"a writable cohorts directory ({directory}); nothing was changed")
        return result
    if base is not None:
        cohort_store.keep_read_only(base.path)
    result.path, result.cut = path, int(meta["cut"])
    assert combined.patients is not None and combined.events is not None
    result.n_patients, result.n_events = len(combined.patients), len(combined.events)
    return result


def _combine(validated: Sequence[ValidatedCohort], centres: Sequence[_Centre], base: _BaseCut | None,
             kept_patients: pd.DataFrame | None, kept_events: pd.DataFrame | None, kept_ids: set[str]
             ) -> ValidatedCohort:
    files = [c.source.describe() for c in centres]
    patients = [v.patients for v in validated]
    events = [v.events for v in validated]
    p_extra = [v.patients_extra for v in validated]
    e_extra = [v.events_extra for v in validated]
    if base is not None:
        patients.insert(0, kept_patients)
        events.insert(0, kept_events)
        p_extra.insert(0, _kept_extra(base.patients_extra, kept_ids))
        e_extra.insert(0, _kept_extra(base.events_extra, kept_ids))
        files.insert(0, f"{base.label} (cut {base.cut})")
    out = ValidatedCohort(report=validated[0].report)
    out.patients = pd.concat(patients, ignore_index=True)
    out.events = pd.concat(events, ignore_index=True)
    out.patients_extra = _stack(p_extra, files)
    out.events_extra = _stack(e_extra, files)
    extra: dict[str, tuple[str, ...]] = {}
    for v in validated:
        for table, names in v.extra_columns.items():
            extra[table] = tuple(dict.fromkeys((*extra.get(table, ()), *names)))
    out.extra_columns = extra
    return out


def _meta(label: str, source: str, sources: Sequence[CentreFiles], base: _BaseCut | None, replaced: set[str],
          prefix: bool, combined: ValidatedCohort, now: dt.datetime | None) -> dict[str, str]:
    files = "; ".join(s.describe() for s in sources)
    assert combined.patients is not None
    centres = sorted(str(c) for c in np.unique(combined.patients["centre"].dropna().astype(str)))
    meta = {
        "label": label,
        "source": cohort_store.clean_label(source) or (base.meta.get("source", "") if base else "")
        or f"Imported from {files}",
        "imported_at": (now or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat(),
        "reconstructed": "false",
        "import_files": files,
        "importer_version": IMPORTER_VERSION,
        "centres": "; ".join(centres),
        "patient_ids_prefixed": "true" if prefix else "false",
    }
    if base is None:
        meta.update(first_cut_meta())
    else:
        meta.update({"lineage": cohort_store.lineage_of(base.meta, base.path), "cut": str(base.cut + 1),
                     "previous_cut": base.path.name, "replaced_centres": "; ".join(sorted(replaced))})
    extras = {t: c for t, c in combined.extra_columns.items() if c}
    if extras:
        meta["extra_columns"] = "; ".join(f"{t}: {', '.join(c)}" for t, c in extras.items())
    return meta

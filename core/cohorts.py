"""The cohorts a user can choose: the default reconstructed cohort plus imported ones.

Imported cohorts are DuckDB files in one directory (`data/cohorts/`, or `$INO_COHORTS_DIR`). A file is
listed only once it is complete: imports write to a hidden temporary file (name starting with "."
and ending in ".tmp") and rename it into place at the end, so temporary files are never listed, and
ones left behind by an interrupted import are removed once they are stale.

Labels are free text typed by a user: they are carried as plain strings and the file name is made
from a slug of the label plus a short random id, so no label can name a path.

Data cuts: an imported cohort can be updated with a new cut, a new file whose study_meta carries the
same `lineage` id and the next `cut` number. Earlier cuts stay as they were, read-only: they are
listed only when asked for (`all_cuts=True`), cannot be removed while a later cut builds on them,
and lose their write permission once superseded. A file without lineage is its own lineage, cut 1.
"""

from __future__ import annotations

import os
import re
import stat
import time
import unicodedata
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from core.contract import COHORTS_DIR_ENV, DEFAULT_COHORT_ENV, DEFAULT_COHORT_PATH, DEFAULT_COHORTS_DIR
from core.database import CohortError, open_cohort
from core.importer.cohort_rows import count_table_rows
from core.queries import fetch_study_meta

COHORT_SUFFIX = ".duckdb"
TEMP_SUFFIX = ".tmp"
STALE_TEMP_SECONDS = 3600.0
MAX_LABEL_CHARS = 120


@dataclass(frozen=True)
class CohortInfo:
    """One cohort file, as the picker lists it."""

    path: Path
    label: str
    source: str
    imported_at: str          # ISO 8601 (UTC) for imports; "" for the default
    n_patients: int
    is_default: bool
    reconstructed: bool
    lineage: str = ""         # the cuts of one cohort share it
    cut: int = 1
    latest: bool = True       # no later cut of the same lineage in the folder

    @property
    def imported_date(self) -> str:
        return self.imported_at[:10]

    def describe(self) -> str:
        """"Centre X 2024 · n = 41 · imported 2025-03-02" — plain text, never markup. A cohort with
        several cuts says which: "Centre X 2024 · cut 2 · n = 44 · imported …"."""
        when = ("default" if self.is_default else f"imported {self.imported_date}" if self.imported_at
                else "import date unknown")
        cut = ""
        if self.cut > 1 or not self.latest:
            cut = f" · cut {self.cut}" + ("" if self.latest else " (earlier, read-only)")
        return f"{self.label}{cut} · n = {self.n_patients} · {when}"


@dataclass(frozen=True)
class UnreadableCohort:
    path: Path
    reason: str


@dataclass(frozen=True)
class CohortListing:
    cohorts: tuple[CohortInfo, ...]
    unreadable: tuple[UnreadableCohort, ...]


def cohorts_dir() -> Path:
    """Where imported cohorts live: $INO_COHORTS_DIR, else data/cohorts/."""
    value = os.environ.get(COHORTS_DIR_ENV, "").strip()
    return Path(value) if value else DEFAULT_COHORTS_DIR


def default_cohort_path() -> Path:
    value = os.environ.get(DEFAULT_COHORT_ENV, "").strip()
    return Path(value) if value else DEFAULT_COHORT_PATH


def is_temporary(path: Path) -> bool:
    """A file an import is writing (or left behind): hidden and ending in .tmp (or its .wal)."""
    name = path.name
    return name.startswith(".") and name.endswith((TEMP_SUFFIX, TEMP_SUFFIX + ".wal"))


def cohort_files(directory: Path | None = None) -> list[Path]:
    """Complete cohort files in the directory (no temporary, hidden or WAL files), by name."""
    directory = directory or cohorts_dir()
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir()
                  if p.is_file() and p.suffix == COHORT_SUFFIX and not p.name.startswith("."))


def clean_leftovers(directory: Path | None = None, *, older_than_seconds: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Remove temporary files an interrupted import left behind (only stale ones: a live import's file stays)."""
    directory = directory or cohorts_dir()
    removed: list[Path] = []
    if not directory.is_dir():
        return removed
    now = time.time()
    for path in directory.iterdir():
        if not (path.is_file() and is_temporary(path)):
            continue
        try:
            if now - path.stat().st_mtime >= older_than_seconds:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:  # another process removed or renamed it meanwhile
            continue
    return removed


def read_cohort_info(path: Path, *, is_default: bool = False) -> CohortInfo:
    """Label, source, import date and n patients of one cohort file, through a read-only connection."""
    cohort = open_cohort(path)
    try:
        meta = fetch_study_meta(cohort)
        n = count_table_rows(cohort, "patients")
    finally:
        cohort.close()
    fallback = "Default cohort" if is_default else path.stem
    return CohortInfo(path=path, label=clean_label(meta.get("label", "")) or fallback,
                      source=meta.get("source", ""), imported_at=meta.get("imported_at", ""), n_patients=n,
                      is_default=is_default,
                      reconstructed=str(meta.get("reconstructed", "")).strip().lower() == "true",
                      lineage=lineage_of(meta, path), cut=cut_of(meta))


def lineage_of(meta: dict[str, str], path: Path) -> str:
    """The lineage id a cohort's cuts share (a file imported before cuts existed is its own lineage)."""
    return str(meta.get("lineage", "")).strip() or f"file:{path.stem}"


def cut_of(meta: dict[str, str]) -> int:
    try:
        return max(1, int(str(meta.get("cut", "1")).strip()))
    except ValueError:
        return 1


def _mark_latest(imported: list[CohortInfo]) -> list[CohortInfo]:
    newest: dict[str, tuple[int, str]] = {}
    for c in imported:
        newest[c.lineage] = max(newest.get(c.lineage, (0, "")), (c.cut, c.imported_at))
    return [replace(c, latest=(c.cut, c.imported_at) == newest[c.lineage]) for c in imported]


def scan_cohorts(directory: Path | None = None, default_path: Path | None = None, *,
                 all_cuts: bool = False) -> CohortListing:
    """The default cohort (when its file exists) first, then imported cohorts, newest first: the latest
    cut of each, or every cut with `all_cuts`."""
    directory = directory or cohorts_dir()
    default_path = default_path or default_cohort_path()
    cohorts: list[CohortInfo] = []
    unreadable: list[UnreadableCohort] = []
    if default_path.exists():
        try:
            cohorts.append(read_cohort_info(default_path, is_default=True))
        except CohortError as exc:
            unreadable.append(UnreadableCohort(default_path, str(exc)))
    imported: list[CohortInfo] = []
    for path in cohort_files(directory):
        if path.resolve() == default_path.resolve():
            continue
        try:
            imported.append(read_cohort_info(path))
        except (CohortError, OSError) as exc:
            unreadable.append(UnreadableCohort(path, str(exc)))
        except Exception as exc:  # noqa: BLE001 - a file that is not a DuckDB database at all
            unreadable.append(UnreadableCohort(path, f"not a cohort file ({type(exc).__name__}: {exc})"))
    imported = _mark_latest(imported)
    if not all_cuts:
        imported = [c for c in imported if c.latest]
    imported.sort(key=lambda c: (c.imported_at, c.path.name), reverse=True)
    return CohortListing(cohorts=tuple(cohorts + imported), unreadable=tuple(unreadable))


def list_cohorts(directory: Path | None = None, default_path: Path | None = None, *,
                 all_cuts: bool = False) -> list[CohortInfo]:
    return list(scan_cohorts(directory, default_path, all_cuts=all_cuts).cohorts)


def cuts_of(lineage: str, directory: Path | None = None, default_path: Path | None = None) -> list[CohortInfo]:
    """Every cut of one imported cohort, first cut first."""
    found = [c for c in list_cohorts(directory, default_path, all_cuts=True)
             if c.lineage == lineage and not c.is_default]
    return sorted(found, key=lambda c: (c.cut, c.imported_at))


def later_cut(path: Path, directory: Path | None = None, default_path: Path | None = None) -> CohortInfo | None:
    """The latest cut built on this cohort file, when there is one (None: it is the latest itself)."""
    target = Path(path).resolve()
    mine = [c for c in list_cohorts(directory, default_path, all_cuts=True) if c.path.resolve() == target]
    if not mine:
        return None
    later = [c for c in cuts_of(mine[0].lineage, directory, default_path)
             if (c.cut, c.imported_at) > (mine[0].cut, mine[0].imported_at)]
    return later[-1] if later else None


def keep_read_only(path: Path) -> None:
    """An earlier cut loses its write permission (best effort: some file systems ignore it)."""
    try:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    except OSError:  # pragma: no cover - e.g. a file system without permissions
        pass


def remove_cohort(path: str | Path, directory: Path | None = None, default_path: Path | None = None) -> Path:
    """Delete an imported cohort file. Never the default cohort, never a file outside the cohorts directory."""
    directory = (directory or cohorts_dir()).resolve()
    default_path = (default_path or default_cohort_path()).resolve()
    target = Path(path).resolve()
    if target == default_path or target == DEFAULT_COHORT_PATH.resolve():
        raise CohortError("The default cohort cannot be removed.", hint="Only imported cohorts can be removed.")
    if target.parent != directory or target.suffix != COHORT_SUFFIX or target.name.startswith("."):
        raise CohortError(f"{target.name} is not an imported cohort.",
                          hint=f"Only cohort files in {directory} can be removed.")
    if not target.exists():
        raise CohortError(f"The cohort file {target.name} no longer exists.", hint="It may have been removed already.")
    later = later_cut(target, directory, default_path)
    if later is not None:
        raise CohortError(f"{target.name} is an earlier cut of {later.label}; earlier cuts are kept read-only.",
                          hint=f"Remove the latest cut first (cut {later.cut}, {later.path.name}).")
    target.unlink()
    wal = target.with_name(target.name + ".wal")
    if wal.exists():
        wal.unlink()
    return target


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean_label(label: str) -> str:
    """A label as stored: control and bidi-override characters dropped, whitespace collapsed, trimmed."""
    text = _CONTROL.sub(" ", str(label))
    return " ".join(text.split())[:MAX_LABEL_CHARS]


def slugify(label: str, max_chars: int = 40) -> str:
    """ASCII lower-case letters, digits and hyphens only: 'Centre X / 2024' → 'centre-x-2024'."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_chars].strip("-") or "cohort"


def cohort_file_name(label: str) -> str:
    """A safe, unique file name for a new cohort: slug of the label + 8 hex characters of a uuid4."""
    return f"{slugify(label)}-{uuid.uuid4().hex[:8]}{COHORT_SUFFIX}"

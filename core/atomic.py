"""Writing a file atomically: readers see the old file or the complete new one, never a part.

    write_atomically(path, lambda tmp: build_cohort(tmp))

The new file is written under a temporary name in the same folder (a rename is only atomic within
one file system), flushed to disk, renamed over `path`, and the folder is flushed so the rename
survives a crash. The temporary name is hidden and ends in `.tmp` (see core.cohorts.is_temporary), so
the cohort picker never lists it and a stale one is cleaned up later.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

TEMP_SUFFIX = ".tmp"
# Files a writer may leave next to its file while writing (DuckDB's write-ahead log).
COMPANION_SUFFIXES = (".wal",)


def temporary_path(path: Path) -> Path:
    """A fresh hidden name beside `path` that does not exist yet (DuckDB insists on creating its file itself)."""
    while True:
        candidate = path.with_name(f".{path.name}-{secrets.token_hex(6)}{TEMP_SUFFIX}")
        if not candidate.exists():
            return candidate


def write_atomically(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp)` to create the new file at a temporary path, then move it to `path`. Returns `path`.

    On any failure (including KeyboardInterrupt) the temporary file and its companions are removed and
    the error is raised again; whatever was at `path` before is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    try:
        write(tmp)
        fsync_path(tmp)
        os.replace(tmp, path)
    except BaseException:
        for leftover in (tmp, *(tmp.with_name(tmp.name + s) for s in COMPANION_SUFFIXES)):
            leftover.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)
    return path


def fsync_path(path: Path) -> None:
    """Flush a file's (or a folder's) data to disk; quietly skipped where the platform does not allow it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. directories on some platforms
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)

"""core.atomic: a file is replaced whole or not at all, and no temporary file is left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.atomic import write_atomically
from core.cohorts import is_temporary


def test_a_complete_write_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "cohort.duckdb"
    target.write_bytes(b"old")
    seen: list[Path] = []

    def write(tmp: Path) -> None:
        assert not tmp.exists() and tmp.parent == tmp_path and is_temporary(tmp)
        seen.append(tmp)
        tmp.write_bytes(b"new")

    assert write_atomically(target, write) == target
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cohort.duckdb"]


def test_a_failed_write_leaves_the_old_file_and_no_leftovers(tmp_path: Path) -> None:
    target = tmp_path / "cohort.duckdb"
    target.write_bytes(b"old")

    def write(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        tmp.with_name(tmp.name + ".wal").write_bytes(b"log")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, write)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cohort.duckdb"]

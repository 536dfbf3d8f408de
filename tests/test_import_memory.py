"""Importing stays within 500 MB and 10 s whatever the file: the heaviest inputs, each checked in its own process.

The inputs and the measurement are scripts/import_memory.py's (it prints the same table by hand):
one 100,000- and one 1,000,000-character cell in the default cohort's events CSV (before: 6.5 GB
and a 30 GiB allocation failure), a valid 200,000-row events file (before: 2.5 GB) and a
190,000-row × 26-column workbook (before: a minute and 2.5 GB). Each case runs
`scripts/import_cohort.py --check` in a child of a small helper process; its peak resident memory
is that child's ru_maxrss (started from the helper, not from pytest, whose size it would inherit). Time is judged as the child's CPU time, which does not depend on what else shares the
machine; wall time is printed with the load average. About 35 s in all.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_MB = 500.0
MAX_CPU_SECONDS = 10.0


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_memory", ROOT / "scripts" / "import_memory.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["import_memory"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def heavy_inputs(tmp_path_factory: pytest.TempPathFactory, default_cohort: Path) -> tuple[ModuleType, Path, list]:
    script = _script()
    directory = tmp_path_factory.mktemp("heavy-imports")
    return script, directory, script.generate_in_child(directory)


@pytest.mark.parametrize("name", ["long-cell-100k", "long-cell-1M", "events-200k", "workbook-190k"])
def test_heavy_input_is_checked_within_memory_and_time(heavy_inputs: tuple[ModuleType, Path, list],
                                                       name: str) -> None:
    script, directory, cases = heavy_inputs
    (case,) = [c for c in cases if c.name == name]
    measured = script.run_check(case, directory)
    print(f"{name}: {measured.peak_mb:.0f} MB peak, {measured.cpu_seconds:.1f} s CPU, "
          f"{measured.wall_seconds:.1f} s wall (load {os.getloadavg()[0]:.1f}) — {measured.summary}")
    assert (measured.exit_code == 0) == case.expect_valid, measured.summary
    if not case.expect_valid:
        assert measured.summary.startswith("NOT IMPORTED: 1 error"), measured.summary
    assert measured.peak_mb < MAX_MB
    assert measured.cpu_seconds < MAX_CPU_SECONDS

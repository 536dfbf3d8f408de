"""Importing stays within 500 MB whatever the file, and its time within a few times a baseline of the same run.

The inputs, targets and measurement are scripts/import_memory.py's (it prints the same table by
hand): one 100,000- and one 1,000,000-character cell in the default cohort's events CSV (before:
6.5 GB and a 30 GiB allocation failure), a valid 200,000-row events file (before: 2.5 GB) and a
190,000-row × 26-column workbook (before: a minute and 2.5 GB). Each case runs
`scripts/import_cohort.py --check` in a child of a small helper process; its peak resident memory
is that child's ru_maxrss (started from the helper, not from pytest, whose size it would inherit).
Time is the child's CPU time as a ratio to a baseline case measured in the same run (the 32-patient
check; for the workbook, the same rows as CSV), so a slower machine moves both sides; wall time is
printed with the load average. About 40 s in all.
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


@pytest.fixture(scope="module")
def measured(heavy_inputs: tuple[ModuleType, Path, list]) -> dict:
    """Each case measured once, in order (baselines first); the tests read the table."""
    script, directory, cases = heavy_inputs
    out = {}
    for m, _ in script.run_all(cases, directory):
        out[m.case.name] = m
        print(f"{m.case.name}: {m.peak_mb:.0f} MB peak, {m.cpu_seconds:.1f} s CPU, {m.wall_seconds:.1f} s wall "
              f"(load {os.getloadavg()[0]:.1f}) — {m.summary}")
    return out


def test_cases_compare_with_a_baseline_measured_before_them(heavy_inputs: tuple[ModuleType, Path, list]) -> None:
    _, _, cases = heavy_inputs
    seen: set[str] = set()
    for case in cases:
        assert case.baseline is None or case.baseline in seen, case
        assert case.baseline is None or 1.0 < case.max_ratio <= 10.0, case
        seen.add(case.name)
    assert [c.name for c in cases if c.baseline is None] == ["default-32"]


@pytest.mark.parametrize("name", ["default-32", "long-cell-100k", "long-cell-1M", "events-200k", "workbook-190k"])
def test_heavy_input_is_checked_within_memory_and_time(measured: dict, name: str) -> None:
    m = measured[name]
    assert (m.exit_code == 0) == m.case.expect_valid, m.summary
    if not m.case.expect_valid:
        assert m.summary.startswith("NOT IMPORTED: 1 error"), m.summary
    assert m.peak_mb < MAX_MB
    if m.case.baseline:
        baseline = measured[m.case.baseline]
        assert m.ratio(baseline) <= m.case.max_ratio, (
            f"{name}: {m.cpu_seconds:.1f} s CPU = {m.ratio(baseline):.1f}x {m.case.baseline} "
            f"({baseline.cpu_seconds:.1f} s), target {m.case.max_ratio:.0f}x")

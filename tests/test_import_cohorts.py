"""The cohort list, removal, safe names, the command line, and an import killed mid-write."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.cohorts import (
    clean_label,
    clean_leftovers,
    cohort_file_name,
    is_temporary,
    list_cohorts,
    remove_cohort,
    scan_cohorts,
    slugify,
)
from core.database import CohortError
from tests.cohort_factory import TinyPatient, write_tiny_cohort

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "bad_files"
CLI = [sys.executable, str(ROOT / "scripts" / "import_cohort.py")]


@pytest.fixture()
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    default = write_tiny_cohort(tmp_path / "default.duckdb", [TinyPatient("D1"), TinyPatient("D2")], label="Default")
    return tmp_path / "cohorts", default


def cli(*args: str, cohorts: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, INO_COHORTS_DIR=str(cohorts))
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=120, cwd=ROOT,
                          check=False)


def test_names_are_safe_slugs_with_a_short_uuid() -> None:
    name = cohort_file_name("../../etc/passwd <script>alert(1)</script> Centre Ünïcode 2024")
    assert name.endswith(".duckdb") and "/" not in name and ".." not in name and "<" not in name
    assert name.startswith("etc-passwd-script-alert-1-script-centre") and len(name) <= 40 + 1 + 8 + 7
    assert slugify("   ") == "cohort" and slugify("Hôpital Saint-Louis") == "hopital-saint-louis"
    assert cohort_file_name("x") != cohort_file_name("x")
    assert clean_label("  Centre\u202e X\n\t2024  ") == "Centre X 2024"


def test_list_import_remove(dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    cohorts, default = dirs
    code = _cli_main()(["--patients", str(BAD / "patients.csv"), "--events", str(BAD / "events.csv"),
                        "--label", "Centre X 2024", "--source", "registry", "--cohorts-dir", str(cohorts)])
    assert code == 0 and "imported patients.csv + events.csv as " in capsys.readouterr().out
    listed = list_cohorts(cohorts, default)
    assert [(c.label, c.n_patients, c.is_default) for c in listed] == [("Default", 2, True), ("Centre X 2024", 2, False)]
    imported = listed[1]
    assert imported.source == "registry" and imported.describe().startswith("Centre X 2024 · n = 2 · imported 20")
    with pytest.raises(CohortError):
        remove_cohort(default, cohorts, default)                      # never the default
    with pytest.raises(CohortError):
        remove_cohort(default.parent / "elsewhere.duckdb", cohorts, default)
    remove_cohort(imported.path, cohorts, default)
    assert [c.label for c in list_cohorts(cohorts, default)] == ["Default"]
    assert default.exists()


def test_unreadable_and_temporary_files_are_not_listed(dirs: tuple[Path, Path]) -> None:
    cohorts, default = dirs
    cohorts.mkdir()
    (cohorts / "garbage.duckdb").write_bytes(b"not a database")
    (cohorts / ".half-1234.staging.tmp").write_bytes(b"partial")
    (cohorts / ".half-1234.staging.tmp.wal").write_bytes(b"partial")
    listing = scan_cohorts(cohorts, default)
    assert [c.label for c in listing.cohorts] == ["Default"]
    assert [u.path.name for u in listing.unreadable] == ["garbage.duckdb"]
    assert is_temporary(cohorts / ".half-1234.staging.tmp")
    assert clean_leftovers(cohorts) == []                              # fresh: maybe a live import
    removed = clean_leftovers(cohorts, older_than_seconds=0)
    assert sorted(p.name for p in removed) == [".half-1234.staging.tmp", ".half-1234.staging.tmp.wal"]


def test_cli_reports_every_problem_and_exits_non_zero(tmp_path: Path) -> None:
    events = (BAD / "events.csv").read_text().replace("P01,2024-01-20,adverse_event,,,,,,,,,,thrombocytopenia,3",
                                                      "P01,2024-01-20,adverse_event,,,,,,,,,,thrombocytopenia,9")
    events = events.replace("P02,2025-06-30,last_contact", "P07,2025-06-30,last_contact")
    (tmp_path / "e.csv").write_text(events)
    out = tmp_path / "problems.csv"
    result = cli("--patients", str(BAD / "patients.csv"), "--events", str(tmp_path / "e.csv"), "--label", "Bad",
                 "--problems-csv", str(out), cohorts=tmp_path / "cohorts")
    assert result.returncode == 1
    assert "ERROR   e.csv · row 7 · ae_grade · 9 · expected a value from 1 to 5" in result.stdout
    assert "ERROR   e.csv · row 13 · patient_id · P07 · expected a patient_id listed in patients.csv" in result.stdout
    assert "header is row 1" in result.stdout and "NOT IMPORTED" in result.stderr
    problems = pd.read_csv(out, encoding="utf-8-sig")
    assert list(problems.columns) == ["severity", "file", "row", "column", "value", "expected"]
    assert set(zip(problems["row"], problems["column"])) >= {(7, "ae_grade"), (13, "patient_id")}
    assert not (tmp_path / "cohorts").exists() or list((tmp_path / "cohorts").iterdir()) == []


def _cli_main():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location("import_cohort_cli", ROOT / "scripts" / "import_cohort.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_cli_needs_a_label_and_one_kind_of_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main = _cli_main()
    for argv in (["--xlsx", "x.xlsx"], ["--xlsx", "x.xlsx", "--patients", "p.csv", "--label", "x"], ["--label", "x"]):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 2
    assert main(["--check", "--xlsx", str(ROOT / "data/templates/cohort_template.xlsx")]) == 0
    assert "valid: 0 errors, 0 warnings in cohort_template.xlsx" in capsys.readouterr().out


def _big_files(tmp: Path, n_patients: int) -> tuple[Path, Path]:
    patients = pd.read_csv(BAD / "patients.csv", dtype=str, keep_default_na=False)
    events = pd.read_csv(BAD / "events.csv", dtype=str, keep_default_na=False)
    reps = n_patients // len(patients)

    def copies(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.iloc[np.tile(np.arange(len(frame)), reps)].reset_index(drop=True)
        out["patient_id"] = out["patient_id"] + "-" + np.repeat(np.arange(reps), len(frame)).astype(str)
        return out
    big_p, big_e = copies(patients), copies(events)
    big_p.to_csv(tmp / "p.csv", index=False)
    big_e.to_csv(tmp / "e.csv", index=False)
    return tmp / "p.csv", tmp / "e.csv"


def test_import_killed_mid_write_leaves_the_cohorts_intact(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    cohorts, default = dirs
    cohorts.mkdir()
    before = write_tiny_cohort(cohorts / "earlier-0000aaaa.duckdb", [TinyPatient("E1")], label="Earlier")
    snapshot = {p.name: p.read_bytes() for p in (before, default)}
    p, e = _big_files(tmp_path, 8_000)           # 8,000 patients, 48,000 events
    env = dict(os.environ, INO_COHORTS_DIR=str(cohorts))
    killed, attempts = False, 0
    for attempts in range(1, 4):
        proc = subprocess.Popen([*CLI, "--patients", str(p), "--events", str(e), "--label", "Killed"],
                                env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 90
        while proc.poll() is None and time.monotonic() < deadline:
            if any(is_temporary(x) for x in cohorts.iterdir()):   # the write has started
                time.sleep(0.05)
                proc.send_signal(signal.SIGKILL)
                killed = True
                break
            time.sleep(0.002)
        proc.wait(timeout=30)
        if killed:
            break
        for x in cohorts.iterdir():              # it finished before we caught it: undo and retry
            if x.name.startswith("killed-"):
                x.unlink()
    assert killed, "the import finished three times before the kill landed"
    print(f"killed mid-write on attempt {attempts}")
    listed = list_cohorts(cohorts, default)
    assert [c.label for c in listed] == ["Default", "Earlier"]        # no half cohort listed
    assert {x.name: x.read_bytes() for x in (before, default)} == snapshot
    leftovers = [x for x in cohorts.iterdir() if is_temporary(x)]
    assert leftovers, "the kill should have left the temporary file behind"
    assert all(not x.name.endswith(".duckdb") for x in leftovers)
    clean_leftovers(cohorts, older_than_seconds=0)
    assert sorted(x.name for x in cohorts.iterdir()) == ["earlier-0000aaaa.duckdb"]

"""Shared fixtures: the default cohort file, and small hand-made cohorts written to a temp dir."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cohort_factory import TinyPatient, write_tiny_cohort

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def default_cohort() -> Path:
    """The default (reconstructed) cohort file, built when missing."""
    try:
        from data.build_db import DEFAULT_COHORT_PATH, build
    except ImportError as exc:  # pragma: no cover - only while the reconstruction is being written
        pytest.skip(f"the default cohort cannot be built yet: {exc}")
    try:
        return build(DEFAULT_COHORT_PATH)
    except ImportError as exc:  # data.reconstruction.expand not there yet
        pytest.skip(f"the default cohort cannot be built yet: {exc}")


def varied_patients() -> list[TinyPatient]:
    """Ten patients covering each filter's values: lines 1–3, both burdens, HSCT, deaths, two centres."""
    return [
        TinyPatient("T01", salvage_line=1, blast_pct=20, response="CR", hsct_day=90, last_contact_day=500),
        TinyPatient("T02", salvage_line=1, blast_pct=70, response="CRi", mrd="positive", relapse_day=200,
                    death_day=260, cause="relapse", sex="F", aes=(("thrombocytopenia", 3, 10),)),
        TinyPatient("T03", salvage_line=2, blast_pct=80, response="NR", mrd=None, death_day=120,
                    cause="progression of disease", centre="Centre B", aes=(("VOD", 3, 30),)),
        TinyPatient("T04", salvage_line=2, blast_pct=30, response="CR", n_cycles=2, response_cycle=2,
                    cycle1_doses=(0.8, 0.5), age_years=70, last_contact_day=380, lost=True),
        TinyPatient("T05", salvage_line=2, blast_pct=55, response="CR", hsct_day=70, relapse_day=300,
                    death_day=330, cause="relapse", ph_status="Ph+", aes=(("AST increased", 3, 40),)),
        TinyPatient("T06", salvage_line=3, blast_pct=None, response=None, mrd=None, death_day=40,
                    cause="septic shock", disease_status="refractory", safety_evaluable=False),
        TinyPatient("T07", salvage_line=1, blast_pct=45, response="CR", sex="F", centre="Centre B",
                    cycle1_doses=(0.8, 0.6, 0.6), last_contact_day=420),
        TinyPatient("T08", salvage_line=3, blast_pct=90, response="NR", mrd=None, emd_baseline=True,
                    death_day=150, cause="progression of disease", aes=(("neutropenia", 4, 12),)),
        TinyPatient("T09", salvage_line=2, blast_pct=10, response="CR", age_years=25, relapse_day=240,
                    last_contact_day=360, ph_status=None),
        TinyPatient("T10", salvage_line=1, blast_pct=65, response="CRi", sex="F", hsct_day=100,
                    death_day=180, cause="VOD-related multi-organ failure", aes=(("VOD", 4, 120),)),
    ]


@pytest.fixture()
def make_tiny_cohort(tmp_path: Path) -> Callable[..., Path]:
    """A factory: `make_tiny_cohort(people=None, name="tiny.duckdb")` writes a cohort file and returns it."""
    def make(people: list[TinyPatient] | None = None, name: str = "tiny.duckdb") -> Path:
        return write_tiny_cohort(tmp_path / name, people if people is not None else varied_patients())
    return make


@pytest.fixture()
def tiny_cohort(make_tiny_cohort: Callable[..., Path]) -> Path:
    return make_tiny_cohort()


@pytest.fixture()
def cohort_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], None]]:
    """Point the app at a cohort file through $INO_COHORT_PATH (restored after the test)."""
    def use(path: Path) -> None:
        monkeypatch.setenv("INO_COHORT_PATH", str(path))
    yield use


@pytest.fixture(autouse=True)
def _run_from_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # AppTest resolves pages/ relative to app.py; streamlit reads .streamlit/config.toml from the cwd.
    monkeypatch.chdir(ROOT)
    os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")


# ------------------------------------------------------------------------------------- a real browser
@pytest.fixture(scope="module")
def app_server(default_cohort: Path) -> Iterator[str]:
    """A streamlit server of this module's own, started fresh on the default cohort: its base URL."""
    from tests.test_browser import shots

    (ROOT / "artifacts").mkdir(exist_ok=True)
    with shots.streamlit_server(env={"INO_COHORT_PATH": str(default_cohort)}) as base:
        yield base


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (one per test module)."""
    from tests.test_browser import shots, sync_api

    if not shots.CHROMIUM.exists():
        pytest.fail(shots.INSTALL_HINT, pytrace=False)
    with sync_api.sync_playwright() as playwright:
        browser = shots.launch_browser(playwright)
        yield browser
        browser.close()

"""Serving more people: two app processes on one cohort file, and the protocol-level load driver.

Two `streamlit run` processes (as behind a proxy, README "Speed and scale") open the same DuckDB
file read-only at once: each answers its health check and serves a page over the websocket to the
end of the run, with no exception and the same content as the other. The load driver of
scripts/load_test.py is run for a few seconds with two sessions so that it keeps working.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _script(name: str):  # type: ignore[no-untyped-def]
    """A module of scripts/ (they are scripts, not a package)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


ws_load = _script("ws_load")
load_test = _script("load_test")


@pytest.fixture(scope="module")
def two_apps(default_cohort: Path) -> Iterator[list[str]]:
    """Two app processes, started together on the same cohort file; their base URLs."""
    with ws_load.serve_apps(2, ROOT, cohort=default_cohort, timeout_s=60) as served:
        yield [base for base, _ in served]


def _healthy(base: str) -> bool:
    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=10) as response:
        return response.status == 200 and response.read().strip() == b"ok"


async def _open_and_filter(base: str, page: str) -> list:
    async with ws_load.StreamSession(base, page, timeout_s=40) as tab:
        first = await tab.run(kind="load")
        tab.set_string("f_blast", "High")
        return [first, await tab.run()]


def test_two_processes_serve_the_same_cohort_file_at_once(two_apps: list[str]) -> None:
    assert all(_healthy(base) for base in two_apps)

    async def both() -> list[list]:
        return await asyncio.gather(*(_open_and_filter(base, "survival") for base in two_apps))

    runs = asyncio.run(both())
    for base, (first, filtered) in zip(two_apps, runs):
        for view in (first, filtered):
            assert view.status == "ok", f"{base}: {view.status}"
            assert view.errors == [], f"{base}: {view.errors}"
            assert view.elements > 10
        assert filtered.query == "blast=high"
    # the same file, the same answers
    assert runs[0][0].fingerprint == runs[1][0].fingerprint
    assert runs[0][1].fingerprint == runs[1][1].fingerprint
    assert runs[0][0].fingerprint != runs[0][1].fingerprint


def test_load_driver_runs_sessions_that_change_filters(two_apps: list[str]) -> None:
    async def warm() -> None:          # a first run in a fresh process imports everything (seconds)
        for page in ("overview", "safety"):
            async with ws_load.StreamSession(two_apps[0], page, timeout_s=40) as tab:
                assert (await tab.run(kind="load")).status == "ok"

    asyncio.run(warm())
    started = time.perf_counter()
    views = asyncio.run(ws_load.run_level(two_apps[0], 2, 5.0, interval_s=1.5, timeout_s=30,
                                          pages=("overview", "safety")))
    assert time.perf_counter() - started < 40
    assert [v for v in views if v.failed] == []
    assert sorted({v.page for v in views}) == ["overview", "safety"]
    assert sum(v.kind == "load" for v in views) == 2
    assert sum(v.kind == "filter" for v in views) >= 2
    assert {v.query for v in views if v.kind == "filter"} & {"blast=high", "hsct=yes"}
    row = load_test.summarise(views, {}, sessions=2, wall_s=5.0, server_cpu_s=1.0, driver_cpu_s=0.1,
                              other_cpu_s=0.0)
    assert row["page_views"] == len(views) and row["errors"] == 0
    assert 0 < row["filter_change_ms"]["p50"] <= row["filter_change_ms"]["p95"] <= row["filter_change_ms"]["max"]


def test_load_driver_only_talks_to_this_machine() -> None:
    with pytest.raises(ValueError, match="loopback"):
        ws_load.StreamSession("http://10.0.0.1:8501", "overview")


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert load_test.percentile(values, 50) == 50.0
    assert load_test.percentile(values, 95) == 95.0
    assert load_test.percentile(values, 100) == 100.0
    assert load_test.percentile([3.0], 95) == 3.0
    assert load_test.percentile([], 95) is None

"""Time the dashboard in a real browser: cold first page, filter click → chart redrawn, app memory.

    python scripts/browser_timing.py                     # the default cohort
    python scripts/browser_timing.py --large artifacts/cohorts/synthetic_1000000_seed1.duckdb

Starts `streamlit run app.py` itself (INO_COHORT_PATH selects the cohort) and drives Debian's
Chromium through Playwright with the project's flags. For each cohort:

* first page, fresh server: from `goto("/")` on a just-started server until the Overview's key
  figures, table and Kaplan–Meier chart are drawn and the script run is over (includes the
  server's first imports and opening the cohort);
* first page, new session: the same for a new browser context on the running server;
* filter click → chart redrawn: click a sidebar radio (blast burden, HSCT) on the Overview and wait
  until the plotly chart's traces differ and the run is over — a walk through the 9 combinations
  so that each click is a slice the app has not cached yet, then a second lap (all cached);
* app memory: RSS (and peak RSS) of the streamlit process after visiting Overview, Response,
  Survival and Safety with those filters.

Prints JSON (with --json, one line, for scripts/benchmark.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import screenshots  # noqa: E402  (the one place that starts the app and knows the browser's flags)

CHROMIUM = str(screenshots.CHROMIUM)
CHROMIUM_ARGS = screenshots.CHROMIUM_ARGS
PAGES = (("", "Patient characteristics"), ("response", "CR/CRi by salvage line"),
         ("survival", "Definition in force"), ("safety", "Toxicity by HSCT status"))
# Overview's chart signature: every plotly trace's name, length and last y value.
CHART_SIGNATURE_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(
    e => JSON.stringify((e.data || []).map(t => [t.name, t.x, t.y]))).join('|')"""
# (radio group label, option) — a walk through blast × HSCT that visits every combination once.
WALK = (("blast", "High"), ("hsct", "HSCT"), ("blast", "Low"), ("hsct", "No HSCT"), ("blast", "High"),
        ("blast", "All"), ("hsct", "HSCT"), ("hsct", "All"), ("blast", "Low"))


@contextlib.contextmanager
def streamlit_app(cohort: Path | None, *, timeout: float = 90.0) -> Iterator[tuple[str, subprocess.Popen]]:
    """`streamlit run app.py` on a free port (scripts/screenshots.py starts it); yields (base URL, process)."""
    env = {"INO_COHORT_PATH": str(cohort)} if cohort is not None else None
    with screenshots.streamlit_process(env=env, timeout=timeout) as served:
        yield served


def rss_mb(pid: int) -> dict[str, float]:
    """Resident and peak resident memory of a process, from /proc (MB)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields.get("VmRSS", 0.0), "peak_rss_mb": fields.get("VmHWM", 0.0)}


# What is on the page: the script state, whether anything is stale, and a fingerprint of the drawn
# content (tables, metrics, charts with their traces).
STATE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const main = document.querySelector('[data-testid="stMain"]') || document.body;
    const charts = Array.from(main.querySelectorAll('.js-plotly-plot')).map(
        e => (e.querySelector('.main-svg') ? 'drawn:' : 'pending:') + JSON.stringify((e.data || []).map(t => [t.name, t.x, t.y])));
    const text = Array.from(main.querySelectorAll('[data-testid="stMetric"], [data-testid="stTable"], [data-testid="stMarkdown"]'))
        .map(e => e.innerText).join('|');
    // a 32-bit hash, not the text: twenty tabs polled several times a second would otherwise ship
    // every chart's data to the test driver on each poll
    const all = charts.join('|') + '#' + text;
    let hash = 0;
    for (let i = 0; i < all.length; i++) hash = (Math.imul(hash, 31) + all.charCodeAt(i)) | 0;
    return {state: app ? app.getAttribute('data-test-script-state') : null,
            busy: !!document.querySelector('[data-stale="true"]') || !!document.querySelector('[data-testid="stStatusWidget"]'),
            content: (all.includes('pending:') ? 'pending:' : '') + all.length + ':' + hash};
}"""
SETTLE_S = 1.0   # the content must stay the same this long after the run is over


def wait_settled(page, timeout_s: float = 90.0) -> float:  # type: ignore[no-untyped-def]
    """Wait until the script run is over and the drawn content has not changed for SETTLE_S; return
    the perf_counter time at which that final content first appeared.

    Streamlit finishes a run before the browser has drawn it (tables and plotly charts arrive
    later on a busy machine), so "not running" alone is not "drawn".
    """
    deadline = time.monotonic() + timeout_s
    last_content, changed_at = None, time.perf_counter()
    while time.monotonic() < deadline:
        now = page.evaluate(STATE_JS)
        if now["content"] != last_content:
            last_content, changed_at = now["content"], time.perf_counter()
        idle = now["state"] == "notRunning" and not now["busy"] and "pending:" not in now["content"]
        if idle and time.perf_counter() - changed_at >= SETTLE_S:
            return changed_at
        time.sleep(0.02)
    raise TimeoutError("the page did not settle")


def wait_idle(page, timeout_s: float = 60.0) -> float:  # type: ignore[no-untyped-def]
    return wait_settled(page, timeout_s)


def wait_drawn(page, text: str, timeout_s: float = 90.0) -> float:  # type: ignore[no-untyped-def]
    page.get_by_text(text, exact=False).first.wait_for(timeout=timeout_s * 1000)
    return wait_settled(page, timeout_s)


def errors_on(page) -> int:  # type: ignore[no-untyped-def]
    return page.locator('[data-testid="stException"]').count()


def radio(page, group: str, option: str):  # type: ignore[no-untyped-def]
    title = {"blast": "Bone-marrow blast burden", "hsct": "HSCT"}[group]
    sidebar = page.locator('[data-testid="stSidebar"]')
    widget = sidebar.locator('[data-testid="stRadio"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]', has_text=title)).first
    return widget.get_by_role("radiogroup").get_by_text(option, exact=True)


def first_page(browser, base: str) -> float:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    started = time.perf_counter()
    page.goto(base + "/")
    elapsed = wait_drawn(page, "Patient characteristics") - started
    context.close()
    return elapsed


def click_timings(browser, base: str) -> dict:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.goto(base + "/")
    wait_drawn(page, "Patient characteristics")
    laps: list[list[float]] = []
    for _ in range(2):
        lap = []
        for group, option in WALK:
            before = page.evaluate(CHART_SIGNATURE_JS)
            target = radio(page, group, option)
            started = time.perf_counter()
            target.click()
            deadline = time.monotonic() + 60
            while page.evaluate(CHART_SIGNATURE_JS) == before and time.monotonic() < deadline:
                time.sleep(0.01)
            lap.append(wait_settled(page) - started)
        laps.append(lap)
    errors = errors_on(page)
    context.close()
    return {"uncached_ms": _stats(laps[0]), "cached_ms": _stats(laps[1]), "errors": errors}


def tour(browser, base: str) -> int:  # type: ignore[no-untyped-def]
    """Every analysis page under a few filters (to load what a real session loads). Returns errors."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    errors = 0
    for query in ("", "?salvage=2", "?blast=high&hsct=yes"):
        for path, text in PAGES:
            page.goto(f"{base}/{path}{query}")
            wait_drawn(page, text)
            errors += errors_on(page)
    context.close()
    return errors


def _stats(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"median": round(1000 * statistics.median(ordered), 1), "max": round(1000 * ordered[-1], 1),
            "min": round(1000 * ordered[0], 1), "n": len(ordered)}


def measure(cohort: Path | None, *, clicks: bool = True) -> dict:
    from playwright.sync_api import sync_playwright

    out: dict = {"cohort": str(cohort) if cohort else "default (data/ino_cohort.duckdb)"}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        with streamlit_app(cohort) as (base, process):
            out["first_page_fresh_server_ms"] = round(1000 * first_page(browser, base), 1)
            out["first_page_new_session_ms"] = _stats([first_page(browser, base) for _ in range(3)])
            if clicks:
                out["filter_click_to_chart_ms"] = click_timings(browser, base)
            out["tour_errors"] = tour(browser, base)
            out["app_memory"] = rss_mb(process.pid)
        browser.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cohort", type=Path, default=None, help="cohort file (default: the app's default)")
    parser.add_argument("--large", type=Path, default=None, help="also measure this (large) cohort")
    parser.add_argument("--json", action="store_true", help="print one line of JSON only")
    args = parser.parse_args(argv)
    result = {"default": measure(args.cohort)}
    if args.large:
        result["large"] = measure(args.large.resolve())
    print(json.dumps(result) if args.json else json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

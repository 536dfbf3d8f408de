"""Twenty sessions at once: every answer must equal the one served alone, with no error.

    python scripts/browser_load.py --sessions 20 --seconds 120         # starts the app itself
    python scripts/browser_load.py --url http://127.0.0.1:8501 …       # or drive a running app

What a user sees under load, checked in real pages; the server's own latency and CPU per page view
are measured without a browser by scripts/load_test.py (twenty Chromium contexts on two cores
measure mostly Chromium).

One Chromium (Debian's, through Playwright) with one browser context per session. Each session,
for `--seconds`, opens Overview, Response, Survival and Safety under a rotating set of filters
through the URL (the app restores the view from its query parameters, ui/url_state.py), waits
until the script run is over and the charts are drawn, and reads the page's key figures: the slice
line ("… · n = 18 of 32"), every metric (Patients, CR/CRi, MRD, HSCT, median OS, OS at 6/12
months) and every static table (characteristics, survival summary, toxicity, deaths).

Before the load, one session alone visits every (page, filter) once: that is the reference. Under
load a request is an error if the page shows an exception (`[data-testid="stException"]`), does not
finish within --timeout, or shows key figures different from the reference. Latency = from
`goto` to the moment the final content appeared (the run over, charts drawn, nothing changing for
a second afterwards). Prints a report and writes it as JSON (--out).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from browser_timing import CHROMIUM, CHROMIUM_ARGS, SETTLE_S, STATE_JS, rss_mb, streamlit_app  # noqa: E402

PAGES = {"overview": ("", "Patient characteristics"), "response": ("response", "CR/CRi by salvage line"),
         "survival": ("survival", "Definition in force"), "safety": ("safety", "Toxicity by HSCT status")}
FILTERS = ("", "salvage=2", "blast=high", "hsct=yes", "salvage=1,2&blast=low", "sex=F", "dose=1.8",
           "status=relapsed&missing=exclude", "blast=high&blast_threshold=70", "hsct=no&salvage=2,3")
KEY_FIGURES_JS = """() => {
    const main = document.querySelector('[data-testid="stMain"]') || document.body;
    const parts = [];
    for (const e of main.querySelectorAll('[data-testid="stMetric"], [data-testid="stTable"], [data-testid="stMarkdown"]')) {
        const text = e.innerText.trim();
        if (e.dataset.testid !== 'stMarkdown' || /n = \\d|Overall CR\\/CRi|Deaths:/.test(text)) parts.push(text);
    }
    return parts.join('\\n');
}"""


def cpu_seconds(match: str | None = None, pid: int | None = None) -> float:
    """CPU time (user + system) used so far by one process, or by every process whose command line
    contains `match` (the browser's many processes), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or (pid is not None and int(entry.name) != pid):
            continue
        try:
            if match is not None and match not in (entry / "cmdline").read_bytes().decode(errors="replace"):
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            continue                       # a process that ended while being read
    return total


async def visit(context, base: str, page_name: str, query: str, timeout_s: float,  # type: ignore[no-untyped-def]
                expected: str | None = None) -> dict:
    """Open one page under one filter in a fresh tab; return latency, key figures and errors.

    With `expected` (the key figures served alone), a page that has settled on other figures is
    watched until the expected ones appear or the timeout passes: under load the last part of a
    page can arrive after a quiet second. The latency is then the time the final figures appeared.
    """
    path, marker = PAGES[page_name]
    page = await context.new_page()
    started = time.perf_counter()
    result: dict = {"page": page_name, "query": query}
    try:
        await page.goto(f"{base}/{path}{'?' + query if query else ''}", timeout=timeout_s * 1000)
        deadline = time.monotonic() + timeout_s
        await page.get_by_text(marker, exact=False).first.wait_for(timeout=timeout_s * 1000)
        # drawn = the run is over and the content has not changed for SETTLE_S (browser_timing.py)
        last_content, changed_at = None, time.perf_counter()
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError("the page did not settle")
            now = await page.evaluate(STATE_JS)
            if now["content"] != last_content:
                last_content, changed_at = now["content"], time.perf_counter()
            idle = now["state"] == "notRunning" and not now["busy"] and "pending:" not in now["content"]
            if idle and time.perf_counter() - changed_at >= SETTLE_S:
                break
            await asyncio.sleep(0.2)
        figures = await page.evaluate(KEY_FIGURES_JS)
        if expected is not None and figures != expected:
            result["late"] = True
            while figures != expected and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                now_figures = await page.evaluate(KEY_FIGURES_JS)
                if now_figures != figures:
                    figures, changed_at = now_figures, time.perf_counter()
        result["latency_s"] = changed_at - started
        result["exceptions"] = await page.locator('[data-testid="stException"]').count()
        result["figures"] = figures
    except Exception as exc:  # a timeout or a broken page is an error of this request
        result["latency_s"] = time.perf_counter() - started
        result["failure"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    finally:
        await page.close()
    return result


async def reference(browser, base: str, timeout_s: float) -> dict[tuple[str, str], dict]:  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport={"width": 1600, "height": 1000})
    out = {}
    for page_name in PAGES:
        for query in FILTERS:
            out[(page_name, query)] = await visit(context, base, page_name, query, timeout_s)
    await context.close()
    return out


async def session(browser, base: str, index: int, until: float, timeout_s: float,  # type: ignore[no-untyped-def]
                  solo: dict[tuple[str, str], dict]) -> list[dict]:
    rng = random.Random(index)
    plan = [(p, q) for p in PAGES for q in FILTERS]
    rng.shuffle(plan)
    context = await browser.new_context(viewport={"width": 1600, "height": 1000})
    results, i = [], 0
    while time.monotonic() < until:
        page_name, query = plan[i % len(plan)]
        i += 1
        result = await visit(context, base, page_name, query, timeout_s, solo[(page_name, query)].get("figures"))
        result["session"] = index
        results.append(result)
    await context.close()
    return results


def _latency(values: list[float]) -> dict:
    if not values:
        return {}
    ordered = sorted(values)

    def pct(p: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))], 1)

    return {"n": len(ordered), "median_ms": round(1000 * statistics.median(ordered), 1), "p90_ms": pct(0.90),
            "p95_ms": pct(0.95), "p99_ms": pct(0.99), "max_ms": round(1000 * ordered[-1], 1)}


async def run(base: str, sessions: int, seconds: float, timeout_s: float, pid: int | None) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        solo = await reference(browser, base, timeout_s)
        solo_failures = {f"{p} ?{q}": r.get("failure") or r.get("exceptions") for (p, q), r in solo.items()
                         if r.get("failure") or r.get("exceptions")}
        memory_before = rss_mb(pid) if pid else None
        until = time.monotonic() + seconds
        started = time.perf_counter()
        cpu_before = {"app": cpu_seconds(pid=pid) if pid else None, "browser": cpu_seconds(match="chromium")}
        batches = await asyncio.gather(*(session(browser, base, i, until, timeout_s, solo)
                                         for i in range(sessions)))
        wall = time.perf_counter() - started
        cpu = {"app_s": round(cpu_seconds(pid=pid) - cpu_before["app"], 1) if pid else None,
               "browser_s": round(cpu_seconds(match="chromium") - cpu_before["browser"], 1),
               "wall_s": round(wall, 1), "cpus": os.cpu_count()}
        memory_after = rss_mb(pid) if pid else None
        await browser.close()
    results = [r for batch in batches for r in batch]
    errors, mismatches = [], []
    for r in results:
        if r.get("failure") or r.get("exceptions"):
            errors.append({k: r.get(k) for k in ("session", "page", "query", "failure", "exceptions")})
        elif r["figures"] != solo[(r["page"], r["query"])].get("figures"):
            mismatches.append({"session": r["session"], "page": r["page"], "query": r["query"],
                               "got": r["figures"][:300], "alone": str(solo[(r["page"], r["query"])].get("figures"))[:300]})
    ok = [r["latency_s"] for r in results if not r.get("failure")]
    return {
        "sessions": sessions, "seconds": seconds, "wall_s": round(wall, 1), "requests": len(results),
        "throughput_per_s": round(len(results) / wall, 2), "errors": len(errors), "mismatches": len(mismatches),
        "latency_under_load": _latency(ok),
        "latency_by_page": {p: _latency([r["latency_s"] for r in results if r["page"] == p and not r.get("failure")])
                            for p in PAGES},
        "latency_alone": _latency([r["latency_s"] for r in solo.values() if not r.get("failure")]),
        "reference_failures": solo_failures, "app_memory_before": memory_before, "app_memory_after": memory_after,
        "error_examples": errors[:5], "mismatch_examples": mismatches[:5],
        "late_but_identical": sum(1 for r in results if r.get("late") and not r.get("failure")
                                  and r["figures"] == solo[(r["page"], r["query"])].get("figures")),
        "cpu_during_load": cpu,
        "distinct_requests": len(solo),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--url", default=None, help="a running app (default: start one on the default cohort)")
    parser.add_argument("--cohort", type=Path, default=None, help="cohort file for the app this script starts")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a page may take before it is an error")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "browser_load.json")
    args = parser.parse_args(argv)
    if args.url:
        report = asyncio.run(run(args.url.rstrip("/"), args.sessions, args.seconds, args.timeout, None))
    else:
        with streamlit_app(args.cohort) as (base, process):
            report = asyncio.run(run(base, args.sessions, args.seconds, args.timeout, process.pid))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    lat = report["latency_under_load"]
    print(f"{report['sessions']} sessions × {report['seconds']:.0f} s: {report['requests']} page loads "
          f"({report['throughput_per_s']}/s), {report['errors']} errors, {report['mismatches']} answers different "
          f"from the same request alone")
    print(f"latency under load: median {lat.get('median_ms')} ms, p90 {lat.get('p90_ms')}, p95 {lat.get('p95_ms')}, "
          f"p99 {lat.get('p99_ms')}, max {lat.get('max_ms')} ms; alone: median "
          f"{report['latency_alone'].get('median_ms')} ms")
    for page, stats in report["latency_by_page"].items():
        print(f"  {page:<9} median {stats.get('median_ms')} ms  p95 {stats.get('p95_ms')} ms  (n = {stats.get('n')})")
    print(f"requests that settled early and then showed the same figures as alone: {report['late_but_identical']}")
    cpu = report["cpu_during_load"]
    print(f"CPU during the load ({cpu['cpus']} cores × {cpu['wall_s']} s): app {cpu['app_s']} s, "
          f"browser {cpu['browser_s']} s")
    if report["app_memory_after"]:
        print(f"app memory: {report['app_memory_before']} → {report['app_memory_after']}")
    print(f"wrote {args.out}")
    return 0 if report["errors"] == 0 and report["mismatches"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""How many people one app process serves: latency and server CPU per page view, 1 to 50 sessions.

    python scripts/load_test.py --sessions 1,5,20,50 --seconds 60                 # starts the app itself
    python scripts/load_test.py --sessions 1,5,20,50 --seconds 60 --baseline main # and the app at `main`
    python scripts/load_test.py --url http://127.0.0.1:8501 --sessions 20         # a running app

Each session speaks Streamlit's websocket protocol (scripts/ws_load.py): it opens a page (Overview,
Response, Survival, Safety in turn), then changes a sidebar filter (blast burden, HSCT) every
`--interval` seconds, as a user clicking through slices does. A page view is one script run, from
sending the rerun to `script_finished`; no browser runs, so the CPU measured is the server's.

For every level: page views per second; p50/p95/p99/max latency of a filter change (and of the
first load); views with an exception or error alert, timeouts, and views whose content differs
from the same slice served to one session alone (the reference walk before the levels); CPU
seconds used by the app process (and its children) per page view, and the cores it kept busy; the
test driver's own CPU; and the CPU that other programs on the machine used meanwhile (the machine
is shared: a busy neighbour shows up there, not in the app's CPU per view).

`--baseline REV` also runs the app as it was at git revision REV (exported with `git archive` to a
temporary folder, same cohort file): each level runs against the baseline, then against this
checkout, so both see the same machine; the table shows both and their ratios.

`--fresh-slices` moves the blast threshold on every change as well, so no slice repeats and every
view recomputes (no result cache hit): the worst case.

Writes artifacts/load_test.json and prints a table; exits 1 on any error or mismatch.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import ws_load  # noqa: E402

P95_GOAL_S = 2.0      # 20 sessions, a filter change every 5 s each: p95 under this


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0–100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p * len(ordered) / 100 - 1e-9)))
    return ordered[rank - 1]


def _ms(value: float | None) -> float | None:
    return None if value is None else round(1000 * value, 1)


def machine_cpu_s() -> float:
    """CPU seconds every program on the machine has used so far (all cores), from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(v) for i, v in enumerate(fields[:8]) if i not in (3, 4))     # not idle, not iowait
    return busy / os.sysconf("SC_CLK_TCK")


async def reference_walk(base: str, timeout_s: float) -> dict[tuple[str, str], str]:
    """Every page under every slice of the walk, one session alone: (page, query) → content fingerprint.

    It also warms the app (imports, the cohort, the caches), as real use would have.
    """
    reference: dict[tuple[str, str], str] = {}
    for page in ws_load.PAGES:
        async with ws_load.StreamSession(base, page, timeout_s=timeout_s) as tab:
            views = [await tab.run(kind="load")]
            for key, value in ws_load.FILTER_WALK:
                tab.set_string(key, value)
                views.append(await tab.run())
        for view in views:
            if view.failed:
                raise RuntimeError(f"{page} ?{view.query} failed alone: {view.status} {view.errors[:2]}")
            reference[(page, view.query)] = view.fingerprint
    return reference


def summarise(views: list[ws_load.PageView], reference: dict[tuple[str, str], str], *, sessions: int,
              wall_s: float, server_cpu_s: float | None, driver_cpu_s: float, other_cpu_s: float | None) -> dict:
    filters = [v.latency_s for v in views if v.kind == "filter" and v.status == "ok"]
    loads = [v.latency_s for v in views if v.kind == "load" and v.status == "ok"]
    done = [v for v in views if v.status == "ok"]
    errors = [v for v in views if v.failed]
    mismatches = [v for v in done if not v.errors and (v.page, v.query) in reference
                  and reference[(v.page, v.query)] != v.fingerprint]
    by_page: dict[str, list[float]] = defaultdict(list)
    for v in views:
        if v.kind == "filter" and v.status == "ok":
            by_page[v.page].append(v.latency_s)
    return {
        "sessions": sessions, "wall_s": round(wall_s, 1), "page_views": len(done),
        "views_per_s": round(len(done) / wall_s, 2) if wall_s else None,
        "filter_change_ms": {"n": len(filters), "p50": _ms(percentile(filters, 50)), "p95": _ms(percentile(filters, 95)),
                             "p99": _ms(percentile(filters, 99)), "max": _ms(max(filters, default=None)),
                             "mean": _ms(statistics.fmean(filters)) if filters else None},
        "first_load_ms": {"n": len(loads), "p50": _ms(percentile(loads, 50)), "p95": _ms(percentile(loads, 95)),
                          "max": _ms(max(loads, default=None))},
        "filter_change_p95_ms_by_page": {p: _ms(percentile(v, 95)) for p, v in sorted(by_page.items())},
        "errors": len(errors), "timeouts": sum(v.status == "timeout" for v in views),
        "error_examples": [{"page": v.page, "query": v.query, "status": v.status, "errors": v.errors[:2]}
                           for v in errors[:5]],
        "mismatches": len(mismatches),
        "mismatch_examples": [{"page": v.page, "query": v.query} for v in mismatches[:5]],
        "kb_per_view": round(sum(v.bytes_received for v in done) / len(done) / 1024, 1) if done else None,
        "filter_change_latencies_ms": sorted(round(1000 * v, 1) for v in filters),
        "server_cpu_s": None if server_cpu_s is None else round(server_cpu_s, 2),
        "server_cpu_ms_per_view": round(1000 * server_cpu_s / len(done), 1) if server_cpu_s is not None and done else None,
        "server_cores_busy": round(server_cpu_s / wall_s, 2) if server_cpu_s is not None and wall_s else None,
        "driver_cpu_s": round(driver_cpu_s, 2),
        "other_programs_cores_busy": None if other_cpu_s is None else round(max(other_cpu_s, 0.0) / wall_s, 2),
    }


async def run_one_level(base: str, pid: int | None, sessions: int, args: argparse.Namespace,
                        reference: dict[tuple[str, str], str]) -> dict:
    cpu0 = ws_load.process_tree_cpu_s(pid) if pid else None
    machine0, driver0, wall0 = machine_cpu_s(), time.process_time(), time.perf_counter()
    views = await ws_load.run_level(base, sessions, args.seconds, interval_s=args.interval, timeout_s=args.timeout,
                                    fresh_slices=args.fresh_slices)
    wall = time.perf_counter() - wall0
    driver = time.process_time() - driver0
    server = ws_load.process_tree_cpu_s(pid) - cpu0 if pid and cpu0 is not None else None
    machine = machine_cpu_s() - machine0
    other = machine - driver - server if server is not None else None
    row = summarise(views, reference, sessions=sessions, wall_s=wall, server_cpu_s=server, driver_cpu_s=driver,
                    other_cpu_s=other)
    row["server_rss_mb"] = rss_mb(pid) if pid else None
    return row


def rss_mb(pid: int) -> float | None:
    """Resident memory of the app process (MB), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


@contextlib.contextmanager
def exported_revision(revision: str):  # type: ignore[no-untyped-def]
    """The app's files at `revision`, in a temporary folder (git archive; nothing else is touched)."""
    folder = Path(tempfile.mkdtemp(prefix="ino-baseline-"))
    try:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", revision],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", revision], check=True,
                                capture_output=True, text=True).stdout.strip()
        yield folder, commit
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def default_cohort() -> Path:
    path = ROOT / "data" / "ino_cohort.duckdb"
    if not path.exists():
        raise SystemExit(f"{path} does not exist: build it with `python -m data.build_db` (or pass --cohort).")
    return path


async def measure(targets: list[tuple[str, str, int | None]], levels: list[int], args: argparse.Namespace) -> dict:
    """Warm each target (and take its reference), then run every level against each target in turn."""
    references = {}
    for name, base, _ in targets:
        references[name] = await reference_walk(base, args.timeout)
    report: dict[str, list[dict]] = {name: [] for name, _, _ in targets}
    for sessions in levels:
        for name, base, pid in targets:
            await asyncio.sleep(args.pause)        # let the previous level's runs drain
            row = await run_one_level(base, pid, sessions, args, references[name])
            report[name].append(row)
            f = row["filter_change_ms"]
            print(f"  {name:<9} {sessions:>3} sessions: {row['page_views']} views, p50 {f['p50']} ms, p95 {f['p95']} ms, "
                  f"{row['server_cpu_ms_per_view']} ms CPU/view, {row['errors']} errors", flush=True)
    return report


def print_table(report: dict[str, list[dict]]) -> None:
    head = (f"{'app':<9} {'sessions':>8} {'views/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
            f"{'load p95':>9} {'CPU ms/view':>11} {'app cores':>9} {'others':>7} {'RSS MB':>7} {'errors':>6} {'differ':>6}")
    print(head)
    print("-" * len(head))
    for name, rows in report.items():
        for r in rows:
            f = r["filter_change_ms"]
            print(f"{name:<9} {r['sessions']:>8} {r['views_per_s']:>8} {f['p50']!s:>8} {f['p95']!s:>8} {f['max']!s:>8} "
                  f"{r['first_load_ms']['p95']!s:>9} {r['server_cpu_ms_per_view']!s:>11} {r['server_cores_busy']!s:>9} "
                  f"{r['other_programs_cores_busy']!s:>7} {r['server_rss_mb']!s:>7} {r['errors']:>6} {r['mismatches']:>6}")
    names = list(report)
    if len(names) == 2:
        before, after = report[names[0]], report[names[1]]
        print(f"\n{names[0]} ÷ {names[1]} (higher = this checkout is faster):")
        for b, a in zip(before, after):
            def ratio(x: float | None, y: float | None) -> str:
                return f"{x / y:.1f}×" if x and y else "—"
            print(f"  {b['sessions']:>3} sessions: p95 {ratio(b['filter_change_ms']['p95'], a['filter_change_ms']['p95'])}, "
                  f"p50 {ratio(b['filter_change_ms']['p50'], a['filter_change_ms']['p50'])}, CPU per view "
                  f"{ratio(b['server_cpu_ms_per_view'], a['server_cpu_ms_per_view'])}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", default="1,5,20,50", help="comma-separated session counts (max 200)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each level")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between a session's filter changes")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds a page view may take before it is an error")
    parser.add_argument("--pause", type=float, default=3.0, help="seconds of quiet before each level")
    parser.add_argument("--url", help="drive an app already running on 127.0.0.1 (no CPU figures)")
    parser.add_argument("--cohort", type=Path, help="cohort file (default: data/ino_cohort.duckdb)")
    parser.add_argument("--baseline", metavar="REV", help="also run the app as it was at this git revision")
    parser.add_argument("--fresh-slices", action="store_true", help="no slice repeats: every view recomputes")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "load_test.json")
    args = parser.parse_args(argv)
    levels = [int(s) for s in args.sessions.split(",") if s.strip()]
    if not levels or min(levels) < 1 or max(levels) > 200:
        parser.error("--sessions takes counts from 1 to 200")
    if not 1 <= args.seconds <= 900:
        parser.error("--seconds takes 1 to 900")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"levels": levels, "seconds": args.seconds, "interval_s": args.interval, "fresh_slices": args.fresh_slices,
            "cpus": os.cpu_count(), "load_average_before": Path("/proc/loadavg").read_text().split()[:3]}
    with contextlib.ExitStack() as stack:
        targets: list[tuple[str, str, int | None]] = []
        if args.url:
            targets.append(("app", args.url.rstrip("/"), None))
        else:
            cohort = (args.cohort or default_cohort()).resolve()
            meta["cohort"] = str(cohort)
            if args.baseline:
                folder, commit = stack.enter_context(exported_revision(args.baseline))
                base, process = stack.enter_context(ws_load.serve_app(
                    folder, cohort=cohort, log=args.out.parent / "load_test-baseline-server.log"))
                targets.append(("baseline", base, process.pid))
                meta["baseline"] = {"revision": args.baseline, "commit": commit}
            base, process = stack.enter_context(ws_load.serve_app(
                ROOT, cohort=cohort, log=args.out.parent / "load_test-server.log"))
            head = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True,
                                  text=True).stdout.strip() or "this checkout"
            targets.append(("current" if args.baseline else "app", base, process.pid))
            meta["checkout"] = head
        print(f"levels {levels} × {args.seconds:g} s, a filter change every {args.interval:g} s per session", flush=True)
        report = asyncio.run(measure(targets, levels, args))
    meta["load_average_after"] = Path("/proc/loadavg").read_text().split()[:3]
    args.out.write_text(json.dumps({"meta": meta, "results": report}, indent=1))
    print()
    print_table(report)
    for name, rows in report.items():
        for r in rows:
            if r["sessions"] == 20:
                p95 = r["filter_change_ms"]["p95"]
                verdict = "meets" if p95 is not None and p95 < 1000 * P95_GOAL_S else "misses"
                print(f"{name}: 20 sessions p95 {p95} ms {verdict} the goal of {P95_GOAL_S:g} s")
    print(f"wrote {args.out}")
    failed = any(r["errors"] or r["mismatches"] for rows in report.values() for r in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

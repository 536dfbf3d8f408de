"""How fast a page answers a filter change, from 32 patients to a million: engine vs naive pandas.

    python scripts/benchmark.py --sizes 32,10000,100000,1000000 --out artifacts/benchmark.json
    python scripts/benchmark.py --sizes 1000000 --no-naive --parquet --out artifacts/benchmark_parquet.json

For each size N (32 = the default reconstructed cohort; larger sizes are synthetic registries from
`python -m data.synthetic`, seed 1, kept in artifacts/cohorts/ and rebuilt with --rebuild):

* build: time to write the cohort file, its size, the builder's peak memory;
* engine: the time from "filter changed" to "all endpoints of a page recomputed", calling the core
  functions the pages call (ui.loaders → core), for the Overview, Response, Survival and Safety
  pages, plus what the sidebar recomputes on every click (slice sizes and per-option counts):
  - cold: every measurement on a fresh read-only connection (open_cohort + the page's queries);
  - warm: one connection, the page recomputed for a different filter each time (core keeps no
    result cache; the app's st.cache_data would otherwise answer a repeated filter from memory);
* naive: the same endpoints the naive way (scripts/naive_pages.py: both tables read into pandas
  once, then per change: derive per patient in pandas, filter, count, lifelines on raw rows), its
  load time, and the engine's speed-up; headline figures of both are compared (`agree`);
* peak memory (ru_maxrss) of each measuring process — every measurement runs in its own process.

With --parquet it also writes each cohort as Parquet files plus a file of views over them
(core.store.write_parquet_cohort) and times the warm engine reading through the views.

With --browser it also runs scripts/browser_timing.py (cold first page, filter click → chart
redrawn, app RSS) on the default cohort and app RSS on the largest size.

Prints a table and writes everything to --out as JSON. Timings share the machine with whatever
else runs; the load average at each measurement is recorded with it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COHORT_DIR = ROOT / "artifacts" / "cohorts"
SEED = 1
PAGES = ("overview", "response", "survival", "safety", "sidebar", "competing_risks", "hsct_over_time")


# --------------------------------------------------------------------------------- the workload
def filter_cycle(cohort) -> list:  # type: ignore[no-untyped-def]
    """Varied filters (each a different click), valid on any cohort."""
    from core.filters import FilterSpec
    from core.queries import fetch_baseline_extent

    extent = fetch_baseline_extent(cohort).iloc[0]
    centres = tuple(str(c) for c in list(extent["centres"])[:2])
    return [
        FilterSpec(),
        FilterSpec(salvage_lines=(2,)),
        FilterSpec(blast_burden="high"),
        FilterSpec(salvage_lines=(1, 2), blast_burden="low", blast_threshold=40.0),
        FilterSpec(dose_groups=("1.8", ">1.8")),
        FilterSpec(hsct=True),
        FilterSpec(age_min=18.0, age_max=60.0, sexes=("M",)),
        FilterSpec(centres=centres),
        FilterSpec(ph_statuses=("Ph-",), include_missing=False),
        FilterSpec(disease_statuses=("relapsed",), emd_baseline=False),
        FilterSpec(salvage_lines=(3,), hsct=False),
        FilterSpec(blast_burden="high", blast_threshold=70.0, sexes=("F",)),
    ]


def engine_page(name: str, cohort, spec) -> object:  # type: ignore[no-untyped-def]
    """The core calls a page makes (see pages/*.py and ui/sidebar.py)."""
    from dataclasses import replace

    from core.characteristics import patient_characteristics
    from core.filters import FilterSpec
    from core.queries import fetch_category_counts, fetch_measures
    from core.response import cr_cri_rate, cr_cri_rate_by, summarise_response
    from core.safety import causes_of_death, toxicity_by, toxicity_by_hsct, toxicity_components
    from core.survival import estimate_survival

    if name == "overview":
        return (summarise_response(cohort, spec), estimate_survival(cohort, spec, "os"),
                patient_characteristics(cohort, spec))
    if name == "response":
        return (summarise_response(cohort, spec), cr_cri_rate(cohort, spec),
                [cr_cri_rate_by(cohort, spec, g) for g in ("salvage_line", "blast_burden", "cycle1_dose_group")])
    if name == "survival":
        return [estimate_survival(cohort, spec, e, by="salvage_line") for e in ("os", "rfs", "dor")]
    if name == "safety":
        return (toxicity_by_hsct(cohort, spec), toxicity_by(cohort, spec, "salvage_line", "vod"),
                toxicity_components(cohort, spec), causes_of_death(cohort, spec))
    if name == "competing_risks":   # relapse / NRM (Survival), time to HSCT (Response), VOD (Safety)
        from core.post_baseline import estimate_incidence

        return [estimate_incidence(cohort, spec, key, by=by) for key, by in (
            ("relapse_incidence", "all"), ("hsct_incidence", "all"), ("vod_incidence", "salvage_line"))]
    if name == "hsct_over_time":    # Survival stratified by HSCT: landmark and time-dependent analyses
        from core.post_baseline import default_landmark, landmark_survival, time_dependent_survival

        choice = default_landmark(cohort, spec, "os", "hsct")
        return (landmark_survival(cohort, spec, "os", "hsct", landmark_months=choice.months),
                time_dependent_survival(cohort, spec, "os"))
    if name == "sidebar":
        default = FilterSpec()
        counts = [fetch_category_counts(cohort, replace(spec, **{f: getattr(default, f)}), column)
                  for f, column in (("salvage_lines", "salvage_line"), ("blast_burden", "blast_burden"),
                                    ("dose_groups", "cycle1_dose_group"), ("hsct", "hsct"), ("sexes", "sex"),
                                    ("centres", "centre"), ("ph_statuses", "ph_status"),
                                    ("disease_statuses", "disease_status"), ("emd_baseline", "emd_baseline"))]
        sizes = [fetch_measures(cohort, s, ("n",)) for s in (spec, replace(spec, age_min=None, age_max=None))]
        return counts, sizes
    raise ValueError(name)


def headline_engine(cohort, spec) -> dict:  # type: ignore[no-untyped-def]
    from core.response import summarise_response
    from core.safety import toxicity_by_hsct
    from core.survival import estimate_survival

    summary = summarise_response(cohort, spec)
    os_curve = estimate_survival(cohort, spec, "os").curves[0]
    vod = next(r for r in toxicity_by_hsct(cohort, spec).rows if r.key == "vod").overall
    return {"n": summary.n, "responders": summary.cr_cri.count, "mrd_negative": summary.mrd_negative.count,
            "hsct": summary.hsct.count, "vod": vod.count,
            "os_median": getattr(os_curve.median, "value", None),
            "os_6mo": getattr(os_curve.landmark(6.0), "estimate", None)}


def headline_naive(patients, events, spec) -> dict:  # type: ignore[no-untyped-def]
    import math

    from scripts import naive_pages

    d = naive_pages.derive(patients, events, spec.blast_threshold)
    d = d[naive_pages.mask(d, spec)]
    s = naive_pages.response_summary(d)
    km = naive_pages._km(d["os_days"], d["os_event"])
    median = km.get("median")
    return {"n": s["n"], "responders": s["responders"], "mrd_negative": s["mrd"].count, "hsct": s["hsct"].count,
            "vod": int(d["vod"].sum()), "os_median": None if median is None or math.isinf(median) else median,
            "os_6mo": km.get("s_6.0")}


def _stats(values: list[float]) -> dict:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"median_ms": round(1000 * statistics.median(values), 2), "p95_ms": round(1000 * p95, 2),
            "min_ms": round(1000 * ordered[0], 2), "n": len(values)}


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# --------------------------------------------------------------------------------- child processes
def child_engine(path: str, mode: str, reps: int) -> dict:
    from core.database import open_cohort

    probe = open_cohort(path)
    filters = filter_cycle(probe)
    from core.derivation import SUMMARY_ENDPOINTS, summary_source
    uses_summary = summary_source(probe) is SUMMARY_ENDPOINTS
    headline = headline_engine(probe, filters[0]) if mode == "warm" else None
    headline_b = headline_engine(probe, filters[2]) if mode == "warm" else None
    probe.close()
    times: dict[str, list[float]] = {p: [] for p in PAGES}
    if mode == "cold":
        for rep in range(reps):
            for page in PAGES:
                spec = filters[(rep * len(PAGES) + PAGES.index(page)) % len(filters)]
                started = time.perf_counter()
                cohort = open_cohort(path)
                engine_page(page, cohort, spec)
                times[page].append(time.perf_counter() - started)
                cohort.close()
    else:
        cohort = open_cohort(path)
        for page in PAGES:                      # warm-up: first touch of every column
            engine_page(page, cohort, filters[-1])
        for rep in range(reps):
            for page in PAGES:
                spec = filters[(rep + PAGES.index(page)) % len(filters)]
                started = time.perf_counter()
                engine_page(page, cohort, spec)
                times[page].append(time.perf_counter() - started)
    return {"mode": mode, "uses_patient_summary": uses_summary, "pages": {p: _stats(v) for p, v in times.items()},
            "peak_rss_mb": _peak_rss_mb(), "headline": headline, "headline_high_blasts": headline_b,
            "load_avg": os.getloadavg()}


def child_naive(path: str, reps: int) -> dict:
    import duckdb

    from core.database import open_cohort
    from scripts import naive_pages

    probe = open_cohort(path)
    filters = filter_cycle(probe)
    probe.close()
    started = time.perf_counter()
    con = duckdb.connect(path, read_only=True)
    patients, events = naive_pages.read_tables(con)
    con.close()
    load_s = time.perf_counter() - started
    naive_pages_list = [p for p in PAGES if p in naive_pages.PAGES]
    times: dict[str, list[float]] = {p: [] for p in naive_pages_list}
    for rep in range(reps):
        for page in naive_pages_list:
            spec = filters[(rep + PAGES.index(page)) % len(filters)]
            started = time.perf_counter()
            naive_pages.page(page, patients, events, spec)
            times[page].append(time.perf_counter() - started)
    return {"load_s": round(load_s, 2), "pages": {p: _stats(v) for p, v in times.items()},
            "headline": headline_naive(patients, events, filters[0]),
            "headline_high_blasts": headline_naive(patients, events, filters[2]),
            "peak_rss_mb": _peak_rss_mb(), "load_avg": os.getloadavg()}


def child_build(n: int, out: str) -> dict:
    started = time.perf_counter()
    if n == 32:
        from data.build_db import build
        build(Path(out), force=True)
    else:
        from data.synthetic import generate
        generate(n, SEED, out)
    return {"build_s": round(time.perf_counter() - started, 2), "peak_rss_mb": _peak_rss_mb(),
            "file_mb": round(Path(out).stat().st_size / 1e6, 2)}


def run_child(*args: str) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "_child", *args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------- the run
def cohort_path(n: int) -> Path:
    return COHORT_DIR / ("default_32.duckdb" if n == 32 else f"synthetic_{n}_seed{SEED}.duckdb")


def parquet_path(n: int) -> Path:
    return COHORT_DIR / f"parquet_{cohort_path(n).stem}" / "cohort.duckdb"


def measure_size(n: int, *, rebuild: bool, naive: bool, parquet: bool = False) -> dict:
    import duckdb

    path = cohort_path(n)
    record_path = path.with_suffix(".build.json")
    if rebuild or not path.exists() or not record_path.exists():
        print(f"[N={n:,}] building {path.name} …", flush=True)
        build = run_child("build", str(n), str(path))
        record_path.write_text(json.dumps(build))
    else:
        build = json.loads(record_path.read_text()) | {"reused": True}
    con = duckdb.connect(str(path), read_only=True)
    n_patients, n_events = con.execute(
        "SELECT (SELECT count(*) FROM patients), (SELECT count(*) FROM events)").fetchone()  # type: ignore[misc]
    con.close()
    big = n >= 500_000
    print(f"[N={n:,}] engine cold …", flush=True)
    cold = run_child("engine", str(path), "cold", "3" if big else "5")
    print(f"[N={n:,}] engine warm …", flush=True)
    warm = run_child("engine", str(path), "warm", "12" if big else "24")
    result = {"n": n, "patients": n_patients, "events": n_events, "path": str(path.relative_to(ROOT)),
              "build": build, "engine_cold": cold, "engine_warm": warm}
    if parquet:
        from core.store import write_parquet_cohort

        views = parquet_path(n)
        if rebuild or not views.exists():
            print(f"[N={n:,}] writing Parquet files …", flush=True)
            write_parquet_cohort(path, views.parent)
        print(f"[N={n:,}] engine warm on Parquet views …", flush=True)
        result["engine_warm_parquet"] = run_child("engine", str(views), "warm", "12" if big else "24")
        result["parquet_mb"] = round(sum(f.stat().st_size for f in views.parent.glob("*.parquet")) / 1e6, 2)
    if naive:
        print(f"[N={n:,}] naive pandas baseline …", flush=True)
        nv = run_child("naive", str(path), "3" if big else "5")
        result["naive"] = nv
        result["speedup_warm"] = {p: round(nv["pages"][p]["median_ms"] / warm["pages"][p]["median_ms"], 1)
                                  for p in nv["pages"]}
        result["agree"] = _agree(warm["headline"], nv["headline"]) and _agree(
            warm["headline_high_blasts"], nv["headline_high_blasts"])
    return result


def _agree(a: dict, b: dict) -> bool:
    for key in a:
        x, y = a[key], b[key]
        if x is None or y is None:
            if (x is None) != (y is None):
                return False
        elif abs(float(x) - float(y)) > 1e-9 * max(1.0, abs(float(x))):
            return False
    return True


def print_table(results: list[dict]) -> None:
    head = (f"{'N':>9} {'events':>11} {'page':<9} {'cold med':>9} {'warm med':>9} {'warm p95':>9} "
            f"{'naive med':>10} {'speed-up':>8}")
    print("\n" + head + "\n" + "-" * len(head))
    for r in results:
        for page in PAGES:
            cold, warm = r["engine_cold"]["pages"][page], r["engine_warm"]["pages"][page]
            nv = r.get("naive", {}).get("pages", {}).get(page)
            print(f"{r['n']:>9,} {r['events']:>11,} {page:<9} {cold['median_ms']:>7.1f}ms {warm['median_ms']:>7.1f}ms "
                  f"{warm['p95_ms']:>7.1f}ms " + (f"{nv['median_ms']:>8.0f}ms {r['speedup_warm'][page]:>7.1f}×"
                                                  if nv else f"{'—':>10} {'—':>8}"))
    if any("engine_warm_parquet" in r for r in results):
        print("\nWarm engine on Parquet views (same cohort, tables read through read_parquet):")
        for r in results:
            if "engine_warm_parquet" in r:
                pages = r["engine_warm_parquet"]["pages"]
                print(f"{r['n']:>9,} {r['parquet_mb']:>8.1f}MB  " + "  ".join(
                    f"{p} {pages[p]['median_ms']:.1f}ms (file {r['engine_warm']['pages'][p]['median_ms']:.1f})"
                    for p in PAGES))
    print()
    head = (f"{'N':>9} {'build':>8} {'file':>9} {'build RSS':>10} {'engine RSS':>11} {'naive load':>10} "
            f"{'naive RSS':>10} {'agree':>6}")
    print(head + "\n" + "-" * len(head))
    for r in results:
        nv = r.get("naive", {})
        print(f"{r['n']:>9,} {r['build']['build_s']:>7.1f}s {r['build']['file_mb']:>7.1f}MB "
              f"{r['build']['peak_rss_mb']:>8.0f}MB {max(r['engine_cold']['peak_rss_mb'], r['engine_warm']['peak_rss_mb']):>9.0f}MB "
              f"{nv.get('load_s', float('nan')):>9.1f}s {nv.get('peak_rss_mb', float('nan')):>8.0f}MB "
              f"{str(r.get('agree', '—')):>6}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_child":
        kind, *rest = argv[1:]
        if kind == "engine":
            out = child_engine(rest[0], rest[1], int(rest[2]))
        elif kind == "naive":
            out = child_naive(rest[0], int(rest[1]))
        elif kind == "build":
            out = child_build(int(rest[0]), rest[1])
        else:
            raise SystemExit(f"unknown child {kind}")
        print(json.dumps(out, default=str))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="32,10000,100000,1000000", help="comma-separated patient counts")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "benchmark.json")
    parser.add_argument("--rebuild", action="store_true", help="rebuild cohort files that exist")
    parser.add_argument("--no-naive", action="store_true", help="skip the pandas baseline")
    parser.add_argument("--browser", action="store_true", help="also run scripts/browser_timing.py")
    parser.add_argument("--parquet", action="store_true",
                        help="also time the warm engine on the cohort kept as Parquet files (views)")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    COHORT_DIR.mkdir(parents=True, exist_ok=True)
    results = []
    for n in sizes:
        results.append(measure_size(n, rebuild=args.rebuild, naive=not args.no_naive, parquet=args.parquet))
        _write(args.out, results, None)
    browser = None
    if args.browser:
        command = [sys.executable, str(ROOT / "scripts" / "browser_timing.py"), "--json"]
        if max(sizes) > 32:
            command += ["--large", str(cohort_path(max(sizes)))]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        browser = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else {"error": done.stderr[-2000:]}
    _write(args.out, results, browser)
    print_table(results)
    if browser:
        print("browser:", json.dumps(browser, indent=1))
    print(f"wrote {args.out}")
    return 0


def _write(out: Path, results: list[dict], browser: dict | None) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                           "platform": platform.platform()},
               "when": time.strftime("%Y-%m-%dT%H:%M:%S"), "sizes": results, "browser": browser}
    if browser is None and out.exists():
        try:
            payload["browser"] = json.loads(out.read_text()).get("browser")
        except (ValueError, OSError):
            pass
    out.write_text(json.dumps(payload, indent=1, default=str))


if __name__ == "__main__":
    sys.exit(main())

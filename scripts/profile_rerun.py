"""Where a page view's server CPU goes: the app timed section by section under protocol-level load.

    python scripts/profile_rerun.py --sessions 20 --seconds 30                 # the usual walk (cached slices)
    python scripts/profile_rerun.py --sessions 5 --seconds 30 --fresh-slices   # every view recomputes

Starts the app in a process that wraps the functions a rerun passes through with CPU timers
(this file, `--serve`), warms it with one session per page, then runs `--sessions` sessions of
scripts/ws_load.py for `--seconds` and reports where the server's CPU went, per page view.

The timers read the calling thread's CPU clock (`time.thread_time`), so a thread waiting for the
GIL, a lock or a socket costs nothing, and they nest: a section's time excludes the sections
called inside it (a cache miss that runs SQL counts as SQL, not as cache). The sections:

    SQL (core.queries)        every fetch_* function (DuckDB planning and running, to pandas)
    statistics                core's estimators (survival, response, safety, characteristics)
    figure building           core.charts *_figure (plotly's figure objects and validation)
    chart → JSON              st.plotly_chart: figure.to_dict, plotly's JSON, the element id
    table → Arrow             st.table / st.dataframe: pandas → Arrow IPC bytes
    result cache              st.cache_data / st.cache_resource calls: hashing arguments, copying results
    element → message         DeltaGenerator._enqueue: the delta, its hash (deterministic serialise + md5)
    post-run GC               gc.collect(2) after every run (runner.postScriptGC)
    script (other)            the rest of the script thread: pages, sidebar, widgets, session state
    event loop and the rest   everything outside script threads: serialising ForwardMsgs, the
                              websocket, uvicorn, DuckDB's own threads, the static-export browser

Prints the split per page view; writes artifacts/profile_rerun.json.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import cProfile
import functools
import importlib
import json
import os
import pstats
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT_OTHER = "script (other)"
REST = "event loop and the rest"


# ---------------------------------------------------------------------------------- in the server
class Sections:
    """Exclusive CPU time per section, per thread, from nested timers."""

    def __init__(self) -> None:
        self.cpu_s: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self._local = threading.local()
        self._lock = threading.Lock()
        self.on = False                 # the driver's switch: profile script runs only under the load

    def timed(self, section: str, function):  # type: ignore[no-untyped-def]
        if getattr(function, "_timed_section", None):
            return function

        @functools.wraps(function)
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            stack = getattr(self._local, "stack", None)
            if stack is None:
                stack = self._local.stack = []
            stack.append(0.0)                          # CPU of sections nested in this one
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent = time.thread_time() - started
                nested = stack.pop()
                if stack:
                    stack[-1] += spent
                with self._lock:
                    self.cpu_s[section] += spent - nested
                    self.calls[section] += 1

        wrapper._timed_section = section  # type: ignore[attr-defined]
        return wrapper

    def wrap(self, owner: object, name: str, section: str) -> None:
        setattr(owner, name, self.timed(section, getattr(owner, name)))

    def snapshot(self) -> dict:
        with self._lock:
            return {"cpu_s": dict(self.cpu_s), "calls": dict(self.calls)}


def instrument(sections: Sections, *, cprofile: Path | None = None) -> None:
    """Wrap what a rerun passes through. Runs before the app imports core, so its imports see the wrappers."""
    sys.path.insert(0, os.getcwd())
    queries = importlib.import_module("core.queries")
    for name in dir(queries):
        if name.startswith("fetch_") and callable(getattr(queries, name)):
            sections.wrap(queries, name, "SQL (core.queries)")
    estimators = {"core.survival": ("estimate_survival",),
                  "core.response": ("summarise_response", "cr_cri_rate", "cr_cri_rate_by"),
                  "core.safety": ("toxicity_by_hsct", "toxicity_by", "toxicity_components", "causes_of_death"),
                  "core.characteristics": ("patient_characteristics",)}
    for module_name, names in estimators.items():
        module = importlib.import_module(module_name)
        for name in names:
            if hasattr(module, name):
                sections.wrap(module, name, "statistics")
    charts = importlib.import_module("core.charts")
    for name in dir(charts):
        if name.endswith("_figure") and callable(getattr(charts, name)):
            sections.wrap(charts, name, "figure building")

    import plotly.io
    import plotly.tools
    from streamlit import dataframe_util
    from streamlit.delta_generator import DeltaGenerator
    from streamlit.elements import plotly_chart
    from streamlit.runtime.caching import cache_utils
    from streamlit.runtime.scriptrunner import script_runner

    sections.wrap(plotly.io, "to_json", "chart → JSON")
    sections.wrap(plotly.tools, "return_figure_from_figure_or_data", "chart → JSON")
    sections.wrap(plotly_chart, "compute_and_register_element_id", "chart → JSON")
    sections.wrap(dataframe_util, "convert_anything_to_arrow_bytes", "table → Arrow")
    sections.wrap(cache_utils.CachedFunc, "__call__", "result cache")
    sections.wrap(cache_utils.BoundCachedFunc, "__call__", "result cache")
    sections.wrap(DeltaGenerator, "_enqueue", "element → message")

    class TimedGC:
        """script_runner's `gc`, with collect() timed."""

        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            import gc

            return getattr(gc, name)

        collect = staticmethod(sections.timed("post-run GC", __import__("gc").collect))

    script_runner.gc = TimedGC()  # type: ignore[attr-defined]
    # the whole script thread, inclusive: its remainder is "script (other)"
    original = script_runner.ScriptRunner._run_script

    profiles: list[cProfile.Profile] = []

    @functools.wraps(original)
    def run_script(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        profiler = cProfile.Profile(time.thread_time) if cprofile is not None and sections.on else None
        started = time.thread_time()
        if profiler is not None:
            profiler.enable()
        try:
            return original(self, *args, **kwargs)
        finally:
            if profiler is not None:
                profiler.disable()
            with sections._lock:
                sections.cpu_s["_script_threads_total"] += time.thread_time() - started
                sections.calls["_script_runs"] += 1
                if profiler is not None:
                    profiles.append(profiler)

    def dump_cprofile() -> None:
        with sections._lock:
            if cprofile is None or not profiles:
                return
            stats = pstats.Stats(profiles[0])
            for profiler in profiles[1:]:
                stats.add(profiler)
            stats.dump_stats(str(cprofile))

    sections.dump_cprofile = dump_cprofile  # type: ignore[attr-defined]

    script_runner.ScriptRunner._run_script = run_script


def serve(out: Path, switch: Path, streamlit_args: list[str], cprofile: Path | None = None) -> None:
    """Run `streamlit run …` in this process with the sections timed; snapshots go to `out`.

    While `switch` exists, a snapshot (with this process's CPU) is written every half second, so the
    driver can take the difference between the start and the end of the measured load.
    """
    sections = Sections()
    instrument(sections, cprofile=cprofile)

    def write() -> None:
        data = sections.snapshot()
        data["process_cpu_s"] = sum(os.times()[:2])
        partial = out.with_suffix(".partial")
        partial.write_text(json.dumps(data))
        partial.replace(out)                       # the driver never reads half a file

    def loop() -> None:
        while True:
            time.sleep(0.5)
            was, sections.on = sections.on, switch.exists()
            if sections.on:
                write()
            elif was:
                sections.dump_cprofile()  # type: ignore[attr-defined]

    threading.Thread(target=loop, name="section-snapshots", daemon=True).start()
    atexit.register(write)
    from streamlit.web import cli

    sys.argv = ["streamlit", *streamlit_args]
    cli.main()


# ---------------------------------------------------------------------------------- the driver
def _snapshot(raw: Path, after: float) -> dict:
    """The server's first snapshot written after `after` (a time.time())."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if raw.exists() and raw.stat().st_mtime > after:
            return json.loads(raw.read_text())
        time.sleep(0.1)
    raise TimeoutError("the profiled server wrote no snapshot")


def split_per_view(before: dict, after: dict, tree_cpu_s: float, views: int) -> dict[str, float]:
    """CPU ms per page view by section, from two snapshots and the process tree's CPU over the same time."""
    def diff(key: str, name: str) -> float:
        return after[key].get(name, 0.0) - before[key].get(name, 0.0)

    sections = {name: diff("cpu_s", name) for name in after["cpu_s"] if not name.startswith("_")}
    script_total = diff("cpu_s", "_script_threads_total")
    sections[SCRIPT_OTHER] = max(0.0, script_total - sum(sections.values()))
    process = after["process_cpu_s"] - before["process_cpu_s"]
    sections[REST] = max(0.0, process - script_total) + max(0.0, tree_cpu_s - process)
    n = max(views, 1)
    return {name: round(1000 * seconds / n, 1) for name, seconds in sorted(sections.items(), key=lambda kv: -kv[1])}


def drive(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT / "scripts"))
    import load_test
    import ws_load

    args.out.parent.mkdir(parents=True, exist_ok=True)
    raw = args.out.with_suffix(".sections.json")
    switch = args.out.with_suffix(".on")
    switch.unlink(missing_ok=True)
    raw.unlink(missing_ok=True)
    streamlit_args = ws_load.streamlit_command(ROOT, 0)[3:]          # "run app.py … --server.port 0 …"
    streamlit_args[streamlit_args.index("--server.port") + 1] = "{port}"
    cprofile = args.out.with_suffix(".pstats") if args.cprofile else None
    command = [sys.executable, str(Path(__file__).resolve()), "--serve", "--raw", str(raw), "--switch", str(switch),
               *(["--cprofile-out", str(cprofile)] if cprofile else []), "--", *streamlit_args]
    cohort = (args.cohort or load_test.default_cohort()).resolve()
    try:
        with ws_load.serve_app(ROOT, cohort=cohort, command=command,
                               log=args.out.parent / "profile_rerun-server.log") as (base, process):
            asyncio.run(load_test.reference_walk(base, args.timeout))      # warm, as in the load test
            switch.touch()
            before = _snapshot(raw, time.time())
            cpu0, wall0 = ws_load.process_tree_cpu_s(process.pid), time.perf_counter()
            views = asyncio.run(ws_load.run_level(base, args.sessions, args.seconds, interval_s=args.interval,
                                                  timeout_s=args.timeout, fresh_slices=args.fresh_slices))
            wall, cpu = time.perf_counter() - wall0, ws_load.process_tree_cpu_s(process.pid) - cpu0
            after = _snapshot(raw, time.time())
            switch.unlink(missing_ok=True)
            time.sleep(1.5 if cprofile else 0)         # the server writes the script threads' profile
    finally:
        switch.unlink(missing_ok=True)
        raw.unlink(missing_ok=True)
    done = [v for v in views if v.status == "ok"]
    latencies = [v.latency_s for v in done if v.kind == "filter"]
    split = split_per_view(before, after, cpu, len(done))
    report = {"sessions": args.sessions, "seconds": args.seconds, "fresh_slices": args.fresh_slices,
              "page_views": len(done), "errors": sum(v.failed for v in views), "wall_s": round(wall, 1),
              "server_cpu_s": round(cpu, 2), "server_cpu_ms_per_view": round(1000 * cpu / max(len(done), 1), 1),
              "filter_change_p50_ms": load_test._ms(load_test.percentile(latencies, 50)),
              "filter_change_p95_ms": load_test._ms(load_test.percentile(latencies, 95)),
              "cpu_ms_per_view_by_section": split,
              "calls_per_view": {k: round((after["calls"].get(k, 0) - before["calls"].get(k, 0)) / max(len(done), 1), 1)
                                 for k in after["calls"]}}
    args.out.write_text(json.dumps(report, indent=1))
    print(f"{args.sessions} sessions × {args.seconds:g} s{' (fresh slices)' if args.fresh_slices else ''}: "
          f"{len(done)} page views, {report['errors']} errors, p50 {report['filter_change_p50_ms']} ms, "
          f"p95 {report['filter_change_p95_ms']} ms; server CPU {cpu:.1f} s = {report['server_cpu_ms_per_view']} ms "
          f"per view")
    total = sum(split.values()) or 1.0
    print(f"{'where the CPU goes':<26} {'ms/view':>8} {'share':>6}")
    for name, ms in split.items():
        print(f"{name:<26} {ms:>8.1f} {100 * ms / total:>5.1f}%")
    if cprofile is not None and cprofile.exists():
        print("\nscript threads under cProfile (thread CPU; cProfile slows Python code, so compare, do not add):")
        pstats.Stats(str(cprofile)).sort_stats("tottime").print_stats(args.cprofile)
        print(f"wrote {cprofile} (open with python -m pstats)")
    print(f"wrote {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--fresh-slices", action="store_true")
    parser.add_argument("--cohort", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "profile_rerun.json")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N",
                        help="also run cProfile on the script threads and print its top N functions")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cprofile-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--raw", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--switch", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("streamlit_args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.raw, args.switch, args.streamlit_args, args.cprofile_out)
        return 0
    return drive(args)


if __name__ == "__main__":
    sys.exit(main())

"""How long exports take on the default cohort: one chart cold and warm, and the whole deck.

    .venv/bin/python scripts/benchmark_export.py [--repeat 7] [--out DIR]

Cold = the first chart export of the process, including the browser start. Warm = the median of
`--repeat` further exports of the same chart (PNG at the slide preset, 4000 × 2250 px) and of the
other charts and formats. Deck = build_deck (queries, figures, chart renders, PPTX and PDF) with the
renderer already running. Targets: ≤ 0.5 s per chart warm, ≤ 10 s per deck. A benchmark, not a
test: the figures depend on the machine and its load (the load average is printed with them).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import charts, export  # noqa: E402
from core.database import open_cohort  # noqa: E402
from core.filters import FilterSpec  # noqa: E402
from core.groupings import grouping  # noqa: E402
from core.provenance import for_survival, for_toxicity, slice_provenance  # noqa: E402
from core.queries import fetch_study_meta  # noqa: E402
from core.response import cr_cri_rate, cr_cri_rate_by  # noqa: E402
from core.safety import toxicity_by_hsct  # noqa: E402
from core.survival import estimate_survival  # noqa: E402
from data.build_db import build  # noqa: E402


def timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="also write the files here to look at them")
    args = parser.parse_args(argv)

    status = export.export_available()
    if not status:
        print(status.message)
        return 1
    cohort = open_cohort(build())
    spec = FilterSpec()
    meta = fetch_study_meta(cohort)
    base = slice_provenance(spec, n_slice=32, n_total=32, meta=meta)
    caption = base.caption
    analysis = estimate_survival(cohort, spec, "os")
    km = charts.km_figure(analysis, caption=caption)
    overall = cr_cri_rate(cohort, spec)
    forest = charts.forest_figure((), overall, title="CR/CRi rate by subgroup", caption=caption, sections=[
        (grouping(g).title, cr_cri_rate_by(cohort, spec, g)) for g in ("salvage_line", "blast_burden")])
    tox = toxicity_by_hsct(cohort, spec)
    tox_fig = charts.toxicity_figure(tox, caption=caption)

    print(f"browser: {status.browser} · load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    cold, png = timed(lambda: export.figure_image(km, for_survival(base, analysis), "png", "slide"))
    print(f"cold   KM PNG slide (includes browser start)      {cold:6.2f} s")
    rows = [("KM", km, for_survival(base, analysis)), ("forest", forest, base), ("toxicity", tox_fig,
                                                                                  for_toxicity(base, tox))]
    warm_all: list[float] = []
    for name, fig, prov in rows:
        for fmt, preset in (("png", "slide"), ("png", "journal_double"), ("svg", "journal_double"),
                            ("pdf", "journal_double")):
            times = [timed(lambda: export.figure_image(fig, prov, fmt, preset))[0] for _ in range(args.repeat)]
            warm_all.extend(times)
            print(f"warm   {name:8s} {fmt.upper():3s} {preset:15s} median {statistics.median(times):5.2f} s "
                  f"(min {min(times):.2f}, max {max(times):.2f})")
    print(f"warm   all charts and formats                 median {statistics.median(warm_all):5.2f} s")

    deck_times = []
    files = None
    for _ in range(3):
        seconds, files = timed(lambda: export.build_deck(cohort, spec, base))
        deck_times.append(seconds)
    print(f"deck   PPTX + PDF, {len(deck_times)} runs                         median {statistics.median(deck_times):5.2f} s "
          f"(min {min(deck_times):.2f}, max {max(deck_times):.2f})")
    if args.out and files is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "km_slide.png").write_bytes(png)
        (args.out / "tumour_board.pptx").write_bytes(files.pptx)
        if files.pdf:
            (args.out / "tumour_board.pdf").write_bytes(files.pdf)
        print(f"files written to {args.out}")
    export.stop_renderer()
    return 0


if __name__ == "__main__":
    sys.exit(main())

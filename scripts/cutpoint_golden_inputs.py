"""Write the data sets R's maxstat is run on (tests/golden_r/maxstat_input_*.csv).

    python scripts/cutpoint_golden_inputs.py && Rscript scripts/r_golden_maxstat.R

Two hand-made data sets and the default cohort's three cut-point variables, one row per patient:
`x` (the variable), `time_days` and `event` (overall survival; empty when OS has no usable
duration) and `y` (CR/CRi as 1/0). tests/test_cutpoints.py checks that the default cohort's files
still match the cohort, so a change to the reconstruction shows up as a stale golden file.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.database import open_cohort  # noqa: E402
from core.filters import FilterSpec  # noqa: E402
from core.queries import CUTPOINT_COLUMNS, fetch_cutpoint_counts  # noqa: E402
from data.build_db import DEFAULT_COHORT_PATH, build  # noqa: E402

OUT = ROOT / "tests" / "golden_r"
COLUMNS = ("x", "time_days", "event", "y")

# x = 1..6 and CR/CRi for the upper half only: the split at 3 separates perfectly, and exactly 2 of
# the C(6, 3) = 20 arrangements of the outcomes do as well, so the permutation p-value is 0.1.
HANDMADE = [(1, 150, 1, 0), (2, 40, 1, 0), (3, 95, 1, 0), (4, 400, 0, 1), (5, 260, 1, 1), (6, 610, 0, 1)]
# Ties in the variable and in the survival times, and a censoring tied with a death.
HANDMADE_TIES = [(10, 30, 1, 0), (10, 60, 1, 0), (20, 60, 1, 1), (30, 90, 0, 1), (30, 90, 1, 0),
                 (30, 120, 1, 1), (40, 150, 0, 1), (50, 150, 1, 0), (50, 200, 1, 1), (60, 240, 0, 1),
                 (70, 300, 1, 1), (70, 365, 0, 1)]


def cohort_rows(column: str) -> list[tuple[object, ...]]:
    cohort = open_cohort(DEFAULT_COHORT_PATH)
    try:
        frame = fetch_cutpoint_counts(cohort, FilterSpec(), column)
    finally:
        cohort.close()
    return expand(frame)


def expand(frame) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    rows: list[tuple[object, ...]] = []
    for r in frame.itertuples(index=False):
        if r.value != r.value:          # a missing value is on neither side of any threshold
            continue
        usable = r.duration_days == r.duration_days
        rows += [(float(r.value), int(r.duration_days) if usable else "", int(r.event_kind == 1) if usable else "",
                  int(bool(r.responder)))] * int(r.n)
    return rows


def write(name: str, rows: list[tuple[object, ...]]) -> Path:
    path = OUT / f"maxstat_input_{name}.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return path


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    if not DEFAULT_COHORT_PATH.exists():
        build(DEFAULT_COHORT_PATH)
    print(write("handmade", HANDMADE))
    print(write("handmade_ties", HANDMADE_TIES))
    for column in CUTPOINT_COLUMNS:
        print(write(f"default_{column}", cohort_rows(column)))


if __name__ == "__main__":
    main()

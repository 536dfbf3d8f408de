"""A long fuzz run of the importer (the property in tests/test_import_fuzz.py, many more cases).

    python scripts/fuzz_import.py --cases 10000 [--seed 1]

Prints how many cases ran, how many imported and how many were refused with problems, and exits
non-zero on the first case that breaks a property (an exception escaping the importer, a partial
or unreadable cohort file, a changed existing cohort).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=None, help="a fixed seed makes the run repeatable")
    args = parser.parse_args(argv)

    from hypothesis import HealthCheck, Phase, given, seed, settings

    from tests.cohort_factory import TinyPatient, write_tiny_cohort
    from tests.test_import_fuzz import Case, check_one, malformed_cohorts

    counts: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="fuzz-import-") as tmp:
        directory = Path(tmp) / "cohorts"
        sentinel = write_tiny_cohort(directory / "existing-00000000.duckdb", [TinyPatient("S1")], label="Existing")
        stamp = sentinel.read_bytes()

        @settings(max_examples=args.cases, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=malformed_cohorts())
        def run(case: Case) -> None:
            counts["cases"] += 1
            result = check_one(case, directory)
            counts["imported" if result.ok else "refused"] += 1
            counts["workbook"] += case.files.workbook is not None
            if counts["cases"] % 1000 == 0:
                print(f"… {counts['cases']} cases ({counts['imported']} imported)", flush=True)
            assert sentinel.read_bytes() == stamp, "an existing cohort changed"

        if args.seed is not None:
            run = seed(args.seed)(run)
        started = time.monotonic()
        try:
            run()
        except Exception as exc:  # noqa: BLE001 - report any broken property, then fail
            print(f"FAILED after {counts['cases']} cases: {type(exc).__name__}: {exc}")
            return 1
        elapsed = time.monotonic() - started
    print(f"{counts['cases']} cases in {elapsed:.0f} s: {counts['imported']} imported, {counts['refused']} refused "
          f"with problems ({counts['workbook']} as workbooks); 0 unhandled exceptions, 0 partial cohorts — PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())

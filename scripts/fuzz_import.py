"""A long fuzz run of the importer (the property in tests/test_import_fuzz.py, many more cases).

    python scripts/fuzz_import.py --cases 10000 [--seed 1] [--no-heavy]

Prints how many cases ran, how many imported and how many were refused with problems, and exits
non-zero on the first case that breaks a property (an exception escaping the importer, a partial
or unreadable cohort file, a changed existing cohort).

Then the heavy cases, each checked against the same property: one cell of 100,000 and of 1,000,000
characters, a carriage return inside a quoted value (kept) and outside quotes (a row break), a quote
left open, and a heavy workbook (the default cohort copied to 100,000 event rows × 26 columns). The
process's peak resident memory (ru_maxrss) is printed after each heavy case and at the end.
"""

from __future__ import annotations

import argparse
import csv
import io
import resource
import subprocess
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
    parser.add_argument("--no-heavy", action="store_true", help="skip the heavy cases")
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
        print(f"{counts['cases']} cases in {elapsed:.0f} s: {counts['imported']} imported, {counts['refused']} "
              f"refused with problems ({counts['workbook']} as workbooks); peak memory {peak_mb():.0f} MB")
        if not args.no_heavy:
            for case in heavy_cases(Path(tmp)):
                started = time.monotonic()
                try:
                    result = check_one(case, directory)
                except Exception as exc:  # noqa: BLE001 - report any broken property, then fail
                    print(f"FAILED on {case.description}: {type(exc).__name__}: {exc}")
                    return 1
                assert sentinel.read_bytes() == stamp, "an existing cohort changed"
                print(f"  {case.description:46} {'imported' if result.ok else 'refused'}: "
                      f"{result.report.summary():28} {time.monotonic() - started:5.1f} s, peak {peak_mb():.0f} MB")
    print(f"0 unhandled exceptions, 0 partial cohorts, peak memory {peak_mb():.0f} MB — PASSED")
    return 0


def peak_mb() -> float:
    """This process's peak resident memory so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def heavy_cases(tmp: Path) -> list:  # type: ignore[type-arg]
    """Fixed cases past what the random mutations reach: long cells, carriage returns, open quotes, big workbooks."""
    from core.importer import CohortFiles, InputFile
    from tests.test_import_fuzz import Case, base_rows

    def as_csv(rows: list[list[str]], lineterminator: str = "\n") -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator=lineterminator).writerows(rows)
        return buffer.getvalue().encode("utf-8")

    def csv_case(description: str, edit, lineterminator: str = "\n") -> Case:  # type: ignore[no-untyped-def]
        tables = base_rows()
        data = edit(tables) or {n: as_csv(rows, lineterminator) for n, rows in tables.items()}
        return Case(CohortFiles.from_csv(InputFile("patients.csv", data["patients.csv"]),
                                         InputFile("events.csv", data["events.csv"])), description)

    def set_detail(text: str):  # type: ignore[no-untyped-def]
        def edit(tables):  # type: ignore[no-untyped-def]
            events = tables["events.csv"]
            events[11][events[0].index("detail")] = text
        return edit

    def raw_cr(tables):  # type: ignore[no-untyped-def]
        data = {n: as_csv(rows) for n, rows in tables.items()}
        data["events.csv"] = data["events.csv"].replace(b"P02,", b"P0\r2,", 1)   # a CR outside quotes
        return data

    def open_quote(tables):  # type: ignore[no-untyped-def]
        data = {n: as_csv(rows) for n, rows in tables.items()}
        data["patients.csv"] = data["patients.csv"].replace(b",Centre", b',"Centre', 1)
        return data

    cases = [csv_case("long cell: 100,000 characters", set_detail("x" * 100_000)),
             csv_case("long cell: 1,000,000 characters", set_detail("x" * 1_000_000)),
             csv_case("CR inside a quoted value", set_detail("sibling\rTBI"), "\r\n"),
             csv_case("CR outside quotes", raw_cr),
             csv_case("quote left open", open_quote)]
    # written by another process, so this one's peak memory is the importer's, not the generator's
    book = tmp / "heavy.xlsx"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "import_memory.py"), "--workbook-only", str(book),
                    "--rows", "100000"], check=True, cwd=ROOT)
    cases.append(Case(CohortFiles.from_workbook(InputFile.from_path(book)),
                      "heavy workbook: 100,000 events × 26 columns"))
    return cases


if __name__ == "__main__":
    sys.exit(main())

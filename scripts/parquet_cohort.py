"""Keep a cohort as Parquet files: the tables as files, and a small cohort file of views over them.

    python scripts/parquet_cohort.py data/ino_cohort.duckdb artifacts/parquet/ino
    python scripts/parquet_cohort.py registry.duckdb /srv/ino/registry --location s3://bucket/registry

Writes <out>/{patients,events,study_meta,patient_summary,patient_summary_meta}.parquet and
<out>/cohort.duckdb. Open the app on the views file like any cohort:

    INO_COHORT_PATH=<out>/cohort.duckdb bash scripts/run.sh

With --location the views read the files from there instead (upload them first; DuckDB's httpfs
extension and a `CREATE SECRET` for the bucket are needed on the machine that serves the app).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core.store import write_parquet_cohort  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cohort", type=Path, help="a cohort DuckDB file")
    parser.add_argument("out", type=Path, help="folder for the Parquet files and cohort.duckdb")
    parser.add_argument("--location", help="where the views read the files (default: the out folder)")
    args = parser.parse_args(argv)
    if not args.cohort.exists():
        print(f"{args.cohort}: no such cohort file", file=sys.stderr)
        return 2
    views = write_parquet_cohort(args.cohort, args.out, location=args.location)
    print(f"wrote {views} and {len(list(args.out.glob('*.parquet')))} Parquet files in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

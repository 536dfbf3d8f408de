"""Build the default cohort file, data/ino_cohort.duckdb, from the reconstruction.

    python -m data.build_db            # build when missing (what the run command does)
    python -m data.build_db --force    # rebuild

The build is deterministic: the same facts give the same rows.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.contract import DEFAULT_COHORT_PATH


def build(path: Path = DEFAULT_COHORT_PATH, *, force: bool = False) -> Path:
    from core.store import write_cohort_file
    from data.reconstruction.expand import reconstructed_tables

    if path.exists() and not force:
        return path
    patients, events, meta = reconstructed_tables()
    return write_cohort_file(path, patients, events, dict(zip(meta["key"], meta["value"])))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help="rebuild even if the file exists")
    parser.add_argument("--path", type=Path, default=DEFAULT_COHORT_PATH)
    args = parser.parse_args(argv)
    existed = args.path.exists()
    path = build(args.path, force=args.force)
    print(f"{'rebuilt' if existed and args.force else 'kept' if existed else 'built'} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

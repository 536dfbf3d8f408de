"""Write the endpoint definitions table into README.md from the registry (core/endpoints.py).

    .venv/bin/python scripts/readme_definitions.py          # rewrite the table in place
    .venv/bin/python scripts/readme_definitions.py --check  # exit 1 when the README is out of date

The table sits between the comments `<!-- definitions:start -->` and `<!-- definitions:end -->`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.endpoints import definitions_markdown  # noqa: E402

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- definitions:start -->", "<!-- definitions:end -->"


def with_table(text: str) -> str:
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise SystemExit(f"{README.name} has no {START} … {END} block")
    return f"{head}{START}\n{definitions_markdown()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when the table differs")
    args = parser.parse_args(argv)
    text = README.read_text()
    updated = with_table(text)
    if args.check:
        if updated != text:
            print("README.md's definitions table differs from core/endpoints.py; run this script without --check")
            return 1
        return 0
    README.write_text(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# Set up and run every test: venv with the test tools, Chromium for the browser test (both by
# scripts/setup.sh dev), the default cohort file, ruff and mypy, then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
.venv/bin/python -m data.build_db
echo "ruff: lint of the whole tree"; .venv/bin/ruff check .
echo "mypy: types of core/"; .venv/bin/mypy
exec .venv/bin/python -m pytest -q "$@"

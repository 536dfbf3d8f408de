#!/usr/bin/env bash
# Set up and run every test: venv with the test tools, Chromium for the browser test (both by
# scripts/setup.sh dev), the default cohort file, then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
.venv/bin/python -m data.build_db
exec .venv/bin/python -m pytest -q "$@"

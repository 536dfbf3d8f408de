#!/usr/bin/env bash
# Set up and start the dashboard: venv and Chromium for chart images (scripts/setup.sh), the
# default cohort file (built when missing), streamlit. Extra arguments go to `streamlit run`
# (e.g. --server.port 8502).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/python -m data.build_db
exec .venv/bin/streamlit run app.py "$@"

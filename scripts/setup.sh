#!/usr/bin/env bash
# Set up everything the app needs: .venv with the pinned requirements (installed again only when
# the requirement files change) and a Chrome/Chromium for chart images (scripts/browser.sh).
# Usage: scripts/setup.sh [dev]   — dev: the test tools too, and Chromium is required (browser test)
set -euo pipefail
cd "$(dirname "$0")/.."
req=requirements.txt
[ "${1:-}" = "dev" ] && req=requirements-dev.txt
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=".venv/.installed-$(cat requirements.txt "$req" | sha256sum | cut -c1-16)-$(basename "$req")"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$req"
  touch "$stamp"
fi
if [ "${1:-}" = "dev" ]; then
  scripts/browser.sh test
else
  scripts/browser.sh run
fi

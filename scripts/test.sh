#!/usr/bin/env bash
# Set up and run every test: venv with the test tools, Chromium for the browser test, the default
# cohort file, then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser test…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "The browser test needs Chromium at /usr/bin/chromium: install it (Debian: sudo apt-get install chromium) and re-run." >&2
    exit 1
  fi
fi
.venv/bin/python -m data.build_db
exec .venv/bin/python -m pytest -q "$@"

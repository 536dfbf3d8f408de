#!/usr/bin/env bash
# Chrome/Chromium for chart images (plotly's static export drives it) and for the browser test:
# Debian's chromium, installed with apt-get when it is missing and this runs as root.
# Usage: scripts/browser.sh run|test
#   run   the app: any Chrome/Chromium the renderer finds will do ($BROWSER_PATH, chromium,
#         google-chrome … on the PATH). When none can be installed, say how and exit 0: the app
#         starts anyway and only chart images are unavailable.
#   test  the suite: the browser test drives Debian's chromium; exit 1 when it cannot be installed.
# Uses only shell builtins, id and apt-get, so a test can run it with a PATH of stubs.
set -euo pipefail

mode=${1:-run}
if [ "$mode" != run ] && [ "$mode" != test ]; then
  echo "usage: scripts/browser.sh run|test" >&2
  exit 2
fi
debian_chromium=${DEBIAN_CHROMIUM:-/usr/bin/chromium}   # where Debian's package puts it

have_browser() {
  if command -v chromium >/dev/null 2>&1 || [ -x "$debian_chromium" ]; then
    return 0
  fi
  [ "$mode" = run ] || return 1
  if [ -n "${BROWSER_PATH:-}" ] && [ -x "$BROWSER_PATH" ]; then
    return 0
  fi
  local name
  for name in chromium-browser google-chrome google-chrome-stable chrome; do
    command -v "$name" >/dev/null 2>&1 && return 0
  done
  return 1
}

have_browser && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  purpose="chart images"
  [ "$mode" = test ] && purpose="the browser test and chart images"
  echo "Installing Debian's chromium for $purpose…"
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
      && have_browser; then
    exit 0
  fi
  echo "apt-get could not install chromium." >&2
fi

if [ "$mode" = test ]; then
  echo "The browser test needs Chromium at $debian_chromium: install it (Debian: sudo apt-get install chromium) and re-run." >&2
  exit 1
fi
echo "Chart images (PNG, SVG, PDF) need Chrome or Chromium, and none was found. Install it (Debian/Ubuntu:" \
     "sudo apt-get install chromium) or set \$BROWSER_PATH to a Chrome/Chromium executable, then restart the" \
     "app. Starting without image export: tables, slice data and the deck's PowerPoint still download." >&2
exit 0

"""Screenshot tour: every page in normal and presenter mode, into artifacts/screenshots/.

    .venv/bin/python scripts/screenshots.py                  # the default cohort
    INO_COHORT_PATH=/path/to/cohort.duckdb .venv/bin/python scripts/screenshots.py
    .venv/bin/python scripts/screenshots.py --url http://localhost:8501   # an app already running

Starts `streamlit run app.py` on a free localhost port (unless --url is given), drives Debian's
Chromium through Playwright, and writes `<page>-<mode>.png`. tests/test_browser.py uses the same
functions.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOT_DIR = ROOT / "artifacts" / "screenshots"
# (url path, file stem, a text the page shows when it is drawn)
PAGES: tuple[tuple[str, str, str], ...] = (
    ("", "overview", "Patient characteristics"),
    ("response", "response", "CR/CRi by salvage line"),
    ("survival", "survival", "Definition in force"),
    ("safety", "safety", "Toxicity by HSCT status"),
    ("patients", "patients", "Patient listing"),
    ("paper_check", "paper-check", "Paper check"),
)
INSTALL_HINT = ("Chromium is needed at /usr/bin/chromium for the browser test and the screenshots. "
                "Install it with `sudo apt-get install chromium` (Debian/Ubuntu), or run scripts/test.sh, "
                "which installs it when run as root.")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def streamlit_server(*, env: dict[str, str] | None = None, timeout: float = 45.0) -> Iterator[str]:
    """Run `streamlit run app.py` on a free localhost port; yield its base URL; stop it afterwards."""
    with streamlit_process(env=env, timeout=timeout) as (base, _):
        yield base


@contextlib.contextmanager
def streamlit_process(*, env: dict[str, str] | None = None,
                      timeout: float = 45.0) -> Iterator[tuple[str, subprocess.Popen]]:
    """As `streamlit_server`, yielding (base URL, process) for callers that read the process's memory."""
    port = free_port()
    command = [str(ROOT / ".venv" / "bin" / "streamlit"), "run", str(ROOT / "app.py"),
               "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    log = open(ROOT / "artifacts" / "streamlit-server.log", "w") if (ROOT / "artifacts").is_dir() else subprocess.DEVNULL
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env or {})},
                               stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {process.returncode} before serving")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"streamlit did not answer on {base} within {timeout:.0f} s")
            time.sleep(0.3)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log is not subprocess.DEVNULL:
            log.close()


def launch_browser(playwright):  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        raise FileNotFoundError(INSTALL_HINT)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


def wait_until_drawn(page, text: str, timeout_ms: int = 30_000) -> None:  # type: ignore[no-untyped-def]
    """Wait for the page's text, for the script run to finish, and for plotly charts to draw."""
    page.get_by_text(text, exact=False).first.wait_for(timeout=timeout_ms)
    wait_until_idle(page, timeout_ms)


def wait_until_idle(page, timeout_ms: int = 30_000) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_ms / 1000
    quiet_since = None
    while time.monotonic() < deadline:
        running = page.locator('[data-testid="stStatusWidget"]').count() > 0
        stale = page.locator('[data-stale="true"]').count() > 0
        # a lazily loaded element (plotly's bundle, tables) stands as a skeleton until its code arrives
        loading = page.locator('[data-testid="stSkeleton"]').count() > 0
        if running or stale or loading:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 0.3:
            break
        page.wait_for_timeout(100)
    # plotly draws after the element arrives
    for chart in page.locator('[data-testid="stPlotlyChart"]').all():
        chart.locator(".main-svg").first.wait_for(timeout=timeout_ms)
    page.wait_for_timeout(200)


_UNSCROLL_CSS = """
[data-testid="stApp"], [data-testid="stAppViewContainer"], [data-testid="stMain"] {
    position: static !important; height: auto !important; min-height: 0 !important; overflow: visible !important;
}
"""


# The bottom of what a reader sees: the page's content, and the sidebar's when it is open.
_CONTENT_BOTTOM_JS = """() => {
    const bottom = sel => { const e = document.querySelector(sel);
                            return e ? e.getBoundingClientRect().bottom + window.scrollY : 0; };
    const sidebar = document.querySelector('[data-testid="stSidebar"]');
    const open = sidebar && sidebar.getAttribute('aria-expanded') !== 'false'
                 && sidebar.getBoundingClientRect().right > 50;
    return Math.ceil(Math.max(bottom('[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"]'),
                              open ? bottom('[data-testid="stSidebarUserContent"]') : 0, 600) + 48);
}"""


def whole_page_png(page) -> bytes:  # type: ignore[no-untyped-def]
    """Streamlit scrolls inside its main container; let the document scroll instead, then shoot it whole."""
    handle = page.add_style_tag(content=_UNSCROLL_CSS)
    page.wait_for_timeout(150)
    bottom = page.evaluate(_CONTENT_BOTTOM_JS)
    width = page.viewport_size["width"] if page.viewport_size else 1600
    png = page.screenshot(full_page=True, clip={"x": 0, "y": 0, "width": width, "height": bottom})
    handle.evaluate("el => el.remove()")
    return png  # type: ignore[no-any-return]


def screenshot_whole_page(page, target: Path) -> None:  # type: ignore[no-untyped-def]
    target.write_bytes(whole_page_png(page))


def tour(browser, base: str, out_dir: Path, *, query: str = "",  # type: ignore[no-untyped-def]
         timeout_ms: int = 30_000) -> list[Path]:
    """Screenshot every page in normal and presenter mode; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for mode, extra in (("normal", ""), ("presenter", "presenter=1")):
        params = "&".join(p for p in (query, extra) if p)
        context = browser.new_context(viewport={"width": 1600, "height": 1000}, device_scale_factor=1)
        page = context.new_page()
        for i, (path, stem, marker) in enumerate(PAGES):
            if i == 0:
                page.goto(f"{base}/{path}" + (f"?{params}" if params else ""))
            else:   # navigate inside the app, as a user does (no reload: faster, and tests the routing)
                page.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]').first.dispatch_event("click")
                page.wait_for_url(re.compile(rf"/{path}(\?|$)"), timeout=timeout_ms)
            wait_until_drawn(page, marker)
            target = out_dir / f"{stem}-{mode}.png"
            screenshot_whole_page(page, target)
            written.append(target)
        context.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="screenshot an app already running at this URL")
    parser.add_argument("--out", type=Path, default=SCREENSHOT_DIR)
    parser.add_argument("--query", default="", help="filter parameters for every page, e.g. 'salvage=1'")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    (ROOT / "artifacts").mkdir(exist_ok=True)
    with contextlib.ExitStack() as stack:
        base = args.url.rstrip("/") if args.url else stack.enter_context(streamlit_server())
        with sync_playwright() as playwright:
            try:
                browser = launch_browser(playwright)
            except FileNotFoundError as exc:
                print(exc, file=sys.stderr)
                return 1
            files = tour(browser, base, args.out, query=args.query)
            browser.close()
    for f in files:
        print(f.relative_to(ROOT) if f.is_relative_to(ROOT) else f)
    return 0


if __name__ == "__main__":
    sys.exit(main())

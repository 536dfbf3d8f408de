"""One real browser (Debian's Chromium through Playwright, fixture `chromium`) against a streamlit server of
this module (fixture `app_server`, tests/conftest.py).

It opens the Response page, changes the blast-burden filter in the sidebar, and checks that the URL
and the Response chart follow; reopening the URL restores the view. Then it takes the screenshot
tour (every page, normal and presenter mode) into artifacts/screenshots/ for a person to look at.
On a cohort whose centre's name holds a URL, it checks that no link to it appears in the page.
"""

from __future__ import annotations

import importlib.util
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("screenshots", ROOT / "scripts" / "screenshots.py")
assert _spec and _spec.loader
shots = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(shots)

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in requirements-dev.txt")


def _overall_line(page) -> str:  # type: ignore[no-untyped-def]
    return page.get_by_text(re.compile(r"^Overall CR/CRi:")).first.inner_text()


def _chart_text(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator(".js-plotly-plot").first.inner_text()


def test_blast_filter_changes_the_response_chart_and_the_url(app_server: str, chromium) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    context = chromium.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.goto(f"{app_server}/response")
    shots.wait_until_drawn(page, "CR/CRi by salvage line")
    before_line, before_chart = _overall_line(page), _chart_text(page)
    assert "blasts ≥" not in before_chart
    assert "blast=" not in page.url

    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("High", exact=True).click()
    page.wait_for_url(re.compile(r"[?&]blast=high"), timeout=15_000)
    page.get_by_text(re.compile(r"blasts ≥ 50% · n = \d+ of \d+")).first.wait_for(timeout=15_000)
    shots.wait_until_idle(page)

    after_line, after_chart = _overall_line(page), _chart_text(page)
    assert after_line != before_line
    assert "blasts ≥ 50%" in after_chart            # the chart's caption stamps the new slice
    assert after_chart != before_chart

    # the URL is the view: reopening it in a fresh tab restores the filter
    fresh = context.new_page()
    fresh.goto(page.url)
    shots.wait_until_drawn(fresh, "CR/CRi by salvage line")
    assert _overall_line(fresh) == after_line
    fresh.get_by_text(re.compile(r"blasts ≥ 50% · n = \d+ of \d+")).first.wait_for(timeout=5_000)
    context.close()
    assert time.monotonic() - started < 60


def test_screenshot_tour(app_server: str, chromium) -> None:  # type: ignore[no-untyped-def]
    files = shots.tour(chromium, app_server, shots.SCREENSHOT_DIR)
    assert len(files) == 2 * len(shots.PAGES)
    for f in files:
        assert f.stat().st_size > 10_000, f


def _download(page, button, timeout_ms: int = 60_000) -> bytes:  # type: ignore[no-untyped-def]
    with page.expect_download(timeout=timeout_ms) as info:
        button.click()
    path = info.value.path()
    assert path is not None, info.value.failure()
    return Path(path).read_bytes()


def test_a_chart_image_and_the_deck_download_from_the_running_app(app_server: str, chromium,  # type: ignore[no-untyped-def]
                                                                 tmp_path: Path) -> None:
    import io

    from PIL import Image
    from pptx import Presentation
    from pypdf import PdfReader

    context = chromium.new_context(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
    page = context.new_page()

    # a Kaplan–Meier chart as a journal-column PNG: 3.5 in at 300 dpi, provenance in the image
    page.goto(f"{app_server}/survival?salvage=2")
    shots.wait_until_drawn(page, "Definition in force")
    page.get_by_role("button", name=re.compile("Download chart")).first.click()
    png = _download(page, page.get_by_role("button", name="PNG · 1 column").first)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png))
    assert image.width == 1050 and image.height > 1050
    assert round(image.info["dpi"][0]) == 300
    (tmp_path / "km_journal_single.png").write_bytes(png)
    page.keyboard.press("Escape")

    # the tumour-board deck for the same slice, as PowerPoint and PDF
    page.goto(f"{app_server}/?salvage=2")
    shots.wait_until_drawn(page, "Patient characteristics")
    page.get_by_role("button", name=re.compile("Prepare tumour-board deck")).click()
    pptx_button = page.get_by_role("button", name=re.compile("Deck · PowerPoint"))
    pptx_button.wait_for(timeout=120_000)
    deck = Presentation(io.BytesIO(_download(page, pptx_button)))
    texts = [" ".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)
             for slide in deck.slides]
    assert len(texts) >= 4
    assert "Salvage 2" in texts[0] and re.search(r"n = \d+", texts[0])
    assert "Reconstructed" in texts[0]
    pdf = PdfReader(io.BytesIO(_download(page, page.get_by_role("button", name=re.compile("Deck · PDF")))))
    assert len(pdf.pages) == len(texts)
    context.close()


EXPIRED = "Session expired: https://evil.example/s"


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A cohort whose centre's name is a phishing line with a URL in it."""
    from tests.cohort_factory import write_tiny_cohort
    from tests.conftest import varied_patients

    people = varied_patients()
    for patient in people[:4]:
        patient.centre = EXPIRED
    cohort = write_tiny_cohort(tmp_path_factory.mktemp("hostile") / "hostile.duckdb", people, label=EXPIRED)
    (ROOT / "artifacts").mkdir(exist_ok=True)
    with shots.streamlit_server(env={"INO_COHORT_PATH": str(cohort)}) as base:
        yield base


def _evil_links(page) -> list[str]:  # type: ignore[no-untyped-def]
    hrefs = page.eval_on_selector_all(
        "a", "els => els.map(e => e.getAttribute('href') || e.getAttribute('xlink:href') || '')")
    return [h for h in hrefs if "evil.example" in h]


def test_a_url_in_a_centre_name_is_never_a_link(hostile_server: str, chromium) -> None:  # type: ignore[no-untyped-def]
    context = chromium.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    # the centre chosen by a link: its name in the header, the sidebar counts, the table and the charts
    page.goto(f"{hostile_server}/?centre=Session%20expired%3A%20https%3A%2F%2Fevil.example%2Fs")
    shots.wait_until_drawn(page, "Patient characteristics")
    page.get_by_text(re.compile(r"^Session expired: https:\W*//evil\.example/s · n = 4 of 10$")).first.wait_for(
        timeout=5_000)
    assert _evil_links(page) == []
    # a centre the cohort does not have: quoted in the warning banner, as text
    page.goto(f"{hostile_server}/?centre=Session%20expired%3A%20https%3A%2F%2Fevil.example%2Fs2")
    shots.wait_until_drawn(page, "Patient characteristics")
    banner = page.get_by_text(re.compile(r"The link's centre \(centre=Session expired: https:\W*//evil\.example/s2\)"))
    banner.first.wait_for(timeout=5_000)
    assert _evil_links(page) == []
    context.close()

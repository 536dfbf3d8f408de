"""In a real browser: links opened first on a fresh server, presenter mode at the screen sizes of a
tumour board, and a link that carries the page's own choices."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from tests.test_browser import shots

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("path", "heading"), [("/import_cohort", "Import a cohort"),
                                               ("/data_dictionary", "Data dictionary")])
def test_a_direct_link_on_a_fresh_server_draws_the_frame(default_cohort: Path, chromium, path: str,  # type: ignore[no-untyped-def]
                                                         heading: str) -> None:
    with shots.streamlit_server(env={"INO_COHORT_PATH": str(default_cohort)}) as base:
        page = chromium.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(base + path)
        page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
        shots.wait_until_idle(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert sidebar.get_by_text("Cohort", exact=True).count() >= 1          # the cohort picker
        assert sidebar.get_by_text("Reset all filters").count() >= 1           # the filters
        nav = sidebar.locator('[data-testid="stSidebarNav"]').inner_text()
        assert "Overview" in nav and "app" not in nav.split()                  # app.py's routing, not the folder's
        page.close()


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768)])
def test_presenter_mode_fits_each_chart_with_its_table_on_the_screen(app_server: str, chromium,  # type: ignore[no-untyped-def]
                                                                     default_cohort: Path, size: tuple[int, int]) -> None:
    from core.database import open_cohort
    from core.filters import FilterSpec
    from core.survival import estimate_survival

    width, height = size
    page = chromium.new_page(viewport={"width": width, "height": height})
    page.goto(f"{app_server}/survival?presenter=1")
    shots.wait_until_drawn(page, "Definition in force")
    charts = page.locator(".js-plotly-plot")
    charts.nth(1).wait_for(timeout=30_000)     # the survival curve and the cumulative incidence
    assert charts.count() >= 2
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["height"] <= height, (i, box)   # scrolled to, it fits the screen
    # the time axis ends within one tick of the slice's longest follow-up (not at a fixed horizon)
    x_range = page.evaluate("() => document.querySelector('.js-plotly-plot').layout.xaxis.range")
    ticks = page.evaluate("() => document.querySelector('.js-plotly-plot').layout.xaxis.tickvals")
    longest = max(estimate_survival(open_cohort(default_cohort), FilterSpec(), "os").fitted[0].timeline)
    step = ticks[1] - ticks[0]
    assert longest <= x_range[1] <= longest + step + 1e-9
    page.close()


def test_a_link_with_page_choices_reopens_the_same_view(app_server: str, chromium) -> None:  # type: ignore[no-untyped-def]
    page = chromium.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{app_server}/survival?s_group=hsct&s_comparison=naive&salvage=1,2")
    shots.wait_until_drawn(page, "Definition in force")
    page.get_by_text(re.compile("^Immortal-time bias: HSCT")).first.wait_for(timeout=15_000)
    shots.wait_until_idle(page)
    page.get_by_text("Relapse and non-relapse mortality (competing risks)").first.wait_for(timeout=15_000)
    shots.wait_until_idle(page)
    assert "s_group=hsct" in page.url and "s_comparison=naive" in page.url
    assert "salvage=1,2" in page.url or "salvage=1%2C2" in page.url
    # what the page says (markdown, captions, alerts), not the charts' drawing
    words = '[data-testid="stMain"] [data-testid="stMarkdownContainer"]'
    first = sorted(page.locator(words).all_inner_texts())
    again = chromium.new_page(viewport={"width": 1600, "height": 1000})
    again.goto(page.url)
    shots.wait_until_drawn(again, "Definition in force")
    again.get_by_text(re.compile("^Immortal-time bias: HSCT")).first.wait_for(timeout=15_000)
    shots.wait_until_idle(again)
    again.get_by_text("Relapse and non-relapse mortality (competing risks)").first.wait_for(timeout=15_000)
    shots.wait_until_idle(again)
    assert sorted(again.locator(words).all_inner_texts()) == first
    # and what it looks like: the whole page, pixel for pixel
    assert _pixels(again) == _pixels(page)
    page.close()
    again.close()


def _pixels(page) -> tuple[tuple[int, int], bytes]:  # type: ignore[no-untyped-def]
    """The decoded RGB pixels of the whole page."""
    from PIL import Image

    image = Image.open(io.BytesIO(shots.whole_page_png(page))).convert("RGB")
    return image.size, image.tobytes()

"""In a real browser: stratify survival by HSCT, choose each comparison, and download the chart.

The naive split's image must carry the immortal-time caveat in the image itself (read from the
SVG's text), so a slide made from it cannot lose the warning; the landmark and Simon–Makuch images
say which analysis they are.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.test_browser import _download, shots

ROOT = Path(__file__).resolve().parent.parent


def _svg_text(page) -> str:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name=re.compile("Download chart")).first.click()
    svg = _download(page, page.get_by_role("button", name="SVG").first).decode()
    page.keyboard.press("Escape")
    return " ".join(re.sub(r"<[^>]+>", " ", svg).split())


def test_each_hsct_comparison_exports_with_what_it_is(app_server: str, chromium) -> None:  # type: ignore[no-untyped-def]
    context = chromium.new_context(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{app_server}/survival?s_group=hsct")      # the link carries the stratification
    shots.wait_until_drawn(page, "Definition in force")
    page.get_by_text("Compare groups by").first.wait_for(timeout=15_000)
    shots.wait_until_idle(page)

    landmark = _svg_text(page)
    assert "landmark" in landmark and "Immortal-time bias" not in landmark

    page.get_by_text("Time-dependent (Simon–Makuch)", exact=True).click()
    page.get_by_text(re.compile("^Mantel–Byar test")).first.wait_for(timeout=15_000)
    shots.wait_until_idle(page)
    assert "Simon–Makuch" in _svg_text(page)

    page.get_by_text("Naive split (biased)", exact=True).click()
    page.get_by_text(re.compile("^Immortal-time bias")).first.wait_for(timeout=15_000)
    shots.wait_until_idle(page)
    naive = _svg_text(page)
    assert "Immortal-time bias" in naive and "HSCT happens after the first InO dose" in naive
    context.close()

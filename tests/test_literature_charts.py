"""Charts of the literature and the cut-points, checked by structure: the published marks, their
label and citations, the figure on the screen left as it was; each side of every threshold."""

from __future__ import annotations

import json
from pathlib import Path

import plotly.graph_objects as go
import pytest

from core.charts import forest_figure, km_figure
from core.charts.cutpoint import METHOD_NOTE, cutpoint_figure
from core.charts.published import published_forest_figure, published_km_figure, with_published_points
from core.cutpoints import cutpoint_scan
from core.database import open_cohort
from core.filters import FilterSpec
from core.literature import PUBLISHED_SECTION, published_cr_cri, published_survival_points
from core.literature.comparison import PublishedPoint
from core.response import cr_cri_rate, cr_cri_rate_by
from core.survival import estimate_survival
from core.text import plotly_text

CAPTION = "All patients · n = 32"


@pytest.fixture(scope="module")
def cohort(default_cohort: Path):  # type: ignore[no-untyped-def]
    opened = open_cohort(default_cohort)
    yield opened
    opened.close()


def roles(fig: go.Figure) -> list[str]:
    return [(t.meta or {}).get("role") for t in fig.data]


def caption_of(fig: go.Figure) -> str:
    return next(a.text for a in fig.layout.annotations if a.name == "caption").replace("<br>", " ")


# ------------------------------------------------------------------------------------------ forest
def test_published_rows_are_a_last_section_of_their_own(cohort) -> None:  # type: ignore[no-untyped-def]
    sections = [("Salvage line", cr_cri_rate_by(cohort, FilterSpec(), "salvage_line"))]
    overall = cr_cri_rate(cohort, FilterSpec())
    rates = published_cr_cri()
    fig = published_forest_figure((), overall, published=rates, title="CR/CRi", caption=CAPTION, sections=sections)
    published = [t for t in fig.data if (t.meta or {}).get("role") == "published"]
    assert len(published) == 1 and list(published[0].text) == [plotly_text(r.label) for r in rates.rows]
    subgroups = next(t for t in fig.data if (t.meta or {}).get("role") == "subgroup")
    assert list(subgroups.text) == [r.label for r in sections[0][1]]           # the cohort's rows stay blue
    ticks = list(fig.layout.yaxis.ticktext)
    assert f"<b>{PUBLISHED_SECTION}</b>" in ticks
    assert ticks[-len(rates.rows):] == [plotly_text(r.label) for r in rates.rows]   # shown as text
    caption = caption_of(fig)
    assert "published, not randomised against this cohort; populations differ" in caption
    assert "doi:10.1056/NEJMoa1509277" in caption and "Not drawn: Torrent 2023" in caption


def test_without_published_rows_it_is_the_forest_chart(cohort) -> None:  # type: ignore[no-untyped-def]
    sections = [("Salvage line", cr_cri_rate_by(cohort, FilterSpec(), "salvage_line"))]
    overall = cr_cri_rate(cohort, FilterSpec())
    empty = published_cr_cri(())
    plain = forest_figure((), overall, title="CR/CRi", caption=CAPTION, sections=sections)
    assert published_forest_figure((), overall, published=empty, title="CR/CRi", caption=CAPTION,
                                   sections=sections) == plain


# ------------------------------------------------------------------------------------------ Kaplan–Meier
def test_published_points_are_added_to_a_copy(cohort) -> None:  # type: ignore[no-untyped-def]
    fig = km_figure(estimate_survival(cohort, FilterSpec(), "os"), caption=CAPTION)
    before = json.loads(fig.to_json())
    points = published_survival_points(("inovate2016",))
    out = with_published_points(fig, points)
    assert json.loads(fig.to_json()) == before                                  # the figure on the screen is untouched
    added = [t for t in out.data if (t.meta or {}).get("role") == "published"]
    assert [t.meta["row_id"] for t in added] == ["iv2016-os-ino", "iv2016-os-2y-ino"]
    median, milestone = added
    assert (median.x[0], median.y[0]) == (7.7, 0.5)
    assert (median.error_x.array[0], median.error_x.arrayminus[0]) == pytest.approx((1.5, 1.7))
    assert milestone.error_y.array[0] == pytest.approx(0.07) and milestone.error_x.array is None
    assert sum(bool(t.showlegend) for t in added) == 1              # one legend entry per study
    assert out.layout.height > fig.layout.height                    # room for the citations
    assert "doi:10.1056/NEJMoa1509277" in caption_of(out) and "not randomised" in caption_of(out)
    assert "not randomised against this cohort" in out.layout.meta["caption"]


def test_a_point_beyond_the_time_axis_is_named_not_drawn(cohort) -> None:  # type: ignore[no-untyped-def]
    fig = km_figure(estimate_survival(cohort, FilterSpec(), "os"), caption=CAPTION, max_months=12)
    out = with_published_points(fig, published_survival_points(("inovate2019",)))
    assert [t.meta["kind"] for t in out.data if (t.meta or {}).get("role") == "published"] == ["median"]
    assert "beyond the time axis, not drawn" in caption_of(out)


def test_the_builder_for_the_page_draws_the_same(cohort) -> None:  # type: ignore[no-untyped-def]
    analysis = estimate_survival(cohort, FilterSpec(), "os")
    points = published_survival_points(("deangelo2017",))
    built = published_km_figure(analysis, points=points, caption=CAPTION, show_ci=False)
    assert built == with_published_points(km_figure(analysis, caption=CAPTION, show_ci=False), points)
    assert with_published_points(built, ()) == built


def test_a_point_without_a_ci_has_no_error_bar() -> None:
    fig = go.Figure(layout=dict(xaxis=dict(range=[0, 30])))
    point = PublishedPoint(row_id="x", study_key="s", study="Study", kind="median", months=5.0, survival=0.5,
                           lower=None, upper=None, upper_not_reached=False, text="median OS 5 mo", citation="c",
                           verified="yes")
    out = with_published_points(fig, [point], cite=False)
    assert out.data[0].error_x.array is None and out.data[0].error_y.array is None


# ------------------------------------------------------------------------------------------ cut-points
def test_the_cutpoint_chart_has_each_side_in_every_panel(cohort) -> None:  # type: ignore[no-untyped-def]
    scan = cutpoint_scan(cohort, FilterSpec(), "blast_pct")
    fig = cutpoint_figure(scan, caption=CAPTION, best=64.0, best_label="best split")
    estimates = [t for t in fig.data if (t.meta or {}).get("role") == "estimate"]
    assert [(t.meta["panel"], t.meta["side"]) for t in estimates] == [
        (p, s) for p in (1, 2, 3) for s in ("below", "above")]
    assert all(list(t.x) == [r.threshold for r in scan.rows] for t in estimates)
    assert all(t.line.shape == "vh" for t in estimates)
    at_50 = [r.threshold for r in scan.rows].index(50.0)
    assert estimates[0].y[at_50] == pytest.approx(62.5) and estimates[1].y[at_50] == pytest.approx(56.25)
    counts = [t for t in fig.data if (t.meta or {}).get("role") == "n"]
    assert counts[0].y[at_50] == 16 and counts[1].y[at_50] == 16
    shapes = {s.name for s in fig.layout.shapes}
    assert {"cutpoint-reference", "cutpoint-best"} <= shapes
    labels = {a.name: a.text for a in fig.layout.annotations}
    assert labels["cutpoint-reference-label"] == "50%: the paper's split"
    assert METHOD_NOTE[:40] in caption_of(fig).replace("<br>", " ")


def test_no_reference_mark_without_a_reference_and_a_message_without_thresholds(cohort) -> None:  # type: ignore[no-untyped-def]
    fig = cutpoint_figure(cutpoint_scan(cohort, FilterSpec(), "age_years"), caption=CAPTION)
    assert not [s for s in fig.layout.shapes if (s.name or "").startswith("cutpoint-")]
    single = cutpoint_scan(cohort, FilterSpec(), "blast_pct", thresholds=())
    message = cutpoint_figure(single, caption=CAPTION)
    assert any(a.name == "message" for a in message.layout.annotations)

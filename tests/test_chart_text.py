"""Untrusted text in charts is shown, never rendered: a centre's name, a patient id, a cause of death,
a subgroup label or the caption (the slice in words holds centre names from the file or the URL)
reaches plotly escaped, exactly once, in every text property of the figure.

The figure is checked as plotly sees it: every string of `fig.to_plotly_json()` (titles, legend
names, tick labels, hover templates and the values they show, annotations, text traces), except
`meta`, which holds plain data for code and is never rendered.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from core import charts
from core.database import open_cohort
from core.filters import FilterSpec
from core.queries import fetch_patient_listing, fetch_slice_events
from core.response import SubgroupRate
from core.results import TooFewPatients, proportion
from core.safety import causes_of_death, vod_timing
from core.survival import estimate_survival
from core.text import plotly_text
from tests.cohort_factory import TinyPatient, write_tiny_cohort

LINK = '<a href="https://evil.example/login">Sign in again</a>'
BIG = '<span style="font-size:80px;color:red">PWNED</span>'
PATIENT = '<a href="https://evil.example/login">P99</a>'
CAPTION = f"Centre {LINK} · n = 7 · Reconstructed cohort — not real patient data"


def rendered_strings(value: object, path: str = "") -> Iterator[tuple[str, str]]:
    """(where, text) for every string plotly may render; `meta` is data, not text, and is skipped."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key != "meta":
                yield from rendered_strings(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from rendered_strings(item, f"{path}[{i}]")
    elif isinstance(value, np.ndarray):
        yield from rendered_strings(value.tolist(), path)
    elif isinstance(value, str):
        yield path, value


def assert_inert(fig: go.Figure, *payloads: str) -> None:
    """No link or styled span survives anywhere; each payload is there, escaped once."""
    strings = list(rendered_strings(fig.to_plotly_json()))
    raw = [(where, text) for where, text in strings if "<a" in text.lower() or "<span" in text.lower()]
    assert raw == []
    assert not [where for where, text in strings if "&amp;lt;" in text or "&amp;gt;" in text]   # never twice
    shown = [text.replace("<br>", " ") for _, text in strings]
    for payload in payloads:
        assert any(plotly_text(payload) in text for text in shown), payload


PEOPLE = [
    TinyPatient("P01", centre=LINK, salvage_line=1, death_day=60, cause="progression of disease",
                hsct_day=30, aes=(("VOD", 3, 40),)),
    TinyPatient("P02", centre=LINK, salvage_line=2, last_contact_day=200),
    TinyPatient("P03", centre=LINK, salvage_line=2, death_day=150, cause=BIG),
    TinyPatient("P04", centre="Centre A", salvage_line=1, last_contact_day=300),
    TinyPatient("P05", centre="Centre A", salvage_line=3, death_day=90, cause=BIG, aes=(("VOD", 3, 20),)),
    TinyPatient("P06", centre="Centre A", salvage_line=1, last_contact_day=250, lost=True),
    TinyPatient(PATIENT, centre=BIG, salvage_line=2, relapse_day=60, death_day=120, cause=BIG),
]


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    c = open_cohort(write_tiny_cohort(tmp_path_factory.mktemp("text") / "t.duckdb", PEOPLE))
    yield c
    c.close()


@pytest.mark.parametrize("presenter", [False, True])
def test_km_legend_table_and_caption_of_a_centre_with_a_link(cohort, presenter: bool) -> None:  # type: ignore[no-untyped-def]
    analysis = estimate_survival(cohort, FilterSpec(), "os", by="centre", compare=True)
    assert LINK in [c.label for c in analysis.fitted]
    fig = charts.km_figure(analysis, caption=CAPTION, presenter=presenter, caveat=f"Groups defined by {BIG}",
                           x_title=f"Months from {BIG}")
    assert_inert(fig, LINK, BIG)
    legend = [t.name for t in fig.data if t.meta.get("role") == "curve"]
    assert f"{plotly_text(LINK)} (n = 3)" in legend
    assert fig.layout.meta["caption"] == CAPTION                 # plain text for pages and exports
    narrow = charts.km_figure(analysis, caption=CAPTION, width_px=336)   # notes join the caption
    assert_inert(narrow, LINK)


def test_km_hover_template_cannot_be_filled_from_a_label(cohort) -> None:  # type: ignore[no-untyped-def]
    analysis = estimate_survival(cohort, FilterSpec(), "os", by="centre")
    curve = analysis.fitted[0]
    forged = type(analysis)(**{**analysis.__dict__, "curves": (type(curve)(**{**curve.__dict__,
                                                                               "label": "%{customdata[2]}"}),)})
    (step,) = [t for t in charts.km_figure(forged, caption="c").data if t.meta.get("role") == "curve"]
    assert "%{customdata[2]}" not in step.hovertemplate.split("<br>")[0]


def test_km_reasons_in_the_nothing_to_draw_message() -> None:
    from core.survival import SurvivalAnalysis

    empty = SurvivalAnalysis(endpoint="os", title="Overall survival", definition="d", grouping="centre",
                             curves=(TooFewPatients(what=f"Overall survival — {LINK}", n=1, needed=2),),
                             comparison=None, conf_level=0.95)
    assert_inert(charts.km_figure(empty, caption=CAPTION), LINK)


def test_forest_and_bars_with_a_styled_span_as_label() -> None:
    rows = [SubgroupRate("centre", BIG, BIG, proportion(BIG, 3, 5)),
            SubgroupRate("centre", LINK, LINK, TooFewPatients(what=f"CR/CRi — {LINK}", n=0, needed=1))]
    forest = charts.forest_figure(rows, proportion("CR/CRi", 3, 5), title=f"CR/CRi by {BIG}", caption=CAPTION,
                                  sections=[(BIG, rows)], axis_title=f"% {BIG}", overall_label=LINK)
    assert_inert(forest, BIG, LINK)
    assert f"<b>{plotly_text(BIG)}</b>" in forest.layout.yaxis.ticktext     # the chart's markup, around escaped text
    bars = charts.subgroup_bar_figure(rows, title=BIG, axis_title=BIG, caption=CAPTION)
    assert_inert(bars, BIG, LINK)
    assert plotly_text(BIG) in bars.layout.xaxis.ticktext


def test_swimmer_patient_id_centre_and_cause(cohort) -> None:  # type: ignore[no-untyped-def]
    listing = fetch_patient_listing(cohort, FilterSpec())
    events = fetch_slice_events(cohort, FilterSpec())
    for kwargs in ({}, {"colour_by": "centre", "group_by": "centre"}, {"presenter": True, "window_months": 1.0}):
        fig = charts.swimmer_figure(listing, events, caption=CAPTION, **kwargs)
        assert_inert(fig, PATIENT, LINK)
        assert plotly_text(PATIENT) in fig.layout.yaxis.ticktext
        hover = "".join(h for t in fig.data if t.meta.get("role") == "lane" for h in t.customdata)
        assert plotly_text(BIG) in hover                            # the cause of death, shown as text


def test_safety_charts_with_untrusted_causes(cohort) -> None:  # type: ignore[no-untyped-def]
    deaths = causes_of_death(cohort, FilterSpec())
    assert BIG in [c.cause for c in deaths.causes]
    assert_inert(charts.causes_of_death_figure(deaths, caption=CAPTION), BIG, LINK)
    assert_inert(charts.vod_timing_figure(vod_timing(cohort, FilterSpec()), caption=CAPTION), LINK)


def test_export_keeps_the_escaped_caption_escaped(cohort, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from core import export
    from core.provenance import slice_provenance

    fig = charts.km_figure(estimate_survival(cohort, FilterSpec(), "os", by="centre"), caption=CAPTION)
    stamped = export.with_provenance(fig, slice_provenance(FilterSpec(centres=(LINK,)), n_slice=7))
    assert_inert(stamped, LINK)

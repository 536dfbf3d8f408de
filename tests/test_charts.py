"""Chart builders checked by structure, not pixels: the traces a reader relies on, at the right places.

Inputs are built by hand (the result dataclasses, `fit_kaplan_meier` on small arrays) or from a
tiny cohort written by `tests/cohort_factory.py`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from core import charts
from core.contract import DAYS_PER_MONTH
from core.database import open_cohort
from core.filters import FilterSpec
from core.queries import fetch_patient_listing, fetch_slice_events
from core.response import ResponseComposition, SubgroupRate, cr_cri_rate, cr_cri_rate_by
from core.results import ProportionEstimate, TooFewPatients, proportion
from core.safety import toxicity_by_hsct
from core.survival import GroupComparison, SurvivalAnalysis, SurvivalCurve, estimate_survival, fit_kaplan_meier
from tests.cohort_factory import TinyPatient, write_tiny_cohort

CAPTION = "Salvage 2–3 · blasts ≥ 50% · n = 11 of 32 · Reconstructed cohort — not real patient data"


# ------------------------------------------------------------------------------------------ helpers
def font_sizes(fig: go.Figure) -> Iterator[tuple[str, float]]:
    """Every font size a reader sees; unset sizes inherit layout.font.size."""
    layout = fig.layout
    base = layout.font.size
    yield "layout.font", base
    yield "title", layout.title.font.size or base
    yield "legend", layout.legend.font.size or base
    yield "hoverlabel", layout.hoverlabel.font.size or base
    for name in dir(layout):
        if name.startswith(("xaxis", "yaxis")) and layout[name] is not None and hasattr(layout[name], "tickfont"):
            yield f"{name}.tickfont", layout[name].tickfont.size or base
            yield f"{name}.title", layout[name].title.font.size or base
    for a in layout.annotations:
        yield f"annotation {a.name}", a.font.size or base
    for t in fig.data:
        if getattr(t, "text", None) is not None or getattr(t, "mode", None) == "text":
            yield f"trace {t.name or t.meta}", t.textfont.size or base


def traces(fig: go.Figure, role: str) -> list:
    return [t for t in fig.data if isinstance(t.meta, dict) and t.meta.get("role") == role]


def annotation(fig: go.Figure, name: str):  # type: ignore[no-untyped-def]
    found = [a for a in fig.layout.annotations if a.name == name]
    assert found, f"no annotation named {name!r}"
    return found[0]


def assert_captioned(fig: go.Figure, caption: str, n: int) -> None:
    assert fig.layout.meta == {"caption": caption, "n": n}
    stamp = annotation(fig, "caption")
    assert stamp.xref == "paper" and stamp.yref == "paper" and stamp.y == 0 and stamp.yanchor == "top"
    for part in caption.split(" · "):
        assert part in stamp.text
    assert fig.layout.margin.b >= stamp.font.size * 1.4 * (stamp.text.count("<br>") + 1)


def rate(label: str, k: int, n: int) -> SubgroupRate:
    return SubgroupRate(grouping="salvage_line", value=label, label=label, rate=proportion(label, k, n))


# ------------------------------------------------------------------------------------------ style
def test_chart_style_sizes_palette_and_encodings() -> None:
    normal, big = charts.chart_style(False), charts.chart_style(True)
    assert 12 <= normal.base_size <= 13 and normal.title_size > normal.base_size
    assert big.base_size >= 18 and big.title_size > big.base_size
    assert min(big.tick_size, big.legend_size, big.annotation_size, big.table_size, big.caption_size) >= 18
    assert big.text_colour == "#000000" and big.background == "#FFFFFF"
    assert set(normal.palette) <= set(charts.OKABE_ITO.values())
    # redundant encodings: no two of the first groups share a dash or a symbol
    assert len({normal.dash(i) for i in range(5)}) == 5 and len({normal.symbol(i) for i in range(5)}) == 5
    assert charts.SPARSE_DASH not in normal.dashes
    with pytest.raises(dataclasses.FrozenInstanceError):
        normal.base_size = 30  # type: ignore[misc]


def test_apply_style_raises_small_fonts_in_presenter_mode() -> None:
    fig = go.Figure(go.Scatter(x=[1], y=[1], text=["a"], mode="text", textfont=dict(size=8)))
    fig.add_annotation(text="tiny", font=dict(size=9))
    charts.apply_style(fig, charts.chart_style(True))
    assert all(size >= 18 for _, size in font_sizes(fig))
    assert fig.layout.template.layout.paper_bgcolor is not None  # plotly_white applied


# ------------------------------------------------------------------------------------------ forest
def test_forest_markers_whiskers_reference_and_texts() -> None:
    rows = [rate("Salvage 1", 8, 10), rate("Salvage 2", 5, 12), rate("Salvage 3", 0, 4),
            SubgroupRate("salvage_line", 4, "Salvage 4", TooFewPatients(what="Salvage 4", n=0, needed=1))]
    overall = proportion("CR/CRi", 13, 26)
    assert isinstance(overall, ProportionEstimate)
    fig = charts.forest_figure(rows, overall, title="CR/CRi by salvage line", caption=CAPTION)

    (subgroups,) = traces(fig, "subgroup")
    fitted = [r.rate for r in rows if isinstance(r.rate, ProportionEstimate)]
    assert len(subgroups.x) == 3
    for x, lo_minus, hi_plus, p in zip(subgroups.x, subgroups.error_x.arrayminus, subgroups.error_x.array, fitted):
        assert x == pytest.approx(100 * p.estimate)
        assert x - lo_minus == pytest.approx(100 * p.lower)
        assert x + hi_plus == pytest.approx(100 * p.upper)
    # rows keep the given (clinical) order, top to bottom, under "All patients"
    labels = [t.replace("<b>", "").replace("</b>", "") for t in fig.layout.yaxis.ticktext]
    assert labels == ["All patients", "Salvage 1", "Salvage 2", "Salvage 3", "Salvage 4"]
    assert list(fig.layout.yaxis.tickvals) == sorted(fig.layout.yaxis.tickvals, reverse=True)

    (overall_trace,) = traces(fig, "overall")
    assert overall_trace.x[0] == pytest.approx(50.0) and overall_trace.y[0] == fig.layout.yaxis.tickvals[0]
    (reference,) = [s for s in fig.layout.shapes if s.name == "overall-reference"]
    assert reference.line.dash == "dash" and reference.x0 == reference.x1 == pytest.approx(50.0)

    counts = [a.text.replace("<b>", "").replace("</b>", "") for a in fig.layout.annotations if a.name == "forest-count"]
    assert counts == ["13/26", "8/10", "5/12", "0/4", "—"]
    cis = [a.text for a in fig.layout.annotations if a.name == "forest-ci"]
    assert cis[1] == "80.0 (44.4–97.5)"
    too_few = annotation(fig, "forest-too-few")
    assert "—" in too_few.text and "no patients in this slice" in too_few.text

    assert fig.layout.xaxis.range == (0, 100)
    assert fig.layout.xaxis.title.text == "CR/CRi, % (95% CI, Clopper–Pearson)"
    assert_captioned(fig, CAPTION, 26)


def test_forest_sections_add_headers_and_overall_too_few() -> None:
    sections = [("Salvage line", [rate("Salvage 1", 1, 2), rate("Salvage 2", 2, 3)]),
                ("Blast burden", [rate("Blasts < 50%", 1, 1)])]
    overall = TooFewPatients(what="CR/CRi", n=0, needed=1)
    fig = charts.forest_figure([], overall, title="CR/CRi", caption=CAPTION, sections=sections,
                               axis_title="MRD negativity, %")
    # labels are plain text, escaped once: "<" reaches plotly as "&lt;" (and is shown as "<")
    assert list(fig.layout.yaxis.ticktext) == ["<b>All patients</b>", "<b>Salvage line</b>", "Salvage 1",
                                                "Salvage 2", "<b>Blast burden</b>", "Blasts &lt; 50%"]
    assert traces(fig, "overall") == []
    assert not [s for s in fig.layout.shapes if s.name == "overall-reference"]
    assert len(traces(fig, "subgroup")[0].x) == 3
    assert fig.layout.xaxis.title.text == "MRD negativity, %"
    assert fig.layout.meta["n"] == 0


# ------------------------------------------------------------------------------------------ Kaplan–Meier
def small_curve(label: str = "All patients", shift: float = 0.0) -> SurvivalCurve:
    # 8 patients: events at 1, 2, 4, 5, 7 months; censored at 3, 6, 9
    durations = [1, 2, 3, 4, 5, 6, 7, 9]
    events = [True, True, False, True, True, False, True, False]
    curve = fit_kaplan_meier([d + shift for d in durations], events, label=label,
                             table_months=(0.0, 3.0, 6.0, 9.0))
    assert isinstance(curve, SurvivalCurve)
    return curve


def analysis(*curves: SurvivalCurve | TooFewPatients, comparison: GroupComparison | None = None,
             endpoint: str = "os") -> SurvivalAnalysis:
    return SurvivalAnalysis(endpoint=endpoint, title="Overall survival", definition="test", grouping="x",
                            curves=tuple(curves), comparison=comparison, conf_level=0.95)


def test_km_steps_censor_marks_ci_median_and_at_risk_table() -> None:
    curve = small_curve()
    fig = charts.km_figure(analysis(curve), caption=CAPTION)

    (step,) = traces(fig, "curve")
    assert step.line.shape == "hv"
    assert step.x[0] == 0 and step.y[0] == 1.0
    assert step.name == "All patients (n = 8)"
    assert all(a >= b for a, b in zip(step.y, step.y[1:]))              # never rises
    # fewer than 5 at risk from some time on: the rest is drawn dashed, starting where the solid part ends
    (tail,) = traces(fig, "curve_sparse")
    assert tail.line.shape == "hv" and tail.line.dash == charts.SPARSE_DASH
    assert tail.x[0] == step.x[-1] == curve.sparse_from() and tail.y[0] == step.y[-1]

    (censor,) = traces(fig, "censor")
    assert list(censor.x) == list(curve.censor_times)
    assert list(censor.y) == pytest.approx([0.75, 0.45, 0.225])          # S(t) on the curve at 3, 6, 9

    upper, lower = traces(fig, "ci_upper")[0], traces(fig, "ci_lower")[0]
    assert lower.fill == "tonexty" and upper.line.shape == lower.line.shape == "hv"
    assert lower.name == "95% CI, log(−log)" and lower.showlegend

    median_shapes = [s for s in fig.layout.shapes if (s.name or "").startswith("median")]
    assert {(s.x0, s.x1, s.y0, s.y1) for s in median_shapes} == {(0, 5.0, 0.5, 0.5), (5.0, 5.0, 0, 0.5)}
    assert all(s.line.dash == "dot" for s in median_shapes)
    assert f"median {curve.median.format()}" in annotation(fig, "km-medians").text.replace("<br>", " ")

    table = {t.meta["kind"]: t for t in traces(fig, "at_risk_table")}
    assert set(table) == {"At risk", "Events", "Censored"}
    assert list(table["At risk"].x) == list(curve.at_risk_table.months) == list(fig.layout.xaxis.tickvals)
    assert [int(v) for v in table["At risk"].text] == list(curve.at_risk_table.at_risk) == [8, 6, 3, 1]
    assert [int(v) for v in table["Events"].text] == list(curve.at_risk_table.events)
    assert [int(v) for v in table["Censored"].text] == list(curve.at_risk_table.censored)
    assert all(t.xaxis == "x2" and t.yaxis == "y2" for t in table.values())
    assert fig.layout.xaxis2.matches == "x" or fig.layout.xaxis.matches == "x2"       # shared time axis
    assert list(fig.layout.yaxis2.ticktext) == ["At risk", "Events", "Censored"]

    assert fig.layout.xaxis.title.text == "Months since first InO dose"
    assert fig.layout.yaxis.title.text == "Survival probability"
    assert_captioned(fig, CAPTION, 8)


def test_km_groups_get_colour_dash_legend_n_table_rows_and_comparison_note() -> None:
    a, b = small_curve("Salvage 1"), small_curve("Salvage 2", shift=2.0)
    comparison = GroupComparison(statistic=1.234, p_value=0.2667, degrees_of_freedom=1, suppressed_reason=None)
    fig = charts.km_figure(analysis(a, b, TooFewPatients("Salvage 3", 1, 2), comparison=comparison),
                           caption=CAPTION, show_ci=False)
    steps = traces(fig, "curve")
    assert [t.name for t in steps] == ["Salvage 1 (n = 8)", "Salvage 2 (n = 8)"]
    assert len({t.line.color for t in steps}) == 2 and len({t.line.dash for t in steps}) == 2
    assert not traces(fig, "ci_lower")
    assert len(traces(fig, "at_risk_table")) == 6
    labels = list(fig.layout.yaxis2.ticktext)
    assert "Salvage 1" in labels[0] and "Salvage 2" in labels[4]
    note = annotation(fig, "km-medians").text.replace("<br>", " ")
    assert "exploratory" in note.lower() and "p = 0.267" in note
    assert "Not drawn" in note and "Salvage 3" in note
    assert fig.layout.meta["n"] == 16


def test_km_suppressed_comparison_dor_axis_and_max_months() -> None:
    comparison = GroupComparison(None, None, None, "group 4 has 2 patients (at least 5 per group needed)")
    fig = charts.km_figure(analysis(small_curve(), comparison=comparison, endpoint="dor"), caption=CAPTION,
                           max_months=6)
    assert "not shown: group 4 has 2 patients" in annotation(fig, "km-medians").text.replace("<br>", " ")
    assert fig.layout.xaxis.title.text == "Months since first CR/CRi"
    assert fig.layout.xaxis.range == (0, 6.0)
    assert list(fig.layout.xaxis.tickvals) == [0.0, 3.0, 6.0]
    table = {t.meta["kind"]: t for t in traces(fig, "at_risk_table")}
    assert list(table["At risk"].x) == [0.0, 3.0, 6.0]
    assert max(traces(fig, "censor")[0].x) <= 6


def test_km_for_a_journal_column_keeps_every_label_readable() -> None:
    # 3.5 in = 336 px: 72 months of follow-up would give 25 three-monthly columns of numbers at risk
    long = fit_kaplan_meier([1, 2, 4, 5, 7, 12, 30, 72], [True, True, True, True, True, False, False, False],
                            label="Salvage 1")
    other = fit_kaplan_meier([2, 3, 5, 8, 40], [True, True, True, False, False], label="Salvage 2")
    assert isinstance(long, SurvivalCurve) and isinstance(other, SurvivalCurve)
    wide = charts.km_figure(analysis(long, other), caption=CAPTION)
    narrow = charts.km_figure(analysis(long, other), caption=CAPTION, width_px=336)

    assert len(narrow.layout.xaxis.tickvals) <= 5 < len(long.at_risk_table.months)
    for fig in (wide, narrow):       # numbers at risk stand under labelled ticks only
        for trace in traces(fig, "at_risk_table"):
            assert set(trace.x) <= set(fig.layout.xaxis.tickvals)
    # the medians box would cover the curves at this width: the medians move under the table
    assert not [a for a in narrow.layout.annotations if a.name == "km-medians"]
    stamp = annotation(narrow, "caption").text.replace("<br>", " ")
    assert f"Salvage 1: median {long.median.format()}" in stamp
    assert narrow.layout.meta == {"caption": CAPTION, "n": 13}
    assert all(part in stamp for part in CAPTION.split(" · "))
    heading = annotation(narrow, "km-table-heading")
    plot_px = 336 - narrow.layout.margin.l - narrow.layout.margin.r
    assert charts._text_px(heading.text, heading.font.size) <= plot_px + narrow.layout.margin.r
    # journal type: nothing under 10 px (7.5 pt), nothing above the dashboard's sizes
    sizes = dict(font_sizes(narrow))
    assert min(sizes.values()) >= 10 and max(sizes.values()) <= 12


def test_km_without_fitted_curves_is_a_message_not_an_error() -> None:
    empty = analysis(TooFewPatients(what="Overall survival — Salvage 5", n=1, needed=2))
    fig = charts.km_figure(empty, caption=CAPTION, presenter=True)
    message = annotation(fig, "message")
    assert message.x == 0.5 and message.y == 0.5
    assert "Salvage 5: 1 patient in this slice; at least 2 needed" in message.text
    assert not fig.data
    assert_captioned(fig, CAPTION, 1)
    fig = charts.km_figure(analysis(), caption=CAPTION)
    assert "no patients" in annotation(fig, "message").text


# ------------------------------------------------------------------------------------------ other figures
def test_composition_bar_counts_and_percentages() -> None:
    comp = ResponseComposition(n=32, cr=14, cri=7, no_response=5, not_evaluable=6)
    fig = charts.composition_figure(comp, caption=CAPTION)
    bars = traces(fig, "composition")
    assert [t.meta["category"] for t in bars] == ["CR", "CRi", "No response", "Not evaluable"]
    assert sum(t.x[0] for t in bars) == pytest.approx(100)
    assert bars[0].x[0] == pytest.approx(43.75) and "14 (43.8%)" in bars[0].text[0]
    assert fig.layout.barmode == "stack"
    assert_captioned(fig, CAPTION, 32)
    empty = charts.composition_figure(ResponseComposition(0, 0, 0, 0, 0), caption=CAPTION)
    assert "no patients" in annotation(empty, "message").text


def test_subgroup_bars_whiskers_and_labels() -> None:
    rows = [rate("Salvage 1", 1, 10), rate("Salvage 2", 3, 6),
            SubgroupRate("salvage_line", 3, "Salvage 3", TooFewPatients("VOD — Salvage 3", 0, 1))]
    fig = charts.subgroup_bar_figure(rows, title="VOD by salvage line", axis_title="VOD, % (95% CI)",
                                     caption=CAPTION)
    (bars,) = traces(fig, "subgroup_bars")
    assert list(bars.y) == pytest.approx([10.0, 50.0])
    p = rows[1].rate
    assert isinstance(p, ProportionEstimate)
    assert bars.y[1] + bars.error_y.array[1] == pytest.approx(100 * p.upper)
    (labels,) = traces(fig, "subgroup_labels")
    assert labels.text[0] == "1/10<br>10.0%" and labels.text[2].startswith("—")
    assert fig.layout.yaxis.title.text == "VOD, % (95% CI)"
    assert_captioned(fig, CAPTION, 16)


# ------------------------------------------------------------------------------------------ tiny cohort
PEOPLE = [
    TinyPatient("P01", salvage_line=1, response="CR", mrd="negative", hsct_day=90, death_day=300,
                cause="relapse", relapse_day=250, n_cycles=2, aes=(("VOD", 3, 100),)),
    TinyPatient("P02", salvage_line=2, response="CRi", mrd="positive", last_contact_day=500),
    TinyPatient("P03", salvage_line=2, response="NR", mrd=None, death_day=60, cause="progression of disease"),
    TinyPatient("P04", salvage_line=3, response=None, last_contact_day=120, lost=True),
    TinyPatient("P05", salvage_line=1, response="CR", mrd="negative", n_cycles=3, last_contact_day=700),
    TinyPatient("P06", salvage_line=3, response="CR", death_day=200, cause="septic shock",
                aes=(("thrombocytopenia", 3, 10),)),
]


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    path = write_tiny_cohort(tmp_path_factory.mktemp("charts") / "t.duckdb", PEOPLE)
    c = open_cohort(path)
    yield c
    c.close()


def test_swimmer_lanes_markers_and_sorting(cohort) -> None:  # type: ignore[no-untyped-def]
    listing = fetch_patient_listing(cohort, FilterSpec())
    events = fetch_slice_events(cohort, FilterSpec())
    fig = charts.swimmer_figure(listing, events, caption=CAPTION)

    lanes = traces(fig, "lane")
    lane_patients = [p for t in lanes for p in t.meta["patients"]]
    assert sorted(lane_patients) == [p.patient_id for p in PEOPLE]          # one lane per patient
    lengths = {p: x for t in lanes for p, x in zip(t.meta["patients"], t.x)}
    assert lengths["P03"] == pytest.approx(60 / DAYS_PER_MONTH)
    assert lengths["P05"] == pytest.approx(700 / DAYS_PER_MONTH)
    assert {t.meta["best_response"] for t in lanes} == {"CR", "CRi", "NR", "not evaluable"}

    (deaths,) = traces(fig, "death")
    assert sorted(deaths.meta["patients"]) == ["P01", "P03", "P06"]          # a death marker per dead patient
    assert deaths.marker.symbol == "x"
    assert traces(fig, "alive")[0].meta["patients"] == ["P05", "P02"]
    assert traces(fig, "lost")[0].meta["patients"] == ["P04"]
    assert traces(fig, "alive")[0].marker.symbol == "triangle-right"
    assert traces(fig, "lost")[0].marker.symbol != "triangle-right"
    assert traces(fig, "hsct")[0].meta["patients"] == ["P01"]
    assert traces(fig, "vod")[0].meta["patients"] == ["P01"]
    assert traces(fig, "relapse")[0].meta["patients"] == ["P01"]
    assert sorted(traces(fig, "mrd")[0].meta["patients"]) == ["P01", "P05", "P06"]
    cycles = traces(fig, "cycle")[0]
    assert len(cycles.x) == sum(p.n_cycles for p in PEOPLE)
    # every marker type has a legend entry
    named = {t.name for t in fig.data if t.showlegend is not False}
    assert {"Death", "HSCT", "VOD", "Relapse", "MRD negative (first)", "CR/CRi (first)", "InO cycle start",
            "Alive at last contact", "Lost to follow-up"} <= named

    # default sort: longest follow-up on top (highest y)
    assert list(fig.layout.yaxis.ticktext) == ["P05", "P02", "P01", "P06", "P04", "P03"]
    hover = next(h for t in lanes for p, h in zip(t.meta["patients"], t.customdata) if p == "P01")
    for fact in ("Age 40 y", "Salvage line 1", "blasts 60%", "2 cycle(s)", "Best response CR", "HSCT yes",
                 "died on day 300 (relapse)"):
        assert fact in hover
    assert_captioned(fig, CAPTION, 6)

    by_id = charts.swimmer_figure(listing, events, caption=CAPTION, sort_by="patient_id")
    assert list(by_id.layout.yaxis.ticktext) == ["P01", "P02", "P03", "P04", "P05", "P06"]
    by_response = charts.swimmer_figure(listing, events, caption=CAPTION, sort_by="best_response")
    assert list(by_response.layout.yaxis.ticktext)[-1] == "P04"              # not evaluable last
    with pytest.raises(ValueError, match="cannot sort by 'shoe_size'"):
        charts.swimmer_figure(listing, events, caption=CAPTION, sort_by="shoe_size")
    assert "No patients" in annotation(charts.swimmer_figure(listing.iloc[0:0], events, caption=CAPTION),
                                       "message").text


def test_swimmer_tolerates_missing_values() -> None:
    listing = pd.DataFrame({
        "patient_id": ["A", "B"], "best_response": ["CR", None],
        "os_days": pd.array([100, None], dtype="Int64"), "os_event": pd.array([True, None], dtype="boolean"),
        "followup_status": [None, None], "hsct": pd.array([None, True], dtype="boolean")})
    events = pd.DataFrame({"patient_id": ["A", "B"], "event_type": ["hsct", "relapse"], "day": [50, 80]})
    fig = charts.swimmer_figure(listing, events, caption=CAPTION)
    lanes = {p: x for t in traces(fig, "lane") for p, x in zip(t.meta["patients"], t.x)}
    assert lanes == pytest.approx({"A": 100 / DAYS_PER_MONTH, "B": 80 / DAYS_PER_MONTH})  # B: last dated event
    assert traces(fig, "death")[0].meta["patients"] == ["A"]


def test_toxicity_and_cycles_from_a_tiny_cohort(cohort) -> None:  # type: ignore[no-untyped-def]
    table = toxicity_by_hsct(cohort, FilterSpec())
    fig = charts.toxicity_figure(table, caption=CAPTION)
    bars = traces(fig, "toxicity")
    assert [t.name for t in bars] == [f"HSCT (N = {table.n_hsct})", f"No HSCT (N = {table.n_no_hsct_evaluable})"]
    labels = traces(fig, "toxicity_labels")[0].text
    assert labels[0].strip() == "1/1 (100.0%)"                             # VOD after HSCT: P01
    assert list(fig.layout.yaxis.ticktext) == [r.label for r in table.rows]
    assert fig.layout.meta == {"caption": CAPTION, "n": 6}

    fig = charts.cycles_figure(fetch_patient_listing(cohort, FilterSpec()), caption=CAPTION)
    assert sum(sum(t.y) for t in traces(fig, "cycles")) == 4               # P01, P02, P05, P06


def test_engine_results_flow_into_figures(cohort) -> None:  # type: ignore[no-untyped-def]
    spec = FilterSpec()
    forest = charts.forest_figure(cr_cri_rate_by(cohort, spec, "salvage_line"), cr_cri_rate(cohort, spec),
                                  title="CR/CRi by salvage line", caption=CAPTION)
    assert len(traces(forest, "subgroup")[0].x) == 3
    km = charts.km_figure(estimate_survival(cohort, spec, "os", by="salvage_line", compare=True), caption=CAPTION)
    assert len(traces(km, "curve")) == 3
    assert "not shown" in annotation(km, "km-medians").text.replace("<br>", " ")                # groups of 2 patients


# ------------------------------------------------------------------------------------------ presenter mode
def every_figure(presenter: bool, cohort) -> dict[str, go.Figure]:  # type: ignore[no-untyped-def]
    spec = FilterSpec()
    listing = fetch_patient_listing(cohort, spec)
    rows = [rate("Salvage 1", 1, 10), SubgroupRate("x", 2, "Salvage 2", TooFewPatients("Salvage 2", 0, 1))]
    return {
        "forest": charts.forest_figure(rows, proportion("CR/CRi", 5, 10), title="CR/CRi", caption=CAPTION,
                                       presenter=presenter, sections=[("Blast burden", rows)]),
        "km": charts.km_figure(analysis(small_curve("A"), small_curve("B", 1.0)), caption=CAPTION,
                               presenter=presenter),
        "km_empty": charts.km_figure(analysis(), caption=CAPTION, presenter=presenter),
        "composition": charts.composition_figure(ResponseComposition(10, 4, 3, 2, 1), caption=CAPTION,
                                                 presenter=presenter),
        "toxicity": charts.toxicity_figure(toxicity_by_hsct(cohort, spec), caption=CAPTION, presenter=presenter),
        "bars": charts.subgroup_bar_figure(rows, title="VOD", axis_title="VOD, %", caption=CAPTION,
                                           presenter=presenter),
        "swimmer": charts.swimmer_figure(listing, fetch_slice_events(cohort, spec), caption=CAPTION,
                                         presenter=presenter),
        "cycles": charts.cycles_figure(listing, caption=CAPTION, presenter=presenter),
    }


@pytest.fixture(scope="module")
def figures(cohort) -> dict[bool, dict[str, go.Figure]]:  # type: ignore[no-untyped-def]
    return {presenter: every_figure(presenter, cohort) for presenter in (False, True)}


def test_presenter_mode_has_no_font_below_18pt(figures) -> None:  # type: ignore[no-untyped-def]
    for name, fig in figures[True].items():
        small = [(where, size) for where, size in font_sizes(fig) if size is None or size < 18]
        assert not small, f"{name}: {small}"
        assert fig.layout.font.color == "#000000" and fig.layout.paper_bgcolor == "#FFFFFF"
        assert fig.layout.meta["caption"] == CAPTION


def test_every_figure_is_stamped_and_sized(figures) -> None:  # type: ignore[no-untyped-def]
    normal, big = figures[False], figures[True]
    for name, fig in normal.items():
        assert fig.layout.meta["caption"] == CAPTION, name
        assert annotation(fig, "caption").font.size < 18, name
        assert fig.layout.title.text, name
        assert fig.layout.template.layout.plot_bgcolor is not None, name
        # presenter type is larger, so the figure is taller, unless it was fitted under the height a
        # tumour-board screen shows without scrolling
        fitted = big[name].layout.height <= charts.PRESENTER_MAX_HEIGHT
        assert fig.layout.height and (big[name].layout.height > fig.layout.height or fitted), name
        assert math.isfinite(fig.layout.margin.b) and fig.layout.margin.b > 30, name
        fig.to_json()                                                      # serialisable for st.plotly_chart


def test_png_export_when_kaleido_is_installed(tmp_path: Path) -> None:
    pytest.importorskip("kaleido")
    km = charts.km_figure(analysis(small_curve()), caption=CAPTION)
    forest = charts.forest_figure([rate("Salvage 1", 3, 5)], proportion("CR/CRi", 3, 5), title="CR/CRi",
                                  caption=CAPTION)
    for name, fig in (("km", km), ("forest", forest)):
        try:
            fig.write_image(tmp_path / f"{name}.png", width=1000)
        except Exception as exc:  # kaleido present but no browser to drive
            pytest.skip(f"kaleido could not render: {exc}")
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000

"""How charts use their space: the Kaplan–Meier time axis and KMunicate table, the swimmer plot's
window, markers, colours and pages, the safety views of VOD timing and causes of death, and the
presenter-mode height a tumour-board screen shows without scrolling. Checked by structure."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import charts
from core.charts.risk_table import table_value, time_ticks
from core.charts.swimmer import LANES_PER_PAGE, _spread
from core.contract import DAYS_PER_MONTH
from core.database import open_cohort
from core.filters import FilterSpec
from core.queries import fetch_patient_listing, fetch_slice_events, fetch_vod_timing
from core.results import ProportionEstimate
from core.safety import VOD_AFTER_HSCT, VOD_BEFORE_HSCT, VOD_WITHOUT_HSCT, causes_of_death, vod_timing
from core.survival import SurvivalAnalysis, SurvivalCurve, fit_kaplan_meier
from tests.cohort_factory import TinyPatient, write_tiny_cohort
from tests.test_charts import CAPTION, analysis, annotation, font_sizes, small_curve, traces

ROOT = Path(__file__).resolve().parent.parent


def curve(label: str, durations: list[float], events: list[bool], table_months: tuple[float, ...] | None = None
          ) -> SurvivalCurve:
    fitted = fit_kaplan_meier(durations, events, label=label, table_months=table_months)
    assert isinstance(fitted, SurvivalCurve)
    return fitted


# ------------------------------------------------------------------------------------------ time axis
@pytest.mark.parametrize(("extent", "most", "ticks", "end"), [
    (9.0, 10, [0, 3, 6, 9], 9.0),                      # ends on a tick: no rounding
    (9.4, 10, [0, 3, 6, 9, 12], 12.0),                 # rounded up to the next tick
    (72.3, 10, [0, 12, 24, 36, 48, 60, 72, 84], 84.0),  # 3- and 6-monthly would give more than 10 ticks
    (72.0, 5, [0, 24, 48, 72], 72.0),                  # a journal column: at most 5 ticks
    (0.4, 10, [0, 3], 3.0),
])
def test_time_ticks_end_at_the_follow_up_rounded_up(extent: float, most: int, ticks: list[float], end: float) -> None:
    assert time_ticks(extent, most=most) == (ticks, end)


def test_time_ticks_with_a_horizon_stop_at_it() -> None:
    assert time_ticks(9.0, horizon=24) == ([0, 3, 6, 9, 12, 15, 18, 21, 24], 24.0)
    assert time_ticks(72.0, horizon=20) == ([0, 3, 6, 9, 12, 15, 18], 20.0)


def test_km_axis_ends_at_the_slice_follow_up_not_at_a_fixed_horizon() -> None:
    short = curve("Salvage 3", [1, 2, 3, 4, 5, 6, 7, 9.4], [True] * 5 + [False] * 3, table_months=(0, 3, 6, 9))
    fig = charts.km_figure(analysis(short), caption=CAPTION)
    assert fig.layout.xaxis.range == (0, 12.0)
    assert list(fig.layout.xaxis.tickvals) == [0, 3, 6, 9, 12]
    table = {t.meta["kind"]: t for t in traces(fig, "at_risk_table")}
    # the same ticks for the curve and the table; past the table's last time and the follow-up,
    # nobody is at risk and every event and censoring is counted
    for kind, row in table.items():
        assert list(row.x) == list(fig.layout.xaxis.tickvals), kind
    assert [int(v) for v in table["At risk"].text][-1] == 0
    assert [int(v) for v in table["Events"].text][-1] == short.events == 5
    assert [int(v) for v in table["Censored"].text][-1] == short.censored == 3
    # an explicit horizon is still honoured
    wide = charts.km_figure(analysis(short), caption=CAPTION, max_months=24)
    assert wide.layout.xaxis.range == (0, 24.0) and max(wide.layout.xaxis.tickvals) == 24


def test_table_value_is_none_between_table_times_within_follow_up() -> None:
    c = small_curve()
    assert table_value(c, "At risk", 3.0) == 6 and table_value(c, "At risk", 4.5) is None
    assert table_value(c, "Censored", 30.0) == 3


def test_kmunicate_rows_per_group_and_group_keys() -> None:
    a, b = small_curve("Salvage 1"), small_curve("Salvage 2", 1.0)
    fig = charts.km_figure(analysis(a, b), caption=CAPTION)
    labels = list(fig.layout.yaxis2.ticktext)
    assert labels == ["<b>Salvage 1</b>", "At risk", "Events", "Censored",
                      "<b>Salvage 2</b>", "At risk", "Events", "Censored"]
    keys = [s for s in fig.layout.shapes if (s.name or "").startswith("km-table-key-")]
    steps = traces(fig, "curve")
    assert [(k.line.color, k.line.dash) for k in keys] == [(t.line.color, t.line.dash) for t in steps]
    # presenter: the group's name on its At risk row (three rows a group, not four)
    big = charts.km_figure(analysis(a, b), caption=CAPTION, presenter=True)
    assert len(big.layout.yaxis2.ticktext) == 6 and "Salvage 2" in big.layout.yaxis2.ticktext[3]
    assert {t.meta["kind"] for t in traces(big, "at_risk_table")} == {"At risk", "Events", "Censored"}


def test_ci_bands_under_every_curve_translucent_with_visible_edges() -> None:
    a, b = small_curve("Salvage 1"), small_curve("Salvage 2", 1.0)
    fig = charts.km_figure(analysis(a, b), caption=CAPTION)
    roles = [t.meta.get("role") for t in fig.data]
    last_band = max(i for i, r in enumerate(roles) if r in ("ci_upper", "ci_lower"))
    assert last_band < roles.index("curve")                      # no band drawn over a curve
    for band in traces(fig, "ci_lower"):
        alpha = float(band.fillcolor.rstrip(")").split(",")[-1])
        assert 0 < alpha <= 0.15
    for edge in traces(fig, "ci_upper") + traces(fig, "ci_lower"):
        assert edge.line.width > 0 and edge.line.color.startswith("rgba(")   # overlapping bands stay apart


def test_caveat_and_axis_title_are_stamped_in_the_figure() -> None:
    caveat = "Biased by immortal time: the groups are defined by HSCT, known only after the first dose."
    plain = charts.km_figure(analysis(small_curve()), caption=CAPTION)
    fig = charts.km_figure(analysis(small_curve()), caption=CAPTION, caveat=caveat,
                           x_title="Months since the 3-month landmark")
    stamp = annotation(fig, "km-caveat")
    assert stamp.text.replace("<br>", " ").startswith("⚠ Biased by immortal time")
    assert stamp.font.color == charts.WARNING_COLOUR and stamp.yref == "paper" and stamp.y == 1
    assert stamp.yanchor == "bottom"                               # above the plot
    assert fig.layout.margin.t > plain.layout.margin.t            # room made for it, nothing covered
    assert fig.layout.xaxis.title.text == "Months since the 3-month landmark"
    assert not [a for a in plain.layout.annotations if a.name == "km-caveat"]
    from core.export import with_provenance
    from core.provenance import slice_provenance

    exported = with_provenance(fig, slice_provenance(FilterSpec(), n_slice=8))
    assert annotation(exported, "km-caveat").text == stamp.text    # every image carries it


# ------------------------------------------------------------------------------------------ presenter height
@pytest.mark.parametrize(("groups", "caveat", "most_px"), [
    (1, None, charts.PRESENTER_MAX_HEIGHT), (1, "Biased by immortal time.", charts.PRESENTER_MAX_HEIGHT),
    (2, None, charts.PRESENTER_MAX_HEIGHT), (2, "Biased by immortal time.", charts.PRESENTER_MAX_HEIGHT),
    (3, None, charts.PRESENTER_MAX_HEIGHT),
    (3, "Biased by immortal time.", 680),     # nine table rows and a warning: still inside 768 px
])
def test_presenter_km_with_its_table_fits_a_tumour_board_screen(groups: int, caveat: str | None,
                                                                 most_px: int) -> None:
    curves = [small_curve(f"Salvage {i + 1}", 0.5 * i) for i in range(groups)]
    for fig in [charts.km_figure(analysis(*curves), caption=CAPTION, presenter=True, caveat=caveat)]:
        assert fig.layout.height <= most_px                              # 1366 × 768 and 1920 × 1080
        small = [(where, size) for where, size in font_sizes(fig) if size < 18]
        assert not small
        plot_px = fig.layout.height - fig.layout.margin.t - fig.layout.margin.b
        assert plot_px * (fig.layout.yaxis.domain[1] - fig.layout.yaxis.domain[0]) >= 190   # the curve stays readable


def test_presenter_cap_leaves_screen_charts_alone() -> None:
    screen = charts.km_figure(analysis(small_curve("A"), small_curve("B", 1.0)), caption=CAPTION)
    assert screen.layout.height > charts.PRESENTER_MAX_HEIGHT
    assert charts.chart_style(False).max_height_px is None


# ------------------------------------------------------------------------------------------ swimmer
PEOPLE = [
    TinyPatient("P01", salvage_line=1, response="CR", mrd="negative", hsct_day=90, death_day=300,
                cause="relapse", relapse_day=250, n_cycles=2, aes=(("VOD", 3, 100),)),
    TinyPatient("P02", salvage_line=2, response="CRi", mrd="positive", last_contact_day=500),
    TinyPatient("P03", salvage_line=2, response="NR", mrd=None, death_day=60, cause="progression of disease"),
    TinyPatient("P04", salvage_line=3, response=None, last_contact_day=120, lost=True, relapse_day=118),
    TinyPatient("P05", salvage_line=1, response="CR", mrd="negative", n_cycles=3, last_contact_day=700),
    TinyPatient("P06", salvage_line=3, response="CR", death_day=200, cause="septic shock", hsct_day=150,
                aes=(("thrombocytopenia", 3, 10), ("VOD", 3, 140))),
]


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    c = open_cohort(write_tiny_cohort(tmp_path_factory.mktemp("presentation") / "t.duckdb", PEOPLE))
    yield c
    c.close()


@pytest.fixture(scope="module")
def slice_rows(cohort) -> tuple[pd.DataFrame, pd.DataFrame]:  # type: ignore[no-untyped-def]
    return fetch_patient_listing(cohort, FilterSpec()), fetch_slice_events(cohort, FilterSpec())


def test_swimmer_window_defaults_to_the_90th_percentile_of_follow_up(slice_rows) -> None:  # type: ignore[no-untyped-def]
    listing, events = slice_rows
    ends = listing["os_days"] / DAYS_PER_MONTH
    _, expected = time_ticks(float(np.percentile(ends, 90)), most=12)
    fig = charts.swimmer_figure(listing, events, caption=CAPTION)
    (beyond,) = traces(fig, "continues")
    assert beyond.meta["window_months"] == expected < ends.max()
    assert beyond.meta["patients"] == ["P05"]                          # the one lane longer than the window
    assert beyond.text[0].strip() == f"{700 / DAYS_PER_MONTH:.0f} mo"
    assert fig.layout.xaxis.range[1] == pytest.approx(expected * 1.02)
    assert "Continues beyond" in beyond.name
    everything = charts.swimmer_figure(listing, events, caption=CAPTION, window_months=math.inf)
    assert not traces(everything, "continues")
    assert everything.layout.xaxis.range[1] >= ends.max()
    short = charts.swimmer_figure(listing, events, caption=CAPTION, window_months=6)
    assert sorted(traces(short, "continues")[0].meta["patients"]) == sorted(listing.loc[ends > 6, "patient_id"])


def test_swimmer_markers_on_a_lane_do_not_cover_each_other(slice_rows) -> None:  # type: ignore[no-untyped-def]
    assert _spread([("a", 1.0)], 0.5) == [0.0]
    above, below = _spread([("relapse", 3.9), ("lost", 3.95)], 0.5)
    assert above > 0 > below                                            # relapse over lost to follow-up, apart
    three = _spread([("response", 1.0), ("mrd", 1.0), ("hsct", 1.1)], 0.5)
    assert len(set(three)) == 3
    listing, events = slice_rows
    fig = charts.swimmer_figure(listing, events, caption=CAPTION, window_months=math.inf)
    placed: dict[str, list[tuple[float, float]]] = {}
    for t in fig.data:
        if t.meta.get("role") in ("response", "mrd", "hsct", "vod", "relapse", "death", "alive", "lost"):
            for p, x, y in zip(t.meta["patients"], t.x, t.y):
                placed.setdefault(p, []).append((x, y))
    relapse_then_lost = sorted(placed["P04"])                           # relapse 2 days before loss to follow-up
    assert relapse_then_lost[0][1] != relapse_then_lost[1][1]


def test_swimmer_colour_and_group_by_a_variable(slice_rows) -> None:  # type: ignore[no-untyped-def]
    listing, events = slice_rows
    fig = charts.swimmer_figure(listing, events, caption=CAPTION, colour_by="salvage_line", group_by="salvage_line")
    lanes = traces(fig, "lane")
    assert [t.name for t in lanes] == ["Salvage line: Salvage 1", "Salvage line: Salvage 2", "Salvage line: Salvage 3"]
    assert len({t.marker.line.color for t in lanes}) == 3
    ticks = list(fig.layout.yaxis.ticktext)
    assert ticks[:3] == ["<b>Salvage 1</b>", "P05", "P01"]              # a header, then its lanes by follow-up
    assert "<b>Salvage 3</b>" in ticks
    assert len([s for s in fig.layout.shapes if s.name == "swimmer-block-rule"]) == 2
    hsct = charts.swimmer_figure(listing, events, caption=CAPTION, colour_by="hsct")
    assert {t.name for t in traces(hsct, "lane")} == {"HSCT: HSCT", "HSCT: No HSCT"}
    with pytest.raises(ValueError, match="cannot colour by 'shoe_size'"):
        charts.swimmer_figure(listing, events, caption=CAPTION, colour_by="shoe_size")


def many_lanes(n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    days = np.concatenate([rng.integers(20, 250, n - 3), [2100, 2150, 2200]])
    listing = pd.DataFrame({"patient_id": [f"R{i:03d}" for i in range(n)],
                            "best_response": rng.choice(["CR", "CRi", "NR", None], n),
                            "os_days": days, "os_event": rng.random(n) < 0.6,
                            "followup_status": "alive at cut-off", "hsct": rng.random(n) < 0.3})
    events = pd.DataFrame({"patient_id": listing["patient_id"], "event_type": "relapse", "day": days // 2})
    return listing, events


@pytest.mark.parametrize("n", [32, 300])
def test_swimmer_pages_keep_lanes_readable(n: int) -> None:
    listing, events = many_lanes(n)
    first = charts.swimmer_figure(listing, events, caption=CAPTION)
    shown = len(traces(first, "lane")[0].meta["patients"]) + sum(len(t.meta["patients"]) for t in traces(first, "lane")[1:])
    assert shown == min(n, LANES_PER_PAGE)
    assert first.layout.meta["n"] == n
    lane_px = (first.layout.height - first.layout.margin.t - first.layout.margin.b) / (shown + 0.6)
    assert lane_px >= first.layout.yaxis.tickfont.size * 1.15           # tick labels do not overlap
    if n > LANES_PER_PAGE:
        assert "patients 1–60 of 300" in first.layout.title.text
        last = charts.swimmer_figure(listing, events, caption=CAPTION, page=5)
        assert "patients 241–300 of 300" in last.layout.title.text
        ids = [p for t in traces(last, "lane") for p in t.meta["patients"]]
        assert len(ids) == 60 and not set(ids) & {p for t in traces(first, "lane") for p in t.meta["patients"]}
        assert charts.swimmer_figure(listing, events, caption=CAPTION, page=99).layout.title.text.endswith("of 300")
    big = charts.swimmer_figure(listing, events, caption=CAPTION, presenter=True, lanes_per_page=15)
    assert big.layout.height <= charts.PRESENTER_MAX_HEIGHT
    assert all(size >= 18 for _, size in font_sizes(big))


# ------------------------------------------------------------------------------------------ safety views
def test_vod_timing_places_each_vod_before_or_after_hsct(cohort) -> None:  # type: ignore[no-untyped-def]
    timing = vod_timing(cohort, FilterSpec())
    by_id = {c.patient_id: c for c in timing.cases}
    assert set(by_id) == {"P01", "P06"}
    assert (by_id["P01"].timing, by_id["P01"].days_from_hsct, by_id["P01"].vod_day) == (VOD_AFTER_HSCT, 10, 100)
    assert (by_id["P06"].timing, by_id["P06"].days_from_hsct, by_id["P06"].hsct_day) == (VOD_BEFORE_HSCT, -10, 150)
    assert isinstance(timing.after_hsct, ProportionEstimate)
    assert (timing.after_hsct.count, timing.after_hsct.denominator) == (1, 2)
    assert timing.median_days_from_hsct() == 10 and timing.median_days_from_hsct(VOD_WITHOUT_HSCT) is None
    fig = charts.vod_timing_figure(timing, caption=CAPTION)
    assert {t.meta["timing"]: list(t.x) for t in traces(fig, "vod_timing")} == {VOD_AFTER_HSCT: [10],
                                                                               VOD_BEFORE_HSCT: [-10]}
    assert fig.layout.xaxis.range[0] < -10 and fig.layout.xaxis.range[1] > 10
    assert "1/2 (50.0%)" in fig.layout.yaxis.ticktext[0]
    assert fig.layout.meta == {"caption": CAPTION, "n": 2}
    empty = charts.vod_timing_figure(vod_timing(cohort, FilterSpec(salvage_lines=(2,))), caption=CAPTION)
    assert "No patient with VOD" in annotation(empty, "message").text


def test_the_papers_vod_after_hsct_five_of_seven() -> None:
    path = ROOT / "data" / "ino_cohort.duckdb"
    if not path.exists():
        pytest.skip("default cohort not built (python -m data.build_db)")
    c = open_cohort(path)
    try:
        timing = vod_timing(c, FilterSpec())                              # §4.3.7: 71.4% (n = 5) of 7
        assert (timing.n_vod, timing.count(VOD_AFTER_HSCT)) == (7, 5)
        assert len(fetch_vod_timing(c, FilterSpec())) == 7
    finally:
        c.close()


def test_causes_of_death_chart_splits_by_hsct(cohort) -> None:  # type: ignore[no-untyped-def]
    deaths = causes_of_death(cohort, FilterSpec())
    fig = charts.causes_of_death_figure(deaths, caption=CAPTION)
    parts = {t.meta["part"]: list(t.x) for t in traces(fig, "death_causes")}
    assert [a + b for a, b in zip(parts["after_hsct"], parts["no_hsct"])] == [c.count for c in deaths.causes]
    assert parts["after_hsct"] == [c.after_hsct for c in deaths.causes]
    assert list(fig.layout.yaxis.ticktext) == [c.cause[:1].upper() + c.cause[1:] for c in deaths.causes]
    assert fig.layout.title.text == "Causes of death (n = 3 deaths)"
    assert traces(fig, "death_cause_labels")[0].text[0].strip().startswith(f"{deaths.causes[0].count}/3")
    for presenter_fig in (charts.causes_of_death_figure(deaths, caption=CAPTION, presenter=True),
                          charts.vod_timing_figure(vod_timing(cohort, FilterSpec()), caption=CAPTION, presenter=True)):
        assert presenter_fig.layout.height <= charts.PRESENTER_MAX_HEIGHT
        assert all(size >= 18 for _, size in font_sizes(presenter_fig))


def test_survival_analysis_dataclass_is_what_the_tests_build() -> None:
    assert isinstance(analysis(small_curve()), SurvivalAnalysis)

"""Tables and sentences for the analyses of events after the first dose: cumulative incidence with
a competing event, landmark curves, Simon–Makuch curves with the Mantel–Byar test and hazard ratio.

Every table keeps numeric columns (estimate, lower, upper, at risk) beside the text a reader sees,
so a downloaded file can be used as data.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import provenance
from core.charts.incidence import incidence_figure
from core.cumulative_incidence import CompetingRisksAnalysis, GrayTest
from core.endpoints import EndpointOptions, endpoint
from core.post_baseline import TimeDependentAnalysis
from core.provenance import Provenance
from core.results import TooFewPatients
from core.survival import SurvivalAnalysis
from core.text import markdown_text
from core.time_dependent import LandmarkAnalysis
from ui import display, downloads, figures, frame, loaders
from ui.view import View

DASH = "—"


def incidence_table(analysis: CompetingRisksAnalysis, milestones: tuple[float, ...]) -> pd.DataFrame:
    """One row per group and event kind: n, events, the incidence at each milestone with its CI."""
    rows: list[dict[str, object]] = []
    for curve in analysis.curves:
        if isinstance(curve, TooFewPatients):
            rows.append({"Group": curve.what.split(" — ")[-1], "Event": DASH, "n": curve.n, "Events": None,
                         "Note": curve.reason})
            continue
        for cause in curve.causes:
            row: dict[str, object] = {"Group": curve.label, "Event": cause.label, "n": curve.n,
                                      "Events": cause.events}
            for months in milestones:
                at = cause.at(months)
                row[f"{months:g} months (95% CI)"] = at.format()
                row[f"{months:g} mo estimate"] = at.estimate
                row[f"{months:g} mo lower"] = at.lower
                row[f"{months:g} mo upper"] = at.upper
                row[f"{months:g} mo free of events"] = at.at_risk
            rows.append(row)
    return pd.DataFrame(rows)


def shown_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The columns a reader needs on screen (the numeric ones stay in the download)."""
    keep = [c for c in table.columns if not c.endswith((" estimate", " lower", " upper", " free of events"))]
    return table.loc[:, keep]


def gray_text(tests: tuple[GrayTest, ...]) -> list[str]:
    out = []
    for t in tests:
        if t.suppressed_reason is not None:
            out.append(f"Gray's test for {t.label} not shown: {t.suppressed_reason}.")
        else:
            out.append(f"Gray's test for {t.label} (exploratory): χ² = {t.statistic:.2f}, df = {t.degrees_of_freedom},"
                       f" p = {t.p_value:.3f}.")
    return out


def landmark_sentence(analysis: LandmarkAnalysis, title: str) -> str:
    return (f"From the {analysis.landmark_months:g}-month landmark: {analysis.included} patients still under "
            f"follow-up are compared by {title} by then; {analysis.excluded} left out "
            f"({analysis.excluded_events} had the event and {analysis.excluded_censored} were censored before it).")


def time_dependent_sentences(analysis: TimeDependentAnalysis) -> list[str]:
    curves = analysis.curves
    out = [f"{curves.n} patients; {curves.moved_to_hsct} move from no HSCT to HSCT at their transplant date"
           + (f", {curves.hsct_at_start} transplanted on day 0" if curves.hsct_at_start else "") + "."]
    test = analysis.test
    if test.suppressed_reason:
        out.append(f"Mantel–Byar test not shown: {test.suppressed_reason}.")
    else:
        out.append(f"Mantel–Byar test (exploratory): χ² = {test.statistic:.2f}, df = {test.degrees_of_freedom}, "
                   f"p = {test.p_value:.3f}.")
    hr = analysis.hazard_ratio
    if hr.suppressed_reason:
        out.append(f"Hazard ratio not shown: {hr.suppressed_reason}.")
    else:
        out.append(f"Time-dependent Cox model, HSCT vs no HSCT: {hr.format()}; {hr.n} patients, {hr.events} events "
                   f"({hr.events_after_hsct} after HSCT); exploratory.")
    return out


def as_survival(analysis: LandmarkAnalysis | TimeDependentAnalysis, *, endpoint: str, title: str, definition: str,
                grouping: str, conf_level: float = 0.95) -> SurvivalAnalysis:
    """The curves of a landmark or Simon–Makuch analysis in the shape the Kaplan–Meier chart draws."""
    if isinstance(analysis, LandmarkAnalysis):
        return SurvivalAnalysis(endpoint=endpoint, title=title, definition=definition, grouping=grouping,
                                curves=analysis.curves, comparison=analysis.comparison, conf_level=conf_level)
    return SurvivalAnalysis(endpoint=endpoint, title=title, definition=definition, grouping=grouping,
                            curves=analysis.curves.curves, comparison=None, conf_level=conf_level)


def incidence_section(view: View, base: Provenance, endpoint_key: str, *, note: str, key: str,
                      milestones: tuple[float, ...] = (3.0, 6.0, 12.0), stacked: bool = False) -> None:
    """A cumulative incidence from the first dose with its competing event: the definition in force,
    the chart and the table, each with its downloads (Response: time to HSCT; Safety: time to VOD)."""
    entry = endpoint(endpoint_key)
    analysis = loaders.load_incidence(view.ref, view.spec, endpoint_key, milestones=milestones)
    st.markdown(f"**Definition in force:** {markdown_text(entry.definition())}. {note}")
    prov = provenance.for_incidence(base, analysis, endpoint_key, EndpointOptions())
    table = incidence_table(analysis, milestones)
    chart_area, table_area = frame.chart_and_table(view, (3, 2))
    with chart_area:
        fig = figures.draw(view, incidence_figure, analysis, stacked=stacked, x_title="Months since first InO dose",
                           key=f"{key}_chart")
        downloads.chart_downloads(fig, prov, entry.title)
    with table_area:
        display.table(shown_columns(table), view, static=True, key=f"{key}_table")
        downloads.table_downloads(table, prov, f"{entry.title} summary", presenter=view.presenter)

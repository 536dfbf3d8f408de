"""The tumour-board deck for a slice: what it shows (`deck_content`) and its files (`build_deck`).

The deck shows response (CR/CRi by subgroup, then its key numbers on a slide of their own),
overall survival, safety and, unless small-cell suppression is on, the course per patient (at
most MAX_SWIMMER_LANES patients a slide), each chart beside or followed by its key numbers as a
native table; then the provenance and, for the reconstructed cohort, the paper check. Charts are
built for their box on the slide (presenter type, no title or caption: the slide has them).
The same content is written as PowerPoint (`pptx_deck`) and as PDF (`pdf_deck`), laid out once
by `deck_plan`; each chart is rendered once per format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from core.export.deck_layout import (
    DECK_PX_PER_IN,
    MAX_SWIMMER_LANES,
    DeckChart,
    DeckContent,
    DeckFiles,
    ProgressCallback,
    chart_image_job,
    chart_width_px,
    report_progress,
)
from core.export.pdf_deck import deck_pdf
from core.export.pptx_deck import deck_pptx
from core.export.renderer import export_available, figure_images
from core.export.suppression import suppress_small_counts
from core.provenance import Provenance, for_incidence, for_listing, for_proportion, for_survival, for_toxicity

DECK_TITLE = "Inotuzumab ozogamicin in R/R B-ALL — tumour board"
PAPER_CHECK_NOTE = "The paper check always uses the whole cohort, not the slice."
MIN_PLOT_IN = 3.0     # a chart beside its numbers keeps at least this much plot width


def _rate_text(result: Any) -> tuple[str, str]:
    from core.results import ProportionEstimate, format_percent
    if isinstance(result, ProportionEstimate):
        ci = f"{format_percent(100 * result.lower)}–{format_percent(100 * result.upper)}"
        return f"{result.count}/{result.denominator}", f"{result.percent()}% ({ci})"
    return "—", "—"


def deck_content(cohort: Any, spec: Any, provenance: Provenance, *,
                 on_progress: ProgressCallback | None = None, conf_level: float = 0.95,
                 include_paper_check: bool | None = None, paper_check: Any = None) -> DeckContent:
    """Compute what the deck shows for the slice (presenter-mode figures and their key numbers).

    The paper-check slide is included for the default (reconstructed) cohort unless
    `include_paper_check` says otherwise; pass `paper_check` (a PaperCheck a page has cached) to
    avoid recomputing it.
    """
    from core import charts
    from core.charts.incidence import incidence_figure
    from core.endpoints import EndpointOptions, endpoint
    from core.groupings import grouping
    from core.post_baseline import estimate_incidence
    from core.queries import fetch_patient_listing, fetch_slice_events
    from core.response import cr_cri_rate, cr_cri_rate_by, summarise_response
    from core.safety import causes_of_death, toxicity_by_hsct
    from core.survival import estimate_survival

    caption = provenance.caption
    items: list[DeckChart] = []
    notes: list[str] = []

    def shown(numbers: pd.DataFrame) -> pd.DataFrame:
        """The numbers as the deck shows them (suppressed first, so the chart is laid out beside them)."""
        if provenance.suppress_below is None:
            return numbers
        return suppress_small_counts(numbers, provenance.suppress_below,
                                     count_columns=[col for col in numbers.columns if col in ("n", "Value")])

    report_progress(on_progress, 0.02, "Response")
    overall = cr_cri_rate(cohort, spec, conf_level=conf_level)
    groupings = ("salvage_line", "blast_burden", "cycle1_dose_group")
    sections = [(grouping(g).title, cr_cri_rate_by(cohort, spec, g, conf_level=conf_level)) for g in groupings]
    summary = summarise_response(cohort, spec, conf_level=conf_level)
    forest = charts.forest_figure((), overall, title="", sections=sections, caption=caption, presenter=True,
                                  width_px=chart_width_px(None))
    comp = summary.composition
    rows = [("CR/CRi, all patients", *_rate_text(overall)),
            ("CR", f"{comp.cr}/{comp.n}", ""), ("CRi", f"{comp.cri}/{comp.n}", ""),
            ("No response", f"{comp.no_response}/{comp.n}", ""),
            ("Not evaluable", f"{comp.not_evaluable}/{comp.n}", ""),
            ("MRD negative, of CR/CRi", *_rate_text(summary.mrd_negative)),
            ("Deep response, of CR/CRi", *_rate_text(summary.deep_response)),
            ("HSCT, all patients", *_rate_text(summary.hsct))]
    ctr = summary.cycles_to_response
    if ctr.median is not None:
        rows.append(("Cycles to CR/CRi, median (range)", "", f"{ctr.median:g} ({ctr.minimum}–{ctr.maximum})"))
    items.append(DeckChart("response", "Response: CR/CRi by subgroup", forest,
                           for_proportion(provenance, overall, analysis="CR/CRi rate (best response)",
                                          endpoint=endpoint("cr_cri").definition()),
                           shown(pd.DataFrame(rows, columns=["Measure", "n/N", "% (95% CI)"])), numbers_slide=True))

    report_progress(on_progress, 0.12, "Overall survival")
    analysis = estimate_survival(cohort, spec, "os", conf_level=conf_level)
    os_rows: list[tuple[str, Any]] = []
    for curve in analysis.fitted:
        os_rows += [("Patients", curve.n), ("Deaths", curve.events), ("Censored", curve.censored),
                    ("Median OS, months (95% CI)", curve.median.format().replace(" mo", ""))]
        for rate in curve.landmarks:
            os_rows.append((f"OS at {rate.months:g} months (95% CI)", rate.format()))
    if not os_rows:
        os_rows = [("Patients", provenance.n_slice), ("Median OS", "not estimable")]
    os_numbers = shown(pd.DataFrame([(k, str(v)) for k, v in os_rows], columns=["Measure", "Value"]))
    km, apart = _beside_or_apart(lambda width: charts.km_figure(analysis, caption=caption, presenter=True, title="",
                                                                width_px=width), os_numbers)
    items.append(DeckChart("survival", "Overall survival", km, for_survival(provenance, analysis), os_numbers,
                           numbers_slide=apart))

    report_progress(on_progress, 0.18, "Relapse and non-relapse mortality")
    incidence = estimate_incidence(cohort, spec, "relapse_incidence", conf_level=conf_level)
    cir_rows: list[tuple[str, Any]] = []
    for incidence_curve in incidence.fitted:
        cir_rows.append(("Responders with a dated CR/CRi", incidence_curve.n))
        for cause in incidence_curve.causes:
            cir_rows.append((f"{cause.label}: events", cause.events))
            cir_rows += [(f"{cause.label} at {at.months:g} months (95% CI)", at.format()) for at in cause.at_months]
    if cir_rows:
        cir_numbers = shown(pd.DataFrame([(k, str(v)) for k, v in cir_rows], columns=["Measure", "Value"]))
        cir_fig, apart = _beside_or_apart(lambda width: incidence_figure(
            incidence, caption=caption, presenter=True, title="", x_title="Months since first CR/CRi",
            width_px=width), cir_numbers)
        items.append(DeckChart("relapse", "Relapse and non-relapse mortality (competing risks)", cir_fig,
                               for_incidence(provenance, incidence, "relapse_incidence", EndpointOptions()),
                               cir_numbers, numbers_slide=apart))

    report_progress(on_progress, 0.22, "Safety")
    tox = toxicity_by_hsct(cohort, spec, conf_level=conf_level)
    # by HSCT status in the chart's labels; all patients, with the CI, beside it
    tox_rows = [(row.label, *_rate_text(row.overall)) for row in tox.rows]
    tox_numbers = shown(pd.DataFrame(tox_rows, columns=["Toxicity", "All, n/N", "% (95% CI)"]))
    tox_fig, apart = _beside_or_apart(lambda width: charts.toxicity_figure(tox, caption=caption, presenter=True,
                                                                           title="", width_px=width), tox_numbers)
    deaths = causes_of_death(cohort, spec, conf_level=conf_level)
    items.append(DeckChart("safety", "Safety: toxicity by HSCT status", tox_fig, for_toxicity(provenance, tox),
                           tox_numbers, numbers_slide=apart))

    if provenance.suppress_below is None:
        report_progress(on_progress, 0.30, "Course per patient")
        listing = fetch_patient_listing(cohort, spec)
        events = fetch_slice_events(cohort, spec, limit_patients=max(1, len(listing)))
        sw_rows = [("Patients", len(listing)),
                   ("Responders (CR/CRi)", int(listing["best_response"].isin(["CR", "CRi"]).sum())),
                   ("HSCT", int(listing["hsct"].fillna(False).astype(bool).sum())),
                   ("Relapses", int(listing["relapse_date"].notna().sum())),
                   ("Deaths", int(listing["os_event"].fillna(False).astype(bool).sum()))]
        sw_rows += [(f"Death: {c.cause}", c.count) for c in deaths.causes]
        sw_numbers = shown(pd.DataFrame([(k, str(v)) for k, v in sw_rows], columns=["Measure", "n"]))
        items += _swimmer_charts(listing, events, sw_numbers, caption,
                                 for_listing(provenance, listing, analysis="Course of treatment per patient"))
    else:
        notes.append(f"The per-patient swimmer plot is left out: small-cell suppression (<{provenance.suppress_below}) "
                     "is on and it shows individual patients.")

    paper_summary = None
    paper_misses = None
    if include_paper_check is None:
        include_paper_check = provenance.reconstructed
    if include_paper_check:
        report_progress(on_progress, 0.36, "Paper check")
        if paper_check is None:
            from core.paper import check_paper
            paper_check = check_paper(cohort)
        paper_summary, paper_misses = _paper_slide(paper_check)
        if not spec.is_default():
            notes.append(PAPER_CHECK_NOTE)

    return DeckContent(title=DECK_TITLE, provenance=provenance, charts=tuple(items), notes=tuple(notes),
                       paper_summary=paper_summary, paper_misses=paper_misses)


def _beside_or_apart(build: Callable[[int], go.Figure], numbers: pd.DataFrame) -> tuple[go.Figure, bool]:
    """The chart laid out beside its numbers, or (True) across the slide with the numbers on a slide
    of their own when its labels would leave the plot narrower than MIN_PLOT_IN."""
    width = chart_width_px(numbers)
    fig = build(width)
    plot_px = width - float(fig.layout.margin.l or 0) - float(fig.layout.margin.r or 0)
    if plot_px >= MIN_PLOT_IN * DECK_PX_PER_IN:
        return fig, False
    return build(chart_width_px(None)), True


def _swimmer_charts(listing: pd.DataFrame, events: pd.DataFrame, numbers: pd.DataFrame, caption: str,
                    provenance: Provenance) -> list[DeckChart]:
    """The swimmer plot, MAX_SWIMMER_LANES patients a slide (in the builder's order, longest OS
    first) on one time axis; the key numbers beside the first part."""
    from core import charts

    title = "Course of treatment per patient"
    ordered = listing.assign(_os=pd.to_numeric(listing["os_days"], errors="coerce")).sort_values(
        ["_os", "patient_id"], ascending=[False, True], na_position="last", kind="mergesort").drop(columns="_os")
    parts = max(1, -(-len(ordered) // MAX_SWIMMER_LANES))
    size = -(-len(ordered) // parts) if len(ordered) else 0
    out: list[DeckChart] = []
    axis = None
    for i in range(parts):
        part = ordered.iloc[i * size:(i + 1) * size]
        shown = numbers if i == 0 else numbers.iloc[0:0]
        fig = charts.swimmer_figure(part, events[events["patient_id"].isin(part["patient_id"])], caption=caption,
                                    presenter=True, title="", width_px=chart_width_px(shown))
        if axis is None:    # the first part has the longest follow-up; every part gets its axis
            longest = fig.layout.xaxis.range[1] if fig.layout.xaxis.range else 0
            axis = (fig.layout.xaxis.range, 12 if longest > 36 else fig.layout.xaxis.dtick)   # ticks a yearly
        fig.update_xaxes(range=axis[0], dtick=axis[1])                                        # apart when long
        out.append(DeckChart("swimmer", title if parts == 1 else f"{title} ({i + 1} of {parts})", fig,
                             provenance, shown))
    return out


def _paper_slide(check: Any) -> tuple[str, pd.DataFrame]:
    summary = f"{check.n_exact} of {check.n_counted} published figures reproduced exactly"
    misses = pd.DataFrame([{"ID": f.target_id, "Figure": f.figure, "Published": f.published,
                            "Computed": f.computed, "Status": f.status} for f in check.misses],
                          columns=["ID", "Figure", "Published", "Computed", "Status"])
    return summary, misses


def _stage(callback: ProgressCallback | None, start: float, width: float) -> ProgressCallback:
    """The progress of one step of the deck, reported as [start, start + width] of the whole."""
    return lambda fraction, message: report_progress(callback, start + width * fraction, message)


def build_deck(cohort: Any, spec: Any, provenance: Provenance, *, on_progress: ProgressCallback | None = None,
               include_paper_check: bool | None = None, paper_check: Any = None) -> DeckFiles:
    """The tumour-board deck for the slice, as PPTX and PDF; each chart rendered once per format.

    The paper check (when included and not passed in) is computed on a worker thread while the
    browser renders the charts. Without a browser the PPTX is still made (its tables and text; the
    chart images say why they are missing) and `pdf` is None with the reason in `pdf_message`.
    """
    from concurrent.futures import ThreadPoolExecutor

    wanted = provenance.reconstructed if include_paper_check is None else include_paper_check
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="paper-check") as pool:
        defer = wanted and paper_check is None
        content = deck_content(cohort, spec, provenance, on_progress=on_progress,
                               include_paper_check=wanted and not defer, paper_check=paper_check)
        pending = None
        if defer:   # overlaps the renders, where this thread only waits for the browser
            from core.paper import check_paper
            pending = pool.submit(check_paper, cohort)
        status = export_available()
        rendered: list[bytes] | None = None
        n = len(content.charts)
        if status:
            report_progress(on_progress, 0.4, "Rendering charts")
            rendered = figure_images([chart_image_job(c, "png") for c in content.charts]
                                     + [chart_image_job(c, "svg") for c in content.charts], stamp="none")
            report_progress(on_progress, 0.7, "Charts rendered")
        if pending is not None:
            summary, misses = _paper_slide(pending.result())
            notes = content.notes + ((PAPER_CHECK_NOTE,) if not spec.is_default() else ())
            content = replace(content, paper_summary=summary, paper_misses=misses, notes=notes)
    if rendered is None:
        pptx = deck_pptx(content, images=None, on_progress=_stage(on_progress, 0.4, 0.5))
        report_progress(on_progress, 1.0, "Done (PowerPoint without chart images)")
        return DeckFiles(pptx=pptx, pdf=None, pdf_message=status.message)
    pptx = deck_pptx(content, images=rendered[:n], on_progress=_stage(on_progress, 0.7, 0.05))
    pdf = deck_pdf(content, chart_svgs=rendered[n:], on_progress=_stage(on_progress, 0.75, 0.25))
    report_progress(on_progress, 1.0, "Done")
    return DeckFiles(pptx=pptx, pdf=pdf)

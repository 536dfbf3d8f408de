"""Cut-points: CR/CRi and OS either side of every threshold of blasts, cycle-1 dose or age, the
paper's 50% marked; the best-separating threshold on request, with its corrected p-value and a warning."""

import streamlit as st

from core.charts.cutpoint import METHOD_NOTE, cutpoint_figure
from core.cutpoints import CUTPOINT_VARIABLES, CUTPOINT_WARNING, OUTCOMES, BestCutpoint, CutpointScan
from core.endpoints import endpoint
from core.groupings import format_number
from core.text import markdown_text
from ui import cutpoint_view, display, downloads, figures, frame

OUTCOME_WORDS = {"os": "overall survival", "cr_cri": "CR/CRi"}

view = frame.current_view()
frame.page_header("Cut-points", view, intro="Where to split a continuous baseline variable: CR/CRi and overall "
                  "survival on each side of every threshold over the observed range. Exploratory: with this "
                  "many thresholds and this few patients, some split will always look convincing.")


def value_text(threshold: float, unit: str) -> str:
    return f"{format_number(threshold)}{unit if unit == '%' else ' ' + unit}"


def show_threshold(scan: CutpointScan, variable: str, prov) -> None:  # type: ignore[no-untyped-def]
    """One threshold's figures on each side, in the Response and Survival pages' formats."""
    var = CUTPOINT_VARIABLES[variable]
    thresholds = [row.threshold for row in scan.rows]
    default = next((i for i, row in enumerate(scan.rows) if row.is_reference), len(thresholds) // 2)
    chosen = st.selectbox("Threshold", thresholds, index=default, key=f"c_threshold_{variable}",
                          format_func=lambda t: value_text(t, var.unit) + (
                              f" ({scan.reference_label})" if scan.reference is not None and t == scan.reference
                              else ""))
    row = scan.row_at(chosen)
    at = value_text(chosen, var.unit)
    rates_area, os_area = frame.chart_and_table(view, (1, 1))
    with rates_area:
        rates = display.subgroup_table(cutpoint_view.side_rates(row), title=var.title)
        display.table(rates, view, static=True, key="c_rates_table")
        st.caption("CR/CRi, exact (Clopper–Pearson) 95% CI. Denominator: all patients on each side.")
        downloads.table_downloads(rates, prov.with_(analysis=f"CR/CRi either side of {at}"), f"CR-CRi at {at}",
                                  presenter=view.presenter)
    with os_area:
        os_table = cutpoint_view.side_os_table(row, scan.landmark_months, var.title)
        display.table(os_table, view, static=True, key="c_os_table")
        st.caption("Overall survival, Kaplan–Meier, 95% pointwise CI (log(−log)).")
        downloads.table_downloads(os_table, prov.with_(analysis=f"OS either side of {at}"), f"OS at {at}",
                                  presenter=view.presenter)


def show_best(best: BestCutpoint | None, variable: str, outcome: str) -> None:
    """The best split once asked for: the statistic, the corrected p-value, the method and the warning."""
    var = CUTPOINT_VARIABLES[variable]
    st.button("Which threshold separates best?", key="c_best", icon=":material/search:",
              on_click=cutpoint_view.request_best, args=(variable, outcome, view.spec),
              help="Tries every threshold and reports the one that separates the outcome most, with a p-value "
                   "corrected for having tried them all.")
    set_to = cutpoint_view.threshold_notice()
    if set_to is not None:
        st.success(f"The sidebar's blast threshold is now {format_number(set_to)}%: every page splits blast "
                   "burden there.", icon=":material/tune:")
    if best is None:
        st.caption(f"Searches the thresholds of {markdown_text(var.title.lower())} for "
                   f"{markdown_text(OUTCOME_WORDS[outcome])}.")
        return
    if not isinstance(best, BestCutpoint):
        frame.too_few(best)
        return
    st.markdown(markdown_text(best.describe()))
    figures_area, method_area = frame.chart_and_table(view, (1, 1))
    with figures_area:
        display.table(cutpoint_view.best_table(best), view, static=True, key="c_best_table")
    method_area.caption(f"Method: {markdown_text(best.method)}.")
    st.warning(markdown_text(CUTPOINT_WARNING), icon=":material/warning:")
    if variable == "blast_pct":
        st.button("Use as the sidebar's blast threshold", key="c_use_threshold", icon=":material/tune:",
                  on_click=cutpoint_view.use_as_blast_threshold, args=(best.threshold,),
                  disabled=view.spec.blast_threshold == best.threshold,
                  help="Sets the sidebar's blast threshold: the blast-burden filter and every blast-burden "
                       "subgroup then split here. The warning above still applies.")


if frame.require_patients(view):
    with frame.options_area(view, "Cut-point options"):
        c1, c2 = st.columns([3, 2])
        variable = c1.radio("Variable", list(CUTPOINT_VARIABLES), key="c_variable", horizontal=True,
                            format_func=lambda k: f"{CUTPOINT_VARIABLES[k].title} ({CUTPOINT_VARIABLES[k].unit})")
        outcome = c2.radio("Best split for", list(OUTCOMES), key="c_outcome", horizontal=True,
                           format_func=OUTCOME_WORDS.get)
    var = CUTPOINT_VARIABLES[variable]
    scan = cutpoint_view.load_cutpoint_scan(view.ref, view.spec, variable)
    prov = downloads.view_provenance(view).with_(
        analysis=f"CR/CRi and OS either side of each {var.title.lower()} threshold (exploratory)",
        endpoint=f"{endpoint('cr_cri').definition()}; {endpoint('os').definition()}",
        ci_method="CR/CRi: 95% Clopper–Pearson exact; OS: Kaplan–Meier, 95% pointwise log(−log)",
        n_analysed=scan.n - scan.n_missing, n_excluded=scan.n_missing,
        excluded_reason=f"no {var.title.lower()} recorded" if scan.n_missing else "")
    best = (cutpoint_view.load_best_cutpoint(view.ref, view.spec, variable, outcome)
            if cutpoint_view.requested_best(variable, outcome, view.spec) else None)
    found = best if isinstance(best, BestCutpoint) else None

    st.subheader(f"Each side of every {var.title.lower()} threshold")
    if not scan.rows:
        st.info(f"No threshold splits this slice: {markdown_text(var.title.lower())} takes fewer than two values "
                "among its patients.", icon=":material/functions:")
    else:
        fig = figures.draw(view, cutpoint_figure, scan, best=found.threshold if found else None,
                           best_label=(f"best split for {OUTCOME_WORDS[outcome]} (corrected p = {found.p_value:.2g})"
                                       if found else ""), key="cutpoints_chart")
        downloads.chart_downloads(fig, prov, f"Cut-points {var.title}")
        if scan.n_missing:
            st.caption(f"{scan.n_missing} patient{'s' if scan.n_missing != 1 else ''} without a "
                       f"{markdown_text(var.title.lower())} value are on neither side.")
        show_threshold(scan, variable, prov)
        with st.expander("Every threshold in figures"):
            table = cutpoint_view.scan_table(scan)
            display.table(table, view, key="c_scan_table")
            st.caption(markdown_text(METHOD_NOTE))
            downloads.table_downloads(table, prov, f"Cut-points {var.title} table", presenter=view.presenter)

    st.divider()
    st.subheader("The best-separating threshold, honestly")
    show_best(best, variable, outcome)

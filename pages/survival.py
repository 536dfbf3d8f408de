"""Survival: OS, RFS (responders) and duration of remission, Kaplan–Meier, optionally by a baseline variable."""

import streamlit as st

from core import charts, provenance
from core.endpoints import EndpointOptions, endpoint
from core.groupings import STRATIFY_KEYS, grouping
from core.survival import KM_ENDPOINTS, MIN_PATIENTS_LOGRANK
from core.text import markdown_text
from ui import display, downloads, figures, frame, loaders

HORIZONS = (24, 12, 36, None)   # months on the time axis; the table always uses all follow-up

view = frame.current_view()
frame.page_header("Survival", view, intro="Kaplan–Meier estimates from event dates (months = days / 30.4375); "
                  "95% pointwise CIs (log(−log) transform).")

if frame.require_patients(view):
    with frame.options_area(view, "Survival options"):
        c1, c2, c3 = st.columns([2, 2, 1])
        endpoint_key = c1.radio("Endpoint", KM_ENDPOINTS, key="s_endpoint", horizontal=True,
                                format_func=lambda e: endpoint(e).title)
        by = c2.selectbox("Stratify by", STRATIFY_KEYS, key="s_group", format_func=lambda g: grouping(g).title)
        show_ci = c3.toggle("95% CI band", value=True, key="s_ci")
        c4, c5, c6 = st.columns([2, 2, 1])
        horizon = c6.selectbox("Time axis", HORIZONS, key="s_horizon", format_func=lambda m: (
            "all follow-up" if m is None else f"first {m} months"))
        rfs_origin = c4.radio("RFS measured from", ["dose", "response"], key="s_rfs_origin", horizontal=True,
                              format_func={"dose": "first InO dose", "response": "first CR/CRi date"}.get,
                              disabled=endpoint_key != "rfs")
        censor_hsct = c5.checkbox("Censor RFS / remission at HSCT", key="s_censor_hsct",
                                  disabled=endpoint_key == "os")
        logrank = c3.checkbox("Log-rank test", key="s_logrank", disabled=by == "all",
                              help=f"Exploratory; suppressed when a group has fewer than {MIN_PATIENTS_LOGRANK} "
                                   "patients.")

    options = EndpointOptions(rfs_from_response=rfs_origin == "response", censor_at_hsct=bool(censor_hsct))
    analysis = loaders.load_survival(view.ref, view.spec, endpoint_key, by, options, bool(logrank and by != "all"))

    st.markdown(f"**Definition in force:** {markdown_text(analysis.definition)}.")
    reasons = []
    if view.spec.hsct is not None:
        reasons.append("the slice is defined by HSCT")
    if grouping(by).immortal_time_bias:
        reasons.append(f"the groups are defined by {grouping(by).title}, known only after the first dose")
    if endpoint_key == "rfs" and not options.rfs_from_response:
        reasons.append("RFS is restricted to responders but counted from the first dose")
    if reasons:
        st.warning("Biased by immortal time: " + "; ".join(reasons) + ". HSCT and response happen after the "
                   "first InO dose — a patient must survive long enough to reach them, so time before them "
                   "favours that group. Do not read this as an effect of HSCT or response.", icon=":material/hourglass_top:")

    km_prov = provenance.for_survival(downloads.view_provenance(view), analysis)
    name = analysis.title if by == "all" else f"{analysis.title} by {grouping(by).title}"
    chart_area, table_area = frame.chart_and_table(view, (3, 2))
    with chart_area:
        if analysis.fitted:
            fig = figures.draw(view, charts.km_figure, analysis, show_ci=bool(show_ci), max_months=horizon,
                               key="survival_km")
            downloads.chart_downloads(fig, km_prov, name)
        else:
            for curve in analysis.curves:
                frame.too_few(curve)
    with table_area:
        st.subheader(analysis.title)
        display.table(display.survival_summary(analysis), view, static=True, key="survival_table")
        st.caption("NR = median not reached; — = follow-up too short, or too few patients (reason given). "
                   "Lines are dashed where fewer than 5 remain at risk.")
        downloads.table_downloads(display.survival_table(analysis), km_prov, f"{name} summary",
                                  presenter=view.presenter)
        if logrank and by != "all":
            text, shown = display.comparison_text(analysis.comparison)
            (st.markdown if shown else st.info)(text)
    if by != "all" and not logrank:
        st.caption("Curves are descriptive; tick **Log-rank test** for an exploratory comparison.")

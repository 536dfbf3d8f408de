"""Survival: OS, RFS (responders) and duration of remission by Kaplan–Meier, optionally by a variable;
HSCT and response compared validly (landmark, time-dependent); relapse and non-relapse mortality
as cumulative incidences with competing risks."""

import streamlit as st

from core import charts, provenance
from core.charts.incidence import incidence_figure
from core.charts.published import published_km_figure
from core.endpoints import EndpointOptions, endpoint
from core.groupings import STRATIFY_KEYS, grouping
from core.survival import KM_ENDPOINTS, MIN_PATIENTS_LOGRANK
from core.text import markdown_text
from ui import display, downloads, figures, frame, incidence, literature_view, loaders, page_state

HORIZONS = page_state.SURVIVAL_HORIZONS   # months on the time axis; None = the slice's longest follow-up
MILESTONES = page_state.SURVIVAL_MILESTONES
COMPARISONS = {"landmark": "Landmark analysis", "time_dependent": "Time-dependent (Simon–Makuch)",
               "naive": "Naive split (biased)"}
IMMORTAL_TIME = ("happens after the first InO dose — a patient must survive long enough to reach it, so the naive "
                 "split credits that group with time it was sure to survive (immortal-time bias)")

view = frame.current_view()
frame.page_header("Survival", view, intro="Kaplan–Meier estimates from event dates (months = days / 30.4375); "
                  "95% pointwise CIs (log(−log) transform).")

if frame.require_patients(view):
    page_state.set_defaults(*(k for k in page_state.PAGE_OPTIONS if k.startswith("s_")))
    with frame.options_area(view, "Survival options"):
        c1, c2, c3 = st.columns([2, 2, 1])
        endpoint_key = c1.radio("Endpoint", KM_ENDPOINTS, key="s_endpoint", horizontal=True,
                                format_func=lambda e: endpoint(e).title)
        by = c2.selectbox("Stratify by", STRATIFY_KEYS, key="s_group", format_func=lambda g: grouping(g).title)
        show_ci = c3.toggle("95% CI band", key="s_ci")
        c4, c5, c6 = st.columns([2, 2, 1])
        horizon = c6.selectbox("Time axis", HORIZONS, key="s_horizon", format_func=lambda m: (
            "fit the data" if m is None else f"first {m} months"))
        rfs_origin = c4.radio("RFS measured from", ["dose", "response"], key="s_rfs_origin", horizontal=True,
                              format_func={"dose": "first InO dose", "response": "first CR/CRi date"}.get,
                              disabled=endpoint_key != "rfs")
        censor_hsct = c5.checkbox("Censor RFS / remission at HSCT", key="s_censor_hsct",
                                  disabled=endpoint_key == "os")
        milestones = tuple(sorted(c4.multiselect("Milestones (months)", MILESTONES, key="s_milestones",
                                                 format_func=lambda m: f"{m:g}") or [6.0, 12.0]))
        post_baseline = grouping(by).immortal_time_bias
        comparison = "naive"
        if post_baseline:
            offered = [k for k in COMPARISONS if k != "time_dependent" or by == "hsct"]
            if st.session_state.get("s_comparison") not in offered:
                st.session_state["s_comparison"] = offered[0]
            comparison = c5.radio("Compare groups by", offered, key="s_comparison", format_func=COMPARISONS.get,
                                  help="HSCT and response happen after the first dose: the landmark and "
                                       "time-dependent analyses are the valid comparisons.")
        logrank = c3.checkbox("Log-rank test", key="s_logrank", disabled=by == "all" or comparison == "naive"
                              and post_baseline,
                              help=f"Exploratory; suppressed when a group has fewer than {MIN_PATIENTS_LOGRANK} "
                                   "patients; not offered for the naive split of a post-baseline variable.")

    published = None
    if endpoint_key == "os":   # published OS of other studies as points (off by default; core.literature)
        with frame.options_area(view, "Published figures"):
            published = literature_view.os_overlay_control(view)
    options = EndpointOptions(rfs_from_response=rfs_origin == "response", censor_at_hsct=bool(censor_hsct))
    entry = endpoint(endpoint_key)
    title_of_by = grouping(by).title
    compare = bool(logrank and by != "all" and not (post_baseline and comparison == "naive"))
    analysis = loaders.load_survival(view.ref, view.spec, endpoint_key, by, options, compare, milestones)
    st.markdown(f"**Definition in force:** {markdown_text(analysis.definition)}.")

    caveat = None
    shown, sentences = analysis, []
    if post_baseline and comparison != "naive":
        try:
            if comparison == "landmark":
                choice = loaders.load_default_landmark(view.ref, view.spec, endpoint_key, by, options)
                if st.session_state.get("s_landmark") is None:
                    st.session_state["s_landmark"] = float(choice.months)
                landmark = st.number_input("Landmark (months after the first dose)", min_value=0.0, max_value=24.0,
                                           step=1.0, key="s_landmark")
                st.caption(f"Default landmark: {markdown_text(choice.reason)}.")
                result = loaders.load_landmark(view.ref, view.spec, endpoint_key, by, float(landmark), options,
                                               bool(logrank), milestones)
                shown = incidence.as_survival(
                    result, endpoint=endpoint_key, title=f"{entry.title} from the {landmark:g}-month landmark",
                    definition=analysis.definition, grouping=by)
                sentences = [incidence.landmark_sentence(result, title_of_by)]
            else:
                result = loaders.load_time_dependent(view.ref, view.spec, endpoint_key, by, options, milestones)
                shown = incidence.as_survival(result, endpoint=endpoint_key,
                                              title=f"{entry.title} by {title_of_by} as it happens (Simon–Makuch)",
                                              definition=analysis.definition, grouping=by)
                sentences = incidence.time_dependent_sentences(result)
        except ValueError as exc:   # e.g. follow-up censored at HSCT, or an endpoint not counted from the dose
            st.info(markdown_text(str(exc)), icon=":material/info:")
            comparison = "naive"
    if (post_baseline and comparison == "naive") or view.spec.hsct is not None:
        what = title_of_by if post_baseline else "HSCT (the slice)"
        caveat = f"Immortal-time bias: {what} {IMMORTAL_TIME}. Not an effect of {what}."
    if endpoint_key == "rfs" and not options.rfs_from_response:
        st.caption("RFS is restricted to responders but counted from the first dose: responders had to survive "
                   "until their response, which favours this population over all patients.")
    if caveat:
        st.warning(markdown_text(caveat), icon=":material/hourglass_top:")

    km_prov = provenance.for_survival(downloads.view_provenance(view), analysis)
    if shown is not analysis:
        km_prov = km_prov.with_(analysis=f"{shown.title} — {COMPARISONS[comparison]}")
    name = shown.title if by == "all" or shown is not analysis else f"{shown.title} by {title_of_by}"
    chart_area, table_area = frame.chart_and_table(view, (3, 2))
    with chart_area:
        if shown.fitted:
            x_title = (f"Months since the {float(landmark):g}-month landmark" if comparison == "landmark"
                       and shown is not analysis else None)
            if published is not None and shown is analysis:
                fig = figures.draw(view, published_km_figure, shown, points=published, show_ci=bool(show_ci),
                                   max_months=horizon, caveat=caveat, key="survival_km")
                downloads.chart_downloads(fig, km_prov.with_(
                    analysis=f"{km_prov.analysis}, with published overall survival of other studies (not randomised "
                             "against this cohort; populations differ)"), f"{name} with published")
            else:
                fig = figures.draw(view, charts.km_figure, shown, show_ci=bool(show_ci), max_months=horizon,
                                   caveat=caveat, x_title=x_title, key="survival_km")
                downloads.chart_downloads(fig, km_prov, name)
                if published is not None:
                    st.caption("Published overall survival is drawn on the curves from the first dose only, not "
                               "on a landmark or time-dependent chart.")
        else:
            for curve in shown.curves:
                frame.too_few(curve)
    with table_area:
        st.subheader(shown.title)
        for sentence in sentences:
            st.caption(markdown_text(sentence))
        display.table(display.survival_summary(shown), view, static=True, key="survival_table")
        st.caption("NR = median not reached; — = follow-up too short, or too few patients (reason given). "
                   "Lines are dashed where fewer than 5 remain at risk.")
        downloads.table_downloads(display.survival_table(shown), km_prov, f"{name} summary",
                                  presenter=view.presenter)
        if compare:
            text, ok = display.comparison_text(shown.comparison)
            (st.markdown if ok else st.info)(text)
    if by != "all" and not logrank and not (post_baseline and comparison == "naive"):
        st.caption("Curves are descriptive; tick **Log-rank test** for an exploratory comparison.")
    if published is not None and shown is analysis:
        literature_view.published_os_table(view, published)

    # ------------------------------------------------------------------ relapse and non-relapse mortality
    st.divider()
    st.subheader("Relapse and non-relapse mortality (competing risks)")
    with frame.options_area(view, "Relapse options"):
        r1, r2, r3 = st.columns([2, 1, 1])
        from_dose = r1.radio("Measured from", ["response", "dose"], key="s_cir_origin", horizontal=True,
                             format_func={"response": "first CR/CRi date", "dose": "first InO dose"}.get) == "dose"
        stacked = r2.toggle("Stacked", key="s_cir_stacked", help="One group only: the two incidences on top of each "
                            "other, the rest is alive in remission.")
        gray = r3.checkbox("Gray's test", key="s_cir_gray", disabled=by == "all" or post_baseline,
                           help=f"Exploratory, by the stratifying variable; suppressed under {MIN_PATIENTS_LOGRANK} "
                                "patients per group.")
    cir_options = EndpointOptions(censor_at_hsct=options.censor_at_hsct, relapse_from_dose=from_dose)
    cir_by = "all" if post_baseline else by
    cir = loaders.load_incidence(view.ref, view.spec, "relapse_incidence", cir_by, cir_options,
                                 bool(gray and cir_by != "all"), milestones)
    st.markdown(f"**Definition in force:** {markdown_text(endpoint('relapse_incidence').definition(cir_options))}. "
                "Non-relapse mortality is its competing event; the rest are alive in remission.")
    cir_prov = provenance.for_incidence(downloads.view_provenance(view), cir, "relapse_incidence", cir_options)
    cir_table = incidence.incidence_table(cir, milestones)
    chart_area, table_area = frame.chart_and_table(view, (3, 2))
    with chart_area:
        fig = figures.draw(view, incidence_figure, cir, show_ci=bool(show_ci), stacked=bool(stacked),
                           max_months=horizon, x_title="Months since " + ("first InO dose" if from_dose
                                                                           else "first CR/CRi"), key="survival_cir")
        downloads.chart_downloads(fig, cir_prov, "Relapse and non-relapse mortality")
    with table_area:
        display.table(incidence.shown_columns(cir_table), view, static=True, key="survival_cir_table")
        for sentence in incidence.gray_text(cir.comparisons):
            st.caption(markdown_text(sentence))
        downloads.table_downloads(cir_table, cir_prov, "Relapse and non-relapse mortality summary",
                                  presenter=view.presenter)

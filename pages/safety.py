"""Safety: toxicity by HSCT status (Table 6), VOD by salvage line (Table 7), VOD relative to HSCT (§4.3.7),
components and causes of death (Table 8)."""

import pandas as pd
import streamlit as st

from core import charts, provenance
from core.endpoints import endpoint
from core.results import TooFewPatients
from core.safety import VOD_TIMINGS, toxicity_definitions, vod_timing
from ui import display, downloads, figures, frame, incidence, literature_view, loaders

view = frame.current_view()
frame.page_header("Safety", view, intro=f"n (%) with the denominator printed; exact 95% CIs. "
                  f"{toxicity_definitions()}.")

if frame.require_patients(view):
    prov = downloads.view_provenance(view)
    table = loaders.load_toxicity_by_hsct(view.ref, view.spec)
    tox_prov = provenance.for_toxicity(prov, table)
    st.subheader("Toxicity by HSCT status")
    chart_area, table_area = frame.chart_and_table(view, (3, 2))
    with chart_area:
        fig = figures.draw(view, charts.toxicity_figure, table, key="safety_hsct")
        downloads.chart_downloads(fig, tox_prov, "Toxicity by HSCT status")
    with table_area:
        frame_rows = [{"Toxicity": r.label,
                       f"HSCT (n = {table.n_hsct})": display.count_text(r.hsct),
                       f"No HSCT (n = {table.n_no_hsct_evaluable})": display.count_text(r.no_hsct),
                       "Overall": display.count_text(r.overall)} for r in table.rows]
        tox_table = pd.DataFrame(frame_rows)
        display.table(tox_table, view, key="safety_hsct_table")
        note = table.denominator_note
        if table.n_not_evaluable:
            note += (f". {table.n_not_evaluable} patient{'s' if table.n_not_evaluable != 1 else ''} without "
                     "post-baseline safety data left out of the no-HSCT column")
        st.caption(note + ".")
        downloads.table_downloads(tox_table, tox_prov, "Toxicity by HSCT status", presenter=view.presenter)

    st.divider()
    st.subheader("VOD by salvage line")
    vod = loaders.load_toxicity_by(view.ref, view.spec, "salvage_line", "vod")
    vod_overall = next((r.overall for r in table.rows if r.key == "vod"), None)
    vod_prov = (provenance.for_proportion(prov, vod_overall, analysis="VOD by salvage line",
                                          endpoint=f"{endpoint('vod').definition()}; denominator: all patients in each salvage line")
                if vod_overall is not None else prov.with_(analysis="VOD by salvage line"))
    chart_area, table_area = frame.chart_and_table(view, (3, 2))
    with chart_area:
        fig = figures.draw(view, charts.subgroup_bar_figure, vod, title="VOD by salvage line",
                           axis_title="Patients with VOD (%)", key="safety_vod_line")
        downloads.chart_downloads(fig, vod_prov, "VOD by salvage line")
    with table_area:
        vod_table = display.subgroup_table(vod, title="Salvage line")
        display.table(vod_table, view, key="safety_vod_table")
        st.caption("Denominator: all patients in each salvage line.")
        downloads.table_downloads(vod_table, vod_prov, "VOD by salvage line", presenter=view.presenter)

    st.divider()
    st.subheader("VOD relative to HSCT")
    timing = vod_timing(view.cohort, view.spec)
    if not timing.cases:
        st.caption("No patient with VOD in this slice.")
    else:
        timing_prov = provenance.for_proportion(
            prov, timing.after_hsct, analysis="VOD relative to HSCT",
            endpoint="VOD dated on or after the patient's HSCT; denominator: patients with VOD in the slice")
        chart_area, table_area = frame.chart_and_table(view, (3, 2))
        with chart_area:
            fig = figures.draw(view, charts.vod_timing_figure, timing, key="safety_vod_timing")
            downloads.chart_downloads(fig, timing_prov, "VOD relative to HSCT", row_level=True)
        with table_area:
            timing_rows = []
            for key in VOD_TIMINGS:
                count, days = timing.count(key), timing.days_from_hsct(key)
                timing_rows.append({
                    "VOD": key[:1].upper() + key[1:],
                    "n/patients with VOD (%)": f"{count}/{timing.n_vod} "
                                               f"({display.format_percent(100 * count / timing.n_vod, 1)}%)",
                    "Days from HSCT, median (range)": (
                        f"{timing.median_days_from_hsct(key):g} ({days[0]} to {days[-1]})" if days else "—")})
            timing_table = pd.DataFrame(timing_rows)
            display.table(timing_table, view, key="safety_vod_timing_table")
            st.caption("Denominator: patients with VOD in the slice. After HSCT: a VOD dated on or after the "
                       "HSCT; days count from the HSCT to that VOD.")
            downloads.table_downloads(timing_table, timing_prov, "VOD relative to HSCT", presenter=view.presenter)

    st.divider()
    comp_area, death_area = frame.chart_and_table(view, (1, 1))
    with comp_area:
        st.subheader("Toxicities and their components")
        rows = loaders.load_toxicity_components(view.ref, view.spec)
        components = pd.DataFrame([{
            "Adverse event": (r.label if r.is_total else f"  · {r.label}"),
            "n/N (%)": display.count_text(r.estimate),
            "95% CI (exact)": display.ci_text(r.estimate)} for r in rows])
        display.table(components, view, key="safety_components")
        st.caption("Denominator: all patients in the slice. A patient counts once per term.")
        if rows:
            downloads.table_downloads(components, provenance.for_proportion(
                prov, rows[0].estimate, analysis="Toxicities and their components",
                endpoint="a patient counts once per term; denominator: all patients in the slice"),
                "Toxicity components", presenter=view.presenter)
    with death_area:
        st.subheader("Causes of death")
        deaths = loaders.load_causes_of_death(view.ref, view.spec)
        if isinstance(deaths.deaths, TooFewPatients):
            frame.too_few(deaths.deaths)
        else:
            st.markdown(f"Deaths: **{display.count_text(deaths.deaths)}** of the patients in the slice.")
            if deaths.causes:
                deaths_prov = provenance.for_proportion(
                    prov, deaths.deaths, analysis="Causes of death",
                    endpoint="cause of death as recorded; shares of the deaths in the slice")
                fig = figures.draw(view, charts.causes_of_death_figure, deaths, key="safety_deaths_chart")
                downloads.chart_downloads(fig, deaths_prov, "Causes of death")
                causes = pd.DataFrame([{
                    "Cause": c.cause[:1].upper() + c.cause[1:],
                    "n/deaths (%)": f"{c.count}/{c.deaths} ({display.format_percent(100 * c.share, 1)}%)",
                    "After HSCT": c.after_hsct} for c in deaths.causes])
                display.table(causes, view, key="safety_deaths")
                st.caption("Denominator: deaths in the slice.")
                downloads.table_downloads(causes, deaths_prov, "Causes of death", presenter=view.presenter)
            else:
                st.caption("No deaths in this slice.")

    st.divider()
    st.subheader("Time to VOD (competing risks)")
    incidence.incidence_section(view, prov, "vod_incidence", key="safety_vod_incidence",
                                note="A proportion with VOD ignores when it happened and who died first; this curve "
                                     "does not.")
    st.subheader("Published VOD and HSCT rates, for orientation")
    with frame.options_area(view, "Published figures"):
        chosen = literature_view.safety_overlay_control(view)
    if chosen is not None:
        literature_view.published_safety_table(view, chosen)

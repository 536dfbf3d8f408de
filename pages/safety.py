"""Safety: toxicity by HSCT status (Table 6), VOD by salvage line (Table 7), components (Table 8), deaths."""

import pandas as pd
import streamlit as st

from core.results import TooFewPatients
from ui import display, figures, frame, loaders

view = frame.current_view()
frame.page_header("Safety", view, intro="n (%) with the denominator printed; exact 95% CIs. Grade 3/4 liver "
                  "toxicity = AST, ALT or bilirubin increased at grade ≥ 3; haematologic toxicity = "
                  "thrombocytopenia, neutropenia or febrile neutropenia of any grade; VOD of any grade.")

if frame.require_patients(view):
    table = loaders.load_toxicity_by_hsct(view.ref, view.spec)
    st.subheader("Toxicity by HSCT status")
    chart_area, table_area = frame.chart_and_table(view, (3, 2))
    with chart_area:
        figures.draw(view, "toxicity_figure", table, key="safety_hsct")
    with table_area:
        frame_rows = [{"Toxicity": r.label,
                       f"HSCT (n = {table.n_hsct})": display.count_text(r.hsct),
                       f"No HSCT (n = {table.n_no_hsct_evaluable})": display.count_text(r.no_hsct),
                       "Overall": display.count_text(r.overall)} for r in table.rows]
        display.table(pd.DataFrame(frame_rows), view, key="safety_hsct_table")
        note = table.denominator_note
        if table.n_not_evaluable:
            note += (f". {table.n_not_evaluable} patient{'s' if table.n_not_evaluable != 1 else ''} without "
                     "post-baseline safety data left out of the no-HSCT column")
        st.caption(note + ".")

    st.divider()
    st.subheader("VOD by salvage line")
    vod = loaders.load_toxicity_by(view.ref, view.spec, "salvage_line", "vod")
    chart_area, table_area = frame.chart_and_table(view, (3, 2))
    with chart_area:
        figures.draw(view, "subgroup_bar_figure", vod, title="VOD by salvage line",
                     axis_title="Patients with VOD (%)", key="safety_vod_line")
    with table_area:
        display.table(display.subgroup_table(vod, title="Salvage line"), view, key="safety_vod_table")
        st.caption("Denominator: all patients in each salvage line.")

    st.divider()
    comp_area, death_area = frame.chart_and_table(view, (1, 1))
    with comp_area:
        st.subheader("Toxicities and their components")
        rows = loaders.load_toxicity_components(view.ref, view.spec)
        display.table(pd.DataFrame([{
            "Adverse event": (r.label if r.is_total else f"  · {r.label}"),
            "n/N (%)": display.count_text(r.estimate),
            "95% CI (exact)": display.ci_text(r.estimate)} for r in rows]), view, key="safety_components")
        st.caption("Denominator: all patients in the slice. A patient counts once per term.")
    with death_area:
        st.subheader("Causes of death")
        deaths = loaders.load_causes_of_death(view.ref, view.spec)
        if isinstance(deaths.deaths, TooFewPatients):
            frame.too_few(deaths.deaths)
        else:
            st.markdown(f"Deaths: **{display.count_text(deaths.deaths)}** of the patients in the slice.")
            if deaths.causes:
                display.table(pd.DataFrame([{
                    "Cause": c.cause[:1].upper() + c.cause[1:],
                    "n/deaths (%)": f"{c.count}/{c.deaths} ({display.format_percent(100 * c.share, 1)}%)",
                    "After HSCT": c.after_hsct} for c in deaths.causes]), view, key="safety_deaths")
                st.caption("Denominator: deaths in the slice.")
            else:
                st.caption("No deaths in this slice.")

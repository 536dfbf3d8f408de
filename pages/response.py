"""Response: CR/CRi by subgroup (forest), response composition, MRD negativity, cycles, HSCT."""

import pandas as pd
import streamlit as st

from core.response import GROUPING_TITLES
from ui import display, figures, frame, loaders

FOREST_GROUPINGS = ("salvage_line", "blast_burden", "cycle1_dose_group")

view = frame.current_view()
frame.page_header("Response", view, intro="CR/CRi = complete remission or complete remission with incomplete "
                  "haematologic recovery (best response). Exact (Clopper–Pearson) 95% CIs.")

if frame.require_patients(view):
    summary = loaders.load_response_summary(view.ref, view.spec)
    overall = loaders.load_cr_cri(view.ref, view.spec)
    by = {g: display.blast_labels(loaders.load_cr_cri_by(view.ref, view.spec, g), view.spec.blast_threshold)
          for g in FOREST_GROUPINGS}

    st.subheader("CR/CRi by salvage line, blast burden and cycle-1 dose")
    st.markdown(f"Overall CR/CRi: **{display.proportion_text(overall)}** of all patients in the slice.")
    chart_area, table_area = frame.chart_and_table(view, (3, 2))
    with chart_area:
        figures.draw(view, "forest_figure", (), overall, title="CR/CRi rate by subgroup",
                     sections=[(GROUPING_TITLES[g], by[g]) for g in FOREST_GROUPINGS], key="response_forest")
    with table_area:
        for g in FOREST_GROUPINGS:
            display.table(display.subgroup_table(by[g], title=GROUPING_TITLES[g]), view, key=f"response_tab_{g}")
        st.caption(f"Blast burden at the {view.spec.blast_threshold:g}% threshold. Denominator: all patients "
                   "in each subgroup.")

    st.divider()
    st.subheader("Best response")
    comp = summary.composition
    chart_area, table_area = frame.chart_and_table(view, (3, 2))
    with chart_area:
        figures.draw(view, "composition_figure", comp, key="response_composition")
    with table_area:
        display.table(pd.DataFrame([{"Best response": name, "n/N": f"{k}/{comp.n}",
                                     "%": f"{display.format_percent(100 * k / comp.n, 1)}%" if comp.n else "—"}
                                    for name, k in comp.as_rows()]), view, key="response_comp_table")
        st.caption("Not evaluable = no response assessment recorded. Denominator: all patients in the slice.")

    st.divider()
    mrd_area, cycles_area = frame.chart_and_table(view, (1, 1))
    with mrd_area:
        st.subheader("MRD negativity")
        mrd_rows = [("Any MRD-negative result, CR/CRi", summary.mrd_negative, "responders (CR/CRi)"),
                    ("MRD negative, CR", summary.mrd_negative_cr, "patients with CR"),
                    ("MRD negative, CRi", summary.mrd_negative_cri, "patients with CRi"),
                    ("Deep response (MRD negative at first CR/CRi)", summary.deep_response, "responders (CR/CRi)")]
        display.table(display.estimate_table(mrd_rows, "MRD"), view, key="response_mrd")
        st.caption("Denominators: responders (CR/CRi), patients with CR, patients with CRi. Deep response = "
                   "an MRD-negative marrow at the assessment that first documented CR/CRi.")
    with cycles_area:
        st.subheader("Cycles of InO to response")
        ctr = summary.cycles_to_response
        if ctr.n == 0 or ctr.median is None:
            st.info("No responders in this slice: no cycles to response to summarise.", icon=":material/functions:")
        else:
            c1, c2 = st.columns(2)
            c1.metric("Median cycles to CR/CRi", f"{ctr.median:g}")
            c2.metric("Range", f"{ctr.minimum}–{ctr.maximum}")
            st.caption(f"Among {ctr.n} {ctr.population}; the cycle after which CR/CRi was first documented.")
            figures.draw(view, "cycles_figure", loaders.load_patient_listing(view.ref, view.spec),
                         key="response_cycles")
        st.subheader("HSCT after response")
        hsct_rows = [("HSCT, all patients", summary.hsct, "patients"),
                     ("HSCT after CR/CRi", summary.hsct_responders, "responders (CR/CRi)"),
                     ("HSCT after a single InO cycle", summary.hsct_single_cycle, "responders with HSCT")]
        display.table(display.estimate_table(hsct_rows, "HSCT"), view, key="response_hsct")

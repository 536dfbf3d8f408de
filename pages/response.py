"""Response: CR/CRi by subgroup (forest), response composition, MRD negativity, cycles, HSCT."""

import streamlit as st

from core import charts, provenance
from core.charts.published import published_forest_figure
from core.endpoints import endpoint
from core.groupings import grouping
from core.text import markdown_text
from ui import display, downloads, figures, frame, incidence, literature_view, loaders

FOREST_GROUPINGS = ("salvage_line", "blast_burden", "cycle1_dose_group")
CR_CRI = endpoint("cr_cri").definition()
MRD = f'{endpoint("mrd_negativity").definition()}; {endpoint("deep_response").definition()}'

view = frame.current_view()
frame.page_header("Response", view, intro=f"{CR_CRI}. Exact (Clopper–Pearson) 95% CIs.")

if frame.require_patients(view):
    summary = loaders.load_response_summary(view.ref, view.spec)
    overall = loaders.load_cr_cri(view.ref, view.spec)
    by = {g: loaders.load_cr_cri_by(view.ref, view.spec, g) for g in FOREST_GROUPINGS}
    sections = [(grouping(g).title, by[g]) for g in FOREST_GROUPINGS]
    prov = downloads.view_provenance(view)
    cr_prov = provenance.for_proportion(prov, overall, analysis="CR/CRi rate by subgroup", endpoint=CR_CRI)

    st.subheader("CR/CRi by salvage line, blast burden and cycle-1 dose")
    st.markdown(f"Overall CR/CRi: **{markdown_text(display.proportion_text(overall))}** of all patients in the slice.")
    # ---- published CR/CRi of other studies as extra rows (off by default; core.literature)
    with frame.options_area(view, "Published figures"):
        published = literature_view.overlay_control(view)
    if published is None:
        chart_area, table_area = frame.chart_and_table(view, (3, 2))
    else:   # the published rows' labels need the page's width; their table goes beside the subgroups'
        chart_area = st.container()
        table_area, published_area = frame.chart_and_table(view, (2, 3))
    with chart_area:
        if published is None:
            fig = figures.draw(view, charts.forest_figure, (), overall, title="CR/CRi rate by subgroup",
                               sections=sections, key="response_forest")
            downloads.chart_downloads(fig, cr_prov, "CR-CRi by subgroup")
        else:
            fig = figures.draw(view, published_forest_figure, (), overall, title="CR/CRi rate by subgroup",
                               sections=sections, published=published, key="response_forest")
            downloads.chart_downloads(fig, cr_prov.with_(
                analysis="CR/CRi rate by subgroup, with published CR/CRi of other studies (not randomised against "
                         "this cohort; populations differ)"), "CR-CRi by subgroup with published")
    with table_area:
        for g in FOREST_GROUPINGS:
            display.table(display.subgroup_table(by[g], title=grouping(g).title), view, key=f"response_tab_{g}")
        st.caption(f"Blast burden at the {view.spec.blast_threshold:g}% threshold. Denominator: all patients "
                   "in each subgroup.")
        downloads.table_downloads(display.subgroup_tables(sections), cr_prov, "CR-CRi by subgroup",
                                  presenter=view.presenter)
    if published is not None:
        with published_area:
            literature_view.published_cr_cri_table(view, published)

    st.divider()
    st.subheader("Best response")
    comp = summary.composition
    comp_prov = prov.with_(analysis="Best response (CR, CRi, no response, not evaluable)",
                           endpoint=endpoint("best_response").definition(), n_analysed=comp.n,
                           n_excluded=max(prov.n_slice - comp.n, 0))
    chart_area, table_area = frame.chart_and_table(view, (3, 2))
    with chart_area:
        fig = figures.draw(view, charts.composition_figure, comp, key="response_composition")
        downloads.chart_downloads(fig, comp_prov, "Best response")
    with table_area:
        composition = display.composition_table(comp)
        display.table(composition, view, key="response_comp_table")
        st.caption("Not evaluable = no response assessment recorded. Denominator: all patients in the slice.")
        downloads.table_downloads(composition, comp_prov, "Best response", presenter=view.presenter)

    st.divider()
    mrd_area, cycles_area = frame.chart_and_table(view, (1, 1))
    with mrd_area:
        st.subheader("MRD negativity")
        mrd_rows = [("Any MRD-negative result, CR/CRi", summary.mrd_negative, "responders (CR/CRi)"),
                    ("MRD negative, CR", summary.mrd_negative_cr, "patients with CR"),
                    ("MRD negative, CRi", summary.mrd_negative_cri, "patients with CRi"),
                    ("Deep response (MRD negative at first CR/CRi)", summary.deep_response, "responders (CR/CRi)")]
        mrd_table = display.estimate_table(mrd_rows, "MRD")
        display.table(mrd_table, view, key="response_mrd")
        st.caption(f"Denominators: responders (CR/CRi), patients with CR, patients with CRi. "
                   f"{endpoint('deep_response').definition()}.")
        downloads.table_downloads(mrd_table, provenance.for_proportion(prov, summary.mrd_negative,
                                                                       analysis="MRD negativity", endpoint=MRD),
                                  "MRD negativity", presenter=view.presenter)
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
            fig = figures.draw(view, charts.cycles_figure, loaders.load_patient_listing(view.ref, view.spec),
                               key="response_cycles")
            downloads.chart_downloads(fig, prov.with_(
                analysis="Cycles of InO to first CR/CRi", endpoint=endpoint("cycles_to_response").definition(), n_analysed=ctr.n, n_excluded=max(prov.n_slice - ctr.n, 0),
                excluded_reason=f"not {ctr.population}"), "Cycles to response")
        st.subheader("HSCT after response")
        hsct_rows = [("HSCT, all patients", summary.hsct, "patients"),
                     ("HSCT after CR/CRi", summary.hsct_responders, "responders (CR/CRi)"),
                     ("HSCT after a single InO cycle", summary.hsct_single_cycle, "responders with HSCT")]
        hsct_table = display.estimate_table(hsct_rows, "HSCT")
        display.table(hsct_table, view, key="response_hsct")
        downloads.table_downloads(hsct_table, provenance.for_proportion(
            prov, summary.hsct, analysis="HSCT after InO", endpoint=f"{endpoint('hsct_rate').definition()}; each row names its denominator"), "HSCT", presenter=view.presenter)

    st.divider()
    st.subheader("Time to HSCT (competing risks)")
    incidence.incidence_section(view, prov, "hsct_incidence", stacked=True, key="response_hsct_incidence",
                                note="A proportion transplanted ignores when it happened and who died first; "
                                     "this curve does not.")

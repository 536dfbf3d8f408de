"""Patients: a swimmer plot of the slice and the patient listing."""

import streamlit as st

from core import charts, provenance
from ui import display, downloads, figures, frame, loaders

SORTS = {"os_days": "Follow-up (longest first)", "best_response": "Best response",
         "n_cycles": "InO cycles (most first)", "salvage_line": "Salvage line", "patient_id": "Patient id"}
LISTING = {"patient_id": "Patient", "centre": "Centre", "sex": "Sex", "age_years": "Age (y)",
           "ph_status": "Ph", "disease_status": "Status", "salvage_line": "Salvage", "blast_pct": "Blasts %",
           "emd_baseline": "EMD", "cycle1_dose_mg_m2": "C1 dose (mg/m²)", "n_cycles": "Cycles",
           "best_response": "Best response", "cycles_to_response": "Cycles to CR/CRi",
           "mrd_negative": "MRD neg", "hsct": "HSCT", "relapse_date": "Relapse", "death_date": "Death",
           "death_cause": "Cause of death", "last_contact_date": "Last contact", "followup_status": "Follow-up",
           "os_days": "OS (days)", "vod": "VOD"}

view = frame.current_view()
frame.page_header("Patients", view, intro="One bar per patient from the first InO dose; markers for response, "
                  "HSCT, relapse and death.")

if frame.require_patients(view):
    listing = loaders.load_patient_listing(view.ref, view.spec)
    events = loaders.load_slice_events(view.ref, view.spec)
    with frame.options_area(view, "Swimmer options"):
        sort_by = st.columns(3)[0].selectbox("Sort patients by", list(SORTS), key="p_sort", format_func=SORTS.get)
    base = downloads.view_provenance(view)
    fig = figures.draw(view, charts.swimmer_figure, listing, events, sort_by=sort_by, key="patients_swimmer")
    downloads.chart_downloads(fig, provenance.for_listing(base, listing, analysis="Course of treatment per patient"),
                              "Swimmer plot", row_level=True)

    st.subheader("Patient listing")
    shown = listing[[c for c in LISTING if c in listing.columns]].rename(columns=LISTING)
    st.dataframe(shown, hide_index=True, key="patients_listing", placeholder=display.DASH,   # not "None"
                 column_config={"Age (y)": st.column_config.NumberColumn(format="%.1f"),
                                "C1 dose (mg/m²)": st.column_config.NumberColumn(format="%.2f"),
                                **{c: st.column_config.DateColumn(format="YYYY-MM-DD", width="small")
                                   for c in ("Relapse", "Death", "Last contact")}})
    st.caption(f"{len(listing)} patients · derived per patient from the events table (data contract).")
    downloads.table_downloads(shown, provenance.for_listing(base, listing), "Patient listing", row_level=True,
                              presenter=view.presenter)

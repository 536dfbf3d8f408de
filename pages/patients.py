"""Patients: a swimmer plot of the slice and the patient listing."""

import math

import streamlit as st

from core import charts, provenance
from core.charts.swimmer import COLOUR_BY, LANES_PER_PAGE
from core.groupings import grouping
from ui import display, downloads, figures, frame, loaders

SORTS = {"os_days": "Follow-up (longest first)", "best_response": "Best response",
         "n_cycles": "InO cycles (most first)", "salvage_line": "Salvage line", "patient_id": "Patient id"}
# time window → months shown (None: the 90th percentile of follow-up; inf: all of it)
WINDOWS = {"p90": None, "6": 6.0, "12": 12.0, "24": 24.0, "all": math.inf}
WINDOW_LABELS = {"p90": "90% of follow-up", "6": "6 months", "12": "12 months", "24": "24 months",
                 "all": "All follow-up"}
LANE_CHOICES = (15, 30, 60, 100)
PRESENTER_LANES = 15      # lanes a tumour-board screen shows without scrolling
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
    colour_choices = [c for c in COLOUR_BY if c in listing.columns]
    with frame.options_area(view, "Swimmer options"):
        sort_col, window_col, colour_col, lanes_col = st.columns(4)
        sort_by = sort_col.selectbox("Sort patients by", list(SORTS), key="p_sort", format_func=SORTS.get)
        window = window_col.selectbox("Time window", list(WINDOWS), key="p_window", format_func=WINDOW_LABELS.get,
                                      help="Lanes longer than the window end at its edge with an arrow and "
                                           "their follow-up in months.")
        colour_by = colour_col.selectbox("Colour by", colour_choices, key="p_colour",
                                         format_func=lambda k: grouping(k).title)
        default_lanes = PRESENTER_LANES if view.presenter else LANES_PER_PAGE
        lanes = lanes_col.selectbox("Patients per page", LANE_CHOICES, key="p_lanes",
                                    index=LANE_CHOICES.index(default_lanes))
        grouped = st.checkbox("Group patients by the colour variable", key="p_group")
    pages = max(1, math.ceil(len(listing) / lanes))
    page = 1
    if pages > 1:
        if st.session_state.get("p_page", 1) > pages:     # fewer pages since the last run
            st.session_state["p_page"] = pages
        page = int(st.columns(4)[0].number_input(f"Page (of {pages})", min_value=1, max_value=pages, step=1,
                                                 key="p_page"))
    base = downloads.view_provenance(view)
    fig = figures.draw(view, charts.swimmer_figure, listing, events, sort_by=sort_by, window_months=WINDOWS[window],
                       colour_by=colour_by, group_by=colour_by if grouped else None, page=page,
                       lanes_per_page=lanes, key="patients_swimmer")
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

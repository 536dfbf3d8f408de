"""Overview: the slice's key figures, its patient characteristics (the paper's Table 1), and the
slice's exports (its data in the import format and the tumour-board deck)."""

import streamlit as st

from core import charts, provenance
from core.results import TooFewPatients
from core.text import markdown_text
from ui import display, downloads, figures, frame, loaders

view = frame.current_view()
frame.page_header("Overview", view)

if frame.require_patients(view):
    summary = loaders.load_response_summary(view.ref, view.spec)
    os_analysis = loaders.load_survival(view.ref, view.spec, "os")
    os_curve = os_analysis.curves[0]

    if view.presenter:
        cells = [*st.columns(4), *st.columns(4)[:3]]
    else:
        cells = list(st.columns(7))
    cells[0].metric("Patients", f"{view.n}")
    cells[0].caption(f"of {view.total} in the cohort")
    display.metric(cells[1], "CR/CRi", summary.cr_cri)
    display.metric(cells[2], "MRD negative", summary.mrd_negative, population="responders (CR/CRi)")
    display.metric(cells[3], "HSCT", summary.hsct)
    if isinstance(os_curve, TooFewPatients):
        cells[4].metric("Median OS", display.DASH)
        cells[4].caption(markdown_text(os_curve.reason))
        for cell, months in ((cells[5], 6), (cells[6], 12)):
            cell.metric(f"OS at {months} months", display.DASH)
    else:
        median = os_curve.median
        cells[4].metric("Median OS", "NR" if median.value is None else f"{median.value:.1f} mo")
        cells[4].caption(f"{display.median_ci_text(median, os_curve)} · {os_curve.events} deaths "
                         f"among {os_curve.n}")
        for cell, months in ((cells[5], 6.0), (cells[6], 12.0)):
            rate = os_curve.landmark(months)
            cell.metric(f"OS at {months:g} months",
                        display.DASH if rate.estimate is None else f"{100 * rate.estimate:.1f}%")
            cell.caption(display.landmark_ci_text(rate))

    prov = downloads.view_provenance(view)
    st.divider()
    table_area, chart_area = frame.chart_and_table(view, (1, 1))
    with table_area:
        st.subheader("Patient characteristics")
        characteristics = loaders.load_characteristics(view.ref, view.spec)
        st.caption(f"N (%) of the {characteristics.n} patients in the slice; blast burden at the "
                   f"{characteristics.blast_threshold:g}% threshold.")
        display.table(display.grouped(characteristics.to_frame(), "Variable"), view, static=True,
                      key="overview_characteristics")
        downloads.table_downloads(characteristics.to_frame(), prov.with_(
            analysis="Patient characteristics", endpoint=f"blast burden at the "
            f"{characteristics.blast_threshold:g}% threshold"), "Patient characteristics", presenter=view.presenter)
    with chart_area:
        st.subheader("Overall survival")
        if isinstance(os_curve, TooFewPatients):
            frame.too_few(os_curve)
        else:
            fig = figures.draw(view, charts.km_figure, os_analysis, max_months=24, key="overview_km")
            st.caption(markdown_text(os_analysis.definition) + ". First 24 months shown; the Survival page shows "
                       "all follow-up.")
            downloads.chart_downloads(fig, provenance.for_survival(prov, os_analysis), "Overall survival 24 months")

    st.divider()
    with frame.options_area(view, "Export this slice"):
        if not view.presenter:
            st.subheader("Export this slice")
        st.caption("Every file states the slice, its n, the definitions in force and the export date. "
                   "Small-count suppression: **Export options** at the bottom of the sidebar.")
        data_area, deck_area = st.columns(2, gap="large")
        with data_area:
            st.markdown("**Slice data** — the patients and events rows in the import format")
            downloads.slice_downloads(view, prov)
        with deck_area:
            st.markdown("**Tumour-board deck** — response, survival, safety and the course per patient")
            downloads.deck_download(view, prov)

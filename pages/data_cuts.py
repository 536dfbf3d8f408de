"""Data cuts: an imported cohort's cuts, and what changed from one to another."""

import streamlit as st

from core.filters import FilterSpec
from core.provenance import slice_provenance
from core.text import markdown_text
from ui import cuts_view, downloads, frame

view = frame.current_view()
frame.page_header("Data cuts", view, intro="An imported cohort updated with a new cut keeps its earlier cuts, "
                  "read-only. Compare two cuts: new and removed patients, changed values and events, and how each "
                  "headline figure moved. Always the whole cohort of each cut, whatever the filters.")

lineages = cuts_view.lineages_with_cuts()
if not lineages:
    st.info("No imported cohort has a second cut yet. On the **Import cohort** page, choose *Import as: a new cut "
            "of* an imported cohort to update it with a centre's new files.", icon=":material/history:")
else:
    names = {lineage: cuts[-1].label for lineage, cuts in lineages.items()}
    lineage = st.selectbox("Cohort", list(names), key="dc_cohort", format_func=lambda k: names.get(k, k))
    cuts = lineages[lineage]
    labels = {str(c.path): f"cut {c.cut} · n = {c.n_patients} · imported {c.imported_date}" for c in cuts}
    paths = list(labels)
    left, right = st.columns(2)
    earlier = left.selectbox("Earlier cut", paths, index=len(paths) - 2, key="dc_earlier",
                             format_func=lambda p: labels.get(p, p))
    later = right.selectbox("Later cut", paths, index=len(paths) - 1, key="dc_later",
                            format_func=lambda p: labels.get(p, p))
    by_path = {str(c.path): c for c in cuts}
    comparison = cuts_view.load_comparison(by_path[earlier].path, by_path[later].path)
    counts = list(comparison.counts().items())
    for row in (counts[:3], counts[3:]):
        for column, (what, n) in zip(st.columns(3), row):
            column.metric(what.capitalize(), n)
    provenance = slice_provenance(FilterSpec(), n_slice=comparison.later.n_patients,
                                  n_total=comparison.later.n_patients,
                                  data_label=f"{comparison.later.label}: {comparison.earlier.name} → "
                                             f"{comparison.later.name}")

    st.subheader("Headline figures")
    figures = comparison.figures_frame()
    st.dataframe(figures, hide_index=True, width="stretch")
    st.caption("CR/CRi, VOD and HSCT among all patients of each cut; OS by Kaplan–Meier from the first InO dose.")
    downloads.table_downloads(figures, provenance.with_(analysis="Headline figures by data cut"),
                              "Headline figures by cut", key="dc_dl_figures")

    st.subheader("What changed")
    changes = comparison.change_list()
    if changes.empty:
        st.caption(f"Nothing changed from {markdown_text(comparison.earlier.name)} to "
                   f"{markdown_text(comparison.later.name)}.")
    else:
        st.dataframe(changes, hide_index=True, width="stretch")
        downloads.table_downloads(changes, provenance.with_(analysis="What changed between data cuts"),
                                  "What changed", row_level=True, key="dc_dl_changes")

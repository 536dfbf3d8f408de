"""Paper check: every figure the paper publishes, recomputed on the whole cohort, with each conflict explained."""

import pandas as pd
import streamlit as st

from core import provenance
from core.text import markdown_text
from ui import display, downloads, frame, literature_view, loaders

view = frame.current_view()
frame.page_header("Paper check", view, intro="Published vs computed for every figure of the paper, grouped by "
                  "the paper's tables. Always computed on the whole cohort, whatever the filters.")

try:
    check = loaders.load_paper_check(view.ref)
except ImportError as exc:
    check = None
    st.info(f"Paper check unavailable: the paper-check module is not installed yet ({markdown_text(exc)}).",
            icon=":material/construction:")

if check is not None:
    misses = check.misses
    unexplained = [f for f in misses if not f.conflict]
    c1, c2, c3 = st.columns(3)
    c1.metric("Reproduced exactly", f"{check.n_exact} of {check.n_counted}")
    c2.metric("Differ from the paper", f"{len(misses)}",
              help="Each differing figure is explained below; a documented conflict means the paper's own "
                   "figures cannot all hold at once.")
    c3.metric("Differ without a documented conflict", f"{len(unexplained)}")
    st.caption(markdown_text(check.summary()))

    downloads.table_downloads(
        display.paper_check_table(check),
        provenance.for_paper_check(downloads.cohort_provenance(view), check.n_exact, check.n_counted),
        "Paper check", presenter=view.presenter)

    show = st.radio("Show", ["all", "differ"], key="pc_show", horizontal=True,
                    format_func={"all": "Every figure", "differ": "Only figures that differ"}.get)

    for section, items in check.by_section():
        shown = [f for f in items if show == "all" or (f.counted and not f.is_exact)]
        if not shown:
            continue
        n_exact = sum(1 for f in items if f.counted and f.is_exact)
        n_counted = sum(1 for f in items if f.counted)
        differ = n_counted - n_exact
        title = f"{section} — {n_exact} of {n_counted} exact" + (f", {differ} differ" if differ else "")
        with st.expander(markdown_text(title), expanded=bool(differ) or show == "differ"):
            display.table(display.paper_figures_table(shown), view, static=True)
            explained = [f for f in shown if f.reason and (f.conflict or not f.is_exact)]
            for f in explained:
                tag = f"**{markdown_text(f.conflict)}** · " if f.conflict else ""
                st.markdown(f"- {tag}{markdown_text(f.target_id)} ({markdown_text(f.published)} → "
                            f"{markdown_text(f.computed)}): {markdown_text(f.reason)}")
            supplementary = [f for f in shown if f.supplementary]
            if supplementary:
                st.caption("Supplementary (derived, not published): " + "; ".join(
                    f"{markdown_text(f.target_id)} {markdown_text(f.supplementary)}" for f in supplementary))

    if check.crude_os is not None:
        st.subheader("Crude survival counts behind the OS block (C02)")
        st.caption("What a 'fraction of all patients' reading of the published OS rates gives; not Kaplan–Meier.")
        display.table(pd.DataFrame(check.crude_os.rows(), columns=["Count", "Value"]), view, static=True)

    with st.expander("Definitions in force"):
        for name, text in check.definitions.items():
            st.markdown(f"- **{markdown_text(name)}**: {markdown_text(text)}")
    st.caption(f"Conflicts are documented in {markdown_text(check.source)}.")

    st.divider()
    st.subheader("What the paper quotes from other studies")
    literature_view.discrepancies_section(view, key="pc_discrepancies")

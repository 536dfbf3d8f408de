"""Import a centre's cohort: templates, upload, validation with every problem listed, atomic store."""

from __future__ import annotations

import streamlit as st

from core.cohorts import list_cohorts, remove_cohort
from core.database import CohortError
from core.importer import ROW_CONVENTION, import_centres, import_cohort
from core.text import markdown_text
from ui import frame, import_view, mapping_view
from ui.access import require_login_for_changes
from ui.display import DASH

frame.route_through_app()
st.title("Import a cohort")
st.caption("Look at your own centre's InO patients in the same views. Nothing existing is changed: a valid "
           "import becomes a new cohort, an invalid one is not written at all. " + ROW_CONVENTION)

st.subheader("1 · Download a template")
st.markdown("Fill in one row per patient (`patients`) and one row per event (`events`): doses, response and "
            "MRD assessments, HSCT, relapse, adverse events, death, last contact. The **Data dictionary** "
            "page lists every column and allowed value.")
import_view.template_downloads()

st.subheader("2 · Upload and import")
may_change = require_login_for_changes()
if may_change:
    sources = import_view.sources_input()
    saved = mapping_view.saved_mapping_input()
    mapping = mapping_view.mapping_editor(sources, saved) if sources else None
    several = sources is not None and (len(sources) > 1 or any(s.centre for s in sources))
    prefix = several and st.checkbox(
        "Prefix patient ids with their centre", key="import_prefix_ids",
        help="When centres number their patients alike (P01, P02, …): P01 of Centre A becomes Centre A-P01. "
             "Without it, an id two centres use is refused.")
    new_cut_of = import_view.cut_target([c for c in list_cohorts() if not c.is_default])
    label = st.text_input("Cohort label", key="import_label", max_chars=120, placeholder="e.g. Centre X 2024",
                          help="For a new cut, leave it empty to keep the cohort's label.")
    source = st.text_input("Source (optional)", key="import_source", max_chars=120,
                           placeholder="e.g. Centre X registry export, June 2024")
    # the click is kept by a callback: a rerun that starts before this line (the page routed through
    # app.py first) would otherwise lose the button's return value
    st.button("Validate and import", key="import_submit", type="primary", on_click=import_view.request_import)
    if import_view.import_requested():
        if sources is None:
            st.warning("Upload the files first: two CSV files, or one workbook.", icon="📄")
        else:
            with st.spinner("Checking every row…"):
                if mapping is None and not several and new_cut_of is None:
                    result = import_cohort(sources[0].files, label, source=source)
                else:
                    result = import_centres(sources, label, mapping=mapping, prefix_ids=prefix,
                                            new_cut_of=new_cut_of, source=source)
            st.session_state[import_view.RESULT_KEY] = result
            if result.ok:
                st.rerun()   # the picker (drawn before this page) then lists the new cohort
    result = st.session_state.get(import_view.RESULT_KEY)
    if result is not None:
        import_view.show_result(result)

st.subheader("3 · Cohorts")
cohorts = list_cohorts()
if cohorts:
    st.dataframe(import_view.cohort_table(cohorts), hide_index=True, width="stretch", placeholder=DASH)
if may_change:
    target = import_view.remove_control([c for c in cohorts if not c.is_default])
    if target is not None:
        try:
            removed = remove_cohort(target)
        except CohortError as exc:
            st.error(markdown_text(str(exc)), icon="🚫")
        else:
            st.session_state.pop(import_view.RESULT_KEY, None)
            st.session_state["_import_removed"] = removed.name
            st.rerun()
    if st.session_state.get("_import_removed"):
        st.success(f"Removed {markdown_text(st.session_state.pop('_import_removed'))}.", icon="🗑️")

"""Import a centre's cohort: templates, upload, validation with every problem listed, atomic store."""

from __future__ import annotations

import streamlit as st

from core.cohorts import list_cohorts, remove_cohort
from core.database import CohortError
from core.importer import ROW_CONVENTION, import_cohort
from core.text import markdown_text
from ui import frame, import_view
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
    files = import_view.cohort_files_input()
    label = st.text_input("Cohort label", key="import_label", max_chars=120, placeholder="e.g. Centre X 2024")
    source = st.text_input("Source (optional)", key="import_source", max_chars=120,
                           placeholder="e.g. Centre X registry export, June 2024")
    if st.button("Validate and import", key="import_submit", type="primary"):
        if files is None:
            st.warning("Upload the files first: two CSV files, or one workbook.", icon="📄")
        else:
            with st.spinner("Checking every row…"):
                result = import_cohort(files, label, source=source)
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

"""Import from REDCap or CDISC ADaM: a project's records export with its dictionary, or a study's datasets."""

from __future__ import annotations

import streamlit as st

from core.importer import ROW_CONVENTION
from ui import frame, import_view, standards_view
from ui.access import require_login_for_changes

frame.current_view()   # opened by a direct link on a fresh server: route through app.py first
st.title("Import from REDCap or CDISC ADaM")
st.caption("Bring a cohort in from where investigators keep it. The data are checked by the same rules as "
           "every import; a valid import becomes a new cohort, an invalid one is not written at all. "
           + ROW_CONVENTION)

source = st.radio("Where the data are", standards_view.SOURCES, key=standards_view.SOURCE_KEY, horizontal=True)
if source == standards_view.SOURCES[0]:
    st.subheader("REDCap")
    st.markdown("To collect a new cohort in REDCap, create the project from this data dictionary (Project Setup → "
                "Data Dictionary), then make the **events** form a repeating instrument: one instance per dose, "
                "response, MRD, HSCT, relapse, adverse event, death or last contact. To import, export the "
                "records as CSV (raw data or labels, with variable names as column headers) and download the "
                "project's data dictionary; the data access group is read as the centre.")
    standards_view.redcap_dictionary_download()
else:
    st.subheader("CDISC ADaM")
    st.markdown("ADSL and ADTTE are needed; ADRS, ADAE and ADEX are read when present, as SAS transport files "
                "(.xpt, version 5) or CSV. ADSL gives USUBJID, SITEID (the centre), SEX, AGE, TRTSDT, DCUTDT and "
                "SAFFL; name sponsor-specific variables (salvage line, blast %, Ph status, the HSCT date as "
                "`hsct_date`) in the mapping. Where a duration in ADTTE differs from the one the events give, "
                "the report says so.")

may_change = require_login_for_changes()
if may_change:
    if source == standards_view.SOURCES[0]:
        redcap_files = standards_view.redcap_files_input()
        ready = redcap_files is not None
    else:
        adam_files = standards_view.adam_files_input()
        mapping_text = standards_view.mapping_input()
        ready = adam_files is not None
    label = st.text_input("Cohort label", key="is_label", max_chars=120, placeholder="e.g. Study X 2024")
    source_text = st.text_input("Source (optional)", key="is_source_text", max_chars=120,
                                placeholder="e.g. REDCap project 1234, export of June 2024")
    if st.button("Validate and import", key="is_submit", type="primary"):
        if not ready:
            st.warning("Upload the files first.", icon="📄")
        else:
            with st.spinner("Checking every row…"):
                if source == standards_view.SOURCES[0]:
                    result = standards_view.run_redcap_import(redcap_files, label, source_text)
                else:
                    result = standards_view.run_adam_import(adam_files, mapping_text, label, source_text)
            st.session_state[standards_view.RESULT_KEY] = result
            if result.ok:
                st.rerun()   # the picker (drawn before this page) then lists the new cohort
    result = st.session_state.get(standards_view.RESULT_KEY)
    if result is not None:
        import_view.show_result(result)

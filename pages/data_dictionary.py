"""The data dictionary: every column of the import format, its type and allowed values, and the derived endpoints."""

from __future__ import annotations

import streamlit as st

from core.importer import MAX_FILE_BYTES, MAX_ROWS, ROW_CONVENTION, dictionary_frame, endpoints_frame
from ui import frame, import_view
from ui.display import DASH

frame.route_through_app()
st.title("Data dictionary")
st.caption("The data contract every cohort follows — the default reconstructed cohort and every imported one. "
           "The import checks exactly these rules.")

st.markdown(
    "- **Files:** two CSV files (`patients`, `events`) or one .xlsx workbook with the sheets `patients` and "
    f"`events`; at most {MAX_FILE_BYTES // 1024 // 1024} MB and {MAX_ROWS:,} rows per table.\n"
    "- **Text:** UTF-8 (other encodings are read with a warning); comma-separated (semicolon or tab is "
    "recognised with a warning). Column names in row 1, in any order; extra columns are kept and reported.\n"
    "- **Dates:** `YYYY-MM-DD`. **Numbers:** digits with `.` for decimals, no `%` or units. "
    "**true/false:** also `yes`/`no`, `1`/`0`.\n"
    "- **Missing:** an empty cell (also `NA`, `N/A`, `NULL`, `NaN`). Values are case-sensitive where listed "
    "(e.g. `CR`, `CRi`, `death`).\n"
    "- **Workbooks:** no formulas and no merged cells — paste values instead.\n"
    f"- **Problems** are reported as file · row · column · value · expected. {ROW_CONVENTION}"
)
import_view.template_downloads(prefix="dict_tpl")

st.subheader("patients — one row per patient, at the first InO dose")
st.dataframe(dictionary_frame("patients"), hide_index=True, width="stretch", placeholder=DASH)

st.subheader("events — one row per event")
st.dataframe(dictionary_frame("events"), hide_index=True, width="stretch", placeholder=DASH)

st.subheader("Derived endpoints — computed from the dated events, never stored")
st.dataframe(endpoints_frame(), hide_index=True, width="stretch", placeholder=DASH)

"""The page list, in one place for app.py and for the recovery below.

Why the recovery: streamlit treats a `pages/` folder next to the main script as the old
(v1) automatic multipage layout until `st.navigation` has been called once in the process. On
the first run of a fresh server (and on every `AppTest` run) a request for a page other than the
default one would therefore execute `pages/<page>.py` on its own, without app.py's frame. A page
that finds no frame calls `recover()`: registering the pages with `st.navigation` switches the
process to app.py's routing, and the rerun then goes through app.py to the same page and URL.
"""

from __future__ import annotations

import streamlit as st


def pages() -> list[st.Page]:
    return [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("pages/response.py", title="Response", icon=":material/target:"),
        st.Page("pages/survival.py", title="Survival", icon=":material/show_chart:"),
        st.Page("pages/safety.py", title="Safety", icon=":material/health_and_safety:"),
        st.Page("pages/patients.py", title="Patients", icon=":material/group:"),
        st.Page("pages/paper_check.py", title="Paper check", icon=":material/fact_check:"),
        st.Page("pages/literature.py", title="Literature", icon=":material/library_books:"),
        st.Page("pages/cutpoints.py", title="Cut-points", icon=":material/tune:"),
        st.Page("pages/import_cohort.py", title="Import cohort", icon=":material/upload_file:"),
        st.Page("pages/import_standards.py", title="Import from REDCap or CDISC ADaM", icon=":material/dataset:"),
        st.Page("pages/data_cuts.py", title="Data cuts", icon=":material/history:"),
        st.Page("pages/data_dictionary.py", title="Data dictionary", icon=":material/menu_book:"),
    ]


def navigation() -> st.Page:
    return st.navigation(pages(), position="sidebar")


def recover() -> None:
    """A page ran without app.py: hand routing to app.py and rerun the same page (does not return)."""
    navigation()
    st.rerun()

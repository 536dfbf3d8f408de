"""The dashboard's entry point: page config, the shared filter sidebar, the URL, navigation.

    streamlit run app.py           # cohort: chosen in the sidebar; the default is $INO_COHORT_PATH,
                                   # else data/ino_cohort.duckdb; imports live in data/cohorts/

The sidebar is drawn once here for every page; the pages in pages/ are thin scripts that read
the active view (ui.frame.current_view) and lay out what core computes through ui.loaders.
"""

from __future__ import annotations

import logging

import streamlit as st

from core.database import CohortError
from ui import frame, loaders, navigation, page_state, sidebar
from ui.cohort_picker import cohort_param, cohort_picker, take_link_notice

log = logging.getLogger("app")

presenter = sidebar.presenter_requested()
st.set_page_config(page_title="Inotuzumab ozogamicin in R/R B-ALL — real-world data", page_icon=":material/bloodtype:",
                   layout="wide", initial_sidebar_state="collapsed" if presenter else "expanded")

page = navigation.navigation()

try:
    chosen = cohort_picker()
    ref = loaders.current_cohort_ref(chosen)
    sidebar.init_state(ref)
    page_state.restore()
    spec, problems = sidebar.current_spec(ref)
    presenter = bool(st.session_state.get(sidebar.PRESENTER_KEY, False))
    sidebar.render(ref, spec)
    view = frame.View(
        ref=ref, spec=spec, presenter=presenter,
        n=loaders.load_slice_size(ref, spec),
        total=loaders.load_extent(ref).n,
        meta=loaders.load_study_meta(ref),
        notices=frame.notice_texts(sidebar.url_notices(spec) + page_state.take_notices()) + take_link_notice()
        + tuple(problems),
    )
except CohortError as exc:
    st.title("The cohort could not be opened")
    frame.show_cohort_error(exc)
    st.stop()

frame.set_current_view(view)
frame.apply_presenter_style(view.presenter)

try:
    page.run()
except CohortError as exc:
    frame.show_cohort_error(exc)
except Exception as exc:  # the last net: a friendly message, the details folded away and logged
    log.exception("page %s failed", page.title)
    frame.show_unexpected_error(exc)
finally:
    frame.clear_current_view()   # a page run without app.py must not find a stale view
    # the whole view in the URL: filters, presenter mode, the cohort and the page's own choices
    sidebar.write_url(view.spec, view.presenter, {**cohort_param(chosen), **page_state.query_params()})

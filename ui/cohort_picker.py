"""The cohort picker: a sidebar selectbox (key `cohort`) of the default and the imported cohorts.

    path = cohort_picker()       # in app.py, before the filters; None when no cohort file exists

Each option reads "label · n = 41 · imported 2025-03-02". The list is cached on the directory's
contents (file names, sizes, modification times), so an import or a removal shows at the next run.
Labels are user text: a selectbox shows options as plain text, never as markup.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.cohorts import CohortListing, cohort_files, cohorts_dir, default_cohort_path, scan_cohorts
from core.text import markdown_text
from ui import page_state

PICKER_KEY = "cohort"
LINK_NOTICE = "_cohort_link_notice"
_LINK_READ = "_cohort_link_read"


def _fingerprint(directory: Path, default: Path) -> tuple[tuple[str, int, int], ...]:
    out = []
    for path in [default, *cohort_files(directory)]:
        try:
            stat = path.stat()
        except OSError:
            continue
        out.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(out)


@st.cache_data(show_spinner=False, max_entries=16)
def _listing(directory: str, default: str, fingerprint: tuple[tuple[str, int, int], ...]) -> CohortListing:
    return scan_cohorts(Path(directory), Path(default))


def load_cohort_listing() -> CohortListing:
    directory, default = cohorts_dir(), default_cohort_path()
    return _listing(str(directory), str(default), _fingerprint(directory, default))


def cohort_picker(*, container=None, key: str = PICKER_KEY) -> Path | None:  # type: ignore[no-untyped-def]
    """Draw the picker (in the sidebar by default) and return the chosen cohort file."""
    where = container if container is not None else st.sidebar
    listing = load_cohort_listing()
    if not listing.cohorts:
        where.caption("No cohort file yet: build the default cohort or import one.")
        return None
    labels = {str(c.path): c.describe() for c in listing.cohorts}
    options = list(labels)
    if not st.session_state.get(_LINK_READ):      # a link may name the cohort: only on the first run
        st.session_state[_LINK_READ] = True
        named, notice = page_state.cohort_from_link(
            {page_state.cohort_id(c.path, default_cohort_path()): c.path for c in listing.cohorts})
        if named is not None:
            st.session_state[key] = str(named)
        if notice is not None:
            st.session_state[LINK_NOTICE] = notice
    if st.session_state.get(key) not in labels:   # first run, or the chosen cohort was removed
        st.session_state[key] = options[0]
    chosen = where.selectbox("Cohort", options, key=key, format_func=lambda p: labels.get(p, p),
                             help="The default cohort, then imported cohorts (newest first). "
                                  "Import one on the Import page.")
    for bad in listing.unreadable:
        where.caption(f"Skipped {markdown_text(bad.path.name)}: not a readable cohort file.")
    return Path(chosen) if chosen else None


def cohort_param(chosen: Path | None) -> dict[str, str]:
    """`cohort=<id>` for the URL, left out for the default cohort."""
    if chosen is None:
        return {}
    cohort = page_state.cohort_id(chosen, default_cohort_path())
    return {} if cohort == page_state.DEFAULT_COHORT_ID else {page_state.COHORT_PARAM: cohort}


def take_link_notice() -> tuple[str, ...]:
    notice = st.session_state.pop(LINK_NOTICE, None)
    return (notice.message,) if notice is not None else ()

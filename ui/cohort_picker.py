"""The cohort picker: a sidebar selectbox (key `cohort`) of the default and the imported cohorts.

    path = cohort_picker()       # in app.py, before the filters; None when no cohort file exists

Each option reads "label · n = 41 · imported 2025-03-02". The list is cached on the directory's
contents (file names, sizes, modification times), so an import or a removal shows at the next run.
Labels are user text: a selectbox shows options as plain text, never as markup. Of a cohort with
several data cuts the latest is listed; a toggle under the picker (key `cohort_all_cuts`, shown only
when there are earlier cuts) lists the earlier ones too, and a link naming an earlier cut turns it on.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.cohorts import CohortListing, cohort_files, cohorts_dir, default_cohort_path, scan_cohorts
from core.text import markdown_text
from ui import page_state

PICKER_KEY = "cohort"
ALL_CUTS_KEY = "cohort_all_cuts"
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
def _listing(directory: str, default: str, fingerprint: tuple[tuple[str, int, int], ...],
             all_cuts: bool = False) -> CohortListing:
    return scan_cohorts(Path(directory), Path(default), all_cuts=all_cuts)


def load_cohort_listing(*, all_cuts: bool = False) -> CohortListing:
    """The cohorts the picker offers: the latest cut of each, or every cut."""
    directory, default = cohorts_dir(), default_cohort_path()
    return _listing(str(directory), str(default), _fingerprint(directory, default), all_cuts)


def cohort_picker(*, container=None, key: str = PICKER_KEY) -> Path | None:  # type: ignore[no-untyped-def]
    """Draw the picker (in the sidebar by default) and return the chosen cohort file."""
    where = container if container is not None else st.sidebar
    listing = load_cohort_listing(all_cuts=True)
    if not listing.cohorts:
        where.caption("No cohort file yet: build the default cohort or import one.")
        return None
    if not st.session_state.get(_LINK_READ):      # a link may name the cohort: only on the first run
        st.session_state[_LINK_READ] = True
        named, notice = page_state.cohort_from_link(
            {page_state.cohort_id(c.path, default_cohort_path()): c.path for c in listing.cohorts})
        if named is not None:
            st.session_state[key] = str(named)
            if any(str(c.path) == str(named) and not c.latest for c in listing.cohorts):
                st.session_state[ALL_CUTS_KEY] = True
        if notice is not None:
            st.session_state[LINK_NOTICE] = notice
    earlier = any(not c.latest for c in listing.cohorts)
    show_all = earlier and bool(st.session_state.get(ALL_CUTS_KEY))
    current = st.session_state.get(key)
    labels = {str(c.path): c.describe() for c in listing.cohorts
              if c.latest or show_all or str(c.path) == current}
    options = list(labels)
    if current not in labels:   # first run, or the chosen cohort was removed
        st.session_state[key] = options[0]
    slot = where.container()
    if earlier:
        where.toggle("Show earlier data cuts", key=ALL_CUTS_KEY,
                     help="Earlier cuts of an imported cohort, kept read-only. The Data cuts page shows "
                          "what changed from one cut to the next.")
    chosen = slot.selectbox("Cohort", options, key=key, format_func=lambda p: labels.get(p, p),
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

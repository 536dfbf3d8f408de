"""The import page's column mapping: what is proposed for the user's files, their corrections, the JSON file.

    mapping = mapping_editor(sources, saved_mapping_input())   # None: the files follow the template as they are

The proposal (core.importer.proposal) is shown as three tables the user can correct: each of their
columns and the template column it fills (or kept as an extra column, or dropped) with the date style
it is read in; each of their values and the contract value it becomes; and, read-only, what the
cohort will get — mapped, derived (the centre from the centre's name, one value for every row), left
empty, or dropped. The corrected mapping can be downloaded as JSON and uploaded again with the next
cut of the same files. Test hook: `st.session_state["_import_test_mapping"]` = a JSON file's path
stands for an uploaded mapping (only server-side code can set a key starting with "_").
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import streamlit as st

from core.importer import (
    DROP,
    KEEP,
    CentreFiles,
    ImportMapping,
    MappingError,
    ProblemReport,
    TextTable,
    propose_mapping,
    read_for_mapping,
    with_choices,
)
from core.importer.dates import DATE_STYLES
from core.importer.proposal import mapping_summary
from core.importer.rules import SPECS, TABLES
from core.text import markdown_text
from ui.display import DASH

TEST_MAPPING_KEY = "_import_test_mapping"
_TABLES_KEY = "_import_read_tables"
MAX_MAPPING_KB = 1024


def _digest(sources: Sequence[CentreFiles]) -> str:
    h = hashlib.sha1()
    for source in sources:
        h.update(source.centre.encode())
        for file in (source.files.workbook, source.files.patients, source.files.events):
            if file is not None:
                h.update(file.name.encode())
                h.update(hashlib.sha1(file.data).digest())
    return h.hexdigest()[:16]


def _frame_key(frame: pd.DataFrame) -> str:
    return hashlib.sha1(pd.util.hash_pandas_object(frame.astype(str), index=True).to_numpy().tobytes()) \
        .hexdigest()[:12]


def saved_mapping_input() -> ImportMapping | None:
    """The uploader for a saved mapping (or the test hook's file); None when none is given or it is unusable."""
    hooked = st.session_state.get(TEST_MAPPING_KEY)
    if hooked:
        name, data = Path(hooked).name, Path(hooked).read_bytes()
    else:
        upload = st.file_uploader("Reuse a saved column mapping (.json, optional)", type=["json"],
                                  key="import_mapping_file", max_upload_size=1,
                                  help="The mapping downloaded below with an earlier cut of the same files: "
                                       "its choices are kept, and only what it does not say is proposed.")
        if upload is None:
            return None
        name, data = upload.name, upload.getvalue()
    try:
        return ImportMapping.from_json(data)
    except MappingError as exc:
        st.error(f"{markdown_text(name)} is not a usable mapping: expected {markdown_text(exc)}", icon="🚫")
        return None


def read_tables(sources: Sequence[CentreFiles]) -> dict[str, list[TextTable]]:
    """Each centre's tables as read, kept in the session for the files' contents (read once, not every rerun)."""
    key = _digest(sources)
    cached = st.session_state.get(_TABLES_KEY)
    if cached is None or cached[0] != key:
        cached = (key, read_for_mapping(sources, ProblemReport()))
        st.session_state[_TABLES_KEY] = cached
    return cached[1]


def _targets(table: str) -> list[str]:
    return [s.name for s in SPECS[table]] + [KEEP, DROP]


def _column_choices(mapping: ImportMapping, edited: pd.DataFrame) -> ImportMapping:
    for table in TABLES:
        rows = edited[edited["table"] == table]
        allowed = set(_targets(table))
        columns = {r["your column"]: (r["contract column"] if r["contract column"] in allowed else KEEP)
                   for r in rows.to_dict("records") if r["contract column"] != r["your column"]}
        formats = {r["your column"]: r["dates"] for r in rows.to_dict("records")
                   if r["dates"] in DATE_STYLES and r["dates"] != DATE_STYLES[0]}
        mapping = with_choices(mapping, table, columns=columns, date_formats=formats)
    return mapping


def _value_choices(mapping: ImportMapping, edited: pd.DataFrame) -> ImportMapping:
    for table in TABLES:
        values: dict[str, dict[str, str]] = {}
        for r in edited[edited["table"] == table].to_dict("records"):
            becomes = str(r["becomes"] or "").strip()
            if becomes and becomes != r["your value"]:
                values.setdefault(r["contract column"], {})[r["your value"]] = becomes
        mapping = with_choices(mapping, table, values=values)
    return mapping


def _columns_frame(proposal) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    frame = proposal.columns_frame()
    frame["found by"] = [how + (f"; {note}" if note else "") for how, note in zip(frame["found by"], frame["dates"])]
    styles = proposal.mapping
    frame["dates"] = [styles.table(t).date_formats.get(c, DATE_STYLES[0]) if target in
                      {s.name for s in SPECS[t] if s.kind == "date"} else None
                      for t, c, target in zip(frame["table"], frame["your column"], frame["contract column"])]
    return frame


def mapping_editor(sources: Sequence[CentreFiles], saved: ImportMapping | None) -> ImportMapping | None:
    """The proposal for these files with the user's corrections; None when the files follow the template
    as they are and no saved mapping was given (nothing to confirm)."""
    tables = read_tables(sources)
    proposal = propose_mapping(tables, saved)
    if saved is None and not proposal.needed:
        return None
    st.markdown("**Your columns → the template's.** Proposed from the column names and their values; correct "
                "any row, then import. Unrecognised columns are kept as extra columns unless you drop them.")
    columns = _columns_frame(proposal)
    options = sorted({*_targets("patients"), *_targets("events")})
    edited = st.data_editor(
        columns, key=f"import_columns_{_digest(sources)}_{_frame_key(columns)}", hide_index=True, width="stretch",
        placeholder=DASH,
        disabled=["table", "your column", "found by", "examples", "files"],
        column_config={"contract column": st.column_config.SelectboxColumn("contract column", options=options,
                                                                          required=True),
                       "dates": st.column_config.SelectboxColumn("dates written as", options=list(DATE_STYLES))})
    # the user's columns, with only the saved values: the values are then proposed (and said so) afresh
    mapping = _column_choices(proposal.mapping, edited)
    for table in TABLES:
        mapping = with_choices(mapping, table, values=saved.table(table).values if saved else {})
    again = propose_mapping(tables, mapping)
    values = again.values_frame()
    if not values.empty:
        st.markdown("**Your values → the contract's.** Edit *becomes* to correct one; a value left as written "
                    "is checked as it is.")
        edited_values = st.data_editor(
            values, key=f"import_values_{_frame_key(values)}", hide_index=True, width="stretch",
            disabled=["table", "contract column", "your value", "rows", "found by"])
        mapping = _value_choices(again.mapping, edited_values)
    else:
        mapping = again.mapping
    derived = ["centre"] if any(s.centre for s in sources) else []
    summary = mapping_summary(mapping, again.columns, derived)
    with st.expander("What the cohort gets: mapped, derived, left empty, dropped", expanded=False):
        st.dataframe(summary, hide_index=True, width="stretch", placeholder=DASH)
    missing = summary[summary["status"] == "missing"]
    if len(missing):
        st.warning("Required and not mapped: " + ", ".join(markdown_text(c) for c in missing["contract column"])
                   + ". Map one of your columns to each, or the import is refused.", icon="⚠️")
    st.download_button("Download this mapping (.json)", mapping.to_json(), file_name="column_mapping.json",
                       mime="application/json", key="import_mapping_download", on_click="ignore",
                       icon=":material/download:", help="Upload it again with the next cut of the same files.")
    return mapping

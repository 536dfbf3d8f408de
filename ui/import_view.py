"""The import page's widgets: template downloads, the file inputs, the problem table, imported cohorts.

Test hook (AppTest cannot upload files): when `st.session_state["_import_test_files"]` holds
{"patients": path, "events": path} or {"workbook": path}, those files are read instead of the
uploaders. Only code running in the server process can set a key starting with "_" (no widget
has one), so the hook cannot be reached from a browser.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from core.cohorts import CohortInfo
from core.importer import (
    MAX_FILE_BYTES,
    ROW_CONVENTION,
    CohortFiles,
    ImportResult,
    InputFile,
    ProblemReport,
    template_csv,
    template_xlsx,
)
from core.text import markdown_text
from ui.display import DASH

TEST_FILES_KEY = "_import_test_files"
RESULT_KEY = "_import_result"
FORMAT_KEY = "import_format"
FORMATS = ("Two CSV files", "One Excel workbook (.xlsx)")
MAX_MB = MAX_FILE_BYTES // 1024 // 1024


@st.cache_data(show_spinner=False)
def _templates() -> dict[str, bytes]:
    return {"patients": template_csv("patients"), "events": template_csv("events"), "xlsx": template_xlsx()}


def template_downloads(prefix: str = "tpl") -> None:
    """Three buttons: the patients and events CSV templates and the two-sheet workbook."""
    files = _templates()
    c1, c2, c3 = st.columns(3)
    c1.download_button("patients.csv template", files["patients"], file_name="patients_template.csv",
                       mime="text/csv", key=f"{prefix}_patients", on_click="ignore", icon=":material/download:")
    c2.download_button("events.csv template", files["events"], file_name="events_template.csv",
                       mime="text/csv", key=f"{prefix}_events", on_click="ignore", icon=":material/download:")
    c3.download_button("Workbook template (.xlsx)", files["xlsx"], file_name="cohort_template.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key=f"{prefix}_xlsx", on_click="ignore", icon=":material/download:")


def _from_upload(upload) -> InputFile | None:  # type: ignore[no-untyped-def]
    return None if upload is None else InputFile(name=upload.name, data=upload.getvalue())


def cohort_files_input() -> CohortFiles | None:
    """The uploaders (or the test hook's paths); None until the needed files are there."""
    hooked = st.session_state.get(TEST_FILES_KEY)
    if hooked:
        if "workbook" in hooked:
            return CohortFiles.from_workbook(InputFile.from_path(hooked["workbook"]))
        return CohortFiles.from_csv(InputFile.from_path(hooked["patients"]), InputFile.from_path(hooked["events"]))
    choice = st.radio("Format", FORMATS, key=FORMAT_KEY, horizontal=True)
    if choice == FORMATS[1]:
        workbook = st.file_uploader(f"Workbook with the sheets patients and events (≤ {MAX_MB} MB)", type=["xlsx"],
                                    key="import_workbook", max_upload_size=MAX_MB)
        return CohortFiles.from_workbook(_from_upload(workbook)) if workbook is not None else None
    c1, c2 = st.columns(2)
    patients = c1.file_uploader(f"patients.csv (≤ {MAX_MB} MB)", type=["csv", "txt", "tsv"],
                                key="import_patients", max_upload_size=MAX_MB)
    events = c2.file_uploader(f"events.csv (≤ {MAX_MB} MB)", type=["csv", "txt", "tsv"],
                              key="import_events", max_upload_size=MAX_MB)
    if patients is None or events is None:
        return None
    return CohortFiles(patients=_from_upload(patients), events=_from_upload(events))


def show_problems(report: ProblemReport, *, key: str = "problems_csv") -> None:
    """The problem table (as text, never markup) and a download of it as CSV."""
    frame = report.frame()
    if frame.empty:
        return
    st.caption(ROW_CONVENTION + " Errors block the import; warnings do not.")
    st.dataframe(frame, hide_index=True, width="stretch", placeholder=DASH,
                 column_config={"row": st.column_config.NumberColumn("row", format="%d")})
    st.download_button("Download the problems (CSV)", report.to_csv_bytes(), file_name="import_problems.csv",
                       mime="text/csv", key=key, on_click="ignore", icon=":material/download:")


def show_result(result: ImportResult) -> None:
    report = result.report
    if result.ok:
        st.success(f"Imported **{markdown_text(result.label)}**: {result.n_patients} "
                   f"patient{'' if result.n_patients == 1 else 's'}, {result.n_events} events "
                   f"({markdown_text(report.summary())}). Choose it in the cohort picker.", icon="✅")
    else:
        st.error(f"Not imported — {markdown_text(report.summary())}. Nothing was written; fix the rows below and "
                 "try again.", icon="🚫")
    show_problems(report)


def cohort_table(cohorts: list[CohortInfo]) -> pd.DataFrame:
    return pd.DataFrame([{"label": c.label, "patients": c.n_patients,
                          "imported": c.imported_at or "—", "source": c.source,
                          "file": c.path.name, "default": c.is_default} for c in cohorts])


def remove_control(imported: list[CohortInfo]) -> Path | None:
    """Choose an imported cohort, confirm, press Remove; returns the path to remove (or None)."""
    if not imported:
        st.caption("No imported cohorts yet.")
        return None
    names = {str(c.path): c.describe() for c in imported}
    chosen = st.selectbox("Imported cohort to remove", list(names), key="remove_cohort",
                          format_func=lambda p: names.get(p, p))
    confirm = st.checkbox("Yes, delete this cohort file (the default cohort cannot be removed)",
                          key="remove_confirm")
    if st.button("Remove cohort", key="remove_submit", disabled=not confirm, icon=":material/delete:"):
        return Path(chosen)
    return None

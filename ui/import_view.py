"""The import page's widgets: template downloads, the file inputs, the problem table, imported cohorts.

Test hook (AppTest cannot upload files): when `st.session_state["_import_test_files"]` holds
{"patients": path, "events": path} or {"workbook": path}, those files are read instead of the
uploaders; {"centres": {"Centre A": {"workbook": path}, "Centre B": {"patients": …, "events": …}}}
stands for several centres' files. Only code running in the server process can set a key starting
with "_" (no widget has one), so the hook cannot be reached from a browser.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from core.cohorts import CohortInfo
from core.importer import (
    MAX_FILE_BYTES,
    ROW_CONVENTION,
    WHOLE_COHORT,
    CentreFiles,
    CentresResult,
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
_IMPORT_REQUESTED = "_import_requested"
FORMAT_KEY = "import_format"
FORMATS = ("Two CSV files", "One Excel workbook (.xlsx)")
MAX_CENTRE_FILES = 40
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


# ---------------------------------------------------------------------------------- several centres
def _hooked_centres(hooked: dict[str, dict[str, str]]) -> list[CentreFiles]:
    out = []
    for centre, paths in hooked.items():
        files = (CohortFiles.from_workbook(InputFile.from_path(paths["workbook"])) if "workbook" in paths else
                 CohortFiles.from_csv(InputFile.from_path(paths["patients"]), InputFile.from_path(paths["events"])))
        out.append(CentreFiles(centre, files))
    return out


def _guess(name: str) -> tuple[str, str]:
    """(centre, table) from a file name: "centre_b_events.csv" → ("centre b", "events")."""
    stem, _, suffix = name.rpartition(".")
    lowered = stem.lower()
    table = "workbook" if suffix.lower() == "xlsx" else "events" if "event" in lowered else "patients"
    for word in ("patients", "patient", "events", "event", "_", "-"):
        lowered = lowered.replace(word, " ")
    return " ".join(lowered.split()).title() or stem, table


def several_centres_input() -> list[CentreFiles] | None:
    """Many files at once, each given its centre (and, for a CSV, its table); None until each centre is complete."""
    uploads = st.file_uploader(f"Each centre's workbook, or its two CSV files (≤ {MAX_MB} MB each)",
                               type=["xlsx", "csv", "txt", "tsv"], accept_multiple_files=True,
                               key="import_centre_files", max_upload_size=MAX_MB)
    if not uploads:
        return None
    if len(uploads) > MAX_CENTRE_FILES:
        st.warning(f"At most {MAX_CENTRE_FILES} files at once.", icon="📄")
        return None
    guesses = [_guess(u.name) for u in uploads]
    table = pd.DataFrame({"file": [u.name for u in uploads], "centre": [g[0] for g in guesses],
                          "table": [g[1] for g in guesses]})
    edited = st.data_editor(table, key="import_centre_table", hide_index=True, width="stretch", disabled=["file"],
                            column_config={"table": st.column_config.SelectboxColumn(
                                "table", options=["workbook", "patients", "events"], required=True)})
    by_centre: dict[str, dict[str, InputFile]] = {}
    for upload, row in zip(uploads, edited.to_dict("records")):
        centre = " ".join(str(row["centre"] or "").split())
        by_centre.setdefault(centre, {})[str(row["table"])] = InputFile(name=upload.name, data=upload.getvalue())
    sources, incomplete = [], []
    for centre, files in by_centre.items():
        if "workbook" in files and len(files) == 1:
            sources.append(CentreFiles(centre, CohortFiles.from_workbook(files["workbook"])))
        elif set(files) == {"patients", "events"}:
            sources.append(CentreFiles(centre, CohortFiles.from_csv(files["patients"], files["events"])))
        else:
            incomplete.append(centre or "(no centre)")
    if incomplete:
        st.warning("Give each centre one workbook, or one patients and one events file: "
                   + ", ".join(markdown_text(c) for c in incomplete), icon="📄")
        return None
    return sources


def sources_input() -> list[CentreFiles] | None:
    """The files as centres: one untagged source for the two single-file formats, or several centres."""
    hooked = st.session_state.get(TEST_FILES_KEY)
    if hooked and "centres" in hooked:
        return _hooked_centres(hooked["centres"])
    if not hooked and st.radio("Files from", ("One centre or one file", "Several centres at once"),
                               key="import_several", horizontal=True) == "Several centres at once":
        return several_centres_input()
    files = cohort_files_input()
    return None if files is None else [CentreFiles("", files)]


def cut_target(imported: list[CohortInfo]) -> Path | None:
    """A new cohort, or a new cut of an imported one (the latest cut of each is offered)."""
    if not imported:
        return None
    names = {"": "A new cohort"} | {str(c.path): f"A new cut of {c.describe()}" for c in imported}
    chosen = st.selectbox("Import as", list(names), key="import_target", format_func=lambda p: names.get(p, p),
                          help="A new cut replaces the rows of the centres in these files and keeps every other "
                               "centre's; the earlier cut stays as it was, read-only (see Data cuts).")
    return Path(chosen) if chosen else None


def show_problems_by_centre(result: CentresResult) -> None:
    """One problem table per centre (and one for the cohort as a whole), and all of them as one CSV."""
    parts = result.problems_by_centre()
    if not parts:
        return
    st.caption(ROW_CONVENTION + " Errors block the import; warnings do not.")
    for centre, frame in parts.items():
        errors = int((frame["severity"] == "error").sum())
        name = "The whole cohort" if centre == WHOLE_COHORT else centre
        st.markdown(f"**{markdown_text(name)}** — {errors} error{'s' if errors != 1 else ''}, "
                    f"{len(frame) - errors} warning{'s' if len(frame) - errors != 1 else ''}")
        st.dataframe(frame, hide_index=True, width="stretch", placeholder=DASH,
                     column_config={"row": st.column_config.NumberColumn("row", format="%d")})
    st.download_button("Download the problems (CSV)", result.report.to_csv_bytes(), file_name="import_problems.csv",
                       mime="text/csv", key="problems_csv", on_click="ignore", icon=":material/download:")


def request_import() -> None:
    st.session_state[_IMPORT_REQUESTED] = True


def import_requested() -> bool:
    """True once after "Validate and import" was pressed."""
    return bool(st.session_state.pop(_IMPORT_REQUESTED, False))


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
    cut = isinstance(result, CentresResult) and result.cut > 1
    if result.ok and cut:
        assert isinstance(result, CentresResult)
        st.success(f"Imported cut {result.cut} of **{markdown_text(result.label)}**: {result.n_patients} "
                   f"patient{'' if result.n_patients == 1 else 's'}, {result.n_events} events; replaced "
                   f"{markdown_text(', '.join(result.replaced_centres))}, kept "
                   f"{markdown_text(', '.join(result.kept_centres) or 'no other centre')} "
                   f"({markdown_text(report.summary())}). See what changed on the Data cuts page.", icon="✅")
    elif result.ok:
        st.success(f"Imported **{markdown_text(result.label)}**: {result.n_patients} "
                   f"patient{'' if result.n_patients == 1 else 's'}, {result.n_events} events "
                   f"({markdown_text(report.summary())}). Choose it in the cohort picker.", icon="✅")
    else:
        st.error(f"Not imported — {markdown_text(report.summary())}. Nothing was written; fix the rows below and "
                 "try again.", icon="🚫")
    if isinstance(result, CentresResult) and len(result.centres) > 1:
        show_problems_by_centre(result)
    else:
        show_problems(report)


def cohort_table(cohorts: list[CohortInfo]) -> pd.DataFrame:
    return pd.DataFrame([{"label": c.label, "patients": c.n_patients,
                          "imported": c.imported_at or "—", "source": c.source,
                          "file": c.path.name, "default": c.is_default, "cut": c.cut} for c in cohorts])


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

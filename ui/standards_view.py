"""The REDCap and ADaM import page's widgets: the dictionary download, the file inputs, the import.

Test hook (AppTest cannot upload files): when `st.session_state["_is_test_files"]` holds
{"redcap_records": path, "redcap_dictionary": path} or {"adam": [path, …]}, those files are read
instead of the uploaders. Only code running in the server process can set a key starting with "_"
(no widget has one), so the hook cannot be reached from a browser.
"""

from __future__ import annotations

import streamlit as st

from core.importer import MAX_FILE_BYTES, ImportResult, InputFile, ProblemReport, check_label
from core.importer.adam import AdamMapping, import_adam
from core.importer.adam_read import AdamFiles
from core.importer.redcap import import_redcap
from core.importer.redcap_dictionary import redcap_dictionary_csv

TEST_FILES_KEY = "_is_test_files"
RESULT_KEY = "_is_result"
SOURCE_KEY = "is_source"
SOURCES = ("REDCap project", "CDISC ADaM datasets")
MAX_MB = MAX_FILE_BYTES // 1024 // 1024
MAPPING_EXAMPLE = '{"SALVLINE": "salvage_line", "BLASTPCT": "blast_pct", "PHSTAT": "ph_status"}'


@st.cache_data(show_spinner=False)
def _dictionary() -> bytes:
    return redcap_dictionary_csv()


def redcap_dictionary_download() -> None:
    st.download_button("REDCap data dictionary (CSV)", _dictionary(), file_name="ino_cohort_redcap_dictionary.csv",
                       mime="text/csv", key="is_dictionary_download", on_click="ignore", icon=":material/download:")


def _upload(upload) -> InputFile:  # type: ignore[no-untyped-def]
    return InputFile(name=upload.name, data=upload.getvalue())


def redcap_files_input() -> tuple[InputFile, InputFile] | None:
    """The records export and its dictionary (or the test hook's paths); None until both are there."""
    hooked = st.session_state.get(TEST_FILES_KEY)
    if hooked:
        return InputFile.from_path(hooked["redcap_records"]), InputFile.from_path(hooked["redcap_dictionary"])
    c1, c2 = st.columns(2)
    records = c1.file_uploader(f"Records export (CSV, ≤ {MAX_MB} MB)", type=["csv"], key="is_redcap_records",
                               max_upload_size=MAX_MB)
    dictionary = c2.file_uploader(f"Data dictionary of the same project (CSV, ≤ {MAX_MB} MB)", type=["csv"],
                                  key="is_redcap_dictionary", max_upload_size=MAX_MB)
    if records is None or dictionary is None:
        return None
    return _upload(records), _upload(dictionary)


def adam_files_input() -> AdamFiles | None:
    """The datasets (or the test hook's paths); None until at least one file is there."""
    hooked = st.session_state.get(TEST_FILES_KEY)
    if hooked:
        return AdamFiles.from_files([InputFile.from_path(p) for p in hooked["adam"]])
    uploads = st.file_uploader(f"ADaM datasets: adsl, adtte, and adrs, adae, adex when present (.xpt or .csv, "
                               f"≤ {MAX_MB} MB each)", type=["xpt", "csv"], accept_multiple_files=True,
                               key="is_adam_files", max_upload_size=MAX_MB)
    if not uploads:
        return None
    return AdamFiles.from_files([_upload(u) for u in uploads])


def mapping_input() -> str:
    return st.text_area("Column mapping (JSON, optional): ADSL variable → contract column", key="is_adam_mapping",
                        placeholder=MAPPING_EXAMPLE, height=100, max_chars=20_000)


def run_adam_import(files: AdamFiles, mapping_text: str, label: str, source: str) -> ImportResult:
    """The mapping read first (its problems end the import), then the import itself."""
    mapping = AdamMapping()
    if mapping_text.strip():
        report = ProblemReport()
        read = AdamMapping.from_json(InputFile("column mapping", mapping_text.encode("utf-8")), report)
        if read is None:
            check_label(label, report)
            return ImportResult(report=report, label=label)
        mapping = read
    return import_adam(files, label, mapping=mapping, source=source)


def run_redcap_import(files: tuple[InputFile, InputFile], label: str, source: str) -> ImportResult:
    return import_redcap(files[0], files[1], label, source=source)

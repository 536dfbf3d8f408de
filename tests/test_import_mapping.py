"""Column mappings: proposed from investigators' own headers and values, saved as JSON, applied before
validation with the user's row numbers kept, and refused when a required column is left empty."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.importer import (
    DROP,
    ERROR,
    KEEP,
    CohortFiles,
    ImportMapping,
    InputFile,
    MappingError,
    ProblemReport,
    TableMapping,
    TextTable,
    apply_mapping,
    propose_mapping,
    with_choices,
)
from core.importer.dates import detect_date_style, to_iso
from core.importer.synonyms import whole_number_text

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "bad_files"


def text_table(table: str, rows: dict[str, list[str | None]], file: str = "mine.csv") -> TextTable:
    frame = pd.DataFrame({k.strip().lower(): [c or None for c in v] for k, v in rows.items()}, dtype=object)
    frame.index = pd.Index(range(2, len(frame) + 2), name="row")
    return TextTable(table=table, file=file, frame=frame)


def targets(proposal, table: str) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {p.source: (p.target, p.how) for p in proposal.columns if p.table == table}


def values(proposal, column: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {p.value: p.becomes for p in proposal.values if p.column == column}


PATIENTS = {
    "Patient ID": ["P01", "P02", "P03"], "Gender": ["Male", "Female", "male"],
    "Age": ["45", "67", "30"], "Ph": ["Ph positive", "Ph+ve", "Ph negative"],
    "Status": ["Relapse", "Refractory", "relapsed"], "Salvage": ["1st salvage", "S1", "Second"],
    "EMD": ["Yes", "No", "no"], "C1D1": ["13/02/2017", "01/03/2018", "30/12/2019"],
    "Data cut-off": ["2023-10-16", "2023-10-16", "2023-10-16"], "Hospital no": ["H1", "H2", "H3"],
}


def test_columns_are_proposed_by_name_synonym_and_content() -> None:
    proposal = propose_mapping({"patients": [text_table("patients", PATIENTS)], "events": []})
    assert targets(proposal, "patients") == {
        "patient id": ("patient_id", "same name"), "gender": ("sex", "synonym"), "age": ("age_years", "synonym"),
        "ph": ("ph_status", "synonym"), "status": ("disease_status", "synonym"),
        "salvage": ("salvage_line", "synonym"), "emd": ("emd_baseline", "synonym"),
        "c1d1": ("ino_start_date", "synonym"), "data cut-off": ("data_cutoff_date", "synonym"),
        "hospital no": (KEEP, "not recognised")}
    assert values(proposal, "sex") == {"Male": "M", "Female": "F", "male": "M"}
    assert values(proposal, "ph_status") == {"Ph positive": "Ph+", "Ph+ve": "Ph+", "Ph negative": "Ph-"}
    assert values(proposal, "salvage_line") == {"1st salvage": "1", "S1": "1", "Second": "2"}
    assert values(proposal, "emd_baseline") == {"Yes": "true", "No": "false", "no": "false"}
    assert values(proposal, "disease_status") == {"Relapse": "relapsed", "Refractory": "refractory"}
    assert proposal.mapping.patients.date_formats == {"c1d1": "DD/MM/YYYY"}
    assert proposal.needed


@pytest.mark.parametrize("header", ["pt_id", "subject", "Subject ID", "USUBJID"])
def test_patient_id_synonyms(header: str) -> None:
    proposal = propose_mapping({"patients": [text_table("patients", {header: ["P1", "P2"]})], "events": []})
    assert targets(proposal, "patients")[header.lower()][0] == "patient_id"


@pytest.mark.parametrize("header", ["Date of first InO", "C1D1", "First InO dose date", "Date of first InO (dd/mm/yyyy)"])
def test_first_dose_date_synonyms(header: str) -> None:
    table = text_table("patients", {"ID": ["P1", "P2"], header: ["2020-01-01", "2020-02-03"]})
    assert targets(propose_mapping({"patients": [table]}), "patients")[header.lower()][0] == "ino_start_date"


def test_content_pairs_the_last_column_of_a_kind() -> None:
    table = text_table("events", {"pt": ["P1", "P1", "P1"], "when": ["01/02/2020", "15/02/2020", "01/03/2020"],
                                  "what happened": ["InO dose", "Complete remission?", "Died"],
                                  "best": ["", "Complete remission", ""]})
    proposal = propose_mapping({"events": [table]})
    found = targets(proposal, "events")
    assert found["when"] == ("event_date", "content: dates")
    assert found["best"] == ("response", "content: codes")
    assert values(proposal, "response") == {"Complete remission": "CR"}


def test_a_status_column_of_other_words_is_not_disease_status() -> None:
    table = text_table("patients", {"ID": ["P1", "P2"], "Status": ["Alive", "Dead"]})
    assert targets(propose_mapping({"patients": [table]}), "patients")["status"] == (KEEP, "not recognised")


def test_the_template_needs_no_mapping() -> None:
    from core.importer import read_cohort_files

    report = ProblemReport()
    patients, events = read_cohort_files(CohortFiles.from_csv(InputFile.from_path(BAD / "patients.csv"),
                                                               InputFile.from_path(BAD / "events.csv")), report)
    assert patients is not None and events is not None
    proposal = propose_mapping({"patients": [patients], "events": [events]})
    assert not proposal.needed and proposal.mapping.is_identity


def test_saved_choices_win_and_new_values_are_proposed() -> None:
    saved = ImportMapping(patients=TableMapping(columns={"gender": "sex", "hospital no": DROP},
                                                values={"sex": {"Male": "F"}}))        # a (wrong) saved choice
    proposal = propose_mapping({"patients": [text_table("patients", PATIENTS)]}, saved=saved)
    found = targets(proposal, "patients")
    assert found["gender"] == ("sex", "saved mapping") and found["hospital no"] == (DROP, "saved mapping")
    assert values(proposal, "sex") == {"Male": "F", "Female": "F", "male": "F"}   # value_key: male = Male


def test_mapping_json_round_trip_and_refusals() -> None:
    proposal = propose_mapping({"patients": [text_table("patients", PATIENTS)]})
    again = ImportMapping.from_json(proposal.mapping.to_json())
    assert again == proposal.mapping
    with pytest.raises(MappingError, match="format"):
        ImportMapping.from_json(b'{"patients": {}}')
    with pytest.raises(MappingError, match=r"patients.columns\['gender'\]: a contract column"):
        ImportMapping.from_json(b'{"format": "ino-cohort-import-mapping", "version": 1, '
                                b'"patients": {"columns": {"Gender": "gender_code"}}}')
    with pytest.raises(MappingError, match="date_formats"):
        ImportMapping.from_json(b'{"format": "ino-cohort-import-mapping", "version": 1, '
                                b'"patients": {"date_formats": {"c1d1": "%d/%m/%Y"}}}')
    with pytest.raises(MappingError, match="JSON"):
        ImportMapping.from_json(b"{not json")


def test_applying_keeps_rows_and_names_the_users_column() -> None:
    rows = dict(PATIENTS, Gender=["Male", "X", "Female"], Centre=["A", "A", "A"])
    table = text_table("patients", rows, file="centre_a.csv")
    proposal = propose_mapping({"patients": [table]})
    report = ProblemReport()
    mapped = apply_mapping(table, proposal.mapping.patients, report)
    assert mapped is not None
    assert mapped.frame.index.tolist() == [2, 3, 4]
    assert mapped.frame["sex"].tolist() == ["M", "X", "F"]
    assert mapped.frame["ino_start_date"].tolist() == ["2017-02-13", "2018-03-01", "2019-12-30"]
    assert mapped.frame["salvage_line"].tolist() == ["1", "1", "2"]
    assert "hospital no" in mapped.frame.columns            # not recognised: kept as an extra column
    report.add(ERROR, "centre_a.csv", 3, "sex", "X", "one of: F, M")     # as the validator reports it
    assert report.problems()[0].column == "gender → sex"


def test_two_columns_onto_one_are_refused() -> None:
    table = text_table("patients", {"ID": ["P1"], "Gender": ["M"], "Sex": ["F"]})
    mapping = TableMapping(columns={"id": "patient_id", "gender": "sex"})
    report = ProblemReport()
    assert apply_mapping(table, mapping, report) is None
    problem = report.problems()[0]
    assert (problem.row, problem.column, problem.value) == (1, "sex", "gender, sex")


def test_a_required_column_left_unmapped_is_refused_by_name_and_rule() -> None:
    table = text_table("patients", {k: v for k, v in PATIENTS.items() if k != "C1D1"}, file="centre_a.csv")
    mapping = propose_mapping({"patients": [table]}).mapping.patients
    report = ProblemReport()
    assert apply_mapping(table, mapping, report, derived={"centre": "Centre A"}) is None
    assert len(report.problems()) == 1
    problem = report.problems()[0]
    assert (problem.file, problem.row, problem.column, problem.value) == ("centre_a.csv", 1, "ino_start_date",
                                                                          "(no column mapped)")
    assert "ino_start_date is required (a value on every row: Date of the first InO dose" in problem.expected
    constant = TableMapping(columns=mapping.columns, values=mapping.values, date_formats=mapping.date_formats,
                            constants={"ino_start_date": "2020-01-01"})
    mapped = apply_mapping(table, constant, ProblemReport(), derived={"centre": "Centre A"})
    assert mapped is not None and set(mapped.frame["ino_start_date"]) == {"2020-01-01"}   # one value for every row


def test_with_choices_replaces_one_tables_choices() -> None:
    proposal = propose_mapping({"patients": [text_table("patients", PATIENTS)]})
    changed = with_choices(proposal.mapping, "patients", columns={"gender": DROP},
                           constants={"centre": "Centre A"})
    assert changed.patients.columns == {"gender": DROP} and changed.patients.constants == {"centre": "Centre A"}
    assert changed.patients.values == proposal.mapping.patients.values and changed.events == proposal.mapping.events


@pytest.mark.parametrize(("values_written", "style", "ambiguous"), [
    (["13/02/2017", "01/03/2018"], "DD/MM/YYYY", False),
    (["02/13/2017", "03/01/2018"], "MM/DD/YYYY", False),
    (["03/04/2017", "01/03/2018"], "DD/MM/YYYY", True),
    (["13-Feb-2017", "1-Mar-2018"], "DD-Mon-YYYY", False),
    (["2017-02-13", "2018-03-01 00:00:00"], "YYYY-MM-DD", False),
    (["Feb 13, 2017", "Mar 1, 2018"], "Mon DD YYYY", False),
])
def test_date_styles(values_written: list[str], style: str, ambiguous: bool) -> None:
    found = detect_date_style(values_written)
    assert found is not None and (found.style, found.ambiguous) == (style, ambiguous)
    assert to_iso("13/02/2017", "DD/MM/YYYY") == "2017-02-13" and to_iso("31/02/2017", "DD/MM/YYYY") == "31/02/2017"


@pytest.mark.parametrize(("text", "number"), [("1st salvage", "1"), ("S2", "2"), ("Salvage 3", "3"), ("C4", "4"),
                                              ("Grade 3", "3"), ("D15", "15"), ("second", "2"), ("C2D8", None),
                                              ("two cycles", None)])
def test_whole_numbers_in_codes(text: str, number: str | None) -> None:
    assert whole_number_text(text) == number

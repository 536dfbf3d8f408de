"""The import templates and the data dictionary: both read from the contract's rules (core.importer.rules)."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from core.endpoints import definitions_table
from core.importer.rules import SPECS, TABLES


def dictionary_frame(table: str) -> pd.DataFrame:
    """The data dictionary of one table: column, type, required, allowed values / range, meaning."""
    rows = [{"column": s.name, "type": s.type_text(), "database type": s.duckdb_type,
             "required": s.required_text(), "allowed values / range": s.rule_text(),
             "empty means": s.empty_means or ("—" if s.required else "missing"), "meaning": s.meaning,
             "example": s.example} for s in SPECS[table]]
    return pd.DataFrame(rows)


def endpoints_frame() -> pd.DataFrame:
    """Every endpoint and method with its population and definition: the registry's (core.endpoints)."""
    return pd.DataFrame(definitions_table())



# ---------------------------------------------------------------------------------- templates
def template_frames() -> dict[str, pd.DataFrame]:
    """The import templates: every contract column, with example rows for one patient."""
    patients = pd.DataFrame([{s.name: s.example for s in SPECS["patients"]}])
    events = pd.DataFrame([
        {"patient_id": "P01", "event_date": "2024-01-08", "event_type": "ino_dose", "cycle": "1", "cycle_day": "1",
         "dose_mg_m2": "0.8"},
        {"patient_id": "P01", "event_date": "2024-02-01", "event_type": "response", "cycle": "1", "response": "CR",
         "marrow_blast_pct": "2", "platelets_10e9_l": "150", "anc_10e9_l": "1.8", "emd_present": "false"},
        {"patient_id": "P01", "event_date": "2024-02-01", "event_type": "mrd", "cycle": "1", "mrd": "negative"},
        {"patient_id": "P01", "event_date": "2024-01-20", "event_type": "adverse_event", "ae_term": "thrombocytopenia",
         "ae_grade": "3"},
        {"patient_id": "P01", "event_date": "2025-06-30", "event_type": "last_contact",
         "followup_status": "alive at cut-off"},
    ]).reindex(columns=[s.name for s in SPECS["events"]]).fillna("")
    return {"patients": patients, "events": events}


def template_csv(table: str) -> bytes:
    buffer = io.StringIO()
    template_frames()[table].to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


def template_xlsx() -> bytes:
    """One workbook: sheets patients and events (text cells, dates as YYYY-MM-DD) and a dictionary sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for table, frame in template_frames().items():
        ws = workbook.create_sheet(table)
        ws.append(list(frame.columns))
        for record in frame.itertuples(index=False):
            ws.append([_template_cell(v) for v in record])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for i, name in enumerate(frame.columns, start=1):
            ws.column_dimensions[ws.cell(1, i).column_letter].width = max(12, len(name) + 2)
    ws = workbook.create_sheet("dictionary")
    ws.append(["table", "column", "type", "required", "allowed values / range", "meaning"])
    for table in TABLES:
        for row in dictionary_frame(table).to_dict("records"):
            ws.append([table, row["column"], row["type"], row["required"], row["allowed values / range"],
                       row["meaning"]])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _template_cell(value: str) -> object:
    """Numbers as numbers, everything else as text (dates stay text: no locale can reformat them)."""
    if value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() else number


def write_templates(directory: Path) -> list[Path]:
    """The template files shipped in data/templates/ (regenerate with scripts/import_cohort.py --write-templates)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for table in TABLES:
        path = directory / f"{table}_template.csv"
        path.write_bytes(template_csv(table))
        written.append(path)
    path = directory / "cohort_template.xlsx"
    path.write_bytes(template_xlsx())
    written.append(path)
    return written


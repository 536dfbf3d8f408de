"""The import templates and the data dictionary: both read from the contract's rules (core.importer.rules)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.importer.rules import SPECS, TABLES


@dataclass(frozen=True)
class EndpointDefinition:
    name: str
    definition: str


# The derived endpoints (data contract, "Derived per patient"): shown by the data dictionary page.
DERIVED_ENDPOINTS: tuple[EndpointDefinition, ...] = (
    EndpointDefinition("Months", "days / 30.4375, counted from the patient's ino_start_date (OS, RFS) or from "
                       "the first dated CR/CRi (duration of remission). Durations are never stored."),
    EndpointDefinition("Cycle-1 dose", "sum of dose_mg_m2 over cycle-1 ino_dose rows; dose group <1.8, 1.8 or "
                       ">1.8 mg/m²/cycle (1.8 within ±0.005)."),
    EndpointDefinition("Number of InO cycles", "highest cycle among ino_dose rows."),
    EndpointDefinition("Blast burden", "<50% or ≥50% bone-marrow blasts at baseline (threshold adjustable)."),
    EndpointDefinition("Best response", "CR/CRi if any response row says CR or CRi (CR vs CRi from the first "
                       "such row), else NR if any response row exists, else not evaluable."),
    EndpointDefinition("Cycles to response", "cycle of the first CR/CRi response row."),
    EndpointDefinition("MRD negativity (responders)", "any mrd row negative. Deep response: an mrd row "
                       "negative at the assessment that first documented CR/CRi (same date, or — undated — "
                       "same cycle)."),
    EndpointDefinition("HSCT", "any hsct row; an adverse event is post-HSCT when dated on or after the HSCT."),
    EndpointDefinition("Overall survival (OS)", "first InO dose → death (event), else censored at the "
                       "last_contact date."),
    EndpointDefinition("Relapse-free survival (RFS, responders)", "first InO dose → first relapse or death, "
                       "else censored at last contact."),
    EndpointDefinition("Duration of remission", "responders with a dated CR/CRi: first dated CR/CRi → relapse "
                       "or death, else censored at last contact."),
    EndpointDefinition("Lost to follow-up", "censored with followup_status = lost to follow-up."),
    EndpointDefinition("Grade 3/4 liver toxicity", "AST increased, ALT increased or bilirubin increased with "
                       "ae_grade ≥ 3."),
    EndpointDefinition("Haematologic toxicity", "thrombocytopenia, neutropenia or febrile neutropenia, any "
                       "grade."),
    EndpointDefinition("VOD", "ae_term = VOD, any grade."),
    EndpointDefinition("Kaplan–Meier", "lifelines defaults: exponential Greenwood (log(−log)) pointwise 95% CI; "
                       "the median's CI is where that band crosses 0.5."),
)


def dictionary_frame(table: str) -> pd.DataFrame:
    """The data dictionary of one table: column, type, required, allowed values / range, meaning."""
    rows = [{"column": s.name, "type": s.type_text(), "database type": s.duckdb_type,
             "required": s.required_text(), "allowed values / range": s.rule_text(),
             "empty means": s.empty_means or ("—" if s.required else "missing"), "meaning": s.meaning,
             "example": s.example} for s in SPECS[table]]
    return pd.DataFrame(rows)


def endpoints_frame() -> pd.DataFrame:
    return pd.DataFrame([{"endpoint": e.name, "definition": e.definition} for e in DERIVED_ENDPOINTS])



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


"""The data contract as rules: every column, what it accepts, and the fields each event type needs.

One source of truth serves three readers: the pandera schemas that validate an uploaded file
(core.importer.validate), the data dictionary page and the import templates (core.importer.templates).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.contract import (
    AE_TERMS,
    DEATH_CAUSES,
    DISEASE_STATUSES,
    EVENT_COLUMNS,
    EVENT_TYPES,
    FOLLOWUP_STATUSES,
    MRD_RESULTS,
    PATIENT_COLUMNS,
    PH_STATUSES,
    RESPONSES,
    SEXES,
)
from core.importer.problems import ERROR, WARNING

# ---------------------------------------------------------------------------------- vocabulary
TABLES = ("patients", "events")

TRUE_TEXT = frozenset({"true", "yes", "y", "1"})
FALSE_TEXT = frozenset({"false", "no", "n", "0"})
# Cells read as missing besides empty ones (R writes NA; databases write NULL). Documented in the dictionary.
MISSING_TEXT = frozenset({"NA", "N/A", "n/a", "NULL", "null", "NaN", "nan"})
EXCEL_ERRORS = frozenset({"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!"})

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")


# ---------------------------------------------------------------------------------- column rules
@dataclass(frozen=True)
class ColumnSpec:
    """One column of the contract: its type, whether it must be filled in, allowed values, range."""

    table: str
    name: str
    kind: str                         # text | choice | number | integer | date | boolean
    meaning: str
    required: bool = False            # a value on every row
    in_header: bool = False           # the column must be in the header (else it may be left out)
    allowed: tuple[str, ...] = ()     # choice: the only values accepted
    suggested: tuple[str, ...] = ()   # text: the values the endpoints count (others are kept)
    minimum: float | None = None
    maximum: float | None = None
    plausible_maximum: float | None = None   # above it: kept, with a warning (a typing slip is likelier)
    unique: bool = False
    required_on: str = ""             # e.g. "adverse_event rows" (checked across columns)
    empty_means: str = ""             # what an empty cell stands for
    example: str = ""

    @property
    def duckdb_type(self) -> str:
        return {"text": "VARCHAR", "choice": "VARCHAR", "number": "DOUBLE", "integer": "INTEGER",
                "date": "DATE", "boolean": "BOOLEAN"}[self.kind]

    def type_text(self) -> str:
        return {"text": "text", "choice": "text (a listed value)", "number": "number",
                "integer": "whole number", "date": "date (YYYY-MM-DD)", "boolean": "true / false"}[self.kind]

    def kind_expected(self) -> str:
        """What the type check asks for, in words."""
        if self.kind == "number":
            return "a number (digits, . for decimals, no % or units)"
        if self.kind == "integer":
            return "a whole number (e.g. 2)"
        if self.kind == "date":
            return "a date written YYYY-MM-DD (e.g. 2024-01-31)"
        if self.kind == "boolean":
            return "true or false (also yes/no, 1/0)"
        if self.kind == "choice":
            return self.allowed_expected()
        return "text"

    def allowed_expected(self) -> str:
        return "one of: " + ", ".join(self.allowed) + " (exactly as written)"

    def range_expected(self) -> str:
        unit = " (whole number)" if self.kind == "integer" else ""
        if self.minimum is not None and self.maximum is not None:
            return f"a value from {_num(self.minimum)} to {_num(self.maximum)}{unit}"
        if self.minimum is not None:
            return f"a value ≥ {_num(self.minimum)}{unit}"
        assert self.maximum is not None, f"{self.table}.{self.name} has no range"
        return f"a value ≤ {_num(self.maximum)}{unit}"

    def rule_text(self) -> str:
        """The allowed values or range, for the dictionary."""
        parts: list[str] = []
        if self.allowed:
            parts.append(", ".join(self.allowed))
        if self.suggested:
            parts.append("counted by the endpoints: " + ", ".join(self.suggested) + "; other terms are kept")
        if self.minimum is not None or self.maximum is not None:
            parts.append(self.range_expected().removeprefix("a value "))
        if self.unique:
            parts.append("unique")
        return "; ".join(parts)

    def required_text(self) -> str:
        if self.required:
            return "yes"
        if self.required_on:
            return f"on {self.required_on}"
        return "no"


def _num(x: float) -> str:
    return f"{x:g}"


def _c(table: str, name: str, kind: str, meaning: str, **kw: object) -> ColumnSpec:
    return ColumnSpec(table=table, name=name, kind=kind, meaning=meaning, **kw)  # type: ignore[arg-type]


PATIENT_SPECS: tuple[ColumnSpec, ...] = (
    _c("patients", "patient_id", "text", "De-identified patient id, e.g. P07; one row per patient",
       required=True, in_header=True, unique=True, example="P01"),
    _c("patients", "centre", "text", "Treating centre label", required=True, in_header=True, example="Centre X"),
    _c("patients", "sex", "choice", "Sex", required=True, in_header=True, allowed=SEXES, example="F"),
    _c("patients", "age_years", "number", "Age at the first InO dose, years (decimals allowed)",
       required=True, in_header=True, minimum=18, maximum=120, example="45"),
    _c("patients", "ph_status", "choice", "Philadelphia chromosome status", allowed=PH_STATUSES,
       empty_means="unknown", example="Ph-"),
    _c("patients", "prior_tki_count", "integer", "TKIs failed before InO (0 for Ph-)", minimum=0,
       plausible_maximum=10, example="0"),
    _c("patients", "cd22_pct", "number", "% CD22-positive blasts", minimum=0, maximum=100,
       empty_means="not reported", example="90"),
    _c("patients", "disease_status", "choice", "Disease status before InO", required=True, in_header=True,
       allowed=DISEASE_STATUSES, example="relapsed"),
    _c("patients", "salvage_line", "integer", "InO given as salvage 1, 2, 3, …", required=True, in_header=True,
       minimum=1, plausible_maximum=10, example="1"),
    _c("patients", "blast_pct", "number", "Bone-marrow blasts % at baseline", minimum=0, maximum=100,
       empty_means="not reported", example="60"),
    _c("patients", "emd_baseline", "boolean", "Extramedullary disease at baseline", empty_means="unknown",
       example="false"),
    _c("patients", "ino_start_date", "date", "Date of the first InO dose (origin of OS and RFS)",
       required=True, in_header=True, example="2024-01-08"),
    _c("patients", "data_cutoff_date", "date", "The centre's data cut-off for this patient; on or after "
       "ino_start_date", required=True, in_header=True, example="2025-06-30"),
    _c("patients", "safety_evaluable", "boolean", "FALSE only for a patient with no post-baseline safety data",
       empty_means="true", example="true"),
)

EVENT_SPECS: tuple[ColumnSpec, ...] = (
    _c("events", "patient_id", "text", "The patient (must be listed in the patients file)", required=True,
       in_header=True, example="P01"),
    _c("events", "event_date", "date", "Date of the event; on or after the patient's ino_start_date, on or "
       "before data_cutoff_date, not after a death. May be empty only on response and mrd rows "
       "(assessment known by cycle, date not recorded)", in_header=True,
       required_on="every row except response and mrd", example="2024-01-08"),
    _c("events", "event_type", "text", "What happened (other types, e.g. subsequent_therapy, are kept and "
       "ignored by the endpoints)", required=True, in_header=True, suggested=EVENT_TYPES, example="ino_dose"),
    _c("events", "cycle", "integer", "InO cycle number (ino_dose; on response/mrd rows the cycle it followed)",
       minimum=1, plausible_maximum=20, required_on="ino_dose rows", example="1"),
    _c("events", "cycle_day", "integer", "Day within the cycle (ino_dose: 1, 8, 15, …)", minimum=1,
       plausible_maximum=60, example="1"),
    _c("events", "dose_mg_m2", "number", "InO dose given that day, mg/m² (ino_dose)", minimum=0,
       required_on="ino_dose rows", example="0.8"),
    _c("events", "response", "choice", "Response at the assessment (response rows)", allowed=RESPONSES,
       required_on="response rows", example=""),
    _c("events", "marrow_blast_pct", "number", "Marrow blasts % behind a response row (optional)",
       minimum=0, maximum=100, example=""),
    _c("events", "platelets_10e9_l", "number", "Platelets ×10⁹/L behind a response row (optional)", minimum=0,
       example=""),
    _c("events", "anc_10e9_l", "number", "Absolute neutrophil count ×10⁹/L behind a response row (optional)",
       minimum=0, example=""),
    _c("events", "emd_present", "boolean", "Extramedullary disease at that response assessment (optional)",
       example=""),
    _c("events", "mrd", "choice", "MRD result (mrd rows)", allowed=MRD_RESULTS, required_on="mrd rows",
       example=""),
    _c("events", "ae_term", "text", "Adverse event term (adverse_event rows); another CTCAE term is allowed",
       suggested=AE_TERMS, required_on="adverse_event rows", example=""),
    _c("events", "ae_grade", "integer", "CTCAE grade (adverse_event rows)", minimum=1, maximum=5,
       required_on="adverse_event rows", example=""),
    _c("events", "cause", "text", "Cause of death (death rows; recommended, a warning when empty)",
       suggested=DEATH_CAUSES, example=""),
    _c("events", "followup_status", "choice", "Status at last contact (last_contact rows)",
       allowed=FOLLOWUP_STATUSES, required_on="last_contact rows", example=""),
    _c("events", "relapse_site", "text", "Relapse site (relapse rows): marrow, CNS, extramedullary or a "
       "combination like marrow+CNS", example=""),
    _c("events", "detail", "text", "Free text (HSCT donor and conditioning, …), optional", example=""),
)

SPECS: dict[str, tuple[ColumnSpec, ...]] = {"patients": PATIENT_SPECS, "events": EVENT_SPECS}
assert tuple(s.name for s in PATIENT_SPECS) == PATIENT_COLUMNS
assert tuple(s.name for s in EVENT_SPECS) == EVENT_COLUMNS

# Which event types need which fields: (event_type, column, severity, expected).
EVENT_REQUIREMENTS: tuple[tuple[str, str, str, str], ...] = (
    ("ino_dose", "cycle", ERROR, "the InO cycle number on an ino_dose row"),
    ("ino_dose", "dose_mg_m2", ERROR, "the dose in mg/m² on an ino_dose row"),
    ("response", "response", ERROR, "CR, CRi or NR on a response row"),
    ("mrd", "mrd", ERROR, "negative or positive on an mrd row"),
    ("adverse_event", "ae_term", ERROR, "the adverse event term on an adverse_event row"),
    ("adverse_event", "ae_grade", ERROR, "the CTCAE grade 1–5 on an adverse_event row"),
    ("death", "cause", WARNING, "a cause of death (recommended; the row is kept without one)"),
    ("last_contact", "followup_status", ERROR, "alive at cut-off or lost to follow-up on a last_contact row"),
)



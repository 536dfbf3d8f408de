"""The data contract in code: the tables' columns, their vocabularies, the month, where cohorts live.

Every module that reads or writes a cohort — the schema check, the importer, the store, the
reconstruction, the filters, the SQL derivation — takes these names from here, so a vocabulary or a
column list is written once. The column *rules* (types, ranges, what a dictionary says about each
column) live with the importer, which is their only reader; the lists of names live here.
"""

from __future__ import annotations

from pathlib import Path

# 365.25 / 12: the contract's month. Durations are days between event dates; months = days / this.
DAYS_PER_MONTH = 30.4375

PATIENT_COLUMNS: tuple[str, ...] = (
    "patient_id", "centre", "sex", "age_years", "ph_status", "prior_tki_count", "cd22_pct",
    "disease_status", "salvage_line", "blast_pct", "emd_baseline", "ino_start_date",
    "data_cutoff_date", "safety_evaluable",
)
EVENT_COLUMNS: tuple[str, ...] = (
    "patient_id", "event_date", "event_type", "cycle", "cycle_day", "dose_mg_m2", "response",
    "marrow_blast_pct", "platelets_10e9_l", "anc_10e9_l", "emd_present", "mrd", "ae_term", "ae_grade",
    "cause", "followup_status", "relapse_site", "detail",
)

# ---------------------------------------------------------------------------------- vocabularies
SEXES: tuple[str, ...] = ("F", "M")
PH_STATUSES: tuple[str, ...] = ("Ph+", "Ph-")
DISEASE_STATUSES: tuple[str, ...] = ("relapsed", "refractory")
EVENT_TYPES: tuple[str, ...] = ("ino_dose", "response", "mrd", "hsct", "relapse", "adverse_event", "death",
                                "last_contact")
OTHER_EVENT_TYPES: tuple[str, ...] = ("subsequent_therapy",)   # named by the contract: kept, ignored by endpoints
UNDATED_EVENT_TYPES: tuple[str, ...] = ("response", "mrd")     # may lack a date (known by cycle)
RESPONSES: tuple[str, ...] = ("CR", "CRi", "NR")
MRD_RESULTS: tuple[str, ...] = ("negative", "positive")
FOLLOWUP_STATUSES: tuple[str, ...] = ("alive at cut-off", "lost to follow-up")
AE_TERMS: tuple[str, ...] = ("VOD", "thrombocytopenia", "neutropenia", "febrile neutropenia", "AST increased",
                             "ALT increased", "bilirubin increased")
DEATH_CAUSES: tuple[str, ...] = ("progression of disease", "relapse", "septic shock",
                                 "VOD-related multi-organ failure", "VOD pneumonia", "CNS relapse", "not mentioned")

# Cycle-1 dose groups, mg/m² per cycle: 1.8 within ±0.005 is "1.8" (the label of a standard cycle).
DOSE_GROUPS: tuple[str, ...] = ("<1.8", "1.8", ">1.8")
STANDARD_CYCLE_DOSE_MG_M2 = 1.8
DOSE_TOLERANCE_MG_M2 = 0.005
AGE_GROUPS: tuple[str, ...] = ("18-65", ">65")
OLDER_AGE_YEARS = 65
DEFAULT_BLAST_THRESHOLD = 50.0   # % bone-marrow blasts: the paper's split

# ---------------------------------------------------------------------------------- where cohorts live
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = PROJECT_ROOT / "data" / "schema.sql"
DEFAULT_COHORT_PATH = PROJECT_ROOT / "data" / "ino_cohort.duckdb"     # the reconstructed default cohort
DEFAULT_COHORTS_DIR = PROJECT_ROOT / "data" / "cohorts"               # imported cohorts
DEFAULT_COHORT_ENV = "INO_COHORT_PATH"     # another file as the default cohort
COHORTS_DIR_ENV = "INO_COHORTS_DIR"        # another folder for imported cohorts

"""The paper check: every figure the paper publishes about its own cohort, recomputed and compared.

`check_paper(cohort)` recomputes each of the 169 data-derived targets of
`paper-targets.md` (plus the study-metadata target A51) on the whole cohort (`FilterSpec()`) through
the engine — `core.characteristics`, `core.response`, `core.survival`, `core.safety` and
`core.queries` — so every time is derived from event dates, never stored. Each computed value is
formatted at the precision the paper prints (percentages rounded half-up to the printed decimals,
KM rates as %, medians and CIs to the printed decimals, counts exactly, dates as "Feb 2017") and
compared as a string with the published one.

The status comes from that comparison alone: "exact" when the strings are equal. A figure that
misses is labelled with its documented conflict (`paper-conflicts.md`, C01–C13) only when its
computed value is the one the conflict honours instead — "unattainable — rounding or typo" (C05,
C06, C07, C09) or "unattainable — structural" (C02). Any other miss is a "mismatch", with the
reason "not a documented conflict" (or, for a documented figure, that the value is not the one the
conflict explains). A documented-unattainable figure that happens to match is shown as "exact",
with a reason saying that this was not expected. A51 (cases screened)
cannot be derived from patient rows and is shown as "metadata", outside the count.

A published number is never shown as if it were computed: `computed` is always the engine's value,
or "n/a" when the cohort cannot give one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pandas as pd

from core.characteristics import CharacteristicsTable, patient_characteristics
from core.database import Cohort
from core.filters import FilterSpec
from core.contract import DAYS_PER_MONTH
from core.endpoints import EndpointOptions, endpoint
from core.groupings import group_label
from core.queries import (
    fetch_dose_schedule_check,
    fetch_measures,
    fetch_patient_listing,
    fetch_response_criteria_check,
    fetch_study_meta,
    fetch_study_window,
)
from core.response import cr_cri_rate_by, summarise_response
from core.results import ProportionEstimate, TooFewPatients, round_half_up
from core.safety import causes_of_death, toxicity_by, toxicity_by_hsct, toxicity_components
from core.survival import CI_METHOD, SurvivalCurve, estimate_survival

EXACT = "exact"
UNATTAINABLE_ROUNDING = "unattainable — rounding or typo"
UNATTAINABLE_STRUCTURAL = "unattainable — structural"
METADATA = "metadata"
MISMATCH = "mismatch"

CONSISTENT = "consistent"
NOT_AVAILABLE = "n/a"
CONFLICTS_SOURCE = "shared/reference/paper-conflicts.md"

# The paper's printed treatment and data-collection windows (checked as claims, never shown as computed).
TREATMENT_WINDOW = (dt.date(2017, 2, 1), dt.date(2022, 10, 31))       # "between February 2017 and October 2022"
COLLECTION_WINDOW = (dt.date(2023, 3, 8), dt.date(2023, 10, 16))      # "between March 8 and October 16, 2023"
MIN_POTENTIAL_FOLLOW_UP_MONTHS = 6.0                                   # "at least 6 months of follow-up"
STANDARD_SCHEDULE = ((1, 0.8), (8, 0.5), (15, 0.5))                    # cycle day → mg/m²
CYCLE_LENGTH_DAYS = (21, 28)                                           # "a 21–28-day cycle"

# ---------------------------------------------------------------------------------------------
# Sections, in the order the paper presents them
# ---------------------------------------------------------------------------------------------
S_STUDY = "Abstract & Methods — study, eligibility and definitions"
S_AGE = "Text §4 — Age"
S_FIG1 = "Figure 1 — Patient disposition and follow-up"
S_T1 = "Table 1 — Patient characteristics"
S_41 = "Text §4.1 — Patient characteristics"
S_421 = "Text §4.2.1 — Response to InO"
S_T2 = "Table 2 — Cycles of InO to CR/CRi"
S_T3 = "Table 3 — CR/CRi by salvage line"
S_T4 = "Table 4 — CR/CRi by blast burden"
S_T5 = "Table 5 — MRD negativity among CR/CRi"
S_DEEP = "Abstract — Deep response"
S_432 = "Text §4.3.2 — HSCT"
S_433 = "Text §4.3.3 — Duration of remission"
S_FIG2 = "Text §4.3.4 & Figure 2 — Overall survival"
S_435 = "Text §4.3.5 — Relapse-free survival"
S_436 = "Text §4.3.6 — Extramedullary disease"
S_437 = "Text §4.3.7 — Safety"
S_T6 = "Table 6 — Toxicity by HSCT"
S_T7 = "Table 7 — VOD by salvage line"
S_T8 = "Table 8 — Adverse events and cause of death"
S_438 = "Text §4.3.8 — Cause of death"
S_DISC = "Discussion"
S_T9 = "Table 9 — Present study row"

SECTIONS: tuple[str, ...] = (S_STUDY, S_AGE, S_FIG1, S_T1, S_41, S_421, S_T2, S_T3, S_T4, S_T5, S_DEEP, S_432,
                             S_433, S_FIG2, S_435, S_436, S_437, S_T6, S_T7, S_T8, S_438, S_DISC, S_T9)


@dataclass(frozen=True)
class PaperTarget:
    """One published figure: what the paper prints and where (paper-targets.md)."""

    target_id: str
    section: str
    figure: str
    published: str
    where: str
    metadata: bool = False


def _t(target_id: str, section: str, figure: str, published: str, where: str, *, metadata: bool = False) -> PaperTarget:
    return PaperTarget(target_id, section, figure, published, where, metadata)


# Consistency targets print "consistent" on both sides; the claim itself is in the figure label.
TARGETS: tuple[PaperTarget, ...] = (
    # Abstract & Methods
    _t("A02", S_STUDY, "Participating centres", "5", "Abstract; Methods"),
    _t("A03", S_STUDY, "First InO start (C1D1)", "Feb 2017", "Abstract"),
    _t("A04", S_STUDY, "Last InO start (C1D1)", "Oct 2022", "Abstract"),
    _t("A05", S_STUDY, "All InO doses inside the treatment window Feb 2017–Oct 2022", CONSISTENT, "Abstract"),
    _t("A06", S_STUDY, "Adults: minimum age", ">18", "Abstract (>18); Methods (≥18)"),
    _t("A49", S_STUDY, "CD22 positivity (%)", "100", "Methods; Table 9"),
    _t("A50", S_STUDY, "Ph+ included only after ≥1 TKI failed", CONSISTENT, "Methods"),
    _t("A53", S_STUDY, "At least 6 months of (potential) follow-up for every patient", CONSISTENT,
       "Methods; Figure 1"),
    _t("B22", S_STUDY, "CR/CRi definitions respected (≤5% blasts, no EMD; CR plt >100 and ANC >1; "
                       "CRi plt <100 or ANC <1)", CONSISTENT, "Methods"),
    # §4 age
    _t("A07", S_AGE, "Age central value, labelled 'median' (years)", "37.41", "Sec 4 ('median age 37.41 ± 15.16')"),
    _t("A08", S_AGE, "Age 37.41 read as mean (years)", "37.41", "Sec 4"),
    _t("A09", S_AGE, "Age SD (years)", "15.16", "Sec 4"),
    # Figure 1
    _t("A51", S_FIG1, "Cases identified (screened)", "50", "Figure 1", metadata=True),
    _t("A52", S_FIG1, "Data collected 8 Mar–16 Oct 2023 (centre cut-offs; no event after its cut-off)",
       CONSISTENT, "Figure 1"),
    _t("E16", S_FIG1, "Lost to follow-up by 6 months", "5", "Figure 1"),
    _t("E17", S_FIG1, "Lost to follow-up between 6 and 12 months", "5", "Figure 1"),
    # Table 1
    _t("A01", S_T1, "Patients analysed", "32", "Abstract; Sec 4; Table 1; Fig 1; Fig 2 (n at risk t=0); Table 9"),
    _t("A12", S_T1, "Female: n", "11", "Table 1"),
    _t("A13", S_T1, "Female: %", "34.4", "Table 1"),
    _t("A14", S_T1, "Male: n", "21", "Table 1"),
    _t("A15", S_T1, "Male: %", "65.6", "Table 1"),
    _t("A10", S_T1, "Age 18–65 years: n", "30", "Table 1"),
    _t("A11", S_T1, "Age >65 years: n", "2", "Table 1; Sec 4.3.4 (n = 2)"),
    _t("A18", S_T1, "InO as salvage 1: n", "10", "Table 1; Table 3; Table 7"),
    _t("A19", S_T1, "InO as salvage 1: %", "31.3", "Table 1"),
    _t("A20", S_T1, "InO as salvage 2: n", "18", "Table 1; Sec 4.1; Tables 3, 7"),
    _t("A21", S_T1, "InO as salvage 2: %", "56.3", "Table 1"),
    _t("A23", S_T1, "InO as salvage 3: n", "4", "Table 1; Tables 3, 7"),
    _t("A24", S_T1, "InO as salvage 3: %", "12.5", "Table 1"),
    _t("A25", S_T1, "Total InO cycles = 1: n", "15", "Table 1"),
    _t("A26", S_T1, "Total InO cycles = 1: %", "46.9", "Table 1"),
    _t("A27", S_T1, "Total InO cycles = 2: n", "8", "Table 1"),
    _t("A28", S_T1, "Total InO cycles = 2: %", "25", "Table 1"),
    _t("A29", S_T1, "Total InO cycles = 3: n", "5", "Table 1"),
    _t("A30", S_T1, "Total InO cycles = 3: %", "15.6", "Table 1"),
    _t("A31", S_T1, "Total InO cycles = 4: n", "2", "Table 1"),
    _t("A32", S_T1, "Total InO cycles = 4: %", "6.3", "Table 1"),
    _t("A33", S_T1, "Total InO cycles = 6: n", "2", "Table 1"),
    _t("A34", S_T1, "Total InO cycles = 6: %", "6.3", "Table 1"),
    _t("A35", S_T1, "Cycle-1 dose 1.8 mg/m²: n", "12", "Table 1; Sec 4.1"),
    _t("A36", S_T1, "Cycle-1 dose 1.8 mg/m²: %", "37.5", "Table 1; Sec 4.1"),
    _t("A37", S_T1, "Cycle-1 dose <1.8 mg/m²: n", "17", "Table 1"),
    _t("A38", S_T1, "Cycle-1 dose <1.8 mg/m²: %", "53.1", "Table 1"),
    _t("A39", S_T1, "Cycle-1 dose >1.8 mg/m²: n", "3", "Table 1"),
    _t("A40", S_T1, "Cycle-1 dose >1.8 mg/m²: %", "9.4", "Table 1"),
    _t("A43", S_T1, "Baseline marrow blasts <50%: n", "16", "Table 1; Table 4; Sec 4.1"),
    _t("A44", S_T1, "Baseline marrow blasts <50%: %", "50", "Table 1; Table 4"),
    _t("A45", S_T1, "Baseline marrow blasts >50%: n", "16", "Table 1; Table 4; Sec 4.1"),
    _t("A46", S_T1, "Baseline marrow blasts >50%: %", "50", "Table 1; Table 4"),
    # §4.1
    _t("A16", S_41, "Relapsed before InO", "28", "Sec 4.1"),
    _t("A17", S_41, "Refractory before InO", "4", "Sec 4.1"),
    _t("A22", S_41, "InO as salvage 2 'and beyond': % (text)", "56.4", "Sec 4.1"),
    _t("A41", S_41, "Standard schedule 0.8 D1 / 0.5 D8 / 0.5 D15 in every 1.8 mg/m² patient (12/12)", CONSISTENT,
       "Sec 4.1 (printed '15mg/m2'); Table 9 dosing"),
    _t("A42", S_41, "Cycle length 21–28 days (gaps between cycle day-1 dates)", CONSISTENT,
       "Sec 4.1; Table 9 'q3-4 weeks'"),
    # §4.2.1
    _t("B01", S_421, "CR/CRi: n", "19", "Abstract; Sec 4.2.1; Sec 4.3.1; Table 2; Table 5; Discussion"),
    _t("B02", S_421, "CR/CRi: %", "59.4", "Abstract; Sec 4.2.1; Sec 4.3.1; Discussion; Table 9"),
    _t("B03", S_421, "CR: n", "18", "Sec 4.2.1; Table 5"),
    _t("B04", S_421, "CRi: n", "1", "Sec 4.2.1; Table 5"),
    _t("B05", S_421, "No remission: n", "12", "Sec 4.2.1"),
    _t("B06", S_421, "No remission: %", "37.5", "Sec 4.2.1"),
    _t("B07", S_421, "Lost to follow-up before response assessment", "1", "Sec 4.2.1"),
    # Table 2
    _t("B08", S_T2, "Median InO cycles to CR/CRi", "2", "Abstract; Sec 4.2.1; Table 2; Discussion"),
    _t("B09", S_T2, "Range of cycles to CR/CRi", "1 to 6", "Table 2"),
    # Table 3
    _t("B10", S_T3, "CR/CRi with InO as salvage 1: n", "6", "Table 3; Sec 4.2.1"),
    _t("B11", S_T3, "CR/CRi with InO as salvage 1: %", "60", "Table 3; Sec 4.2.1"),
    _t("B12", S_T3, "CR/CRi with InO as salvage 2: n", "11", "Table 3; Sec 4.2.1"),
    _t("B13", S_T3, "CR/CRi with InO as salvage 2: %", "61", "Table 3; Sec 4.2.1"),
    _t("B14", S_T3, "CR/CRi with InO as salvage 3: n", "2", "Table 3; Sec 4.2.1"),
    _t("B15", S_T3, "CR/CRi with InO as salvage 3: %", "50", "Table 3; Sec 4.2.1"),
    # Table 4
    _t("B16", S_T4, "CR/CRi, blasts <50%: n", "10", "Table 4"),
    _t("B17", S_T4, "CR/CRi, blasts <50%: %", "62.5", "Table 4; Sec 4.2.1"),
    _t("B18", S_T4, "CR/CRi, blasts >50%: n", "9", "Table 4"),
    _t("B19", S_T4, "CR/CRi, blasts >50%: %", "56.25", "Table 4; Sec 4.2.1"),
    # Table 5
    _t("M01", S_T5, "MRD negativity among CR/CRi: n", "18", "Abstract; Sec 4.3.1; Table 5; Discussion"),
    _t("M02", S_T5, "MRD negativity among CR/CRi: %", "94.7", "Abstract; Sec 4.3.1; Discussion"),
    _t("M03", S_T5, "CR with MRD negativity: n", "17", "Table 5"),
    _t("M04", S_T5, "CR with MRD negativity: %", "94.4", "Table 5"),
    _t("M05", S_T5, "CR without MRD negativity: n", "1", "Table 5"),
    _t("M06", S_T5, "CR without MRD negativity: %", "5.6", "Table 5"),
    _t("M07", S_T5, "CRi with MRD negativity: n", "1", "Table 5"),
    _t("M08", S_T5, "CRi with MRD negativity: %", "100", "Table 5"),
    _t("M09", S_T5, "CRi without MRD negativity: n", "0", "Table 5"),
    _t("M10", S_T5, "Total MRD-negative: % (printed '18 (94.8)')", "94.8", "Table 5"),
    _t("M11", S_T5, "Total not MRD-negative: % (printed '1 (5.2)')", "5.2", "Table 5"),
    # Abstract — deep response
    _t("M12", S_DEEP, "Deep response (MRD-negative at first CR/CRi): n", "13", "Abstract"),
    _t("M13", S_DEEP, "Deep response: %", "68.4", "Abstract"),
    _t("M14", S_DEEP, "Median cycles to deep response", "2", "Abstract ('after a median of two cycles')"),
    # §4.3.2
    _t("D01", S_432, "Proceeded to HSCT (whole cohort): n", "11", "Abstract; Table 6 column n"),
    _t("D02", S_432, "Proceeded to HSCT: %", "34.4", "Abstract"),
    _t("D03", S_432, "Responders proceeding to HSCT: n", "9", "Sec 4.3.2"),
    _t("D04", S_432, "Responders proceeding to HSCT: %", "47.4", "Sec 4.3.2"),
    _t("D05", S_432, "HSCT after a single InO cycle: n", "6", "Sec 4.3.2"),
    _t("D06", S_432, "HSCT after a single InO cycle: %", "66.7", "Sec 4.3.2"),
    # §4.3.3
    _t("E01", S_433, "Responders with DOR data", "17", "Sec 4.3.3"),
    _t("E02", S_433, "Median DOR (months)", "6", "Abstract; Sec 4.3.3; Discussion; Table 9"),
    # §4.3.4 & Figure 2
    _t("E03", S_FIG2, "OS at 6 months (%)", "46.9", "Abstract; Sec 4.3.4; Discussion"),
    _t("E04", S_FIG2, "OS at 12 months (%)", "28.1", "Abstract; Sec 4.3.4"),
    _t("E05", S_FIG2, "Median OS (months)", "6.0", "Sec 4.3.4; Figure 2"),
    _t("E06", S_FIG2, "Median OS 95% CI lower (months)", "4.5", "Sec 4.3.4; Figure 2"),
    _t("E07", S_FIG2, "Median OS 95% CI upper (months)", "7.5", "Sec 4.3.4; Figure 2"),
    _t("E08", S_FIG2, "Number at risk at 12 months", "9", "Figure 2"),
    _t("E09", S_FIG2, "OS at 6 months, age >65 (%)", "50", "Sec 4.3.4"),
    _t("E10", S_FIG2, "OS at 12 months, age >65 (%)", "50", "Sec 4.3.4"),
    # §4.3.5
    _t("E11", S_435, "Median RFS among CR/CRi (months)", "7.0", "Abstract ('7'); Sec 4.3.5; Discussion"),
    _t("E12", S_435, "Median RFS 95% CI lower (months)", "6.1", "Sec 4.3.5"),
    _t("E13", S_435, "Median RFS 95% CI upper (months)", "8.9", "Sec 4.3.5"),
    # §4.3.6
    _t("A47", S_436, "Extramedullary disease at baseline: n", "2", "Sec 4.3.6"),
    _t("A48", S_436, "Extramedullary disease at baseline: %", "6.25", "Sec 4.3.6"),
    _t("B20", S_436, "EMD patients achieving CR/CRi and then HSCT", "1", "Sec 4.3.6"),
    _t("B21", S_436, "EMD patients without remission", "1", "Sec 4.3.6"),
    # §4.3.7
    _t("F01", S_437, "VOD: n", "7", "Sec 4.3.7; Discussion"),
    _t("F02", S_437, "VOD: % (integer)", "22", "Sec 4.3.7"),
    _t("F04", S_437, "VOD after HSCT: n", "5", "Sec 4.3.7; Table 6"),
    _t("F05", S_437, "VOD after HSCT: % of VOD", "71.4", "Sec 4.3.7"),
    # Table 6
    _t("F10", S_T6, "HSCT column size", "11", "Table 6 (implied by 5=45.5%, 4=36.4%, 9=81.8%)"),
    _t("F11", S_T6, "No-HSCT column size", "20", "Table 6 (implied by 2=10%, 8=40%, 19=95%)"),
    _t("F12", S_T6, "VOD, HSCT: n", "5", "Table 6"),
    _t("F13", S_T6, "VOD, HSCT: %", "45.5", "Table 6"),
    _t("F14", S_T6, "VOD, no HSCT: n", "2", "Table 6"),
    _t("F15", S_T6, "VOD, no HSCT: %", "10", "Table 6"),
    _t("F16", S_T6, "Grade 3/4 liver toxicity, HSCT: n", "4", "Table 6"),
    _t("F17", S_T6, "Grade 3/4 liver toxicity, HSCT: %", "36.4", "Table 6"),
    _t("F18", S_T6, "Grade 3/4 liver toxicity, no HSCT: n", "8", "Table 6"),
    _t("F19", S_T6, "Grade 3/4 liver toxicity, no HSCT: %", "40", "Table 6"),
    _t("F20", S_T6, "Haematological toxicity, HSCT: n", "9", "Table 6"),
    _t("F21", S_T6, "Haematological toxicity, HSCT: %", "81.8", "Table 6"),
    _t("F22", S_T6, "Haematological toxicity, no HSCT: n", "19", "Table 6"),
    _t("F23", S_T6, "Haematological toxicity, no HSCT: %", "95", "Table 6"),
    # Table 7
    _t("F24", S_T7, "VOD with InO as salvage 1: n", "2", "Table 7"),
    _t("F25", S_T7, "VOD with InO as salvage 1: %", "20", "Table 7"),
    _t("F26", S_T7, "VOD with InO as salvage 2: n", "3", "Table 7"),
    _t("F27", S_T7, "VOD with InO as salvage 2: %", "16.8", "Table 7"),
    _t("F28", S_T7, "VOD with InO as salvage 3: n", "2", "Table 7"),
    _t("F29", S_T7, "VOD with InO as salvage 3: %", "50", "Table 7"),
    # Table 8
    _t("F08", S_T8, "Haematological (myelosuppression) toxicity: n", "28", "Abstract; Sec 4.3.7; Table 8"),
    _t("F09", S_T8, "Haematological toxicity: %", "87.5", "Abstract; Sec 4.3.7; Table 8"),
    _t("F30", S_T8, "Thrombocytopenia: n", "27", "Table 8"),
    _t("F31", S_T8, "Thrombocytopenia: %", "84.8", "Table 8"),
    _t("F32", S_T8, "Neutropenia: n", "20", "Table 8"),
    _t("F33", S_T8, "Neutropenia: %", "62.5", "Table 8"),
    _t("F34", S_T8, "Febrile neutropenia: n", "14", "Table 8"),
    _t("F35", S_T8, "Febrile neutropenia: %", "43.7", "Table 8"),
    _t("F06", S_T8, "Grade 3/4 liver toxicity: n", "12", "Abstract; Sec 4.3.7; Table 8"),
    _t("F07", S_T8, "Grade 3/4 liver toxicity: %", "37.5", "Abstract; Sec 4.3.7; Table 8"),
    _t("F36", S_T8, "AST increased (G3/4): n", "9", "Table 8"),
    _t("F37", S_T8, "AST increased (G3/4): %", "28.1", "Table 8"),
    _t("F38", S_T8, "ALT increased (G3/4): n", "6", "Table 8"),
    _t("F39", S_T8, "ALT increased (G3/4): %", "18.8", "Table 8"),
    _t("F40", S_T8, "Bilirubin increased (G3/4): n", "8", "Table 8"),
    _t("F41", S_T8, "Bilirubin increased (G3/4): %", "25", "Table 8"),
    _t("E14", S_T8, "Deaths: n", "17", "Sec 4.3.8; Table 8"),
    _t("E15", S_T8, "Deaths: %", "53.1", "Sec 4.3.8; Table 8"),
    _t("G01", S_T8, "Death cause 'Progression of disease': n", "4", "Table 8; Sec 4.3.8"),
    _t("G02", S_T8, "Death cause 'Progression of disease': % of deaths", "23.5", "Table 8; Sec 4.3.8"),
    _t("G03", S_T8, "Death cause 'Relapse': n", "6", "Table 8; Sec 4.3.8"),
    _t("G04", S_T8, "Death cause 'Relapse': % of deaths", "35.3", "Table 8; Sec 4.3.8"),
    _t("G05", S_T8, "Death cause 'Septic shock': n", "2", "Table 8; Sec 4.3.8"),
    _t("G06", S_T8, "Death cause 'Septic shock': % of deaths", "11.8", "Table 8; Sec 4.3.8"),
    _t("G07", S_T8, "Death cause 'VOD-related multi-organ failure': n", "1", "Table 8; Sec 4.3.8"),
    _t("G08", S_T8, "Death cause 'VOD-related multi-organ failure': % of deaths", "5.9", "Table 8; Sec 4.3.8"),
    _t("G09", S_T8, "Death cause 'VOD pneumonia': n", "1", "Table 8; Sec 4.3.8"),
    _t("G10", S_T8, "Death cause 'VOD pneumonia': % of deaths", "5.9", "Table 8; Sec 4.3.8"),
    _t("G11", S_T8, "Death cause 'CNS relapse': n", "1", "Table 8; Sec 4.3.8"),
    _t("G12", S_T8, "Death cause 'CNS relapse': % of deaths", "5.9", "Table 8; Sec 4.3.8"),
    _t("G13", S_T8, "Death cause 'Not mentioned': n", "2", "Table 8; Sec 4.3.8"),
    _t("G14", S_T8, "Death cause 'Not mentioned': % of deaths", "11.8", "Table 8; Sec 4.3.8"),
    # §4.3.8
    _t("G15", S_438, "'Disease progression (60.8%)' as the major cause of death: % of deaths from progression "
                      "or relapse", "60.8", "Sec 4.3.8"),
    _t("G16", S_438, "VOD deaths in patients with prior HSCT", "2 of 2", "Sec 4.3.8"),
    # Discussion
    _t("F03", S_DISC, "VOD: % (2 decimals)", "21.87", "Discussion"),
    # Table 9
    _t("E18", S_T9, "Median OS, present-study row (months)", "—", "Table 9"),
)


# ---------------------------------------------------------------------------------------------
# Documented conflicts (paper-conflicts.md)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DocumentedConflict:
    """What paper-conflicts.md says about one target.

    `miss_status` is the status a miss gets (None: the conflict is resolved and the figure is
    expected to match); `reconstructed` is the value the reference reconstruction gives for a
    figure that cannot match.
    """

    code: str
    reason: str
    miss_status: str | None = None
    reconstructed: str | None = None


_C01 = ("11 transplanted = 9 InO responders + 2 non-responders transplanted after other salvage, "
        "so 11/32 and 9/19 both hold")
_C02_KM = ("KM estimate (lifelines) honoured; the printed value also equals a crude fraction of 32 "
           "(15/32, 9/32) — see E08")
_C03 = ("lifelines CI-band inversion reproduces the endpoints; the paper's CI method is unstated "
        "(probably SPSS Wald, median ± 1.96·SE)")
_C04 = ("deep response = MRD-negative at the assessment that first documented CR/CRi; others converted "
        "later, so 18/19 MRD-negative and 13/19 deep both hold")
_C08 = "RFS from the first InO dose (C1D1), not from CR: the only reading compatible with RFS 7.0 > DOR 6"
_C10 = ("Table 6 holds 11 + 20 = 31 patients: the patient lost before the first assessment has no "
        "safety data and is excluded from Table 6 only")
_C11 = ("'median age 37.41 ± 15.16': decimal ages give median = mean = 37.41 and SD 15.16, "
        "so both readings hold")

CONFLICTS: dict[str, DocumentedConflict] = {
    # unattainable — structural (C02)
    "E08": DocumentedConflict(
        "C02", "honoured the KM OS rates, median 6.0 (4.5–7.5) and 17 deaths instead; 9/32 = 28.1% exactly, so "
        "the published 12-month rate is almost certainly a crude proportion, and a KM estimate of 28.1% with "
        "17 deaths allows at most 6 at risk", UNATTAINABLE_STRUCTURAL, "4"),
    "E16": DocumentedConflict(
        "C02", "honoured S(6) = 46.9%, 17 deaths, the RFS CI lower limit 6.1 and Table 8's relapse deaths "
        "(responders), which together force at least 6 patients lost to follow-up by 6 months",
        UNATTAINABLE_STRUCTURAL, "6"),
    # unattainable — rounding or typo (C05, C06, C07, C09)
    "A22": DocumentedConflict(
        "C05", "typo: no n/32 rounds to 56.4; the count 18 is honoured (Table 1 prints 18 (56.3))",
        UNATTAINABLE_ROUNDING, "56.3"),
    "F31": DocumentedConflict(
        "C06", "no count of 32 gives 84.8; the count 27 is honoured (27/32 = 84.375 → 84.4)",
        UNATTAINABLE_ROUNDING, "84.4"),
    "F35": DocumentedConflict(
        "C06", "43.7 needs truncation, yet Table 8 rounds 6/32 = 18.75 to 18.8; the count 14 is honoured "
        "(14/32 = 43.75 → 43.8)", UNATTAINABLE_ROUNDING, "43.8"),
    "F27": DocumentedConflict(
        "C06", "no count of 18 gives 16.8; the count 3 is honoured (3/18 = 16.67 → 16.7)",
        UNATTAINABLE_ROUNDING, "16.7"),
    "F03": DocumentedConflict(
        "C06", "7/32 = 21.875 truncated to 21.87; half-up gives 21.88 (§4.3.7 prints 22 correctly); "
        "the count 7 is honoured", UNATTAINABLE_ROUNDING, "21.88"),
    "G15": DocumentedConflict(
        "C06", "no k/17 gives 60.8; shown is progression + relapse = 10/17 (Table 8: 23.5 + 35.3)",
        UNATTAINABLE_ROUNDING, "58.8"),
    "M10": DocumentedConflict(
        "C07", "rounding: 18/19 = 94.74 prints as 94.7 in the abstract and §4.3.1; the count 18 is honoured",
        UNATTAINABLE_ROUNDING, "94.7"),
    "M11": DocumentedConflict(
        "C07", "rounding: 1/19 = 5.26 → 5.3; the count 1 is honoured", UNATTAINABLE_ROUNDING, "5.3"),
    "E18": DocumentedConflict(
        "C09", "Table 9 prints '—' while §4.3.4 and Figure 2 report a median OS of 6.0 months; 6.0 is honoured",
        UNATTAINABLE_ROUNDING, "6.0"),
    # resolved conflicts: expected to match, with the note that explains how
    "D01": DocumentedConflict("C01", _C01), "D02": DocumentedConflict("C01", _C01),
    "D03": DocumentedConflict("C01", _C01), "D04": DocumentedConflict("C01", _C01),
    "E03": DocumentedConflict("C02", _C02_KM), "E04": DocumentedConflict("C02", _C02_KM),
    "E05": DocumentedConflict("C02", "KM median honoured: a death on day 182 (5.98 months) prints as 6.0"),
    "E17": DocumentedConflict("C02", "LTF in (6, 12] months honoured; LTF by 6 months cannot be (E16)"),
    "E06": DocumentedConflict("C03", _C03), "E07": DocumentedConflict("C03", _C03),
    "M12": DocumentedConflict("C04", _C04), "M13": DocumentedConflict("C04", _C04),
    "M14": DocumentedConflict("C04", _C04),
    "E11": DocumentedConflict("C08", _C08), "E12": DocumentedConflict("C08", _C08),
    "E13": DocumentedConflict("C08", _C08),
    "F10": DocumentedConflict("C10", _C10), "F11": DocumentedConflict("C10", _C10),
    "A07": DocumentedConflict("C11", _C11), "A08": DocumentedConflict("C11", _C11),
    "A09": DocumentedConflict("C11", _C11),
    "A51": DocumentedConflict("C12", "study-level metadata (study_meta.screened_identified): the 18 screened-out "
                                     "cases are not in a 32-patient dataset; not counted"),
}


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PaperFigure:
    """One published figure next to its recomputed value."""

    target_id: str
    section: str
    figure: str
    published: str          # as printed in the paper
    computed: str           # the engine's value at the paper's printed precision ("n/a" if none)
    status: str             # exact, unattainable — rounding or typo / structural, metadata, mismatch
    conflict: str           # "C02" etc., or ""
    reason: str             # one line; for conflicts what was honoured instead and why
    where: str              # locations in the paper
    supplementary: str = ""  # e.g. the exact CI of a proportion (not published; shown as derived)

    @property
    def counted(self) -> bool:
        return self.status != METADATA

    @property
    def is_exact(self) -> bool:
        return self.status == EXACT


@dataclass(frozen=True)
class CrudeOsView:
    """Crude (non-KM) counts behind the OS block, for C02: what a 'fraction of 32' reading gives."""

    n: int
    deaths: int
    deaths_by_6: int
    deaths_by_12: int
    followed_to_6: int            # OS time ≥ 6 months (alive and still followed)
    followed_to_12: int           # OS time ≥ 12 months
    lost_by_6: int
    lost_6_to_12: int

    def rows(self) -> list[tuple[str, str]]:
        def frac(k: int) -> str:
            return f"{k}/{self.n} = {_pct_text(k, self.n, 1)}%" if self.n else NOT_AVAILABLE
        return [
            ("Alive at the end of follow-up (crude)", frac(self.n - self.deaths)),
            ("Known dead by 6 months", frac(self.deaths_by_6)),
            ("Known dead by 12 months", frac(self.deaths_by_12)),
            ("Alive and followed at 6 months", frac(self.followed_to_6)),
            ("Alive and followed at 12 months (not LTF)", frac(self.followed_to_12)),
            ("Lost to follow-up by 6 months", str(self.lost_by_6)),
            ("Lost to follow-up in (6, 12] months", str(self.lost_6_to_12)),
        ]


@dataclass(frozen=True)
class PaperCheck:
    figures: tuple[PaperFigure, ...]
    definitions: dict[str, str]
    crude_os: CrudeOsView | None
    source: str = CONFLICTS_SOURCE

    @property
    def n_counted(self) -> int:
        return sum(1 for f in self.figures if f.counted)

    @property
    def n_exact(self) -> int:
        return sum(1 for f in self.figures if f.counted and f.is_exact)

    @property
    def misses(self) -> list[PaperFigure]:
        return [f for f in self.figures if f.counted and not f.is_exact]

    def figure(self, target_id: str) -> PaperFigure:
        for f in self.figures:
            if f.target_id == target_id:
                return f
        raise KeyError(f"no published figure {target_id!r}")

    def by_section(self) -> list[tuple[str, list[PaperFigure]]]:
        return [(s, [f for f in self.figures if f.section == s]) for s in SECTIONS
                if any(f.section == s for f in self.figures)]

    def summary(self) -> str:
        return (f"{self.n_exact} of {self.n_counted} published figures reproduced exactly; "
                f"{len(self.misses)} differ: " + ", ".join(f.target_id for f in self.misses))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "ID": f.target_id, "Section": f.section, "Figure": f.figure, "Published": f.published,
            "Computed": f.computed, "Status": f.status, "Conflict": f.conflict, "Reason": f.reason,
            "Where in the paper": f.where, "Supplementary": f.supplementary,
        } for f in self.figures])


# ---------------------------------------------------------------------------------------------
# Formatting at the paper's printed precision
# ---------------------------------------------------------------------------------------------
def printed_decimals(published: str) -> int:
    """Decimals the paper prints for a number ("56.25" → 2, "61" → 0); 1 for non-numbers like "—"."""
    text = published.strip()
    try:
        float(text)
    except ValueError:
        return 1
    return len(text.split(".", 1)[1]) if "." in text else 0


def _number_text(value: float | None, decimals: int) -> str:
    return NOT_AVAILABLE if value is None else str(round_half_up(value, decimals))


def _pct_text(count: int, denominator: int, decimals: int) -> str:
    if denominator <= 0:
        return NOT_AVAILABLE
    return str(round_half_up(100 * count / denominator, decimals))


def _month_year(value: object) -> str:
    if value is None or (not isinstance(value, dt.date) and pd.isna(value)):  # type: ignore[arg-type]
        return NOT_AVAILABLE
    return pd.Timestamp(value).strftime("%b %Y")


@dataclass
class _Values:
    """Computed strings (and supplementary notes) keyed by target id, filled block by block."""

    published: dict[str, str]
    text: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def set(self, target_id: str, text: str, *, extra: str = "", note: str = "") -> None:
        self.text[target_id] = text
        if extra:
            self.extra[target_id] = extra
        if note:
            self.notes[target_id] = note

    def count(self, target_id: str, value: int | None) -> None:
        self.set(target_id, NOT_AVAILABLE if value is None else str(int(value)))

    def pct(self, target_id: str, count: int | None, denominator: int | None) -> None:
        if count is None or denominator is None:
            self.set(target_id, NOT_AVAILABLE)
            return
        decimals = printed_decimals(self.published[target_id])
        text = _pct_text(int(count), int(denominator), decimals)
        self.set(target_id, text, extra=f"{int(count)}/{int(denominator)}")

    def proportion(self, count_id: str | None, pct_id: str | None,
                   estimate: ProportionEstimate | TooFewPatients | None) -> None:
        """A count and its percentage from one engine proportion; the exact CI as supplementary."""
        if not isinstance(estimate, ProportionEstimate):
            if count_id:
                self.count(count_id, 0 if isinstance(estimate, TooFewPatients) else None)
            if pct_id:
                self.set(pct_id, NOT_AVAILABLE, note=estimate.reason if isinstance(estimate, TooFewPatients) else "")
            return
        if count_id:
            self.count(count_id, estimate.count)
        if pct_id:
            decimals = printed_decimals(self.published[pct_id])
            self.set(pct_id, _pct_text(estimate.count, estimate.denominator, decimals),
                     extra=f"{estimate.format(1)} ({estimate.method}; not published)")

    def number(self, target_id: str, value: float | None, *, percent: bool = False) -> None:
        decimals = printed_decimals(self.published[target_id])
        if value is None:
            self.set(target_id, NOT_AVAILABLE)
        else:
            self.set(target_id, _number_text(100 * value if percent else value, decimals))

    def consistency(self, target_id: str, ok: bool | None, detail: str) -> None:
        if ok is None:
            self.set(target_id, NOT_AVAILABLE, note=detail)
        else:
            self.set(target_id, CONSISTENT if ok else "inconsistent", note=detail)


# ---------------------------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------------------------
def check_paper(cohort: Cohort) -> PaperCheck:
    """Recompute every published figure on the whole cohort and compare it with the paper."""
    spec = FilterSpec()
    values = _Values(published={t.target_id: t.published for t in TARGETS})
    blocks: tuple[Callable[[Cohort, FilterSpec, _Values], None], ...] = (
        _study_block, _characteristics_block, _response_block, _survival_block, _safety_block,
        _deaths_block,
    )
    for block in blocks:
        block(cohort, spec, values)
    crude = _crude_os(cohort, spec, values)
    figures = tuple(_compare(t, values) for t in TARGETS)
    return PaperCheck(figures=figures, definitions=_definitions(cohort, spec), crude_os=crude)


def _compare(target: PaperTarget, values: _Values) -> PaperFigure:
    computed = values.text.get(target.target_id, NOT_AVAILABLE)
    conflict = CONFLICTS.get(target.target_id)
    code = conflict.code if conflict else ""
    note = values.notes.get(target.target_id, "")
    if target.metadata:
        status, reason = METADATA, conflict.reason if conflict else "study metadata; not counted"
    elif computed == target.published:
        status = EXACT
        if conflict and conflict.miss_status:
            reason = (f"documented as unattainable ({conflict.code}) yet it matches here — this cohort differs "
                      f"from the reference reconstruction ({conflict.reconstructed})")
        else:
            reason = conflict.reason if conflict else ""
    elif conflict and conflict.miss_status and computed == conflict.reconstructed:
        status, reason = conflict.miss_status, conflict.reason
    elif conflict and conflict.miss_status:
        # The documented explanation holds for the value the conflict honours, not for this one.
        status = MISMATCH
        reason = (f"differs from the published value and from the value {conflict.code} honours "
                  f"({conflict.reconstructed}): not explained by the documented conflict")
    else:
        status, reason = MISMATCH, "not a documented conflict"
        if conflict:
            reason += f"; {conflict.code} was expected to be resolved: {conflict.reason}"
    if note:
        reason = f"{reason}; {note}" if reason else note
    return PaperFigure(target_id=target.target_id, section=target.section, figure=target.figure,
                       published=target.published, computed=computed, status=status, conflict=code,
                       reason=reason, where=target.where, supplementary=values.extra.get(target.target_id, ""))


# ---------------------------------------------------------------------------------------------
# Blocks: each fills the computed strings of one part of the paper from the engine
# ---------------------------------------------------------------------------------------------
def _measures(cohort: Cohort, spec: FilterSpec, names: Iterable[str], by: str = "all") -> list[dict]:
    return fetch_measures(cohort, spec, tuple(names), by=by).to_dict("records")


def _one(cohort: Cohort, spec: FilterSpec, names: Iterable[str]) -> dict:
    rows = _measures(cohort, spec, names)
    return rows[0] if rows else {}


def _is_missing(value: object) -> bool:
    if value is None or isinstance(value, (str, bool, dt.date)):
        return value is None
    return bool(pd.isna(value))  # type: ignore[arg-type]


def _int_or_none(value: object) -> int | None:
    return None if _is_missing(value) else int(value)  # type: ignore[call-overload]


def _float_or_none(value: object) -> float | None:
    return None if _is_missing(value) else float(value)  # type: ignore[arg-type]


def _study_block(cohort: Cohort, spec: FilterSpec, v: _Values) -> None:
    row = _one(cohort, spec, ("n", "centres", "age_min", "cd22_positive", "cd22_reported", "ph_positive",
                              "ph_positive_without_tki"))
    n = _int_or_none(row.get("n")) or 0
    v.count("A02", _int_or_none(row.get("centres")))
    age_min = _float_or_none(row.get("age_min"))
    if age_min is None:
        v.set("A06", NOT_AVAILABLE)
    else:
        v.set("A06", ">18" if age_min > 18 else "≥18" if age_min == 18 else f"<18 (min {age_min:g})",
              extra=f"youngest {age_min:g} years")
    v.pct("A49", _int_or_none(row.get("cd22_positive")), n)
    if n and _int_or_none(row.get("cd22_reported")) != n:
        v.notes["A49"] = f"CD22 not reported for {n - (_int_or_none(row.get('cd22_reported')) or 0)} patients"
    ph_pos, ph_bad = _int_or_none(row.get("ph_positive")) or 0, _int_or_none(row.get("ph_positive_without_tki")) or 0
    v.consistency("A50", ph_bad == 0, f"{ph_pos - ph_bad} of {ph_pos} Ph+ patients had ≥1 prior TKI")

    window = fetch_study_window(cohort, spec).iloc[0].to_dict()
    v.set("A03", _month_year(window["first_c1d1"]))
    v.set("A04", _month_year(window["last_c1d1"]))
    if int(window["start_mismatches"]):
        v.notes["A03"] = f"{int(window['start_mismatches'])} patients' ino_start_date is not their C1D1 dose date"
    first_dose, last_dose = _date(window["first_dose"]), _date(window["last_dose"])
    if first_dose is None or last_dose is None:
        v.consistency("A05", None, "no InO dose rows")
    else:
        v.consistency("A05", TREATMENT_WINDOW[0] <= first_dose and last_dose <= TREATMENT_WINDOW[1],
                      f"doses from {first_dose} to {last_dose}")
    first_cut, last_cut, last_event = _date(window["first_cutoff"]), _date(window["last_cutoff"]), \
        _date(window["last_event"])
    if first_cut is None or last_cut is None:
        v.consistency("A52", None, "no patients")
    else:
        ok = (COLLECTION_WINDOW[0] <= first_cut and last_cut <= COLLECTION_WINDOW[1]
              and int(window["events_after_cutoff"]) == 0
              and (last_event is None or last_event <= COLLECTION_WINDOW[1]))
        v.consistency("A52", ok, f"cut-offs {first_cut} to {last_cut}; last event {last_event}; "
                                 f"{int(window['events_after_cutoff'])} events after their cut-off")
    min_days = _float_or_none(window["min_potential_days"])
    if min_days is None:
        v.consistency("A53", None, "no C1D1 dates")
    else:
        months = min_days / DAYS_PER_MONTH
        v.consistency("A53", months >= MIN_POTENTIAL_FOLLOW_UP_MONTHS,
                      f"shortest potential follow-up (cut-off − C1D1) {months:.1f} months")

    schedule = fetch_dose_schedule_check(cohort, spec)
    standard = schedule[schedule["cycle1_dose_group"] == "1.8"]
    expected_days = [d for d, _ in STANDARD_SCHEDULE]
    expected_doses = [x for _, x in STANDARD_SCHEDULE]
    on_schedule = sum(1 for days, doses in zip(standard["cycle1_days"], standard["cycle1_doses"])
                      if [int(d) for d in _as_list(days)] == expected_days
                      and all(abs(float(a) - b) <= 0.005 for a, b in zip(_as_list(doses), expected_doses)))
    if len(standard):
        v.consistency("A41", on_schedule == len(standard),
                      f"{on_schedule}/{len(standard)} on D1 0.8 / D8 0.5 / D15 0.5")
    else:
        v.consistency("A41", None, "no patient received 1.8 mg/m² in cycle 1")
    gaps = [int(g) for lst in schedule["cycle_gaps_days"] for g in _as_list(lst)]
    outside = [g for g in gaps if not CYCLE_LENGTH_DAYS[0] <= g <= CYCLE_LENGTH_DAYS[1]]
    if gaps:
        v.consistency("A42", not outside, f"{len(gaps)} cycle gaps, {min(gaps)}–{max(gaps)} days"
                      + (f"; {len(outside)} outside 21–28" if outside else ""))
    else:
        v.consistency("A42", None, "no patient had a second cycle")

    criteria = {r["response"]: r for r in fetch_response_criteria_check(cohort, spec).to_dict("records")}
    rows = sum(int(r["n_rows"]) for r in criteria.values())
    complete = sum(int(r["n_with_counts"]) for r in criteria.values())
    meeting = sum(int(r["n_meeting"]) for r in criteria.values())
    if rows == 0 or complete < rows:
        v.consistency("B22", None, f"{rows - complete} of {rows} CR/CRi rows lack the counts behind them")
    else:
        v.consistency("B22", meeting == rows, f"{meeting}/{rows} CR/CRi assessments meet the definitions")

    meta = fetch_study_meta(cohort)
    screened = meta.get("screened_identified")
    v.set("A51", screened if screened is not None else "not recorded")


def _characteristics_block(cohort: Cohort, spec: FilterSpec, v: _Values) -> None:
    table = patient_characteristics(cohort, spec)
    n = table.n
    v.count("A01", n)
    count = _characteristic_counts(table)

    def pair(count_id: str, pct_id: str | None, variable: str, category: str) -> None:
        k = count.get((variable, category), 0)
        v.count(count_id, k)
        if pct_id:
            v.pct(pct_id, k, n)

    pair("A12", "A13", "Sex", "Female")
    pair("A14", "A15", "Sex", "Male")
    pair("A10", None, "Age", "18–65 years")
    pair("A11", None, "Age", ">65 years")
    pair("A16", None, "Disease status before InO", "relapsed")
    pair("A17", None, "Disease status before InO", "refractory")
    salvage = "InO received as salvage therapy"
    pair("A18", "A19", salvage, "1")
    pair("A20", "A21", salvage, "2")
    v.pct("A22", count.get((salvage, "2"), 0), n)
    pair("A23", "A24", salvage, "3")
    cycles = "Number of total InO cycles"
    for (count_id, pct_id), k in zip((("A25", "A26"), ("A27", "A28"), ("A29", "A30"), ("A31", "A32"),
                                      ("A33", "A34")), ("1", "2", "3", "4", "6")):
        pair(count_id, pct_id, cycles, k)
    dose = "InO dose for cycle 1 (mg/m²/cycle)"
    pair("A35", "A36", dose, "1.8")
    pair("A37", "A38", dose, "<1.8")
    pair("A39", "A40", dose, ">1.8")
    threshold = f"{table.blast_threshold:g}%"
    blasts = "Bone-marrow blasts at baseline"
    pair("A43", "A44", blasts, f"<{threshold}")
    pair("A45", "A46", blasts, f"≥{threshold}")
    pair("A47", "A48", "Extramedullary disease at baseline", "Yes")

    ages = _one(cohort, spec, ("age_mean", "age_median", "age_sd"))
    v.number("A07", _float_or_none(ages.get("age_median")))
    v.number("A08", _float_or_none(ages.get("age_mean")))
    v.number("A09", _float_or_none(ages.get("age_sd")))


def _characteristic_counts(table: CharacteristicsTable) -> dict[tuple[str, str], int]:
    """(variable, category) → count; integer-valued categories normalised ("2.0" → "2")."""
    out: dict[tuple[str, str], int] = {}
    for row in table.rows:
        if row.count is None:
            continue
        category = row.category
        try:
            as_float = float(category)
            if as_float.is_integer() and row.variable != "InO dose for cycle 1 (mg/m²/cycle)":
                category = str(int(as_float))
        except ValueError:
            pass
        out[(row.variable, category)] = row.count
    return out


def _response_block(cohort: Cohort, spec: FilterSpec, v: _Values) -> None:
    s = summarise_response(cohort, spec)
    v.proportion("B01", "B02", s.cr_cri)
    v.count("B03", s.composition.cr)
    v.count("B04", s.composition.cri)
    v.count("B05", s.composition.no_response)
    v.pct("B06", s.composition.no_response, s.n)
    v.count("B07", s.composition.not_evaluable)
    v.number("B08", s.cycles_to_response.median)
    ctr = s.cycles_to_response
    v.set("B09", f"{ctr.minimum} to {ctr.maximum}" if ctr.minimum is not None else NOT_AVAILABLE)

    by_line = {r.value: r.rate for r in cr_cri_rate_by(cohort, spec, "salvage_line")}
    for line, (count_id, pct_id) in {1: ("B10", "B11"), 2: ("B12", "B13"), 3: ("B14", "B15")}.items():
        v.proportion(count_id, pct_id, by_line.get(line))
    by_burden = {r.value: r.rate for r in cr_cri_rate_by(cohort, spec, "blast_burden")}
    v.proportion("B16", "B17", by_burden.get("low"))
    v.proportion("B18", "B19", by_burden.get("high"))

    v.proportion("M01", "M02", s.mrd_negative)
    v.proportion("M03", "M04", s.mrd_negative_cr)
    v.count("M05", s.composition.cr - _count_of(s.mrd_negative_cr))
    v.pct("M06", s.composition.cr - _count_of(s.mrd_negative_cr), s.composition.cr)
    v.proportion("M07", "M08", s.mrd_negative_cri)
    v.count("M09", s.composition.cri - _count_of(s.mrd_negative_cri))
    responders = s.composition.cr + s.composition.cri
    v.pct("M10", _count_of(s.mrd_negative), responders)
    v.pct("M11", responders - _count_of(s.mrd_negative), responders)
    v.proportion("M12", "M13", s.deep_response)
    v.number("M14", s.cycles_to_deep_response.median)

    v.proportion("D01", "D02", s.hsct)
    v.proportion("D03", "D04", s.hsct_responders)
    v.proportion("D05", "D06", s.hsct_single_cycle)
    v.count("E01", s.dated_responders)

    emd = {r["group"]: r for r in _measures(cohort, spec, ("n", "responders_hsct", "no_response"), by="emd_baseline")}
    with_emd = emd.get(True, {})
    v.count("B20", _int_or_none(with_emd.get("responders_hsct")) or 0)
    v.count("B21", _int_or_none(with_emd.get("no_response")) or 0)


def _count_of(estimate: ProportionEstimate | TooFewPatients) -> int:
    return estimate.count if isinstance(estimate, ProportionEstimate) else 0


def _survival_block(cohort: Cohort, spec: FilterSpec, v: _Values) -> None:
    os_curve = _first_curve(estimate_survival(cohort, spec, "os").fitted)
    if os_curve is None:
        for target_id in ("E03", "E04", "E05", "E06", "E07", "E08", "E18"):
            v.set(target_id, NOT_AVAILABLE)
    else:
        v.number("E03", os_curve.landmark(6.0).estimate, percent=True)
        v.number("E04", os_curve.landmark(12.0).estimate, percent=True)
        v.number("E05", os_curve.median.value)
        v.number("E06", os_curve.median.lower)
        v.number("E07", os_curve.median.upper)
        v.count("E08", os_curve.landmark(12.0).at_risk)
        # Table 9's cell is compared with the median at the precision §4.3.4 prints it.
        v.set("E18", _number_text(os_curve.median.value, printed_decimals("6.0")))
        if os_curve.median.value is None:
            v.set("E05", "NR")
            v.set("E18", "NR")
    older = estimate_survival(cohort, spec, "os", by="age_group")
    old_curve = _first_curve(older.fitted, group_label("age_group", ">65"))
    v.number("E09", None if old_curve is None else old_curve.landmark(6.0).estimate, percent=True)
    v.number("E10", None if old_curve is None else old_curve.landmark(12.0).estimate, percent=True)

    rfs = _first_curve(estimate_survival(cohort, spec, "rfs").fitted)
    v.number("E11", None if rfs is None else rfs.median.value)
    v.number("E12", None if rfs is None else rfs.median.lower)
    v.number("E13", None if rfs is None else rfs.median.upper)
    dor = _first_curve(estimate_survival(cohort, spec, "dor").fitted)
    v.number("E02", None if dor is None else dor.median.value)


def _first_curve(curves: list[SurvivalCurve], label: str | None = None) -> SurvivalCurve | None:
    for curve in curves:
        if label is None or curve.label == label:
            return curve
    return None


def _safety_block(cohort: Cohort, spec: FilterSpec, v: _Values) -> None:
    components = {r.key: r.estimate for r in toxicity_components(cohort, spec)}
    v.proportion("F08", "F09", components.get("haematologic_toxicity"))
    v.proportion("F30", "F31", components.get("thrombocytopenia"))
    v.proportion("F32", "F33", components.get("neutropenia"))
    v.proportion("F34", "F35", components.get("febrile_neutropenia"))
    v.proportion("F06", "F07", components.get("liver_toxicity_g34"))
    v.proportion("F36", "F37", components.get("ast_increased_g34"))
    v.proportion("F38", "F39", components.get("alt_increased_g34"))
    v.proportion("F40", "F41", components.get("bilirubin_increased_g34"))

    by_hsct = toxicity_by_hsct(cohort, spec)
    v.count("F10", by_hsct.n_hsct)
    v.count("F11", by_hsct.n_no_hsct_evaluable)
    rows = {r.key: r for r in by_hsct.rows}
    for key, (h_n, h_p, n_n, n_p) in {"vod": ("F12", "F13", "F14", "F15"),
                                      "liver_toxicity_g34": ("F16", "F17", "F18", "F19"),
                                      "haematologic_toxicity": ("F20", "F21", "F22", "F23")}.items():
        row = rows.get(key)
        v.proportion(h_n, h_p, row.hsct if row else None)
        v.proportion(n_n, n_p, row.no_hsct if row else None)
    vod = rows["vod"].overall if "vod" in rows else None
    v.proportion("F01", "F02", vod)
    v.proportion(None, "F03", vod)

    post = _one(cohort, spec, ("vod", "vod_post_hsct"))
    v.count("F04", _int_or_none(post.get("vod_post_hsct")))
    v.pct("F05", _int_or_none(post.get("vod_post_hsct")), _int_or_none(post.get("vod")))

    by_line = {r.value: r.rate for r in toxicity_by(cohort, spec, "salvage_line", "vod")}
    for line, (count_id, pct_id) in {1: ("F24", "F25"), 2: ("F26", "F27"), 3: ("F28", "F29")}.items():
        v.proportion(count_id, pct_id, by_line.get(line))


CAUSE_TARGETS: dict[str, tuple[str, str]] = {
    "progression of disease": ("G01", "G02"),
    "relapse": ("G03", "G04"),
    "septic shock": ("G05", "G06"),
    "VOD-related multi-organ failure": ("G07", "G08"),
    "VOD pneumonia": ("G09", "G10"),
    "CNS relapse": ("G11", "G12"),
    "not mentioned": ("G13", "G14"),
}
PROGRESSION_CAUSES = ("progression of disease", "relapse")   # the "disease progression (60.8%)" reading


def _deaths_block(cohort: Cohort, spec: FilterSpec, v: _Values) -> None:
    summary = causes_of_death(cohort, spec)
    v.proportion("E14", "E15", summary.deaths)
    deaths = _count_of(summary.deaths)
    causes = {c.cause: c for c in summary.causes}
    for cause, (count_id, pct_id) in CAUSE_TARGETS.items():
        k = causes[cause].count if cause in causes else 0
        v.count(count_id, k)
        v.pct(pct_id, k, deaths)
    progression = sum(causes[c].count for c in PROGRESSION_CAUSES if c in causes)
    v.pct("G15", progression, deaths)
    vod_deaths = [c for c in summary.causes if "vod" in c.cause.lower()]
    v.set("G16", f"{sum(c.after_hsct for c in vod_deaths)} of {sum(c.count for c in vod_deaths)}")


def _crude_os(cohort: Cohort, spec: FilterSpec, v: _Values) -> CrudeOsView | None:
    listing = fetch_patient_listing(cohort, spec, columns=("patient_id", "os_days", "os_event", "followup_status"))
    usable = listing[listing["os_days"].notna()]
    months = usable["os_days"].astype(float) / DAYS_PER_MONTH
    event = usable["os_event"].astype(bool)
    lost = (~event) & (usable["followup_status"] == "lost to follow-up")
    crude = CrudeOsView(
        n=len(listing),
        deaths=int(event.sum()),
        deaths_by_6=int((event & (months <= 6.0)).sum()),
        deaths_by_12=int((event & (months <= 12.0)).sum()),
        followed_to_6=int((months >= 6.0).sum()),
        followed_to_12=int((months >= 12.0).sum()),
        lost_by_6=int((lost & (months <= 6.0)).sum()),
        lost_6_to_12=int((lost & (months > 6.0) & (months <= 12.0)).sum()),
    )
    v.count("E16", crude.lost_by_6)
    v.count("E17", crude.lost_6_to_12)
    return crude


def _as_list(value: object) -> list:
    """A DuckDB LIST cell as a Python list (NULL → [])."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return []
    return list(value)  # type: ignore[call-overload]


def _date(value: object) -> dt.date | None:
    if _is_missing(value):
        return None
    return pd.Timestamp(value).date()  # type: ignore[arg-type]


def _definitions(cohort: Cohort, spec: FilterSpec) -> dict[str, str]:
    options = EndpointOptions()
    row = _one(cohort, spec, ("responders", "responders_dated", "hsct", "safety_evaluable", "n"))
    responders, dated = _int_or_none(row.get("responders")) or 0, _int_or_none(row.get("responders_dated")) or 0
    return {
        "RFS origin": f"{endpoint('rfs').definition(options)}. The origin is C1D1 (first InO dose), not the CR date: the only "
                      "reading compatible with RFS 7.0 > DOR 6 (C08).",
        "DOR population": f"{endpoint('dor').definition(options)}. Responders with a dated first CR/CRi ({dated} of "
                          f"{responders}); responders whose CR/CRi date was not recorded are excluded.",
        "Deep response": "MRD-negative at the assessment that first documented CR/CRi (same date, or same cycle "
                         "when undated); 'median of two cycles' = median cycle of those assessments (C04).",
        "Table 6 denominators": "HSCT = patients with an HSCT row; no HSCT = safety-evaluable patients without one "
                                "(the patient without post-baseline safety data is excluded from Table 6 only, "
                                "C10). Table 8 and the abstract use every patient.",
        "KM CI method": f"lifelines KaplanMeierFitter defaults: {CI_METHOD}. The paper's method is unstated and "
                        "probably SPSS Wald (median ± 1.96·SE); R survfit's default conf.type='log' gives other "
                        "endpoints (C03).",
        "Month length": f"months = days / {DAYS_PER_MONTH} (365.25 / 12), from event dates; landmark rates are "
                        "S(t) at t = 6.0 and 12.0 months.",
        "Number at risk": "patients whose OS time is ≥ t.",
        "Lost to follow-up": "censored patients whose last contact says 'lost to follow-up'.",
        "Percentages": "100·k/n rounded half-up to the decimals the paper prints (56.25 → 56.3); Clopper–Pearson "
                       "95% CIs are supplementary, never published.",
    }

"""Abstract, methods and Figure 1: centres, treatment and data-collection windows, eligibility claims.

Most of these are claims the paper makes about every patient ("all Ph+ patients had failed a
TKI"); the check tests each claim against the rows and writes "consistent" or "inconsistent",
with the detail in the note.
"""

from __future__ import annotations

import datetime as dt

from core.contract import DAYS_PER_MONTH
from core.database import Cohort
from core.filters import FilterSpec
from core.paper.formatting import NOT_AVAILABLE, month_year_text
from core.paper.values import (
    ComputedValues,
    as_list,
    date_or_none,
    float_or_none,
    int_or_none,
    one_row,
)
from core.queries import (
    fetch_dose_schedule_check,
    fetch_response_criteria_check,
    fetch_study_meta,
    fetch_study_window,
)
from core.results import round_half_up

# The paper's printed treatment and data-collection windows (checked as claims, never shown as computed).
TREATMENT_WINDOW = (dt.date(2017, 2, 1), dt.date(2022, 10, 31))       # "between February 2017 and October 2022"
COLLECTION_WINDOW = (dt.date(2023, 3, 8), dt.date(2023, 10, 16))      # "between March 8 and October 16, 2023"
MIN_POTENTIAL_FOLLOW_UP_MONTHS = 6.0                                   # "at least 6 months of follow-up"
STANDARD_SCHEDULE = ((1, 0.8), (8, 0.5), (15, 0.5))                    # cycle day → mg/m²
CYCLE_LENGTH_DAYS = (21, 28)                                           # "a 21–28-day cycle"


def fill_study(cohort: Cohort, spec: FilterSpec, v: ComputedValues) -> None:
    """A02–A06, A49–A53, A41–A42 and B22."""
    _eligibility(cohort, spec, v)
    _windows(cohort, spec, v)
    _dosing(cohort, spec, v)
    _response_criteria(cohort, spec, v)
    screened = fetch_study_meta(cohort).get("screened_identified")
    v.set("A51", screened if screened is not None else "not recorded")


def _eligibility(cohort: Cohort, spec: FilterSpec, v: ComputedValues) -> None:
    row = one_row(cohort, spec, ("n", "centres", "age_min", "cd22_positive", "cd22_reported", "ph_positive",
                                 "ph_positive_without_tki"))
    n = int_or_none(row.get("n")) or 0
    v.count("A02", int_or_none(row.get("centres")))
    age_min = float_or_none(row.get("age_min"))
    if age_min is None:
        v.set("A06", NOT_AVAILABLE)
    else:
        v.set("A06", ">18" if age_min > 18 else "≥18" if age_min == 18 else f"<18 (min {age_min:g})",
              extra=f"youngest {age_min:g} years")
    v.pct("A49", int_or_none(row.get("cd22_positive")), n)
    if n and int_or_none(row.get("cd22_reported")) != n:
        v.notes["A49"] = f"CD22 not reported for {n - (int_or_none(row.get('cd22_reported')) or 0)} patients"
    ph_pos, ph_bad = int_or_none(row.get("ph_positive")) or 0, int_or_none(row.get("ph_positive_without_tki")) or 0
    v.consistency("A50", ph_bad == 0, f"{ph_pos - ph_bad} of {ph_pos} Ph+ patients had ≥1 prior TKI")


def _windows(cohort: Cohort, spec: FilterSpec, v: ComputedValues) -> None:
    window = fetch_study_window(cohort, spec).iloc[0].to_dict()
    v.set("A03", month_year_text(window["first_c1d1"]))
    v.set("A04", month_year_text(window["last_c1d1"]))
    if int(window["start_mismatches"]):
        v.notes["A03"] = f"{int(window['start_mismatches'])} patients' ino_start_date is not their C1D1 dose date"
    first_dose, last_dose = date_or_none(window["first_dose"]), date_or_none(window["last_dose"])
    if first_dose is None or last_dose is None:
        v.consistency("A05", None, "no InO dose rows")
    else:
        v.consistency("A05", TREATMENT_WINDOW[0] <= first_dose and last_dose <= TREATMENT_WINDOW[1],
                      f"doses from {first_dose} to {last_dose}")
    first_cut, last_cut = date_or_none(window["first_cutoff"]), date_or_none(window["last_cutoff"])
    last_event = date_or_none(window["last_event"])
    if first_cut is None or last_cut is None:
        v.consistency("A52", None, "no patients")
    else:
        ok = (COLLECTION_WINDOW[0] <= first_cut and last_cut <= COLLECTION_WINDOW[1]
              and int(window["events_after_cutoff"]) == 0
              and (last_event is None or last_event <= COLLECTION_WINDOW[1]))
        v.consistency("A52", ok, f"cut-offs {first_cut} to {last_cut}; last event {last_event}; "
                                 f"{int(window['events_after_cutoff'])} events after their cut-off")
    min_days = float_or_none(window["min_potential_days"])
    if min_days is None:
        v.consistency("A53", None, "no C1D1 dates")
    else:
        months = min_days / DAYS_PER_MONTH
        v.consistency("A53", months >= MIN_POTENTIAL_FOLLOW_UP_MONTHS,
                      f"shortest potential follow-up (cut-off − C1D1) {round_half_up(months, 1)} months")


def _dosing(cohort: Cohort, spec: FilterSpec, v: ComputedValues) -> None:
    schedule = fetch_dose_schedule_check(cohort, spec)
    standard = schedule[schedule["cycle1_dose_group"] == "1.8"]
    expected_days = [d for d, _ in STANDARD_SCHEDULE]
    expected_doses = [x for _, x in STANDARD_SCHEDULE]
    on_schedule = sum(1 for days, doses in zip(standard["cycle1_days"], standard["cycle1_doses"])
                      if [int(d) for d in as_list(days)] == expected_days
                      and all(abs(float(a) - b) <= 0.005 for a, b in zip(as_list(doses), expected_doses)))
    if len(standard):
        v.consistency("A41", on_schedule == len(standard),
                      f"{on_schedule}/{len(standard)} on D1 0.8 / D8 0.5 / D15 0.5")
    else:
        v.consistency("A41", None, "no patient received 1.8 mg/m² in cycle 1")
    gaps = [int(g) for lst in schedule["cycle_gaps_days"] for g in as_list(lst)]
    outside = [g for g in gaps if not CYCLE_LENGTH_DAYS[0] <= g <= CYCLE_LENGTH_DAYS[1]]
    if gaps:
        v.consistency("A42", not outside, f"{len(gaps)} cycle gaps, {min(gaps)}–{max(gaps)} days"
                      + (f"; {len(outside)} outside 21–28" if outside else ""))
    else:
        v.consistency("A42", None, "no patient had a second cycle")


def _response_criteria(cohort: Cohort, spec: FilterSpec, v: ComputedValues) -> None:
    criteria = {r["response"]: r for r in fetch_response_criteria_check(cohort, spec).to_dict("records")}
    rows = sum(int(r["n_rows"]) for r in criteria.values())
    complete = sum(int(r["n_with_counts"]) for r in criteria.values())
    meeting = sum(int(r["n_meeting"]) for r in criteria.values())
    if rows == 0 or complete < rows:
        v.consistency("B22", None, f"{rows - complete} of {rows} CR/CRi rows lack the counts behind them")
    else:
        v.consistency("B22", meeting == rows, f"{meeting}/{rows} CR/CRi assessments meet the definitions")

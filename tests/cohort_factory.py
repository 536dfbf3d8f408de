"""Hand-made tiny cohorts for tests: a patient is a few keyword facts, days count from the first dose."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from core.contract import EVENT_COLUMNS, PATIENT_COLUMNS
from core.store import write_cohort_file

START = dt.date(2020, 1, 6)


@dataclass
class TinyPatient:
    patient_id: str
    salvage_line: int = 1
    blast_pct: float | None = 60.0
    age_years: float = 40.0
    sex: str = "M"
    centre: str = "Centre A"
    ph_status: str | None = "Ph-"
    disease_status: str = "relapsed"
    emd_baseline: bool | None = False
    cycle1_doses: tuple[float, ...] = (0.8, 0.5, 0.5)
    n_cycles: int = 1
    response: str | None = "CR"          # CR, CRi, NR or None (not evaluable)
    response_cycle: int = 1
    response_dated: bool = True
    mrd: str | None = "negative"         # at the response assessment
    hsct_day: int | None = None
    relapse_day: int | None = None
    death_day: int | None = None
    cause: str | None = None
    last_contact_day: int | None = 400
    lost: bool = False
    aes: tuple[tuple[str, int, int], ...] = ()   # (term, grade, day)
    safety_evaluable: bool = True
    start: dt.date = START
    extra_events: list[dict] = field(default_factory=list)


def tiny_tables(people: list[TinyPatient]) -> tuple[pd.DataFrame, pd.DataFrame]:
    patients, events = [], []
    for p in people:
        day = lambda d: p.start + dt.timedelta(days=d)  # noqa: E731
        patients.append(dict(patient_id=p.patient_id, centre=p.centre, sex=p.sex, age_years=p.age_years,
                             ph_status=p.ph_status, prior_tki_count=1 if p.ph_status == "Ph+" else 0,
                             cd22_pct=90.0, disease_status=p.disease_status, salvage_line=p.salvage_line,
                             blast_pct=p.blast_pct, emd_baseline=p.emd_baseline, ino_start_date=p.start,
                             data_cutoff_date=day(2000), safety_evaluable=p.safety_evaluable))
        for cycle in range(1, p.n_cycles + 1):
            doses = p.cycle1_doses if cycle == 1 else (0.5, 0.5, 0.5)
            for cycle_day, dose in zip((1, 8, 15), doses):
                events.append(dict(patient_id=p.patient_id, event_date=day(28 * (cycle - 1) + cycle_day - 1),
                                   event_type="ino_dose", cycle=cycle, cycle_day=cycle_day, dose_mg_m2=dose))
        if p.response is not None:
            rdate = day(28 * (p.response_cycle - 1) + 25) if p.response_dated else None
            events.append(dict(patient_id=p.patient_id, event_date=rdate, event_type="response",
                               cycle=p.response_cycle, response=p.response))
            if p.mrd is not None:
                events.append(dict(patient_id=p.patient_id, event_date=rdate, event_type="mrd",
                                   cycle=p.response_cycle, mrd=p.mrd))
        if p.hsct_day is not None:
            events.append(dict(patient_id=p.patient_id, event_date=day(p.hsct_day), event_type="hsct"))
        if p.relapse_day is not None:
            events.append(dict(patient_id=p.patient_id, event_date=day(p.relapse_day), event_type="relapse",
                               relapse_site="marrow"))
        for term, grade, d in p.aes:
            events.append(dict(patient_id=p.patient_id, event_date=day(d), event_type="adverse_event",
                               ae_term=term, ae_grade=grade))
        if p.death_day is not None:
            events.append(dict(patient_id=p.patient_id, event_date=day(p.death_day), event_type="death",
                               cause=p.cause or "not mentioned"))
        elif p.last_contact_day is not None:
            events.append(dict(patient_id=p.patient_id, event_date=day(p.last_contact_day),
                               event_type="last_contact",
                               followup_status="lost to follow-up" if p.lost else "alive at cut-off"))
        events.extend(p.extra_events)
    patient_frame = pd.DataFrame(patients, columns=list(PATIENT_COLUMNS))
    event_frame = pd.DataFrame(events).reindex(columns=list(EVENT_COLUMNS))
    return patient_frame, event_frame


def write_tiny_cohort(path: Path, people: list[TinyPatient], label: str = "tiny test cohort") -> Path:
    patients, events = tiny_tables(people)
    return write_cohort_file(path, patients, events, {"label": label, "reconstructed": "false"})

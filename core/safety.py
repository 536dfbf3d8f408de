"""Toxicity by HSCT status and by salvage line, toxicity components, causes of death, and when VOD
happened relative to HSCT.

What each toxicity counts is defined in core.endpoints (the registry). By HSCT status, the HSCT column counts patients with an HSCT row and the
no-HSCT column the safety-evaluable patients without one (the paper's Table 6); whole-slice rates
use every patient in the slice as the denominator (Table 8).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import pandas as pd

from core.contract import DEATH_CAUSES
from core.database import Cohort
from core.endpoints import endpoint
from core.filters import FilterSpec
from core.queries import fetch_death_causes, fetch_measures, fetch_vod_timing
from core.response import SubgroupRate, rate_by
from core.results import ProportionEstimate, TooFewPatients, proportion

TOXICITIES: dict[str, str] = {key: endpoint(key).title for key in ("vod", "liver_toxicity_g34", "haematologic_toxicity")}


def toxicity_definitions() -> str:
    """The three toxicity definitions in one line, from the registry."""
    return "; ".join(endpoint(key).definition() for key in TOXICITIES)

COMPONENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "haematologic_toxicity": (
        ("thrombocytopenia", "Thrombocytopenia"),
        ("neutropenia", "Neutropenia"),
        ("febrile_neutropenia", "Febrile neutropenia"),
    ),
    "liver_toxicity_g34": (
        ("ast_increased_g34", "Increased aspartate aminotransferase (G3/4)"),
        ("alt_increased_g34", "Increased alanine aminotransferase (G3/4)"),
        ("bilirubin_increased_g34", "Increased bilirubin (G3/4)"),
    ),
}

CAUSE_ORDER = DEATH_CAUSES


@dataclass(frozen=True)
class ToxicityRow:
    key: str
    label: str
    hsct: ProportionEstimate | TooFewPatients
    no_hsct: ProportionEstimate | TooFewPatients
    overall: ProportionEstimate | TooFewPatients


@dataclass(frozen=True)
class ToxicityByHsct:
    rows: tuple[ToxicityRow, ...]
    n_hsct: int
    n_no_hsct_evaluable: int
    n_not_evaluable: int
    denominator_note: str = ("HSCT: patients with an HSCT; no HSCT: safety-evaluable patients without one; "
                             "overall: every patient in the slice")


@dataclass(frozen=True)
class ComponentRow:
    group: str
    key: str
    label: str
    estimate: ProportionEstimate | TooFewPatients
    is_total: bool


@dataclass(frozen=True)
class CauseOfDeath:
    cause: str
    count: int
    deaths: int
    after_hsct: int

    @property
    def share(self) -> float:
        return self.count / self.deaths if self.deaths else 0.0


@dataclass(frozen=True)
class DeathSummary:
    deaths: ProportionEstimate | TooFewPatients
    causes: tuple[CauseOfDeath, ...]


def toxicity_by_hsct(cohort: Cohort, spec: FilterSpec, *, conf_level: float = 0.95) -> ToxicityByHsct:
    measures = ("n", "safety_evaluable", *TOXICITIES)
    frame = fetch_measures(cohort, spec, measures, by="hsct")
    by = {bool(r["group"]): r for r in frame.to_dict("records")}
    empty = {m: 0 for m in measures}
    hsct, no = by.get(True, empty), by.get(False, empty)
    # Patients with HSCT have post-baseline data by definition; no-HSCT uses the safety-evaluable.
    n_hsct, n_no = int(hsct["n"]), int(no["safety_evaluable"])
    n_all = int(hsct["n"]) + int(no["n"])
    rows = []
    for key, label in TOXICITIES.items():
        rows.append(ToxicityRow(
            key=key, label=label,
            hsct=proportion(f"{label}, HSCT", int(hsct[key]), n_hsct, population="patients with HSCT",
                            conf_level=conf_level),
            no_hsct=proportion(f"{label}, no HSCT", int(no[key]), n_no,
                               population="safety-evaluable patients without HSCT", conf_level=conf_level),
            overall=proportion(label, int(hsct[key]) + int(no[key]), n_all, conf_level=conf_level),
        ))
    return ToxicityByHsct(rows=tuple(rows), n_hsct=n_hsct, n_no_hsct_evaluable=n_no,
                          n_not_evaluable=int(no["n"]) - n_no)


def toxicity_by(cohort: Cohort, spec: FilterSpec, by: str, toxicity: str = "vod", *,
                conf_level: float = 0.95) -> list[SubgroupRate]:
    """One toxicity per subgroup (e.g. VOD by salvage line, the paper's Table 7)."""
    return rate_by(cohort, spec, by, toxicity, "n", TOXICITIES.get(toxicity, toxicity), conf_level=conf_level)


def toxicity_components(cohort: Cohort, spec: FilterSpec, *, conf_level: float = 0.95) -> list[ComponentRow]:
    """The paper's Table 8: each toxicity and its components, n (%) of all patients in the slice."""
    keys = [k for parts in COMPONENTS.values() for k, _ in parts]
    frame = fetch_measures(cohort, spec, ("n", *COMPONENTS, *keys))
    row = frame.iloc[0].to_dict() if len(frame) else {k: 0 for k in ("n", *COMPONENTS, *keys)}
    n = int(row["n"])
    out: list[ComponentRow] = []
    for total, parts in COMPONENTS.items():
        out.append(ComponentRow(total, total, TOXICITIES[total],
                                proportion(TOXICITIES[total], int(row[total]), n, conf_level=conf_level), True))
        for key, label in parts:
            out.append(ComponentRow(total, key, label, proportion(label, int(row[key]), n, conf_level=conf_level),
                                    False))
    return out


def causes_of_death(cohort: Cohort, spec: FilterSpec, *, conf_level: float = 0.95) -> DeathSummary:
    totals = fetch_measures(cohort, spec, ("n", "deaths"))
    n = int(totals["n"].iloc[0]) if len(totals) else 0
    deaths = int(totals["deaths"].iloc[0]) if len(totals) else 0
    frame = fetch_death_causes(cohort, spec)
    causes = [CauseOfDeath(cause=r["cause"], count=int(r["n"]), deaths=deaths, after_hsct=int(r["after_hsct"]))
              for r in frame.to_dict("records")]
    order = {c: i for i, c in enumerate(CAUSE_ORDER)}
    causes.sort(key=lambda c: (order.get(c.cause, len(order)), c.cause))
    return DeathSummary(deaths=proportion("Deaths", deaths, n, conf_level=conf_level), causes=tuple(causes))


# ---------------------------------------------------------------------------- VOD and HSCT
VOD_AFTER_HSCT, VOD_BEFORE_HSCT, VOD_WITHOUT_HSCT = "after HSCT", "before HSCT", "no HSCT"
VOD_TIMINGS: tuple[str, ...] = (VOD_AFTER_HSCT, VOD_BEFORE_HSCT, VOD_WITHOUT_HSCT)


@dataclass(frozen=True)
class VodCase:
    """One patient with VOD: the VOD counted and the HSCT, in days from the first InO dose."""

    patient_id: str
    timing: str                    # one of VOD_TIMINGS
    vod_day: int | None            # the first VOD on or after the HSCT, else the first VOD (None: undated)
    hsct_day: int | None           # None without HSCT
    days_from_hsct: int | None     # vod_day − hsct_day; negative before the HSCT


@dataclass(frozen=True)
class VodTiming:
    """When VOD happened relative to HSCT (the paper: 5 of 7 patients with VOD developed it after HSCT).

    `after_hsct` is the share of patients with VOD whose VOD is dated on or after their HSCT, with
    its exact CI; the denominator is every patient with VOD in the slice.
    """

    cases: tuple[VodCase, ...]
    after_hsct: ProportionEstimate | TooFewPatients
    conf_level: float = 0.95

    @property
    def n_vod(self) -> int:
        return len(self.cases)

    def count(self, timing: str) -> int:
        return sum(1 for c in self.cases if c.timing == timing)

    def days_from_hsct(self, timing: str = VOD_AFTER_HSCT) -> tuple[int, ...]:
        """Days from HSCT to VOD of the dated cases with this timing, in increasing order."""
        return tuple(sorted(c.days_from_hsct for c in self.cases
                            if c.timing == timing and c.days_from_hsct is not None))

    def median_days_from_hsct(self, timing: str = VOD_AFTER_HSCT) -> float | None:
        """The median of `days_from_hsct(timing)`; None when there is no dated case."""
        days = self.days_from_hsct(timing)
        return float(statistics.median(days)) if days else None


def vod_timing(cohort: Cohort, spec: FilterSpec, *, conf_level: float = 0.95) -> VodTiming:
    """Patients with VOD in the slice, each placed before or after their HSCT (or without one)."""
    frame = fetch_vod_timing(cohort, spec)

    def day(value: object) -> int | None:
        return None if value is None or pd.isna(value) else int(value)  # type: ignore[call-overload]

    cases = []
    for row in frame.to_dict("records"):
        timing = (VOD_WITHOUT_HSCT if not bool(row["hsct"]) else
                  VOD_AFTER_HSCT if bool(row["after_hsct"]) else VOD_BEFORE_HSCT)
        cases.append(VodCase(patient_id=str(row["patient_id"]), timing=timing, vod_day=day(row["vod_day"]),
                             hsct_day=day(row["hsct_day"]), days_from_hsct=day(row["days_from_hsct"])))
    after = sum(1 for c in cases if c.timing == VOD_AFTER_HSCT)
    return VodTiming(cases=tuple(cases), conf_level=conf_level,
                     after_hsct=proportion("VOD after HSCT", after, len(cases), population="patients with VOD",
                                           conf_level=conf_level))

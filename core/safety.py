"""Toxicity by HSCT status and by salvage line, toxicity components, and causes of death.

What each toxicity counts is defined in core.endpoints (the registry). By HSCT status, the HSCT column counts patients with an HSCT row and the
no-HSCT column the safety-evaluable patients without one (the paper's Table 6); whole-slice rates
use every patient in the slice as the denominator (Table 8).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.contract import DEATH_CAUSES
from core.database import Cohort
from core.endpoints import endpoint
from core.filters import FilterSpec
from core.queries import fetch_death_causes, fetch_measures
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

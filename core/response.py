"""CR/CRi, MRD negativity, cycles to response and HSCT, with exact (Clopper–Pearson) CIs.

Best response and each rate are defined in core.endpoints (the registry); this module counts them.
Denominators are stated with every result: all patients in the slice for CR/CRi and HSCT,
responders for MRD negativity and HSCT after response.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from core.database import Cohort
from core.endpoints import endpoint
from core.filters import FilterSpec
from core.groupings import grouping
from core.queries import fetch_measures
from core.results import ProportionEstimate, TooFewPatients, proportion


@dataclass(frozen=True)
class SubgroupRate:
    grouping: str
    value: object
    label: str
    rate: ProportionEstimate | TooFewPatients


@dataclass(frozen=True)
class ResponseComposition:
    n: int
    cr: int
    cri: int
    no_response: int
    not_evaluable: int

    def as_rows(self) -> list[tuple[str, int]]:
        return [("CR", self.cr), ("CRi", self.cri), ("No response", self.no_response),
                ("Not evaluable", self.not_evaluable)]


@dataclass(frozen=True)
class CyclesToResponse:
    n: int
    median: float | None
    minimum: int | None
    maximum: int | None
    population: str


@dataclass(frozen=True)
class ResponseSummary:
    n: int
    cr_cri: ProportionEstimate | TooFewPatients
    composition: ResponseComposition
    mrd_negative: ProportionEstimate | TooFewPatients          # among responders
    mrd_negative_cr: ProportionEstimate | TooFewPatients       # among CR
    mrd_negative_cri: ProportionEstimate | TooFewPatients      # among CRi
    deep_response: ProportionEstimate | TooFewPatients         # among responders
    cycles_to_response: CyclesToResponse
    cycles_to_deep_response: CyclesToResponse
    hsct: ProportionEstimate | TooFewPatients                  # among all patients
    hsct_responders: ProportionEstimate | TooFewPatients       # among responders
    hsct_single_cycle: ProportionEstimate | TooFewPatients     # among responders with HSCT
    dated_responders: int


_SUMMARY_MEASURES = (
    "n", "responders", "cr", "cri", "no_response", "not_evaluable", "mrd_negative", "cr_mrd_negative",
    "cri_mrd_negative", "deep_response", "hsct", "responders_hsct", "responders_hsct_single_cycle",
    "responders_dated", "cycles_to_response_median", "cycles_to_response_min", "cycles_to_response_max",
    "deep_response_cycles_median",
)


def summarise_response(cohort: Cohort, spec: FilterSpec, *, conf_level: float = 0.95) -> ResponseSummary:
    row = _one_row(fetch_measures(cohort, spec, _SUMMARY_MEASURES))
    n, responders = row["n"], row["responders"]

    def p(label: str, k: str | int, denominator: int, population: str) -> ProportionEstimate | TooFewPatients:
        count = row[k] if isinstance(k, str) else k
        return proportion(label, count, denominator, population=population, conf_level=conf_level)

    return ResponseSummary(
        n=n,
        cr_cri=p("CR/CRi", "responders", n, endpoint("cr_cri").population),
        composition=ResponseComposition(n=n, cr=row["cr"], cri=row["cri"], no_response=row["no_response"],
                                        not_evaluable=row["not_evaluable"]),
        mrd_negative=p("MRD negativity", "mrd_negative", responders, endpoint("mrd_negativity").population),
        mrd_negative_cr=p("MRD negativity, CR", "cr_mrd_negative", row["cr"], "patients with CR"),
        mrd_negative_cri=p("MRD negativity, CRi", "cri_mrd_negative", row["cri"], "patients with CRi"),
        deep_response=p("MRD-negative CR/CRi at first documentation", "deep_response", responders,
                        endpoint("deep_response").population),
        cycles_to_response=CyclesToResponse(
            n=responders, median=_num(row["cycles_to_response_median"]),
            minimum=_int(row["cycles_to_response_min"]), maximum=_int(row["cycles_to_response_max"]),
            population="responders (CR/CRi)"),
        cycles_to_deep_response=CyclesToResponse(
            n=row["deep_response"], median=_num(row["deep_response_cycles_median"]), minimum=None, maximum=None,
            population="responders MRD-negative at first CR/CRi"),
        hsct=p("HSCT", "hsct", n, endpoint("hsct_rate").population),
        hsct_responders=p("HSCT after CR/CRi", "responders_hsct", responders, "responders (CR/CRi)"),
        hsct_single_cycle=p("HSCT after a single InO cycle", "responders_hsct_single_cycle",
                            row["responders_hsct"], "responders with HSCT"),
        dated_responders=row["responders_dated"],
    )


def cr_cri_rate(cohort: Cohort, spec: FilterSpec, *, conf_level: float = 0.95) -> ProportionEstimate | TooFewPatients:
    row = _one_row(fetch_measures(cohort, spec, ("n", "responders")))
    return proportion("CR/CRi", row["responders"], row["n"], conf_level=conf_level)


def cr_cri_rate_by(cohort: Cohort, spec: FilterSpec, by: str, *, conf_level: float = 0.95) -> list[SubgroupRate]:
    """CR/CRi per subgroup of `by`, in clinical order (missing values last)."""
    frame = fetch_measures(cohort, spec, ("n", "responders"), by=by)
    return _subgroups(frame, by, lambda r, label: proportion(label, r["responders"], r["n"], conf_level=conf_level),
                      blast_threshold=spec.blast_threshold)


def rate_by(cohort: Cohort, spec: FilterSpec, by: str, measure: str, denominator: str, label: str, *,
            population: str = "patients", conf_level: float = 0.95) -> list[SubgroupRate]:
    """Any count/denominator pair of measures per subgroup (e.g. VOD among patients by salvage line)."""
    frame = fetch_measures(cohort, spec, (denominator, measure), by=by)
    return _subgroups(frame, by, lambda r, lab: proportion(f"{label} — {lab}", r[measure], r[denominator],
                                                           population=population, conf_level=conf_level),
                      blast_threshold=spec.blast_threshold)


def _subgroups(frame: pd.DataFrame, by: str,
               make: Callable[[Mapping[str, Any], str], ProportionEstimate | TooFewPatients], *,
               blast_threshold: float) -> list[SubgroupRate]:
    group = grouping(by)
    out = []
    for r in sorted(frame.to_dict("records"), key=lambda r: group.sort_key(r["group"])):
        value = r["group"]
        label = group.label(value, blast_threshold=blast_threshold)
        out.append(SubgroupRate(grouping=by, value=value, label=label, rate=make(r, label)))
    return out


def _one_row(frame: pd.DataFrame) -> dict:
    if frame.empty:
        return {c: 0 for c in frame.columns} | {c: None for c in frame.columns if c.endswith(("median", "min", "max"))}
    row = frame.iloc[0].to_dict()
    return {k: (int(v) if isinstance(v, (int,)) or (hasattr(v, "dtype") and "int" in str(v.dtype)) else v)
            for k, v in row.items()}


def _num(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def _int(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)  # type: ignore[call-overload]

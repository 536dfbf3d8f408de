"""The variables a slice can be split by: their SQL, title, clinical order, labels and timing.

One `Grouping` per variable. Its SQL expression is a whitelist entry over the per-patient table
`patient_endpoints` (core.derivation); its labels carry the threshold or unit they depend on
("Blasts ≥ 50%", never "at/above threshold"); its `timing` says whether the value is fixed at the
first InO dose or happens later. A variable that happens later (HSCT, response, cycles received)
cannot be compared as if known at baseline: the patient must live long enough to reach it, so the
naive split carries immortal-time bias (`Grouping.immortal_time_bias`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from core.contract import AGE_GROUPS, DEFAULT_BLAST_THRESHOLD, DISEASE_STATUSES, DOSE_GROUPS, PH_STATUSES, SEXES

Timing = Literal["baseline", "post-baseline"]


def format_number(value: float) -> str:
    """A threshold or bound as a person writes it: 50, 1.8, 12.5."""
    return f"{value:g}"


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@dataclass(frozen=True)
class Grouping:
    """One variable a slice can be split by."""

    key: str                                   # "blast_burden"
    title: str                                 # "Bone-marrow blast burden"
    sql: str                                   # expression over patient_endpoints (a whitelist entry)
    timing: Timing = "baseline"
    order: tuple[object, ...] = ()             # clinical order; values not listed follow, sorted
    # value → label; the blast threshold is passed to every labeller (only blast burden uses it)
    labeller: Callable[[object, float], str] | None = field(default=None, compare=False)
    missing_label: str = "Missing"
    stratify: bool = True                      # offered in "Stratify by" menus

    @property
    def immortal_time_bias(self) -> bool:
        """True when the value is known only after the first dose (HSCT, response, cycles)."""
        return self.timing == "post-baseline"

    def label(self, value: object, *, blast_threshold: float = DEFAULT_BLAST_THRESHOLD) -> str:
        if self.key == "all":
            return "All patients"
        if is_missing(value):
            return self.missing_label
        if self.labeller is not None:
            return self.labeller(value, blast_threshold)
        return str(value)

    def sort_key(self, value: object) -> tuple[int, int, object]:
        """Clinical order first, then other values sorted, missing last."""
        if is_missing(value):
            return (2, 0, "")
        if value in self.order:
            return (0, self.order.index(value), "")
        return (1, 0, value if isinstance(value, (int, float)) else str(value))


def _blasts(value: object, threshold: float) -> str:
    return f"Blasts {'<' if value == 'low' else '≥'} {format_number(threshold)}%"


def _yes_no(yes: str, no: str) -> Callable[[object, float], str]:
    return lambda value, _threshold: yes if value else no


_SEX_WORDS = {"F": "Female", "M": "Male"}

GROUPINGS: dict[str, Grouping] = {g.key: g for g in (
    Grouping("all", "None (whole slice)", "'All patients'"),
    Grouping("salvage_line", "Salvage line", "salvage_line", order=(1, 2, 3, 4, 5),
             labeller=lambda v, _t: f"Salvage {v}", missing_label="Salvage line missing"),
    Grouping("blast_burden", "Bone-marrow blast burden", "blast_burden", order=("low", "high"),
             labeller=_blasts, missing_label="Blasts not reported"),
    Grouping("cycle1_dose_group", "Cycle-1 InO dose", "cycle1_dose_group", order=DOSE_GROUPS,
             labeller=lambda v, _t: f"Cycle-1 dose {v} mg/m²", missing_label="Dose missing"),
    Grouping("hsct", "HSCT", "hsct", timing="post-baseline", order=(False, True),
             labeller=_yes_no("HSCT", "No HSCT")),
    Grouping("age_group", "Age", "age_group", order=AGE_GROUPS,
             labeller=lambda v, _t: f"Age {v} y", missing_label="Age missing"),
    Grouping("sex", "Sex", "sex", order=SEXES, labeller=lambda v, _t: _SEX_WORDS.get(str(v), str(v))),
    Grouping("centre", "Centre", "centre"),
    Grouping("ph_status", "Ph status", "ph_status", order=tuple(reversed(PH_STATUSES)),
             missing_label="Ph status unknown"),
    Grouping("disease_status", "Disease status", "disease_status", order=DISEASE_STATUSES,
             labeller=lambda v, _t: str(v).capitalize()),
    Grouping("emd_baseline", "Extramedullary disease", "emd_baseline", order=(False, True),
             labeller=_yes_no("EMD", "No EMD"), missing_label="EMD unknown"),
    Grouping("best_response", "Best response", "best_response", timing="post-baseline",
             order=("CR", "CRi", "NR", "not evaluable"), stratify=False),
    Grouping("first_response", "First CR/CRi", "first_response", timing="post-baseline",
             order=("CR", "CRi"), stratify=False),
    Grouping("responder", "Response (CR/CRi)", "responder", timing="post-baseline", order=(True, False),
             labeller=_yes_no("CR/CRi", "No CR/CRi")),
    Grouping("n_cycles", "InO cycles received", "n_cycles", timing="post-baseline", stratify=False,
             labeller=lambda v, _t: f"{v} cycle{'s' if v != 1 else ''}"),
)}

# What "Stratify by" menus offer, in menu order.
STRATIFY_KEYS: tuple[str, ...] = tuple(k for k, g in GROUPINGS.items() if g.stratify)
# The baseline subgroups a forest chart or a subgroup table may show.
SUBGROUP_KEYS: tuple[str, ...] = tuple(k for k, g in GROUPINGS.items() if k != "all" and g.timing == "baseline")


def grouping(key: str) -> Grouping:
    """The grouping called `key`; a ValueError naming the choices otherwise."""
    try:
        return GROUPINGS[key]
    except KeyError:
        raise ValueError(f"Unknown grouping {key!r}; choose one of {', '.join(GROUPINGS)}") from None


def group_label(by: str, value: object, *, blast_threshold: float = DEFAULT_BLAST_THRESHOLD) -> str:
    """The label of one group of `by`, with the threshold it depends on."""
    return grouping(by).label(value, blast_threshold=blast_threshold)

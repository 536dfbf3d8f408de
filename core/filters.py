"""The slice of a cohort a user is looking at: one frozen object, turned into SQL in one place.

A `FilterSpec` is the only way a slice is described. `where()` turns it into a parameterised
WHERE clause over the per-patient table built in `core.derivation` (values are always bound
parameters, never text in the SQL), and `describe()` says the same thing in words for captions,
exports and the page header.

Missing values follow one explicit rule, `include_missing`: when a filter on a variable is active,
a patient whose value for that variable is missing is kept if `include_missing` is true and dropped
otherwise. An inactive filter never drops anyone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from core.contract import (
    DEFAULT_BLAST_THRESHOLD,
    DISEASE_STATUSES,
    DOSE_GROUPS,
    DOSE_TOLERANCE_MG_M2,
    PH_STATUSES,
    SEXES,
    STANDARD_CYCLE_DOSE_MG_M2,
)

BlastBurden = Literal["all", "low", "high"]

DOSE_GROUP_LABELS: dict[str, str] = {
    "<1.8": "< 1.8 mg/m²",
    "1.8": "1.8 mg/m²",
    ">1.8": "> 1.8 mg/m²",
}


class FilterError(ValueError):
    """A filter value that cannot describe a slice (says which field and why)."""


@dataclass(frozen=True)
class FilterSpec:
    """A slice of the cohort. Empty tuples and None mean "no restriction"."""

    blast_burden: BlastBurden = "all"
    blast_threshold: float = DEFAULT_BLAST_THRESHOLD
    dose_groups: tuple[str, ...] = ()
    dose_min_mg_m2: float | None = None
    dose_max_mg_m2: float | None = None
    salvage_lines: tuple[int, ...] = ()
    hsct: bool | None = None
    age_min: float | None = None
    age_max: float | None = None
    sexes: tuple[str, ...] = ()
    centres: tuple[str, ...] = ()
    ph_statuses: tuple[str, ...] = ()
    disease_statuses: tuple[str, ...] = ()
    emd_baseline: bool | None = None
    include_missing: bool = True

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        """Raise `FilterError` naming the field when a value cannot be a filter."""
        if self.blast_burden not in ("all", "low", "high"):
            raise FilterError(f"blast_burden must be 'all', 'low' or 'high', not {self.blast_burden!r}")
        if not 0 < float(self.blast_threshold) < 100:
            raise FilterError(f"blast_threshold must be between 0 and 100 %, not {self.blast_threshold!r}")
        for name, allowed in (
            ("dose_groups", DOSE_GROUPS),
            ("sexes", SEXES),
            ("ph_statuses", PH_STATUSES),
            ("disease_statuses", DISEASE_STATUSES),
        ):
            bad = [v for v in getattr(self, name) if v not in allowed]
            if bad:
                raise FilterError(f"{name}: {bad[0]!r} is not one of {', '.join(allowed)}")
        for line in self.salvage_lines:
            if not isinstance(line, int) or isinstance(line, bool) or line < 1:
                raise FilterError(f"salvage_lines: {line!r} is not a salvage line (1, 2, 3, …)")
        for centre in self.centres:
            if not isinstance(centre, str) or not centre or len(centre) > 200:
                raise FilterError("centres: each centre must be a non-empty label of at most 200 characters")
        _check_range("age", self.age_min, self.age_max, 0, 130)
        _check_range("cycle-1 dose", self.dose_min_mg_m2, self.dose_max_mg_m2, 0, 20)

    # ------------------------------------------------------------------ SQL
    def where(self) -> tuple[str, dict[str, object]]:
        """The slice as `(sql, params)`: a WHERE clause over `patient_endpoints` columns.

        Every value is a named, bound parameter; the SQL text only ever contains column names
        and placeholders from this method.
        """
        clauses: list[str] = []
        params: dict[str, object] = {}
        keep = self.include_missing

        def add(column: str, condition: str) -> None:
            clauses.append(f"({condition} OR {column} IS NULL)" if keep else f"({condition})")

        if self.blast_burden != "all":
            params["blast_threshold"] = float(self.blast_threshold)
            op = "<" if self.blast_burden == "low" else ">="
            add("blast_pct", f"blast_pct {op} $blast_threshold")
        if self.dose_groups:
            params["dose_groups"] = list(self.dose_groups)
            add("cycle1_dose_group", "list_contains($dose_groups, cycle1_dose_group)")
        if self.dose_min_mg_m2 is not None:
            params["dose_min"] = float(self.dose_min_mg_m2)
            add("cycle1_dose_mg_m2", "cycle1_dose_mg_m2 >= $dose_min - 0.005")
        if self.dose_max_mg_m2 is not None:
            params["dose_max"] = float(self.dose_max_mg_m2)
            add("cycle1_dose_mg_m2", "cycle1_dose_mg_m2 <= $dose_max + 0.005")
        if self.salvage_lines:
            params["salvage_lines"] = [int(v) for v in self.salvage_lines]
            add("salvage_line", "list_contains($salvage_lines, salvage_line)")
        if self.hsct is not None:
            # HSCT is derived from events and never missing: no row means no transplant.
            params["hsct"] = bool(self.hsct)
            clauses.append("(hsct = $hsct)")
        if self.age_min is not None:
            params["age_min"] = float(self.age_min)
            add("age_years", "age_years >= $age_min")
        if self.age_max is not None:
            params["age_max"] = float(self.age_max)
            add("age_years", "age_years <= $age_max")
        if self.sexes:
            params["sexes"] = list(self.sexes)
            add("sex", "list_contains($sexes, sex)")
        if self.centres:
            params["centres"] = list(self.centres)
            add("centre", "list_contains($centres, centre)")
        if self.ph_statuses:
            params["ph_statuses"] = list(self.ph_statuses)
            add("ph_status", "list_contains($ph_statuses, ph_status)")
        if self.disease_statuses:
            params["disease_statuses"] = list(self.disease_statuses)
            add("disease_status", "list_contains($disease_statuses, disease_status)")
        if self.emd_baseline is not None:
            params["emd_baseline"] = bool(self.emd_baseline)
            add("emd_baseline", "emd_baseline = $emd_baseline")
        sql = " AND ".join(clauses) if clauses else "TRUE"
        return sql, params

    # ------------------------------------------------------------------ words
    def describe(self) -> str:
        """The slice in words, e.g. "Salvage 2–3 · blasts ≥ 50% · cycle-1 dose < 1.8 mg/m²"."""
        parts: list[str] = []
        if self.salvage_lines:
            parts.append("Salvage " + _format_int_set(self.salvage_lines))
        if self.blast_burden != "all":
            op = "<" if self.blast_burden == "low" else "≥"
            parts.append(f"blasts {op} {_format_number(self.blast_threshold)}%")
        if self.dose_groups:
            parts.append("cycle-1 dose " + " or ".join(DOSE_GROUP_LABELS[g] for g in self.dose_groups))
        if self.dose_min_mg_m2 is not None or self.dose_max_mg_m2 is not None:
            parts.append("cycle-1 dose " + _format_range(self.dose_min_mg_m2, self.dose_max_mg_m2, " mg/m²"))
        if self.hsct is not None:
            parts.append("HSCT" if self.hsct else "no HSCT")
        if self.age_min is not None or self.age_max is not None:
            parts.append("age " + _format_range(self.age_min, self.age_max, " y"))
        if self.sexes:
            parts.append(" or ".join({"F": "female", "M": "male"}[s] for s in self.sexes))
        if self.centres:
            parts.append(", ".join(self.centres))
        if self.ph_statuses:
            parts.append(" or ".join(self.ph_statuses))
        if self.disease_statuses:
            parts.append(" or ".join(self.disease_statuses))
        if self.emd_baseline is not None:
            parts.append("EMD at baseline" if self.emd_baseline else "no EMD at baseline")
        if not parts:
            return "All patients"
        text = " · ".join(parts)
        if not self.include_missing:
            text += " (missing values excluded)"
        return text

    def is_default(self) -> bool:
        return self == FilterSpec()

    def with_(self, **changes: Any) -> FilterSpec:
        return replace(self, **changes)


def dose_group(cycle1_dose_mg_m2: float | None) -> str | None:
    """The paper's cycle-1 dose group; 1.8 mg/m² within ±0.005 (the data contract's rule)."""
    if cycle1_dose_mg_m2 is None:
        return None
    if abs(cycle1_dose_mg_m2 - STANDARD_CYCLE_DOSE_MG_M2) <= DOSE_TOLERANCE_MG_M2:
        return "1.8"
    return "<1.8" if cycle1_dose_mg_m2 < STANDARD_CYCLE_DOSE_MG_M2 else ">1.8"


def _check_range(name: str, low: float | None, high: float | None, floor: float, ceiling: float) -> None:
    for value in (low, high):
        if value is not None and not (isinstance(value, (int, float)) and floor <= value <= ceiling):
            raise FilterError(f"{name} range: {value!r} is outside {floor}–{ceiling}")
    if low is not None and high is not None and low > high:
        raise FilterError(f"{name} range: minimum {low} is above maximum {high}")


def _format_number(value: float) -> str:
    return f"{value:g}"


def _format_range(low: float | None, high: float | None, unit: str) -> str:
    if low is not None and high is not None:
        return f"{_format_number(low)}–{_format_number(high)}{unit}"
    if low is not None:
        return f"≥ {_format_number(low)}{unit}"
    return f"≤ {_format_number(high)}{unit}"  # type: ignore[arg-type]


def _format_int_set(values: tuple[int, ...]) -> str:
    ordered = sorted(set(values))
    if len(ordered) > 1 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{ordered[0]}–{ordered[-1]}"
    return ", ".join(str(v) for v in ordered)

"""Table 1, the age sentence of §4, §4.1 and the baseline EMD of §4.3.6, from `core.characteristics`."""

from __future__ import annotations

from core.characteristics import CharacteristicsTable, patient_characteristics
from core.database import Cohort
from core.filters import FilterSpec
from core.paper.values import ComputedValues, float_or_none, one_row

SALVAGE = "InO received as salvage therapy"
TOTAL_CYCLES = "Number of total InO cycles"
CYCLE1_DOSE = "InO dose for cycle 1 (mg/m²/cycle)"
BLASTS = "Bone-marrow blasts at baseline"

# Table 1's rows of total InO cycles: (count id, percentage id) per number of cycles
CYCLE_TARGETS: dict[str, tuple[str, str]] = {
    "1": ("A25", "A26"), "2": ("A27", "A28"), "3": ("A29", "A30"), "4": ("A31", "A32"), "6": ("A33", "A34"),
}


def fill_characteristics(cohort: Cohort, spec: FilterSpec, v: ComputedValues) -> None:
    """A01, A07–A40, A43–A48."""
    table = patient_characteristics(cohort, spec)
    n = table.n
    v.count("A01", n)
    count = characteristic_counts(table)

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
    pair("A18", "A19", SALVAGE, "1")
    pair("A20", "A21", SALVAGE, "2")
    v.pct("A22", count.get((SALVAGE, "2"), 0), n)       # §4.1's "56.4% (n = 18)": the same count (C05)
    pair("A23", "A24", SALVAGE, "3")
    for cycles, (count_id, pct_id) in CYCLE_TARGETS.items():
        pair(count_id, pct_id, TOTAL_CYCLES, cycles)
    pair("A35", "A36", CYCLE1_DOSE, "1.8")
    pair("A37", "A38", CYCLE1_DOSE, "<1.8")
    pair("A39", "A40", CYCLE1_DOSE, ">1.8")
    threshold = f"{table.blast_threshold:g}%"
    pair("A43", "A44", BLASTS, f"<{threshold}")
    pair("A45", "A46", BLASTS, f"≥{threshold}")
    pair("A47", "A48", "Extramedullary disease at baseline", "Yes")

    ages = one_row(cohort, spec, ("age_mean", "age_median", "age_sd"))
    v.number("A07", float_or_none(ages.get("age_median")))
    v.number("A08", float_or_none(ages.get("age_mean")))
    v.number("A09", float_or_none(ages.get("age_sd")))


def characteristic_counts(table: CharacteristicsTable) -> dict[tuple[str, str], int]:
    """(variable, category) → count; integer-valued categories normalised ("2.0" → "2")."""
    out: dict[tuple[str, str], int] = {}
    for row in table.rows:
        if row.count is None:
            continue
        category = row.category
        try:
            as_float = float(category)
            if as_float.is_integer() and row.variable != CYCLE1_DOSE:
                category = str(int(as_float))
        except ValueError:
            pass
        out[(row.variable, category)] = row.count
    return out

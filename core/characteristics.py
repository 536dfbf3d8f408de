"""The patient characteristics table (the paper's Table 1) for any slice."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.database import Cohort
from core.filters import FilterSpec
from core.queries import fetch_counts_by_each, fetch_measures
from core.results import format_percent

# (grouping, variable title, value → category label); clinical order comes from the SQL sort.
_CATEGORICAL: tuple[tuple[str, str], ...] = (
    ("sex", "Sex"),
    ("age_group", "Age"),
    ("disease_status", "Disease status before InO"),
    ("salvage_line", "InO received as salvage therapy"),
    ("n_cycles", "Number of total InO cycles"),
    ("cycle1_dose_group", "InO dose for cycle 1 (mg/m²/cycle)"),
    ("blast_burden", "Bone-marrow blasts at baseline"),
    ("ph_status", "Ph status"),
    ("emd_baseline", "Extramedullary disease at baseline"),
    ("centre", "Centre"),
)

# Table 1 keeps the paper's own layout (its titles, labels and category order), not the groupings'.
_CATEGORY_LABELS: dict[str, dict[object, str]] = {
    "sex": {"F": "Female", "M": "Male"},
    "age_group": {"18-65": "18–65 years", ">65": ">65 years"},
    "cycle1_dose_group": {"<1.8": "<1.8", "1.8": "1.8", ">1.8": ">1.8"},
    "emd_baseline": {True: "Yes", False: "No"},
}

_CATEGORY_ORDER: dict[str, tuple[object, ...]] = {
    "sex": ("F", "M"),
    "age_group": ("18-65", ">65"),
    "cycle1_dose_group": ("1.8", "<1.8", ">1.8"),   # the paper's Table 1 order
    "blast_burden": ("low", "high"),
    "ph_status": ("Ph+", "Ph-"),
    "emd_baseline": (True, False),
    "disease_status": ("relapsed", "refractory"),
}


@dataclass(frozen=True)
class CharacteristicRow:
    variable: str
    category: str
    count: int | None
    percent: str | None      # half-up to 1 dp of the slice's n
    text: str                # what a reader sees in the value column


@dataclass(frozen=True)
class CharacteristicsTable:
    n: int
    rows: tuple[CharacteristicRow, ...]
    blast_threshold: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"Variable": r.variable, "Category": r.category, "N (%)": r.text} for r in self.rows])


def patient_characteristics(cohort: Cohort, spec: FilterSpec) -> CharacteristicsTable:
    stats = fetch_measures(cohort, spec, ("n", "age_mean", "age_sd", "age_median", "age_min", "age_max"))
    n = int(stats["n"].iloc[0]) if len(stats) else 0
    rows: list[CharacteristicRow] = [CharacteristicRow("Patients", "–", n, None, str(n))]
    if n == 0:
        return CharacteristicsTable(n=0, rows=tuple(rows), blast_threshold=spec.blast_threshold)
    s = stats.iloc[0]
    sd = "" if pd.isna(s["age_sd"]) else f" ± {s['age_sd']:.2f}"
    rows.append(CharacteristicRow("Age (years)", "mean ± SD", None, None, f"{s['age_mean']:.2f}{sd}"))
    rows.append(CharacteristicRow("Age (years)", "median (range)", None, None,
                                  f"{s['age_median']:.2f} ({s['age_min']:.2f}–{s['age_max']:.2f})"))
    threshold = f"{spec.blast_threshold:g}%"
    counts = fetch_counts_by_each(cohort, spec, [grouping for grouping, _ in _CATEGORICAL])
    for grouping, title in _CATEGORICAL:
        order = _CATEGORY_ORDER.get(grouping, ())
        records = sorted(counts[grouping], key=lambda r: ((0, order.index(r[0])) if r[0] in order
                                                          else (2, "") if _missing(r[0]) else (1, str(r[0]))))
        for value, count in records:
            if _missing(value):
                label = "Not reported"
            elif grouping == "blast_burden":
                label = f"<{threshold}" if value == "low" else f"≥{threshold}"
            else:
                label = str(_CATEGORY_LABELS.get(grouping, {}).get(value, value))
            pct = format_percent(100 * count / n, 1)
            rows.append(CharacteristicRow(title, label, count, pct, f"{count} ({pct})"))
    return CharacteristicsTable(n=n, rows=tuple(rows), blast_threshold=spec.blast_threshold)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))

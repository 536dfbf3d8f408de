"""Numbers beside the words: numeric columns for a table whose estimates are printed as text.

Pages build their tables for reading ("7/13", "53.8%", "25.1–80.8", "5/7 (71.4%)", "3 (9.4)").
An exported table keeps those columns and gains, at its end, the same figures as numbers a
statistician can use:

* a column of "k/N" cells (optionally followed by " (p%)") gives `count`, `denominator` and
  `estimate` (k/N, a proportion 0–1); with a CI column beside it ("95% CI …" holding "a–b" in
  percent) also `lower` and `upper`;
* a column "N (%)" gives `count` from its "k (p)" and "k" cells (others, such as a mean, stay empty).

With several count columns in one table (toxicity by HSCT status) each is prefixed with its
column's name ("hsct_count", "no_hsct_count", "overall_count"). Estimates are exact (k/N); a
printed Clopper–Pearson interval is recomputed at full precision from k and N at the table's
confidence level when that reproduces the printed bounds, and otherwise taken as printed. Cells
that do not parse (a dash, a reason, a suppressed "<5/18") give empty numbers, so these columns
never say more than the text does.
"""

from __future__ import annotations

import re

import pandas as pd

from core.provenance import Provenance
from core.results import clopper_pearson

_FRACTION = re.compile(r"^\s*(\d+)\s*/\s*(\d+)(?:\s*\(\s*\d+(?:\.\d+)?\s*%\s*\))?\s*$")
_COUNT_PERCENT = re.compile(r"^\s*(\d+)(?:\s*\(\s*\d+(?:\.\d+)?\s*%?\s*\))?\s*$")
_RANGE = re.compile(r"^\s*(\d+(?:\.(\d+))?)\s*[–-]\s*(\d+(?:\.(\d+))?)\s*$")
_BLANK = {"", "—", "–", "-"}
_SUPPRESSED = re.compile(r"^\s*(?:suppressed\s*$|<\d)")     # what core.export.suppression leaves
_LEVEL = re.compile(r"(\d+(?:\.\d+)?)\s*%")


def _cells(frame: pd.DataFrame, column: object) -> list[str]:
    return ["" if pd.isna(v) else str(v) for v in frame[column]]


def _all_match(cells: list[str], pattern: re.Pattern[str]) -> bool:
    filled = [c for c in cells if c.strip() not in _BLANK and not _SUPPRESSED.match(c)]
    return bool(filled) and all(pattern.match(c) for c in filled)


def _prefix(column: object) -> str:
    words = re.sub(r"\(.*?\)", "", str(column)).lower()
    return re.sub(r"[^a-z0-9]+", "_", words).strip("_") or "column"


def _conf_level(provenance: Provenance) -> float | None:
    """The level of a Clopper–Pearson interval the provenance names, e.g. 0.95; None for another method."""
    if "clopper" not in provenance.ci_method.lower():
        return None
    m = _LEVEL.search(provenance.ci_method)
    return float(m.group(1)) / 100 if m else 0.95


def _bounds(count: int, denominator: int, printed: str, level: float | None) -> tuple[float | None, float | None]:
    m = _RANGE.match(printed)
    if m is None:
        return None, None
    lower, upper = float(m.group(1)) / 100, float(m.group(3)) / 100
    if level is not None and denominator > 0:
        exact = clopper_pearson(count, denominator, level)
        decimals = max(len(m.group(2) or ""), len(m.group(4) or ""))
        tolerance = 0.5 * 10 ** -decimals / 100 + 1e-12
        if abs(exact[0] - lower) <= tolerance and abs(exact[1] - upper) <= tolerance:
            return exact
    return lower, upper


def _fraction_numbers(cells: list[str], ci_cells: list[str] | None,
                      level: float | None) -> dict[str, list[object]]:
    out: dict[str, list[object]] = {"count": [], "denominator": [], "estimate": []}
    if ci_cells is not None:
        out.update(lower=[], upper=[])
    for i, cell in enumerate(cells):
        m = _FRACTION.match(cell)
        k, n = (int(m.group(1)), int(m.group(2))) if m else (None, None)
        out["count"].append(k)
        out["denominator"].append(n)
        out["estimate"].append(k / n if k is not None and n else None)
        if ci_cells is not None:
            lower, upper = _bounds(k, n, ci_cells[i], level) if k is not None and n else (None, None)
            out["lower"].append(lower)
            out["upper"].append(upper)
    return out


def with_estimate_columns(frame: pd.DataFrame, provenance: Provenance) -> pd.DataFrame:
    """`frame` with numeric columns after its own (see the module docstring); unchanged when it has
    no printed estimates."""
    fractions = [c for c in frame.columns if _all_match(_cells(frame, c), _FRACTION)]
    counts = [c for c in frame.columns if c not in fractions and "(%)" in str(c)
              and any(_COUNT_PERCENT.match(cell) for cell in _cells(frame, c))]
    if not fractions and not counts:
        return frame
    ci_columns = [c for c in frame.columns if re.search(r"\bCI\b", str(c)) and _all_match(_cells(frame, c), _RANGE)]
    level = _conf_level(provenance)
    added: dict[str, list[object]] = {}
    for column in fractions:
        ci = _cells(frame, ci_columns[0]) if len(fractions) == 1 and len(ci_columns) == 1 else None
        numbers = _fraction_numbers(_cells(frame, column), ci, level)
        prefix = "" if len(fractions) + len(counts) == 1 else _prefix(column) + "_"
        added.update({prefix + name: values for name, values in numbers.items()})
    for column in counts:
        prefix = "" if len(fractions) + len(counts) == 1 else _prefix(column) + "_"
        added[prefix + "count"] = [int(m.group(1)) if (m := _COUNT_PERCENT.match(c)) else None
                                   for c in _cells(frame, column)]
    numbers = pd.DataFrame(added, index=frame.index)
    for name in numbers.columns:
        whole = name.endswith(("count", "denominator"))
        numbers[name] = numbers[name].astype("Int64" if whole else "Float64")
    taken = {str(c) for c in frame.columns}
    numbers.columns = [name if name not in taken else f"{name}_value" for name in numbers.columns]
    return pd.concat([frame, numbers], axis=1)

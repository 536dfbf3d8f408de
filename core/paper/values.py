"""The computed side of the check: strings keyed by target id, and the engine rows behind them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from core.database import Cohort
from core.filters import FilterSpec
from core.paper.formatting import (
    CONSISTENT,
    INCONSISTENT,
    NOT_AVAILABLE,
    number_text,
    percent_text,
    printed_decimals,
)
from core.queries import fetch_measures
from core.results import ProportionEstimate, TooFewPatients


@dataclass
class ComputedValues:
    """Computed strings (and supplementary notes) keyed by target id, filled one part of the paper at a time.

    `published` is read only for the precision the paper prints a figure at; the comparison with
    it happens in `core.paper.check`.
    """

    published: dict[str, str]
    text: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def set(self, target_id: str, text: str, *, extra: str = "", note: str = "") -> None:
        self.text[target_id] = text
        if extra:
            self.extra[target_id] = extra
        if note:
            self.notes[target_id] = note

    def count(self, target_id: str, value: int | None) -> None:
        self.set(target_id, NOT_AVAILABLE if value is None else str(int(value)))

    def pct(self, target_id: str, count: int | None, denominator: int | None) -> None:
        if count is None or denominator is None:
            self.set(target_id, NOT_AVAILABLE)
            return
        decimals = printed_decimals(self.published[target_id])
        text = percent_text(int(count), int(denominator), decimals)
        self.set(target_id, text, extra=f"{int(count)}/{int(denominator)}")

    def proportion(self, count_id: str | None, pct_id: str | None,
                   estimate: ProportionEstimate | TooFewPatients | None) -> None:
        """A count and its percentage from one engine proportion; the exact CI as supplementary."""
        if not isinstance(estimate, ProportionEstimate):
            if count_id:
                self.count(count_id, 0 if isinstance(estimate, TooFewPatients) else None)
            if pct_id:
                self.set(pct_id, NOT_AVAILABLE, note=estimate.reason if isinstance(estimate, TooFewPatients) else "")
            return
        if count_id:
            self.count(count_id, estimate.count)
        if pct_id:
            decimals = printed_decimals(self.published[pct_id])
            self.set(pct_id, percent_text(estimate.count, estimate.denominator, decimals),
                     extra=f"{estimate.format(1)} ({estimate.method}; not published)")

    def number(self, target_id: str, value: float | None, *, percent: bool = False) -> None:
        decimals = printed_decimals(self.published[target_id])
        if value is None:
            self.set(target_id, NOT_AVAILABLE)
        else:
            self.set(target_id, number_text(100 * value if percent else value, decimals))

    def consistency(self, target_id: str, ok: bool | None, detail: str) -> None:
        if ok is None:
            self.set(target_id, NOT_AVAILABLE, note=detail)
        else:
            self.set(target_id, CONSISTENT if ok else INCONSISTENT, note=detail)


# ---------------------------------------------------------------------------------------------
# Engine rows: named measures of the whole cohort, and their cells as plain Python values
# ---------------------------------------------------------------------------------------------
def measures(cohort: Cohort, spec: FilterSpec, names: Iterable[str], by: str = "all") -> list[dict]:
    return fetch_measures(cohort, spec, tuple(names), by=by).to_dict("records")


def one_row(cohort: Cohort, spec: FilterSpec, names: Iterable[str]) -> dict:
    rows = measures(cohort, spec, names)
    return rows[0] if rows else {}


def is_missing(value: object) -> bool:
    if value is None or isinstance(value, (str, bool, dt.date)):
        return value is None
    return bool(pd.isna(value))


def int_or_none(value: object) -> int | None:
    return None if is_missing(value) else int(value)  # type: ignore[call-overload]


def float_or_none(value: object) -> float | None:
    return None if is_missing(value) else float(value)  # type: ignore[arg-type]


def date_or_none(value: object) -> dt.date | None:
    if is_missing(value):
        return None
    return pd.Timestamp(value).date()


def as_list(value: object) -> list:
    """A DuckDB LIST cell as a Python list (NULL → [])."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return []
    return list(value)  # type: ignore[call-overload]


def count_of(estimate: ProportionEstimate | TooFewPatients | None) -> int:
    return estimate.count if isinstance(estimate, ProportionEstimate) else 0

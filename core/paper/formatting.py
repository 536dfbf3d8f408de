"""Computed values written at the precision the paper prints them.

Every rounding goes through `core.results.round_half_up`, the way the paper rounds (56.25 → 56.3),
so a figure and the engine's own tables can never disagree on a tie.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from core.results import round_half_up

NOT_AVAILABLE = "n/a"
CONSISTENT = "consistent"
INCONSISTENT = "inconsistent"


def printed_decimals(published: str) -> int:
    """Decimals the paper prints for a number ("56.25" → 2, "61" → 0); 1 for non-numbers like "—"."""
    text = published.strip()
    try:
        float(text)
    except ValueError:
        return 1
    return len(text.split(".", 1)[1]) if "." in text else 0


def number_text(value: float | None, decimals: int) -> str:
    return NOT_AVAILABLE if value is None else str(round_half_up(value, decimals))


def percent_text(count: int, denominator: int, decimals: int) -> str:
    if denominator <= 0:
        return NOT_AVAILABLE
    return str(round_half_up(100 * count / denominator, decimals))


def month_year_text(value: object) -> str:
    """A date as the paper prints a month ("Feb 2017")."""
    if value is None or (not isinstance(value, dt.date) and pd.isna(value)):
        return NOT_AVAILABLE
    return pd.Timestamp(value).strftime("%b %Y")

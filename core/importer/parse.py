"""Text → typed values, one column at a time: numbers, whole numbers, dates (YYYY-MM-DD), true/false.

A cell that does not parse becomes missing here; the type check in core.importer.validate reports it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from core.importer.rules import _DATE, _NUMBER, FALSE_TEXT, SPECS, TRUE_TEXT, ColumnSpec


def _each_distinct(series: pd.Series, parse_one: Callable[[str], object], missing: object,
                   dtype: npt.DTypeLike) -> np.ndarray:
    """Parse each distinct text once (a column repeats its dates, doses and grades) and spread the results."""
    codes, distinct = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=True)
    parsed = np.array([parse_one(text) if isinstance(text, str) else missing for text in distinct] + [missing],
                      dtype=dtype)
    return parsed[codes]    # code -1 (an empty cell) takes the last entry: `missing`


def _number(text: str) -> float:
    if _NUMBER.match(text):
        value = float(text)
        if np.isfinite(value):
            return value
    return np.nan


def _date(text: str) -> dt.date | None:
    m = _DATE.match(text)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            pass
    return None


def _boolean(text: str) -> bool | None:
    lowered = text.lower()
    return True if lowered in TRUE_TEXT else False if lowered in FALSE_TEXT else None


def parse_number(series: pd.Series) -> pd.Series:
    """float per cell; NaN where empty or not a plain number (no %, no units, no decimal comma, finite)."""
    return pd.Series(_each_distinct(series, _number, np.nan, "float64"), index=series.index, dtype="float64")


def parse_integer(series: pd.Series) -> pd.Series:
    """Int64 per cell; <NA> where empty, not a number, or not whole."""
    numbers = parse_number(series).to_numpy()
    whole = ~np.isnan(numbers) & (numbers == np.floor(numbers)) & (np.abs(numbers) < 2**31)
    return pd.Series(pd.array(np.where(whole, numbers, 0).astype("int64"), dtype="Int64"), index=series.index) \
        .where(whole, pd.NA)


def parse_date(series: pd.Series) -> pd.Series:
    """datetime.date per cell (object); None where empty or not a real YYYY-MM-DD date."""
    return pd.Series(_each_distinct(series, _date, None, object), index=series.index, dtype=object)


def parse_boolean(series: pd.Series) -> pd.Series:
    out = _each_distinct(series, _boolean, None, object)
    return pd.Series(pd.array(out, dtype="boolean"), index=series.index)


def _parse(spec: ColumnSpec, series: pd.Series) -> pd.Series:
    return {"number": parse_number, "integer": parse_integer, "date": parse_date,
            "boolean": parse_boolean}.get(spec.kind, lambda s: s)(series)


def _outside(spec: ColumnSpec, parsed: pd.Series) -> pd.Series:
    """True where a parsed value lies outside the column's range."""
    values = parsed.to_numpy(dtype="float64", na_value=np.nan)
    bad = np.zeros(len(values), dtype=bool)
    with np.errstate(invalid="ignore"):
        if spec.minimum is not None:
            bad |= values < spec.minimum
        if spec.maximum is not None:
            bad |= values > spec.maximum
    return pd.Series(bad, index=parsed.index)


@dataclass(frozen=True)
class ParsedColumn:
    """A typed column parsed once: its values, where they parsed, where they fall outside the range."""

    values: pd.Series
    ok: pd.Series
    outside: pd.Series


def parse_columns(table: str, frame: pd.DataFrame) -> dict[str, ParsedColumn]:
    """Each typed contract column present in the frame, parsed once (the checks and the typed table share it)."""
    out: dict[str, ParsedColumn] = {}
    for spec in SPECS[table]:
        if spec.name in frame.columns and spec.kind not in ("text", "choice"):
            values = _parse(spec, frame[spec.name])
            ok = pd.Series(values.notna().to_numpy(dtype=bool), index=frame.index)
            outside = (_outside(spec, values) if spec.kind in ("number", "integer")
                       else pd.Series(False, index=frame.index))
            out[spec.name] = ParsedColumn(values, ok, outside)
    return out


"""Dates as investigators write them: which way a column is written, and the same dates as YYYY-MM-DD.

A style is named the way a user reads it ("DD/MM/YYYY", "DD-Mon-YYYY"). `detect_date_style` looks
at a column's values; when day and month cannot be told apart (every day ≤ 12) it says so, and
takes day first, the way the paper's centres write dates. A value that does not fit the style is
left as typed, so the validator quotes it exactly as the user wrote it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

ISO = "YYYY-MM-DD"
DATE_STYLES: tuple[str, ...] = (
    ISO, "DD/MM/YYYY", "MM/DD/YYYY", "DD-MM-YYYY", "MM-DD-YYYY", "DD.MM.YYYY", "YYYY/MM/DD",
    "DD-Mon-YYYY", "DD Mon YYYY", "DD/Mon/YYYY", "Mon DD YYYY", "DD/MM/YY", "DD-Mon-YY",
)
_MONTHS = {name: i + 1 for i, names in enumerate((
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
    ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
    ("dec", "december"))) for name in names}
_PART = {"YYYY": r"(?P<y>\d{4})", "YY": r"(?P<y>\d{2})", "MM": r"(?P<m>\d{1,2})", "DD": r"(?P<d>\d{1,2})",
         "Mon": r"(?P<mon>[A-Za-z]{3,9})\.?"}
_TOKEN = re.compile(r"YYYY|YY|MM|DD|Mon")
# what a workbook date cell or a database export may append: a midnight time
_MIDNIGHT = r"(?:[ T]00:00(?::00(?:\.0+)?)?)?"


def _pattern(style: str) -> re.Pattern[str]:
    parts, end = [], 0
    for match in _TOKEN.finditer(style):
        separator = style[end:match.start()]
        parts.append(r",?\s*" if separator == " " else re.escape(separator))
        parts.append(_PART[match.group(0)])
        end = match.end()
    return re.compile("^" + "".join(parts) + _MIDNIGHT + "$")


_PATTERNS = {style: _pattern(style) for style in DATE_STYLES}


def parse_styled_date(text: str, style: str) -> dt.date | None:
    """One value in one style → a date (None when it does not fit or is not a real date)."""
    match = _PATTERNS[style].match(str(text).strip())
    if match is None:
        return None
    parts = match.groupdict()
    year = int(parts["y"])
    if len(parts["y"]) == 2:
        year += 2000
    month = _MONTHS.get(parts["mon"].casefold()) if parts.get("mon") else int(parts["m"])
    if month is None:
        return None
    try:
        return dt.date(year, month, int(parts["d"]))
    except ValueError:
        return None


def to_iso(text: str, style: str) -> str:
    """A value as YYYY-MM-DD when it fits the style; else exactly as typed."""
    if style == ISO:
        return text
    date = parse_styled_date(text, style)
    return text if date is None else date.isoformat()


@dataclass(frozen=True)
class DateStyle:
    """How a column's dates are written, how many values fit, and whether day and month were a guess."""

    style: str
    fitting: int
    total: int
    ambiguous: bool = False

    @property
    def share(self) -> float:
        return self.fitting / self.total if self.total else 0.0

    def note(self) -> str:
        if self.style == ISO:
            return "dates already YYYY-MM-DD"
        text = f"dates read as {self.style}"
        if self.ambiguous:
            text += " (every day ≤ 12: day first assumed; check one date)"
        if self.fitting < self.total:
            text += f"; {self.total - self.fitting} value(s) do not fit and are kept as typed"
        return text


def detect_date_style(values: Iterable[str], *, minimum_share: float = 0.8) -> DateStyle | None:
    """The style most of the distinct values fit (None when no style fits at least `minimum_share`)."""
    distinct = sorted({str(v).strip() for v in values if v is not None and str(v).strip()})
    if not distinct:
        return None
    counts = {style: sum(parse_styled_date(v, style) is not None for v in distinct) for style in DATE_STYLES}
    best = max(counts.values())
    if best / len(distinct) < minimum_share:
        return None
    ties = [style for style in DATE_STYLES if counts[style] == best]
    style = ties[0]
    # "03/04/2021" fits both DD/MM and MM/DD: day first, flagged, unless a value only fits month first
    ambiguous = any(_is_mirror(style, other) for other in ties[1:])
    return DateStyle(style=style, fitting=best, total=len(distinct), ambiguous=ambiguous)


def _is_mirror(a: str, b: str) -> bool:
    return a.replace("DD", "§").replace("MM", "DD").replace("§", "MM") == b

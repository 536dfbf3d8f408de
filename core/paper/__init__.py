"""The paper check: every figure the paper publishes about its own cohort, recomputed and compared.

`check_paper(cohort)` recomputes each of the 169 data-derived targets of `paper-targets.md` (plus
the study-metadata target A51) on the whole cohort (`FilterSpec()`) through the engine —
`core.characteristics`, `core.response`, `core.survival`, `core.safety` and `core.queries` — so
every time is derived from event dates, never stored. Each computed value is formatted at the
precision the paper prints (percentages rounded half-up to the printed decimals, KM rates as %,
medians and CIs to the printed decimals, counts exactly, dates as "Feb 2017") and compared as a
string with the published one.

A published number is never shown as if it were computed: `computed` is always the engine's value,
or "n/a" when the cohort cannot give one.

The package, one job per module:

* `targets.csv` — the published figures, the one copy (read by `targets`)
* `targets` — `PaperTarget`, `TARGETS`, `SECTIONS`
* `conflicts` — what paper-conflicts.md says about each figure a conflict touches
* `study`, `characteristics`, `response`, `survival`, `safety` — compute one part of the paper each
* `formatting`, `values` — the paper's printed precision; the computed strings being filled
* `definitions` — the definitions in force, stated next to the numbers
* `figures` — `PaperFigure`, `CrudeOsView`, `PaperCheck` and the statuses
* `check` — `check_paper`: compare and report
"""

from core.paper.check import check_paper
from core.paper.conflicts import CONFLICTS, DocumentedConflict
from core.paper.figures import (
    CONFLICTS_SOURCE,
    EXACT,
    METADATA,
    MISMATCH,
    UNATTAINABLE_ROUNDING,
    UNATTAINABLE_STRUCTURAL,
    CrudeOsView,
    PaperCheck,
    PaperFigure,
)
from core.paper.formatting import CONSISTENT, NOT_AVAILABLE, printed_decimals
from core.paper.safety import CAUSE_TARGETS, PROGRESSION_CAUSES
from core.paper.study import (
    COLLECTION_WINDOW,
    CYCLE_LENGTH_DAYS,
    MIN_POTENTIAL_FOLLOW_UP_MONTHS,
    STANDARD_SCHEDULE,
    TREATMENT_WINDOW,
)
from core.paper.targets import SECTIONS, TARGETS, TARGETS_PATH, PaperTarget, TargetsFileError

__all__ = [
    "CAUSE_TARGETS", "COLLECTION_WINDOW", "CONFLICTS", "CONFLICTS_SOURCE", "CONSISTENT", "CYCLE_LENGTH_DAYS",
    "EXACT", "METADATA", "MIN_POTENTIAL_FOLLOW_UP_MONTHS", "MISMATCH", "NOT_AVAILABLE", "PROGRESSION_CAUSES",
    "SECTIONS", "STANDARD_SCHEDULE", "TARGETS", "TARGETS_PATH", "TREATMENT_WINDOW", "UNATTAINABLE_ROUNDING",
    "UNATTAINABLE_STRUCTURAL", "CrudeOsView", "DocumentedConflict", "PaperCheck", "PaperFigure", "PaperTarget",
    "TargetsFileError", "check_paper", "printed_decimals",
]

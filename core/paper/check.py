"""The comparison: each computed string against the published one, and the status that follows.

The status comes from that comparison alone: "exact" when the strings are equal. A figure that
misses is labelled with its documented conflict (paper-conflicts.md, C01–C13) only when its
computed value is the one the conflict honours instead — "unattainable — rounding or typo" (C05,
C06, C07, C09) or "unattainable — structural" (C02). Any other miss is a "mismatch", with the
reason "not a documented conflict" (or, for a documented figure, that the value is not the one the
conflict explains). A documented-unattainable figure that happens to match is shown as "exact",
with a reason saying that this was not expected. A51 (cases screened) cannot be derived from
patient rows and is shown as "metadata", outside the count.
"""

from __future__ import annotations

from collections.abc import Callable

from core.database import Cohort
from core.filters import FilterSpec
from core.paper.characteristics import fill_characteristics
from core.paper.conflicts import CONFLICTS
from core.paper.definitions import definitions_in_force
from core.paper.figures import EXACT, METADATA, MISMATCH, PaperCheck, PaperFigure
from core.paper.formatting import NOT_AVAILABLE
from core.paper.response import fill_response
from core.paper.safety import fill_deaths, fill_safety
from core.paper.study import fill_study
from core.paper.survival import crude_os, fill_survival
from core.paper.targets import PUBLISHED, TARGETS, PaperTarget
from core.paper.values import ComputedValues

# Each fills the computed strings of one part of the paper from the engine, in the paper's order.
FILLERS: tuple[Callable[[Cohort, FilterSpec, ComputedValues], None], ...] = (
    fill_study, fill_characteristics, fill_response, fill_survival, fill_safety, fill_deaths,
)


def check_paper(cohort: Cohort) -> PaperCheck:
    """Recompute every published figure on the whole cohort and compare it with the paper."""
    spec = FilterSpec()
    values = ComputedValues(published=dict(PUBLISHED))
    for fill in FILLERS:
        fill(cohort, spec, values)
    crude = crude_os(cohort, spec, values)
    figures = tuple(compare(t, values) for t in TARGETS)
    return PaperCheck(figures=figures, definitions=definitions_in_force(cohort, spec), crude_os=crude)


def compare(target: PaperTarget, values: ComputedValues) -> PaperFigure:
    """One published figure against its computed string, with the status and the reason for it."""
    computed = values.text.get(target.target_id, NOT_AVAILABLE)
    conflict = CONFLICTS.get(target.target_id)
    code = conflict.code if conflict else ""
    note = values.notes.get(target.target_id, "")
    if target.metadata:
        status, reason = METADATA, conflict.reason if conflict else "study metadata; not counted"
    elif computed == target.published:
        status = EXACT
        if conflict and conflict.miss_status:
            reason = (f"documented as unattainable ({conflict.code}) yet it matches here — this cohort differs "
                      f"from the reference reconstruction ({conflict.reconstructed})")
        else:
            reason = conflict.reason if conflict else ""
    elif conflict and conflict.miss_status and computed == conflict.reconstructed:
        status, reason = conflict.miss_status, conflict.reason
    elif conflict and conflict.miss_status:
        # The documented explanation holds for the value the conflict honours, not for this one.
        status = MISMATCH
        reason = (f"differs from the published value and from the value {conflict.code} honours "
                  f"({conflict.reconstructed}): not explained by the documented conflict")
    else:
        status, reason = MISMATCH, "not a documented conflict"
        if conflict:
            reason += f"; {conflict.code} was expected to be resolved: {conflict.reason}"
    if note:
        reason = f"{reason}; {note}" if reason else note
    return PaperFigure(target_id=target.target_id, section=target.section, figure=target.figure,
                       published=target.published, computed=computed, status=status, conflict=code,
                       reason=reason, where=target.where, supplementary=values.extra.get(target.target_id, ""))

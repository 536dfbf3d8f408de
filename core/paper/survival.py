"""§4.3.3–§4.3.5, Figure 2 and Table 9's median: OS, RFS and DOR from `core.survival`.

Also the crude counts behind the OS block (C02) and Figure 1's losses to follow-up, which are
read from the patient listing rather than from a Kaplan–Meier fit.
"""

from __future__ import annotations

from core.contract import DAYS_PER_MONTH
from core.database import Cohort
from core.filters import FilterSpec
from core.groupings import group_label
from core.paper.figures import CrudeOsView
from core.paper.formatting import NOT_AVAILABLE, number_text, printed_decimals
from core.paper.values import ComputedValues
from core.queries import fetch_patient_listing
from core.survival import SurvivalCurve, estimate_survival

SIX_MONTHS = 6.0
TWELVE_MONTHS = 12.0
OS_TARGETS = ("E03", "E04", "E05", "E06", "E07", "E08", "E18")


def fill_survival(cohort: Cohort, spec: FilterSpec, v: ComputedValues) -> None:
    """E02–E13 and E18."""
    os_curve = first_curve(estimate_survival(cohort, spec, "os").fitted)
    if os_curve is None:
        for target_id in OS_TARGETS:
            v.set(target_id, NOT_AVAILABLE)
    else:
        v.number("E03", os_curve.landmark(SIX_MONTHS).estimate, percent=True)
        v.number("E04", os_curve.landmark(TWELVE_MONTHS).estimate, percent=True)
        v.number("E05", os_curve.median.value)
        v.number("E06", os_curve.median.lower)
        v.number("E07", os_curve.median.upper)
        v.count("E08", os_curve.landmark(TWELVE_MONTHS).at_risk)
        # Table 9 prints "—"; its cell is compared with the median at the precision §4.3.4 prints it (E05).
        v.set("E18", number_text(os_curve.median.value, printed_decimals(v.published["E05"])))
        if os_curve.median.value is None:
            v.set("E05", "NR")
            v.set("E18", "NR")
    older = estimate_survival(cohort, spec, "os", by="age_group")
    old_curve = first_curve(older.fitted, group_label("age_group", ">65"))
    v.number("E09", None if old_curve is None else old_curve.landmark(SIX_MONTHS).estimate, percent=True)
    v.number("E10", None if old_curve is None else old_curve.landmark(TWELVE_MONTHS).estimate, percent=True)

    rfs = first_curve(estimate_survival(cohort, spec, "rfs").fitted)
    v.number("E11", None if rfs is None else rfs.median.value)
    v.number("E12", None if rfs is None else rfs.median.lower)
    v.number("E13", None if rfs is None else rfs.median.upper)
    dor = first_curve(estimate_survival(cohort, spec, "dor").fitted)
    v.number("E02", None if dor is None else dor.median.value)


def first_curve(curves: list[SurvivalCurve], label: str | None = None) -> SurvivalCurve | None:
    for curve in curves:
        if label is None or curve.label == label:
            return curve
    return None


def crude_os(cohort: Cohort, spec: FilterSpec, v: ComputedValues) -> CrudeOsView:
    """The crude OS counts (C02), and Figure 1's losses to follow-up E16–E17 from them."""
    listing = fetch_patient_listing(cohort, spec, columns=("patient_id", "os_days", "os_event", "followup_status"))
    usable = listing[listing["os_days"].notna()]
    months = usable["os_days"].astype(float) / DAYS_PER_MONTH
    event = usable["os_event"].astype(bool)
    lost = (~event) & (usable["followup_status"] == "lost to follow-up")
    crude = CrudeOsView(
        n=len(listing),
        deaths=int(event.sum()),
        deaths_by_6=int((event & (months <= SIX_MONTHS)).sum()),
        deaths_by_12=int((event & (months <= TWELVE_MONTHS)).sum()),
        followed_to_6=int((months >= SIX_MONTHS).sum()),
        followed_to_12=int((months >= TWELVE_MONTHS).sum()),
        lost_by_6=int((lost & (months <= SIX_MONTHS)).sum()),
        lost_6_to_12=int((lost & (months > SIX_MONTHS) & (months <= TWELVE_MONTHS)).sum()),
    )
    v.count("E16", crude.lost_by_6)
    v.count("E17", crude.lost_6_to_12)
    return crude

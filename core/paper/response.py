"""§4.2.1, Tables 2–5, the deep response, HSCT (§4.3.2) and the EMD outcomes of §4.3.6, from `core.response`."""

from __future__ import annotations

from core.database import Cohort
from core.filters import FilterSpec
from core.paper.formatting import NOT_AVAILABLE
from core.paper.values import ComputedValues, count_of, int_or_none, measures
from core.response import cr_cri_rate_by, summarise_response

# Table 3: salvage line → (count id, percentage id)
SALVAGE_LINE_TARGETS: dict[int, tuple[str, str]] = {1: ("B10", "B11"), 2: ("B12", "B13"), 3: ("B14", "B15")}


def fill_response(cohort: Cohort, spec: FilterSpec, v: ComputedValues) -> None:
    """B01–B21, M01–M14, D01–D06 and E01."""
    s = summarise_response(cohort, spec)
    v.proportion("B01", "B02", s.cr_cri)
    v.count("B03", s.composition.cr)
    v.count("B04", s.composition.cri)
    v.count("B05", s.composition.no_response)
    v.pct("B06", s.composition.no_response, s.n)
    v.count("B07", s.composition.not_evaluable)
    v.number("B08", s.cycles_to_response.median)
    ctr = s.cycles_to_response
    v.set("B09", f"{ctr.minimum} to {ctr.maximum}" if ctr.minimum is not None else NOT_AVAILABLE)

    by_line = {r.value: r.rate for r in cr_cri_rate_by(cohort, spec, "salvage_line")}
    for line, (count_id, pct_id) in SALVAGE_LINE_TARGETS.items():
        v.proportion(count_id, pct_id, by_line.get(line))
    by_burden = {r.value: r.rate for r in cr_cri_rate_by(cohort, spec, "blast_burden")}
    v.proportion("B16", "B17", by_burden.get("low"))
    v.proportion("B18", "B19", by_burden.get("high"))

    # Table 5
    v.proportion("M01", "M02", s.mrd_negative)
    v.proportion("M03", "M04", s.mrd_negative_cr)
    v.count("M05", s.composition.cr - count_of(s.mrd_negative_cr))
    v.pct("M06", s.composition.cr - count_of(s.mrd_negative_cr), s.composition.cr)
    v.proportion("M07", "M08", s.mrd_negative_cri)
    v.count("M09", s.composition.cri - count_of(s.mrd_negative_cri))
    responders = s.composition.cr + s.composition.cri
    v.pct("M10", count_of(s.mrd_negative), responders)
    v.pct("M11", responders - count_of(s.mrd_negative), responders)
    v.proportion("M12", "M13", s.deep_response)
    v.number("M14", s.cycles_to_deep_response.median)

    v.proportion("D01", "D02", s.hsct)
    v.proportion("D03", "D04", s.hsct_responders)
    v.proportion("D05", "D06", s.hsct_single_cycle)
    v.count("E01", s.dated_responders)

    emd = {r["group"]: r for r in measures(cohort, spec, ("n", "responders_hsct", "no_response"), by="emd_baseline")}
    with_emd = emd.get(True, {})
    v.count("B20", int_or_none(with_emd.get("responders_hsct")) or 0)
    v.count("B21", int_or_none(with_emd.get("no_response")) or 0)

"""§4.3.7, Tables 6–8, §4.3.8 and the discussion's VOD rate, from `core.safety`."""

from __future__ import annotations

from core.database import Cohort
from core.filters import FilterSpec
from core.paper.values import ComputedValues, count_of, int_or_none, one_row
from core.safety import causes_of_death, toxicity_by, toxicity_by_hsct, toxicity_components

# Table 8's adverse events: toxicity component → (count id, percentage id)
COMPONENT_TARGETS: dict[str, tuple[str, str]] = {
    "haematologic_toxicity": ("F08", "F09"),
    "thrombocytopenia": ("F30", "F31"),
    "neutropenia": ("F32", "F33"),
    "febrile_neutropenia": ("F34", "F35"),
    "liver_toxicity_g34": ("F06", "F07"),
    "ast_increased_g34": ("F36", "F37"),
    "alt_increased_g34": ("F38", "F39"),
    "bilirubin_increased_g34": ("F40", "F41"),
}
# Table 6: toxicity → (HSCT count, HSCT %, no-HSCT count, no-HSCT %)
BY_HSCT_TARGETS: dict[str, tuple[str, str, str, str]] = {
    "vod": ("F12", "F13", "F14", "F15"),
    "liver_toxicity_g34": ("F16", "F17", "F18", "F19"),
    "haematologic_toxicity": ("F20", "F21", "F22", "F23"),
}
# Table 7: salvage line → (VOD count id, percentage id)
VOD_BY_LINE_TARGETS: dict[int, tuple[str, str]] = {1: ("F24", "F25"), 2: ("F26", "F27"), 3: ("F28", "F29")}

# Table 8's causes of death: cause → (count id, percentage-of-deaths id)
CAUSE_TARGETS: dict[str, tuple[str, str]] = {
    "progression of disease": ("G01", "G02"),
    "relapse": ("G03", "G04"),
    "septic shock": ("G05", "G06"),
    "VOD-related multi-organ failure": ("G07", "G08"),
    "VOD pneumonia": ("G09", "G10"),
    "CNS relapse": ("G11", "G12"),
    "not mentioned": ("G13", "G14"),
}
PROGRESSION_CAUSES = ("progression of disease", "relapse")   # the "disease progression (60.8%)" reading


def fill_safety(cohort: Cohort, spec: FilterSpec, v: ComputedValues) -> None:
    """F01–F41."""
    components = {r.key: r.estimate for r in toxicity_components(cohort, spec)}
    for key, (count_id, pct_id) in COMPONENT_TARGETS.items():
        v.proportion(count_id, pct_id, components.get(key))

    by_hsct = toxicity_by_hsct(cohort, spec)
    v.count("F10", by_hsct.n_hsct)
    v.count("F11", by_hsct.n_no_hsct_evaluable)
    rows = {r.key: r for r in by_hsct.rows}
    for key, (h_n, h_p, n_n, n_p) in BY_HSCT_TARGETS.items():
        row = rows.get(key)
        v.proportion(h_n, h_p, row.hsct if row else None)
        v.proportion(n_n, n_p, row.no_hsct if row else None)
    vod = rows["vod"].overall if "vod" in rows else None
    v.proportion("F01", "F02", vod)
    v.proportion(None, "F03", vod)          # the discussion's 21.87: the same VOD rate at 2 decimals

    post = one_row(cohort, spec, ("vod", "vod_post_hsct"))
    v.count("F04", int_or_none(post.get("vod_post_hsct")))
    v.pct("F05", int_or_none(post.get("vod_post_hsct")), int_or_none(post.get("vod")))

    by_line = {r.value: r.rate for r in toxicity_by(cohort, spec, "salvage_line", "vod")}
    for line, (count_id, pct_id) in VOD_BY_LINE_TARGETS.items():
        v.proportion(count_id, pct_id, by_line.get(line))


def fill_deaths(cohort: Cohort, spec: FilterSpec, v: ComputedValues) -> None:
    """E14–E15 and G01–G16."""
    summary = causes_of_death(cohort, spec)
    v.proportion("E14", "E15", summary.deaths)
    deaths = count_of(summary.deaths)
    causes = {c.cause: c for c in summary.causes}
    for cause, (count_id, pct_id) in CAUSE_TARGETS.items():
        k = causes[cause].count if cause in causes else 0
        v.count(count_id, k)
        v.pct(pct_id, k, deaths)
    progression = sum(causes[c].count for c in PROGRESSION_CAUSES if c in causes)
    v.pct("G15", progression, deaths)
    vod_deaths = [c for c in summary.causes if "vod" in c.cause.lower()]
    v.set("G16", f"{sum(c.after_hsct for c in vod_deaths)} of {sum(c.count for c in vod_deaths)}")

"""How results are shown: one small-numbers policy for every page.

* proportions: "k/n · p% (95% CI a–b)", exact (Clopper–Pearson) intervals, denominator named;
* a `TooFewPatients` result becomes its `.reason`, never a number;
* a median that is not reached reads "NR" with why; a landmark beyond follow-up reads "—" with why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from core.response import ResponseComposition, SubgroupRate
from core.results import ProportionEstimate, TooFewPatients, format_percent  # noqa: F401 (re-exported)
from core.survival import GroupComparison, LandmarkRate, MedianEstimate, SurvivalAnalysis, SurvivalCurve
from core.text import markdown_text
from ui.view import View

DASH = "—"
STATIC_ROWS = 12   # tables up to this many rows are drawn whole (st.table), longer ones as a grid


def proportion_text(result: ProportionEstimate | TooFewPatients) -> str:
    """"11/18 · 61.1% (95% CI 35.7–82.7)", or the reason there is no estimate."""
    if isinstance(result, TooFewPatients):
        return f"{DASH} ({result.reason})"
    return result.format()


def percent_text(result: ProportionEstimate | TooFewPatients) -> str:
    return DASH if isinstance(result, TooFewPatients) else f"{result.percent()}%"


def count_text(result: ProportionEstimate | TooFewPatients) -> str:
    """"5/11 (45.5%)" — the paper's n (%) with the denominator printed."""
    if isinstance(result, TooFewPatients):
        return f"{DASH} (n = 0)"
    return f"{result.count}/{result.denominator} ({result.percent()}%)"


def ci_text(result: ProportionEstimate | TooFewPatients) -> str:
    if isinstance(result, TooFewPatients):
        return DASH
    return (f"{format_percent(100 * result.lower, 1)}–{format_percent(100 * result.upper, 1)}")


def metric(container, label: str, result: ProportionEstimate | TooFewPatients, *,  # type: ignore[no-untyped-def]
           population: str | None = None) -> None:
    """A key figure: the percentage large, "k/n · 95% CI a–b (exact) · denominator" under it."""
    if isinstance(result, TooFewPatients):
        container.metric(label, DASH)
        container.caption(markdown_text(result.reason))
        return
    container.metric(label, f"{result.percent()}%")
    who = population or result.population
    container.caption(f"{result.count}/{result.denominator} {markdown_text(who)} · "
                      f"{round(result.conf_level * 100)}% CI {ci_text(result)} (exact)")


def median_text(median: MedianEstimate, curve: SurvivalCurve | None = None) -> str:
    if median.value is None:
        reason = "not reached: the curve stays above 50%"
        if curve is not None and curve.events == 0:
            reason = "not reached: no events"
        return f"NR ({reason})"
    return median.format()


def median_ci_text(median: MedianEstimate, curve: SurvivalCurve | None = None) -> str:
    """"95% CI 4.5–7.5" (NR for a bound not reached), or why the median itself is NR."""
    if median.value is None:
        return median_text(median, curve)

    def bound(x: float | None) -> str:
        return "NR" if x is None else f"{x:.1f}"
    return f"95% CI {bound(median.lower)}–{bound(median.upper)}"


def landmark_text(rate: LandmarkRate) -> str:
    if rate.estimate is None:
        return f"{DASH} (follow-up < {rate.months:g} mo)"
    return f"{rate.format()} · {rate.at_risk} at risk"


def landmark_ci_text(rate: LandmarkRate) -> str:
    """"95% CI 25.3–82.7 · 6 at risk", or why there is no estimate."""
    if rate.estimate is None:
        return f"follow-up shorter than {rate.months:g} months"
    if rate.lower is None or rate.upper is None:   # the curve reached 0 before this time
        return f"CI not estimable · {rate.at_risk} at risk"
    return f"95% CI {100 * rate.lower:.1f}–{100 * rate.upper:.1f} · {rate.at_risk} at risk"


def survival_summary(analysis: SurvivalAnalysis) -> pd.DataFrame:
    """The survival table turned for a narrow column: one row per figure, one column per group."""
    frame = survival_table(analysis)
    if frame.empty:
        return frame
    frame = frame.drop(columns=[c for c in survival_number_columns(milestones_of(analysis)) if c in frame.columns])
    turned = frame.set_index("Group").T.reset_index().rename(columns={"index": ""})
    turned.columns.name = None
    return turned.astype(str)


def survival_table(analysis: SurvivalAnalysis) -> pd.DataFrame:
    """n, events, median (CI), 6- and 12-month rates (CI) per curve; TooFewPatients rows say why.

    The formatted columns are for reading; the numeric columns after them (`survival_numbers`)
    are the same figures for analysis, empty where there is no estimate.
    """
    rows = []
    for curve in analysis.curves:
        if isinstance(curve, TooFewPatients):
            rows.append({"Group": curve.what.split(" — ")[-1], "n": curve.n, "Events": DASH,
                         "Median, months (95% CI)": DASH,
                         **{f"{m:g} months (95% CI)": DASH for m in milestones_of(analysis)}, "Note": curve.reason})
            continue
        row = {"Group": curve.label, "n": curve.n, "Events": curve.events,
               "Median, months (95% CI)": median_text(curve.median, curve)}
        for months in milestones_of(analysis):
            try:
                row[f"{months:g} months (95% CI)"] = landmark_text(curve.landmark(months))
            except KeyError:
                row[f"{months:g} months (95% CI)"] = DASH
        note = []
        if curve.excluded:
            note.append(f"{curve.excluded} without a usable date left out")
        row["Note"] = "; ".join(note)
        rows.append(row)
    frame = pd.DataFrame(rows)
    if "Note" in frame and not frame["Note"].astype(bool).any():
        frame = frame.drop(columns="Note")
    if frame.empty:
        return frame
    milestones = milestones_of(analysis)
    numbers = pd.DataFrame([survival_numbers(curve, milestones) for curve in analysis.curves],
                           columns=survival_number_columns(milestones))
    counts = ["n_events", *(c for c in numbers.columns if c.startswith("at_risk_"))]
    numbers[counts] = numbers[counts].astype("Int64")       # whole numbers stay whole next to empty cells
    return pd.concat([frame, numbers], axis=1)


def comparison_text(comparison: GroupComparison | None) -> tuple[str, bool]:
    """(markdown, shown): the log-rank line, or why it is suppressed (the reason names a group: data)."""
    if comparison is None:
        return "Log-rank needs a grouping with at least two groups.", False
    if comparison.suppressed_reason:
        return f"Log-rank not shown: {markdown_text(comparison.suppressed_reason)}.", False
    return (f"Exploratory log-rank: χ² = {comparison.statistic:.2f}, df = {comparison.degrees_of_freedom}, "
            f"p = {comparison.p_value:.3f} — {markdown_text(comparison.method)}. The paper did no significance "
            "testing; with groups this small, read it as a description, not evidence.", True)


def subgroup_table(rows: Sequence[SubgroupRate], *, title: str) -> pd.DataFrame:
    """One row per subgroup: n/N, %, exact 95% CI."""
    out = []
    for r in rows:
        res = r.rate
        out.append({title: r.label,
                    "n/N": DASH if isinstance(res, TooFewPatients) else f"{res.count}/{res.denominator}",
                    "%": percent_text(res), "95% CI (exact)": ci_text(res)})
    return pd.DataFrame(out)


def subgroup_tables(sections: Sequence[tuple[str, Sequence[SubgroupRate]]]) -> pd.DataFrame:
    """Several subgroup tables in one (for a download): a Grouping column, then Subgroup, n/N, %, CI."""
    frames = [subgroup_table(rows, title="Subgroup").assign(Grouping=title) for title, rows in sections]
    if not frames:
        return pd.DataFrame(columns=["Grouping", "Subgroup", "n/N", "%", "95% CI (exact)"])
    combined = pd.concat(frames, ignore_index=True)
    return combined[["Grouping", *[c for c in combined.columns if c != "Grouping"]]]


def composition_table(composition: ResponseComposition) -> pd.DataFrame:
    """Best response: one row per category, n/N and % of all patients in the slice."""
    n = composition.n
    return pd.DataFrame([{"Best response": name, "n/N": f"{k}/{n}",
                          "%": f"{format_percent(100 * k / n, 1)}%" if n else DASH}
                         for name, k in composition.as_rows()])


def table(frame: pd.DataFrame, view: View, *, key: str | None = None, static: bool = False) -> None:
    """A table: static (every row visible, no grid) in presenter mode or when asked, compact otherwise.

    Rows keep the order they come in (the caller's, fixed); a missing value reads "—", never "None".
    """
    if frame.empty:
        st.caption("Nothing to list for this slice.")
        return
    if view.presenter or static or len(frame) <= STATIC_ROWS:
        st.table(markdown_table(frame))
    else:
        st.dataframe(frame, hide_index=True, key=key, placeholder=DASH)


def markdown_table(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` ready for st.table, which renders every cell and header as markdown: text escaped (so
    "<1.8" or a centre's name read as written, never as markup or a link), missing values "—",
    and the first column as the row labels."""
    shown = frame.map(_table_cell)
    shown.columns = [markdown_text(str(c)) for c in shown.columns]
    return shown.set_index(shown.columns[0])


def _table_cell(value: object) -> object:
    if isinstance(value, str):
        return markdown_text(value)
    if value is None or (not isinstance(value, (list, tuple, dict)) and pd.isna(value)):
        return DASH
    return value


def grouped(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Blank a repeated label (a variable's name on its 2nd, 3rd… category row), as printed tables do."""
    repeated = frame[column].eq(frame[column].shift())
    return frame.assign(**{column: frame[column].where(~repeated, "")})


def estimate_table(rows: Sequence[tuple[str, ProportionEstimate | TooFewPatients, str]], title: str) -> pd.DataFrame:
    """Named proportions with their denominators: label, n/N, %, exact 95% CI, who N counts.

    Each row is (label, result, population); the population names an empty denominator ("no
    patients with CRi in this slice") when there is no estimate.
    """
    out = []
    for label, res, population in rows:
        if isinstance(res, TooFewPatients):
            out.append({title: label, "n/N": DASH, "%": DASH, "95% CI (exact)": DASH,
                        "Denominator": f"no {population} in this slice"})
        else:
            out.append({title: label, "n/N": f"{res.count}/{res.denominator}", "%": f"{res.percent()}%",
                        "95% CI (exact)": ci_text(res), "Denominator": res.population})
    return pd.DataFrame(out)


PAPER_STATUS_MARK = {"exact": "✓ exact", "metadata": "· metadata", "mismatch": "✗ mismatch"}


def paper_figures_table(figures: Sequence[Any]) -> pd.DataFrame:
    """Paper-check figures (core.paper_check.PaperFigure): published vs computed, status, conflict, source."""
    return pd.DataFrame([{
        "ID": f.target_id, "Figure": f.figure, "Published": f.published, "Computed": f.computed,
        "Status": PAPER_STATUS_MARK.get(f.status, f"! {f.status}"), "Conflict": f.conflict or "",
        "Where": f.where,
    } for f in figures])


def paper_check_table(check: Any) -> pd.DataFrame:
    """Every figure of a paper check in one table (for a download), the paper's section first."""
    frames = [paper_figures_table(items).assign(Section=section) for section, items in check.by_section() if items]
    if not frames:
        return pd.DataFrame()
    combined = pd.concat(frames, ignore_index=True)
    return combined[["Section", *[c for c in combined.columns if c != "Section"]]]


SURVIVAL_MILESTONES = (6.0, 12.0)   # months of the survival table's landmark columns, unless chosen


def milestones_of(analysis: SurvivalAnalysis) -> tuple[float, ...]:
    """The milestones the analysis was estimated at (the user's choice), else the defaults."""
    fitted = analysis.fitted
    return tuple(rate.months for rate in fitted[0].landmarks) if fitted else SURVIVAL_MILESTONES


def survival_number_columns(milestones: tuple[float, ...] = SURVIVAL_MILESTONES) -> list[str]:
    """The survival table's numeric columns: events, the median and its CI in months, and for each
    milestone S(t) with its CI (proportions, 0–1) and the number at risk."""
    columns = ["n_events", "median_months", "median_lower_months", "median_upper_months"]
    for months in milestones:
        columns += [f"survival_{months:g}mo", f"survival_{months:g}mo_lower", f"survival_{months:g}mo_upper",
                    f"at_risk_{months:g}mo"]
    return columns


def survival_numbers(curve: SurvivalCurve | TooFewPatients,
                     milestones: tuple[float, ...] = SURVIVAL_MILESTONES) -> dict[str, float | int | None]:
    """One curve's figures as numbers (None where there is none: a median or a bound not reached,
    a milestone beyond follow-up, a group too small for a curve)."""
    out: dict[str, float | int | None] = dict.fromkeys(survival_number_columns(milestones))
    if isinstance(curve, TooFewPatients):
        return out
    out.update(n_events=curve.events, median_months=curve.median.value, median_lower_months=curve.median.lower,
               median_upper_months=curve.median.upper)
    for months in milestones:
        try:
            rate = curve.landmark(months)
        except KeyError:
            continue
        out[f"survival_{months:g}mo"] = rate.estimate
        out[f"survival_{months:g}mo_lower"] = rate.lower
        out[f"survival_{months:g}mo_upper"] = rate.upper
        out[f"at_risk_{months:g}mo"] = rate.at_risk
    return out

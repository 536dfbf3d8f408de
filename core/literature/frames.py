"""The literature as tables a reader (and an exported file) can take in: plain pandas frames of text.

Each frame keeps the citation of every figure in a column of its own, so a row copied out of the
table still says where its figure comes from; the pages put `PUBLISHED_LABEL` over every one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from core.literature.comparison import (
    NotDrawn,
    PublishedPoint,
    citation,
    endpoint_words,
    figure_label,
    is_ino_arm,
    is_this_paper,
    published_proportion,
    short_citation,
    study_figures,
)
from core.literature.reference import PublishedFigure, discrepancies, figure, read_reference
from core.literature.table9 import TABLE9_HEADER, Table9Row, table9_rows

DASH = "—"
VERIFIED_WORDS: dict[str, str] = {
    "yes": "read in the source",
    "secondary": "read in a report of the source",
    "no": "as the paper quotes it (source not retrieved)",
}
# Table 9's figure columns, whose cells can differ between the printed and the supported table
TABLE9_FIGURE_COLUMNS: tuple[str, ...] = ("CD22 positivity", "CR/CRi", "Median OS (months)",
                                          "Duration of remission (months)")
SIDE_BY_SIDE_ENDPOINTS: tuple[str, ...] = ("cr_cri", "os_median", "vod", "hsct_rate")


def reference_frame(*, studies: Sequence[str] | None = None,
                    endpoints: Sequence[str] | None = None) -> pd.DataFrame:
    """Every published figure of the chosen studies and endpoints (all when None), in file order."""
    rows = []
    for f in read_reference():
        if (studies and f.study_key not in studies) or (endpoints and f.endpoint not in endpoints):
            continue
        rows.append({
            "Study": f.study.label, "Arm": f.arm, "Figure": endpoint_words(f.endpoint),
            "Value": f.format_value() + ("" if f.unit == "%" or f.unit == "ratio" else f" {f.unit}"),
            "CI": f.format_ci() or DASH, "Time point": f.time_point or DASH, "Definition": f.definition,
            "CI method": f.ci_method or DASH, "Checked": VERIFIED_WORDS[f.verified], "Source": citation(f),
            "Row": f.row_id,
        })
    return pd.DataFrame(rows, columns=["Study", "Arm", "Figure", "Value", "CI", "Time point", "Definition",
                                       "CI method", "Checked", "Source", "Row"])


def _cell_text(column: str, lines: tuple[str, ...]) -> str:
    """A Table 9 cell's lines on one line: "CR 9/49 (18%); CRi 4/49 (8%)"."""
    if not lines:
        return DASH
    if column == "CR/CRi" and len(lines) % 2 == 0:
        return "; ".join(f"{lines[i]} {lines[i + 1]}" for i in range(0, len(lines), 2))
    return " ".join(lines)


def table9_frame(*, as_printed: bool) -> pd.DataFrame:
    """Table 9 with a row per study: as the paper printed it, or as its sources support it."""
    return pd.DataFrame([{column: _cell_text(column, cell) for column, cell in zip(TABLE9_HEADER, row.cells())}
                         for row in table9_rows(as_printed=as_printed)], columns=list(TABLE9_HEADER))


def table9_differences_frame() -> pd.DataFrame:
    """Each Table 9 cell whose printed text the sources do not support, beside what they do support."""
    printed: dict[str, Table9Row] = {r.study_key: r for r in table9_rows(as_printed=True)}
    rows = []
    for supported in table9_rows():
        was = printed[supported.study_key]
        for column in TABLE9_FIGURE_COLUMNS:
            i = TABLE9_HEADER.index(column)
            before, after = _cell_text(column, was.cells()[i]), _cell_text(column, supported.cells()[i])
            if before == after:
                continue
            ids = [d.discrepancy_id for d in discrepancies(study=supported.study_key)
                   if d.table9_column == column]
            rows.append({"Study": supported.study, "Column": column, "As printed": before,
                         "As the sources support": after, "Discrepancy": ", ".join(ids) or DASH})
    return pd.DataFrame(rows, columns=["Study", "Column", "As printed", "As the sources support", "Discrepancy"])


def discrepancies_frame(*, studies: Sequence[str] | None = None) -> pd.DataFrame:
    """What the paper quotes that its sources do not support, with the evidence and the sources cited."""
    rows = []
    for d in discrepancies():
        if studies and d.study_key not in studies:
            continue
        sources = "; ".join(dict.fromkeys(short_citation(figure(r)) for r in d.reference_rows))
        rows.append({"ID": d.discrepancy_id, "Where in the paper": d.paper_locator, "The paper prints": d.paper_text,
                     "Problem": d.kind, "Evidence": d.evidence, "Sources": sources or DASH})
    return pd.DataFrame(rows, columns=["ID", "Where in the paper", "The paper prints", "Problem", "Evidence",
                                       "Sources"])


def rate_text(f: PublishedFigure) -> tuple[str, str, str]:
    """(value, CI, CI method) of a published percentage: the published CI, an exact one, or why none."""
    rate = published_proportion(f)
    if isinstance(rate, NotDrawn):
        return f.format_value(), DASH, rate.reason
    ci = f"{100 * rate.lower:.1f}–{100 * rate.upper:.1f}"
    return f"{rate.count}/{rate.denominator} ({f.estimate}%)", f"{round(100 * rate.conf_level):d}% CI {ci}", rate.method


def published_rates_frame(endpoints: Sequence[str] = ("vod", "hsct_rate"),
                          studies: Sequence[str] | None = None) -> pd.DataFrame:
    """Published rates of InO-treated patients (VOD and HSCT by default) for a table beside the cohort's.

    Each row names its own definition and denominator: a VOD after HSCT among the transplanted is not
    a VOD among all treated patients.
    """
    rows = []
    for f in read_reference():
        if f.endpoint not in endpoints or f.unit != "%" or not is_ino_arm(f) or is_this_paper(f):
            continue
        if studies is not None and f.study_key not in studies:
            continue
        value, ci, method = rate_text(f)
        rows.append({"Study": f.study.label, "Arm": f.arm, "Figure": endpoint_words(f.endpoint),
                     "Definition": f.definition, "n/N (%)": value, "CI": ci, "CI method": method,
                     "Checked": VERIFIED_WORDS[f.verified], "Source": citation(f)})
    return pd.DataFrame(rows, columns=["Study", "Arm", "Figure", "Definition", "n/N (%)", "CI", "CI method",
                                       "Checked", "Source"])


def published_points_frame(points: Sequence[PublishedPoint]) -> pd.DataFrame:
    """The published survival figures drawn on a Kaplan–Meier chart, each with its CI and source."""
    rows = [{"Study": p.study, "Figure": p.text, "Checked": VERIFIED_WORDS[p.verified], "Source": p.citation}
            for p in points]
    return pd.DataFrame(rows, columns=["Study", "Figure", "Checked", "Source"])


def published_cr_cri_frame(found: Sequence[PublishedFigure]) -> pd.DataFrame:
    """The published CR/CRi rows drawn on the forest chart: the rate, its CI and where the CI comes from."""
    rows = []
    for f in found:
        rate = published_proportion(f)
        if isinstance(rate, NotDrawn):
            continue
        source = "as published" if rate.method.startswith("as published") else "exact, from n/N"
        if "count derived" in rate.method:
            source += "; n derived from the %"
        rows.append({"Published": figure_label(f), "n/N (%)": f"{rate.count}/{rate.denominator} ({f.estimate}%)",
                     "95% CI": ("" if round(100 * rate.conf_level) == 95 else f"{round(100 * rate.conf_level):d}% CI ")
                     + f"{100 * rate.lower:.1f}–{100 * rate.upper:.1f}",
                     "CI from": source, "Definition": f.definition, "Source": short_citation(f)})
    return pd.DataFrame(rows, columns=["Published", "n/N (%)", "95% CI", "CI from", "Definition", "Source"])


def published_value_text(f: PublishedFigure) -> str:
    """A published figure in one cell: "88/109 (80.7%), 95% CI 72.1–87.7" or "7.7 mo (95% CI 6.0–9.2)"."""
    if f.unit == "%":
        value, ci, _ = rate_text(f)
        return value if ci == DASH else f"{value}, {ci}"
    ci = f.format_ci()
    unit = " mo" if f.unit == "months" else ""
    return f"{f.format_value()}{unit}" + (f" ({ci})" if ci else "")


def side_by_side_frame(study_keys: Sequence[str], cohort: Mapping[str, tuple[str, str]]) -> pd.DataFrame:
    """The study's published figures beside the cohort's for the same endpoints.

    `cohort` maps an endpoint key of SIDE_BY_SIDE_ENDPOINTS to (the cohort's figure in words, its
    definition). A study may give several figures of one endpoint (two reports, two arms of one
    population); the cohort's figure is written on the first of them.
    """
    rows = []
    for key in SIDE_BY_SIDE_ENDPOINTS:
        found = study_figures(study_keys, key)
        ours, our_definition = cohort.get(key, (DASH, ""))
        if not found:
            rows.append({"Figure": endpoint_words(key), "Published": "not reported", "Study's definition": DASH,
                         "This cohort (comparable slice)": ours, "Cohort's definition": our_definition,
                         "Source": DASH})
            continue
        for i, f in enumerate(found):
            rows.append({"Figure": endpoint_words(key) if i == 0 else "",
                         "Published": f"{f.study.label}: {published_value_text(f)}",
                         "Study's definition": f.definition,
                         "This cohort (comparable slice)": ours if i == 0 else "",
                         "Cohort's definition": our_definition if i == 0 else "", "Source": short_citation(f)})
    return pd.DataFrame(rows, columns=["Figure", "Published", "Study's definition", "This cohort (comparable slice)",
                                       "Cohort's definition", "Source"])


__all__ = ["SIDE_BY_SIDE_ENDPOINTS", "TABLE9_FIGURE_COLUMNS", "VERIFIED_WORDS", "discrepancies_frame", "published_points_frame",
           "published_cr_cri_frame", "published_rates_frame", "published_value_text", "rate_text",
           "reference_frame", "side_by_side_frame", "table9_differences_frame", "table9_frame"]

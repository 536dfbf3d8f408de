"""Published figures made ready to stand beside the cohort's: rates with CIs, survival points, citations.

Everything here reads the reference table (reference.csv) and nothing else: no cohort, no SQL. A
published rate becomes a `ProportionEstimate` so that the charts and tables that show the cohort's
rates can show it too, and each says where its interval comes from:

* the interval the source printed, when it printed one (`method` = "as published (method not stated)");
* otherwise the exact (Clopper–Pearson) interval of the published count and denominator, computed
  here (`method` names it); a count the source did not print but that is the only whole count giving
  the printed percentage of the printed denominator is used and said to be derived;
* no interval at all when the source gave no denominator: such a figure is listed as not drawn,
  with the reason, never drawn with an invented interval.

A published figure is never an arm of a trial that randomised this cohort: every view of these
figures carries `PUBLISHED_LABEL` and the figure's citation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from core.literature.reference import PublishedFigure, figures, percent_consistent, read_reference
from core.response import SubgroupRate
from core.results import CLOPPER_PEARSON, ProportionEstimate, clopper_pearson

PUBLISHED_LABEL = "Published, not randomised against this cohort; populations differ"
PUBLISHED_SECTION = "Published (not randomised against this cohort)"
UNVERIFIED_MARK = "†"
UNVERIFIED_NOTE = f"{UNVERIFIED_MARK} as the paper quotes it; the source itself was not retrieved"
THIS_PAPER = "this paper"

# The reference table's endpoint keys in a reader's words.
ENDPOINT_WORDS: dict[str, str] = {
    "cr_cri": "CR/CRi", "cr": "CR", "cri": "CRi", "crp": "CRp", "marrow_cr": "marrow CR",
    "overall_response": "overall response", "mrd_negativity": "MRD negativity", "deep_response": "deep response",
    "os_median": "median OS", "os_rate": "OS rate", "os_hazard_ratio": "OS hazard ratio",
    "pfs_median": "median PFS", "rfs_median": "median RFS", "dor_median": "median duration of remission",
    "hsct_rate": "HSCT", "vod": "VOD/SOS", "liver_toxicity_g34": "grade 3/4 liver toxicity",
    "cd22_expression": "CD22 expression",
}


def endpoint_words(key: str) -> str:
    return ENDPOINT_WORDS.get(key, key.replace("_", " "))


def is_this_paper(f: PublishedFigure) -> bool:
    """The paper's own figures: the cohort itself, checked on the Paper check page, not compared with."""
    return f.study.cited_as == THIS_PAPER


def is_ino_arm(f: PublishedFigure) -> bool:
    """Patients given InO (a whole arm or a subgroup of it), not a comparator arm or a between-arm ratio."""
    return f.arm.startswith("InO") and " vs " not in f.arm


def is_whole_ino_arm(f: PublishedFigure) -> bool:
    """All patients given InO in the study: the arm itself, not a subgroup of it ("InO, salvage 2")."""
    return is_ino_arm(f) and ("," not in f.arm or f.arm.endswith(("all treated", "safety population")))


def citation(f: PublishedFigure) -> str:
    """"Kantarjian et al., 2016 — New England Journal of Medicine · 2016 · abstract … · doi:…"."""
    source = f.source.cite() or "source not retrieved"
    return f"{f.study.label} — {source}"


def short_citation(f: PublishedFigure) -> str:
    """"Kantarjian et al., 2016 — New England Journal of Medicine 2016, doi:10.1056/NEJMoa1509277" (for a
    chart's caption; tables carry `citation`, with where in the source)."""
    journal = f"{f.source.journal} {f.source.year or ''}".strip() if f.source.journal else ""
    where = journal or f.source.locator
    return f"{f.study.label} — {where}" + (f", doi:{f.source.doi}" if f.source.doi else "")


def citations(found: Sequence[PublishedFigure], *, short: bool = False) -> tuple[str, ...]:
    """Each source once, in the order the figures come."""
    cite = short_citation if short else citation
    return tuple(dict.fromkeys(cite(f) for f in found))


def short_study(f: PublishedFigure) -> str:
    """The study as a chart row names it: "Kantarjian et al., 2016" → "Kantarjian 2016",
    "Reference 2 (Indian compassionate-use study, …)" → "Reference 2"."""
    label = f.study.label.split(" (")[0]
    found = re.match(r"^(\S+) et al\., (\d{4})$", label)
    return f"{found.group(1)} {found.group(2)}" if found else label


def figure_label(f: PublishedFigure) -> str:
    """"Kantarjian et al., 2016 · InO" (a † when the source was not retrieved)."""
    mark = f" {UNVERIFIED_MARK}" if f.verified == "no" else ""
    return f"{short_study(f)} · {f.arm}{mark}"


# ---------------------------------------------------------------------------------------------- rates
@dataclass(frozen=True)
class NotDrawn:
    """A published figure that cannot be shown as a rate with an interval, and why."""

    figure: PublishedFigure
    reason: str

    def describe(self) -> str:
        """"Torrent et al., 2023 (InO): 64% — no denominator published, …" (no " · ": captions split there)."""
        f = self.figure
        mark = f" {UNVERIFIED_MARK}" if f.verified == "no" else ""
        return f"{short_study(f)} ({f.arm}){mark}: {f.format_value()} — {self.reason}"


@dataclass(frozen=True)
class PublishedRates:
    """Published rates of one endpoint as the cohort's rates are held (SubgroupRate), with the rest."""

    endpoint: str
    rows: tuple[SubgroupRate, ...]
    figures: tuple[PublishedFigure, ...]     # the figure behind each row, in the same order
    not_drawn: tuple[NotDrawn, ...]

    @property
    def citations(self) -> tuple[str, ...]:
        """The drawn rows' sources, short (for a caption)."""
        return citations(self.figures, short=True)

    @property
    def any_unverified(self) -> bool:
        return any(f.verified == "no" for f in self.figures)


def published_count(f: PublishedFigure) -> tuple[int | None, str]:
    """(count, how it is known): printed, derived in the reference table, derived here, or None."""
    if f.count is not None:
        return f.count, "derived from the printed percentage" if "count" in f.derived else "printed"
    if f.denominator is None:
        return None, ""
    fitting = [k for k in range(f.denominator + 1) if percent_consistent(k, f.denominator, f.estimate)]
    if len(fitting) == 1:
        return fitting[0], "derived from the printed percentage"
    return None, ""


def published_proportion(f: PublishedFigure) -> ProportionEstimate | NotDrawn:
    """A published percentage as a ProportionEstimate with the published CI, else an exact one."""
    if f.unit != "%":
        raise ValueError(f"{f.row_id}: {f.unit!r} is not a percentage")
    count, how = published_count(f)
    if f.denominator is None:
        return NotDrawn(f, "no denominator published, so no interval can be given")
    if count is None:
        return NotDrawn(f, f"no whole count of {f.denominator} gives {f.estimate}%")
    level = float(f.ci_level) if f.ci_level is not None else 0.95
    derived = f"; count {how}" if how.startswith("derived") else ""
    population = f.definition
    if f.ci_lower is not None and f.ci_upper is not None:
        return ProportionEstimate(label=figure_label(f), count=count, denominator=f.denominator,
                                  estimate=float(f.estimate / Decimal(100)), lower=float(f.ci_lower / 100),
                                  upper=float(f.ci_upper / 100), population=population, conf_level=level,
                                  method=f"as published (method {_stated(f.ci_method)}){derived}")
    lower, upper = clopper_pearson(count, f.denominator, level)
    return ProportionEstimate(label=figure_label(f), count=count, denominator=f.denominator,
                              estimate=float(f.estimate / Decimal(100)), lower=lower, upper=upper,
                              population=population, conf_level=level,
                              method=f"{CLOPPER_PEARSON} from {count}/{f.denominator}, computed here{derived}")


def _stated(method: str) -> str:
    return "not stated" if not method or method == "not stated" else method


def published_rates(endpoint: str, studies: Sequence[str] | None = None, *,
                    whole_arm: bool = False) -> PublishedRates:
    """The InO arms' published `endpoint` rates of the chosen studies (all but the paper's own by default)."""
    chosen = [f for f in read_reference()
              if f.endpoint == endpoint and f.unit == "%" and is_ino_arm(f) and not is_this_paper(f)
              and (studies is None or f.study_key in studies) and (not whole_arm or is_whole_ino_arm(f))]
    rows: list[SubgroupRate] = []
    shown: list[PublishedFigure] = []
    not_drawn: list[NotDrawn] = []
    for f in chosen:
        rate = published_proportion(f)
        if isinstance(rate, NotDrawn):
            not_drawn.append(rate)
            continue
        rows.append(SubgroupRate(grouping="published", value=f.row_id, label=rate.label, rate=rate))
        shown.append(f)
    return PublishedRates(endpoint=endpoint, rows=tuple(rows), figures=tuple(shown), not_drawn=tuple(not_drawn))


def published_cr_cri(studies: Sequence[str] | None = None) -> PublishedRates:
    """Published CR/CRi of InO-treated patients, as forest rows (the Response page's overlay)."""
    return published_rates("cr_cri", studies)


def overlay_studies(endpoint: str = "cr_cri") -> tuple[str, ...]:
    """Study keys with at least one published InO `endpoint` figure (drawable or not), in file order."""
    return tuple(dict.fromkeys(f.study_key for f in read_reference()
                               if f.endpoint == endpoint and is_ino_arm(f) and not is_this_paper(f)))


# ---------------------------------------------------------------------------------------------- survival
@dataclass(frozen=True)
class PublishedPoint:
    """A published survival figure as a point on a Kaplan–Meier chart.

    A median is the point (median, 0.5) with its CI along the time axis; a milestone rate is the
    point (time, rate) with its CI along the survival axis.
    """

    row_id: str
    study_key: str
    study: str                    # "Kantarjian et al., 2016"
    kind: str                     # "median" or "milestone"
    months: float
    survival: float               # 0.5 for a median
    lower: float | None           # months for a median, survival for a milestone
    upper: float | None           # None = not stated (or not reached: see upper_not_reached)
    upper_not_reached: bool
    text: str                     # "median OS 7.7 mo (95% CI 6.0–9.2)"
    citation: str                 # short: journal, year, DOI
    verified: str


def published_survival_points(studies: Sequence[str] | None = None, *,
                              endpoint: str = "os") -> tuple[PublishedPoint, ...]:
    """Published median and milestone OS of InO-treated patients (all but the paper's own by default).

    Figures of another definition (OS censored at HSCT) are left out: they are not the same curve.
    """
    if endpoint != "os":
        raise ValueError(f"Published survival points are kept for overall survival only, not {endpoint!r}")
    out: list[PublishedPoint] = []
    for f in read_reference():
        if f.endpoint not in ("os_median", "os_rate") or not is_whole_ino_arm(f) or is_this_paper(f):
            continue
        if (studies is not None and f.study_key not in studies) or "censored" in f.definition:
            continue
        ci = f.format_ci()
        mark = f" {UNVERIFIED_MARK}" if f.verified == "no" else ""
        if f.endpoint == "os_median":
            out.append(PublishedPoint(
                row_id=f.row_id, study_key=f.study_key, study=short_study(f) + mark, kind="median",
                months=float(f.estimate), survival=0.5, lower=_float(f.ci_lower), upper=_float(f.ci_upper),
                upper_not_reached=f.ci_upper_not_reached,
                text=f"median OS {f.estimate} mo" + (f" ({ci})" if ci else ""), citation=short_citation(f),
                verified=f.verified))
        else:
            months = _months(f.time_point)
            if months is None:
                continue
            out.append(PublishedPoint(
                row_id=f.row_id, study_key=f.study_key, study=short_study(f) + mark, kind="milestone",
                months=months, survival=float(f.estimate) / 100, lower=_float(f.ci_lower, 100),
                upper=_float(f.ci_upper, 100), upper_not_reached=False,
                text=f"OS at {f.time_point} {f.estimate}%" + (f" ({ci})" if ci else ""), citation=short_citation(f),
                verified=f.verified))
    return tuple(out)


def _float(value: Decimal | None, scale: int = 1) -> float | None:
    return None if value is None else float(value) / scale


def _months(time_point: str) -> float | None:
    number, _, unit = time_point.partition(" ")
    try:
        return float(number) if unit.startswith("month") else None
    except ValueError:
        return None


def study_figures(study_keys: Sequence[str], endpoint: str) -> tuple[PublishedFigure, ...]:
    """The whole InO arm's published `endpoint` figures of these studies (for a side-by-side table)."""
    return tuple(f for key in study_keys for f in figures(study=key, endpoint=endpoint) if is_whole_ino_arm(f))


__all__ = [
    "ENDPOINT_WORDS", "PUBLISHED_LABEL", "PUBLISHED_SECTION", "UNVERIFIED_MARK", "UNVERIFIED_NOTE", "NotDrawn",
    "PublishedPoint", "PublishedRates", "citation", "citations", "endpoint_words", "figure_label", "is_ino_arm",
    "is_this_paper", "is_whole_ino_arm", "short_citation", "short_study", "overlay_studies", "published_count", "published_cr_cri",
    "published_proportion", "published_rates", "published_survival_points", "study_figures",
]

"""What an exported file says about itself: which patients, which definitions, which product.

An exported chart or table leaves the dashboard and travels into slides, papers and e-mails, where
nobody can see the sidebar. A `Provenance` is the record that goes with it, in the file itself:

* the slice in words (`FilterSpec.describe()`) and its n (of the cohort's total);
* n analysed and n excluded (with the reason), for the one result the file shows;
* the endpoint and censoring definitions and the CI method in force;
* the data label, and "Reconstructed cohort — not real patient data" for the default cohort
  (`study_meta.reconstructed = true`);
* small-cell suppression, when it is on (counts below the threshold are printed as "<5");
* the product version and the export date.

`slice_provenance()` builds the record for a slice; `for_survival()`, `for_proportion()`,
`for_toxicity()`, `for_listing()` and `for_paper_check()` fill in what one result adds. All are
pure functions of their arguments: no SQL, no streamlit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from core.cumulative_incidence import CompetingRisksAnalysis
from core.endpoints import EndpointOptions, endpoint
from core.filters import DOSE_GROUP_LABELS, FilterSpec
from core.groupings import grouping
from core.results import CLOPPER_PEARSON, ProportionEstimate, TooFewPatients
from core.safety import ToxicityByHsct, toxicity_definitions
from core.survival import CI_METHOD as KM_CI_METHOD
from core.survival import KM_METHOD, SurvivalAnalysis, SurvivalCurve

PRODUCT_NAME = "InO R/R B-ALL real-world dashboard"
PRODUCT_VERSION = "0.1.0"
RECONSTRUCTED_TAG = "Reconstructed cohort — not real patient data"
DEFAULT_SUPPRESSION_THRESHOLD = 5


@dataclass(frozen=True)
class Provenance:
    """Everything an exported file must say about the numbers it carries."""

    slice_text: str                       # the slice in words, e.g. "Salvage 2–3 · blasts ≥ 50%"
    n_slice: int                          # patients in the slice
    n_total: int | None = None            # patients in the cohort (None = not known)
    n_analysed: int | None = None         # patients behind this result (None = the slice's n)
    n_excluded: int = 0                   # in the slice but not in this result
    excluded_reason: str = ""             # why they are not, e.g. "no usable date"
    analysis: str = ""                    # what the file shows, e.g. "Overall survival (Kaplan–Meier)"
    endpoint: str = ""                    # endpoint definition
    censoring: str = ""                   # censoring rule
    ci_method: str = ""                   # e.g. "95% Clopper–Pearson exact"
    data_label: str = ""                  # the cohort's label or file name
    reconstructed: bool = False           # the default, reconstructed cohort
    suppress_below: int | None = None     # small-cell suppression threshold (None = off)
    product_version: str = PRODUCT_VERSION
    exported_on: dt.date = field(default_factory=dt.date.today)
    spec: FilterSpec | None = None        # the slice itself (file names); None when not known

    def __post_init__(self) -> None:
        if self.suppress_below is not None and (not isinstance(self.suppress_below, int)
                                                or isinstance(self.suppress_below, bool)
                                                or not 2 <= self.suppress_below <= 100):
            raise ValueError(f"suppress_below must be a whole number from 2 to 100 (or None for off), "
                             f"not {self.suppress_below!r}")
        if self.n_slice < 0 or self.n_excluded < 0:
            raise ValueError(f"patient counts cannot be negative (n_slice={self.n_slice}, "
                             f"n_excluded={self.n_excluded})")

    # ------------------------------------------------------------------ derived text
    @property
    def n_result(self) -> int:
        return self.n_slice if self.n_analysed is None else self.n_analysed

    @property
    def n_text(self) -> str:
        if self.n_total is not None and self.n_total != self.n_slice:
            return f"n = {self.n_slice} of {self.n_total}"
        return f"n = {self.n_slice}"

    @property
    def caption(self) -> str:
        """The chart caption core.charts stamps: slice · n (· reconstructed tag)."""
        text = f"{self.slice_text} · {self.n_text}"
        return f"{text} · {RECONSTRUCTED_TAG}" if self.reconstructed else text

    @property
    def suppression_text(self) -> str:
        if self.suppress_below is None:
            return "off (exact counts)"
        return (f"on: counts 1–{self.suppress_below - 1} shown as <{self.suppress_below} "
                "(with their percentages and CIs) in tables and chart labels")

    def analysed_text(self) -> str:
        text = f"{self.n_result} analysed"
        if self.n_excluded:
            text += f", {self.n_excluded} excluded" + (f" ({self.excluded_reason})" if self.excluded_reason else "")
        else:
            text += ", 0 excluded"
        return text

    def items(self) -> list[tuple[str, str]]:
        """(key, value) pairs, in reading order; empty definitions are left out."""
        out: list[tuple[str, str]] = []
        if self.reconstructed:
            out.append(("Data", RECONSTRUCTED_TAG))
        if self.data_label:
            out.append(("Cohort", self.data_label))
        out.append(("Slice", f"{self.slice_text} · {self.n_text}"))
        if self.analysis:
            out.append(("Analysis", self.analysis))
        out.append(("Patients", self.analysed_text()))
        if self.endpoint:
            out.append(("Endpoint", self.endpoint))
        if self.censoring:
            out.append(("Censoring", self.censoring))
        if self.ci_method:
            out.append(("CI method", self.ci_method))
        out.append(("Small-cell suppression", self.suppression_text))
        out.append(("Product", f"{PRODUCT_NAME} {self.product_version}"))
        out.append(("Exported", self.exported_on.isoformat()))
        return out

    def lines(self) -> list[str]:
        """One "Key: value" line per item (for footers and side files)."""
        return [f"{k}: {v}" for k, v in self.items()]

    def compact_line(self, *, product: bool = True) -> str:
        """The provenance in one line: slice · n (· analysed/excluded) (· reconstructed) (· product · date).

        For a caption under a figure, a slide's footer and a PDF's Subject; the full record is
        `lines()`. Excluded patients are named only when there are some.
        """
        parts = [self.slice_text, self.n_text]
        if self.n_excluded:   # the reason is in the full record
            parts.append(f"{self.n_result} analysed, {self.n_excluded} excluded")
        if self.reconstructed:
            parts.append(RECONSTRUCTED_TAG)
        if self.suppress_below is not None:
            parts.append(f"counts below {self.suppress_below} suppressed")
        if product:
            parts += [f"{PRODUCT_NAME} {self.product_version}", f"exported {self.exported_on.isoformat()}"]
        return " · ".join(parts)

    def text_file(self) -> str:
        """The provenance as a side file (`.txt`) that travels with an image or a table."""
        title = self.analysis or "Export"
        return f"{title}\n{'=' * len(title)}\n" + "".join(line + "\n" for line in self.lines())

    def with_(self, **changes: Any) -> Provenance:
        return replace(self, **changes)


# ---------------------------------------------------------------------------------- constructors
def is_reconstructed(meta: Mapping[str, str]) -> bool:
    """The default cohort says so in study_meta: reconstructed = true."""
    return str(meta.get("reconstructed", "")).strip().lower() == "true"


def slice_provenance(spec: FilterSpec, *, n_slice: int, n_total: int | None = None,
                     meta: Mapping[str, str] | None = None, data_label: str = "",
                     suppress_below: int | None = None, exported_on: dt.date | None = None) -> Provenance:
    """The provenance of a slice; specialise it per result with the `for_*` functions."""
    meta = meta or {}
    label = data_label or str(meta.get("label", "") or meta.get("title", ""))
    return Provenance(slice_text=spec.describe(), n_slice=int(n_slice),
                      n_total=None if n_total is None else int(n_total), data_label=label,
                      reconstructed=is_reconstructed(meta), suppress_below=suppress_below,
                      exported_on=exported_on or dt.date.today(), spec=spec)


def for_survival(base: Provenance, analysis: SurvivalAnalysis) -> Provenance:
    """A Kaplan–Meier result: its endpoint and censoring rule, the CI method, n analysed and excluded."""
    fitted: list[SurvivalCurve] = analysis.fitted
    not_fitted = [c for c in analysis.curves if isinstance(c, TooFewPatients)]
    analysed = sum(c.n for c in fitted)
    excluded = sum(c.excluded for c in fitted)
    reasons = []
    if excluded:
        reasons.append("no usable time (missing or negative)")
    if not_fitted:
        excluded += sum(c.n for c in not_fitted)
        reasons.append("groups too small for a curve")
    entry = endpoint(analysis.endpoint)
    outside = base.n_slice - analysed - excluded
    if entry.population_sql != "TRUE" and outside > 0:
        excluded += outside
        reasons.append(f"not in the endpoint's population ({entry.population})")
    level = round((fitted[0].conf_level if fitted else analysis.conf_level) * 100)
    return base.with_(
        analysis=f"{analysis.title} — {KM_METHOD}" + ("" if analysis.grouping == "all"
                                                       else f", by {grouping(analysis.grouping).title.lower()}"),
        n_analysed=analysed, n_excluded=max(excluded, 0), excluded_reason="; ".join(reasons),
        endpoint=entry.subject(analysis.options), censoring=entry.censoring_text(analysis.options),
        ci_method=f"{level}% pointwise, {KM_CI_METHOD}")


def for_proportion(base: Provenance, estimate: ProportionEstimate | TooFewPatients, *, analysis: str,
                   endpoint: str = "") -> Provenance:
    """A rate with an exact CI (CR/CRi, MRD negativity, HSCT, a toxicity)."""
    if isinstance(estimate, TooFewPatients):
        return base.with_(analysis=analysis, endpoint=endpoint, n_analysed=estimate.n,
                          n_excluded=max(base.n_slice - estimate.n, 0))
    excluded = max(base.n_slice - estimate.denominator, 0)
    return base.with_(analysis=analysis, endpoint=endpoint, n_analysed=estimate.denominator,
                      n_excluded=excluded,
                      excluded_reason=f"denominator: {estimate.population}" if excluded else "",
                      ci_method=f"{round(estimate.conf_level * 100)}% {estimate.method}")


def for_toxicity(base: Provenance, table: ToxicityByHsct) -> Provenance:
    n = table.n_hsct + table.n_no_hsct_evaluable + table.n_not_evaluable
    first = table.rows[0].overall if table.rows else None
    level = round(first.conf_level * 100) if isinstance(first, ProportionEstimate) else 95
    return base.with_(
        analysis="Toxicity by HSCT status", n_analysed=table.n_hsct + table.n_no_hsct_evaluable,
        n_excluded=table.n_not_evaluable + max(base.n_slice - n, 0),
        excluded_reason="no HSCT and not safety-evaluable" if table.n_not_evaluable else "",
        endpoint=f"{toxicity_definitions()}. {table.denominator_note}",
        ci_method=f"{level}% {CLOPPER_PEARSON}")


def for_listing(base: Provenance, listing: pd.DataFrame, *, analysis: str = "Patient listing") -> Provenance:
    return base.with_(analysis=analysis, n_analysed=int(len(listing)),
                      n_excluded=max(base.n_slice - int(len(listing)), 0),
                      excluded_reason="beyond the listing limit" if len(listing) < base.n_slice else "")


def for_paper_check(base: Provenance, n_exact: int, n_counted: int) -> Provenance:
    return base.with_(analysis=f"Paper check: {n_exact} of {n_counted} published figures reproduced exactly",
                      ci_method="as printed in the paper (Clopper–Pearson exact for supplementary CIs)")


def for_incidence(base: Provenance, analysis: CompetingRisksAnalysis, endpoint_key: str,
                  options: EndpointOptions) -> Provenance:
    """A cumulative incidence with its competing event: the registry's definition, n analysed and the method."""
    entry = endpoint(endpoint_key)
    fitted = analysis.fitted
    analysed = sum(c.n for c in fitted)
    excluded = sum(c.excluded for c in fitted)
    outside = max(base.n_slice - analysed - excluded, 0)
    reasons = (["no usable time (an undated origin, or a missing or negative duration)"] if excluded else []) + (
        [f"not in the endpoint's population ({entry.population})"] if outside else [])
    level = round(analysis.conf_level * 100)
    method = fitted[0].method if fitted else entry.estimator
    ci = fitted[0].ci_method if fitted else ""
    return base.with_(analysis=f"{analysis.title} — {method}" + (
        "" if analysis.grouping == "all" else f", by {grouping(analysis.grouping).title.lower()}"),
        n_analysed=analysed, n_excluded=excluded + outside, excluded_reason="; ".join(reasons),
        endpoint=entry.subject(options), censoring=entry.censoring_text(options),
        ci_method=f"{level}% pointwise, {ci}")


# ---------------------------------------------------------------------------------- file names
MAX_ANALYSIS_SLUG = 40
MAX_SLICE_TAG = 60
MAX_CENTRE_SLUG = 24
_SYMBOLS = {"≥": " ge ", "≤": " le ", "<": " lt ", ">": " gt ", "+": " pos ", "&": " and "}
_DOSE_GROUP_TAGS = {"<1.8": "lt-1p8", "1.8": "1p8", ">1.8": "gt-1p8"}
_PH_TAGS = {"Ph+": "ph-pos", "Ph-": "ph-neg"}


def slug(text: str, limit: int = MAX_ANALYSIS_SLUG) -> str:
    """Lower-case ASCII words joined by "-", at most `limit` characters (cut between words).

    "Overall survival" → "overall-survival"; "Centre <b>Ünïcode</b> ≥ 2" → "centre-b-unicode-b-ge-2".
    Anything that is not a letter or a digit separates words, so no path, markup or shell
    character survives; text with no letter or digit at all gives "".
    """
    for symbol, word in _SYMBOLS.items():
        text = text.replace(symbol, word)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(words) <= limit:
        return words
    cut = words.rfind("-", 0, limit + 1)
    return words[:cut if cut > 0 else limit].strip("-")


def _number_tag(value: float) -> str:
    """50 → "50", 37.5 → "37p5" (a dot would read as an extension)."""
    return f"{value:g}".replace(".", "p").replace("-", "minus-")


def _range_tag(name: str, low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{name}-{_number_tag(low)}-to-{_number_tag(high)}"
    if low is not None:
        return f"{name}-ge-{_number_tag(low)}"
    return f"{name}-le-{_number_tag(high)}"  # type: ignore[arg-type]


def _centre_tag(centre: str) -> str:
    """A centre's name as a capped slug; a name with no letter or digit gets a short hash instead."""
    words = slug(centre, MAX_CENTRE_SLUG)
    return words or "h" + hashlib.sha1(centre.encode("utf-8")).hexdigest()[:6]


def slice_tag(spec: FilterSpec) -> str:
    """A short, filesystem-safe tag of the slice, in the order `FilterSpec.describe()` reads.

    FilterSpec(salvage_lines=(2, 3), blast_burden="high") → "salvage-2-3_blasts-ge-50"; the whole
    cohort → "all-patients". Deterministic; centre names are slugged and capped; a tag longer than
    MAX_SLICE_TAG is cut between parts and ends in a hash of the whole slice, so two slices that
    differ only in the cut part still get different names.
    """
    parts: list[str] = []
    if spec.salvage_lines:
        parts.append("salvage-" + "-".join(str(line) for line in sorted(set(spec.salvage_lines))))
    if spec.blast_burden != "all":
        parts.append(f"blasts-{'lt' if spec.blast_burden == 'low' else 'ge'}-{_number_tag(spec.blast_threshold)}")
    if spec.dose_groups:
        ordered = [g for g in DOSE_GROUP_LABELS if g in spec.dose_groups]
        parts.append("dose-" + "-or-".join(_DOSE_GROUP_TAGS[g] for g in ordered))
    if spec.dose_min_mg_m2 is not None or spec.dose_max_mg_m2 is not None:
        parts.append(_range_tag("dose", spec.dose_min_mg_m2, spec.dose_max_mg_m2))
    if spec.hsct is not None:
        parts.append("hsct" if spec.hsct else "no-hsct")
    if spec.age_min is not None or spec.age_max is not None:
        parts.append(_range_tag("age", spec.age_min, spec.age_max))
    if spec.sexes:
        parts.append("-or-".join({"F": "female", "M": "male"}[s] for s in sorted(set(spec.sexes))))
    if spec.centres:
        parts.append("centre-" + "-or-".join(_centre_tag(c) for c in sorted(set(spec.centres))))
    if spec.ph_statuses:
        parts.append("-or-".join(_PH_TAGS[s] for s in sorted(set(spec.ph_statuses))))
    if spec.disease_statuses:
        parts.append("-or-".join(slug(s) for s in sorted(set(spec.disease_statuses))))
    if spec.emd_baseline is not None:
        parts.append("emd" if spec.emd_baseline else "no-emd")
    if not parts:
        return "all-patients"
    if not spec.include_missing:
        parts.append("missing-excluded")
    tag = "_".join(parts)
    if len(tag) <= MAX_SLICE_TAG:
        return tag
    digest = hashlib.sha1(repr(spec).encode("utf-8")).hexdigest()[:8]
    room = MAX_SLICE_TAG - len(digest) - 1
    cut = tag.rfind("_", 0, room + 1)                  # between parts when one fits whole
    if cut <= 0:
        cut = tag.rfind("-", 0, room + 1)
    return f"{tag[:cut if cut > 0 else room].strip('-_')}_{digest}"


def file_stem(analysis: str, spec: FilterSpec | None) -> str:
    """The start of an exported file's name: the analysis and the slice, e.g.
    "overall-survival_salvage-2-3_blasts-ge-50" (the caller adds "_slide.png", ".csv", …).

    Pure and deterministic, made only of a–z, 0–9, "-" and "_" (at most ~100 characters);
    `spec` None (slice not known) leaves the slice out.
    """
    name = slug(analysis) or "export"
    return name if spec is None else f"{name}_{slice_tag(spec)}"

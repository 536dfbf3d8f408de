"""Comparable slices: a study's eligibility applied to the cohort as far as the cohort's columns allow.

`comparable_slice("inovate2016")` gives the `FilterSpec` that applies what can be applied (INO-VATE:
salvage 1 or 2), the criteria it matches and how, and the criteria it cannot match, each with why
(no CD22 filter, TKI failure not recorded, performance status not in the data contract, …). It
unpacks as `spec, matched, unmatched = comparable_slice(...)`.

A comparable slice narrows the cohort towards a study's population; it does not make the two
comparable in the sense of a trial: every figure beside it is published, not randomised against
this cohort, and the criteria it cannot match stay stated next to it.

Criteria come from the reference table's study fields (`source` names the field) or, marked
`checked=False`, from the trial's published eligibility as commonly summarised but not re-read in
a retrieved source. An unmatched criterion may name cohort measures (core.queries.MEASURES) that
count how many patients of the slice it concerns; the page fills `count_text` with them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from core.filters import FilterSpec
from core.literature.reference import studies

SalvageRule = tuple[int, ...] | int | None   # lines to keep; an int n = "line n and later"


@dataclass(frozen=True)
class Criterion:
    """One eligibility criterion of a study and what the comparable slice does with it."""

    text: str                         # the study's criterion: "first or second salvage"
    source: str                       # where it is stated
    matched: bool
    how: str                          # matched: how the slice applies it; not matched: why it cannot
    measures: tuple[str, ...] = ()    # core.queries.MEASURES keys that count the patients it concerns
    count_text: str = ""              # "{ph_positive_without_tki} Ph+ patients have no prior TKI recorded"
    checked: bool = True              # False: not re-read in a retrieved source


@dataclass(frozen=True)
class ComparableSlice:
    """A study's eligibility as a slice of the cohort: the spec, what it matches, what it cannot."""

    key: str                          # "inovate"
    title: str                        # "INO-VATE (Kantarjian et al., 2016; 2019)"
    study_keys: tuple[str, ...]       # reference-table studies whose figures this population gave
    spec: FilterSpec
    matched: tuple[Criterion, ...]
    unmatched: tuple[Criterion, ...]
    population: str                   # the study's population as its rows describe it
    notes: tuple[str, ...] = ()       # what the sources say about the population that is not a criterion

    def __iter__(self) -> Iterator[object]:
        """`spec, matched, unmatched = comparable_slice(...)`."""
        return iter((self.spec, list(self.matched), list(self.unmatched)))

    @property
    def applies_nothing(self) -> bool:
        return self.spec == FilterSpec()


# ---------------------------------------------------------------------------------------------- criteria
@dataclass(frozen=True)
class _Rule:
    text: str
    source: str
    how: str
    salvage: SalvageRule = None       # lines the slice keeps (None: this rule sets no salvage filter)
    matched: bool = True
    measures: tuple[str, ...] = ()
    count_text: str = ""
    checked: bool = True


_ADULTS_HOW = "every patient of a cohort is 18 or older (the data contract requires it); no filter needed"
_RR_HOW = "every patient is relapsed or refractory (the data contract's disease status); no filter needed"
_CD22_WHY = ("CD22 expression is recorded (cd22_pct) but the sidebar has no CD22 filter, so patients below "
             "the study's level would stay in the slice")
_CD22_MEASURES = ("cd22_reported", "cd22_positive")
_CD22_COUNT = "CD22 is recorded for {cd22_reported} of {n} patients in the slice; above 0% in {cd22_positive}"
_NOT_TRIAL = "the trial's published eligibility (N Engl J Med 2016, Methods), not re-read in a retrieved source"


def _adults(source: str) -> _Rule:
    return _Rule("adults (18 years or older)", source, _ADULTS_HOW)


def _relapsed_refractory(source: str) -> _Rule:
    return _Rule("relapsed or refractory ALL", source, _RR_HOW)


def _cd22(text: str, source: str, *, checked: bool = True) -> _Rule:
    return _Rule(text, source, _CD22_WHY, matched=False, measures=_CD22_MEASURES, count_text=_CD22_COUNT,
                 checked=checked)


@dataclass(frozen=True)
class _Eligibility:
    key: str
    title: str
    study_keys: tuple[str, ...]
    rules: tuple[_Rule, ...]
    notes: tuple[str, ...] = field(default=())


ELIGIBILITY: dict[str, _Eligibility] = {e.key: e for e in (
    _Eligibility(
        "inovate", "INO-VATE (Kantarjian et al., 2016; 2019; DeAngelo et al., 2020)",
        ("inovate2016", "inovate2019", "inovate_burden2020"),
        (_adults("reference table: age 'adults'"),
         _relapsed_refractory("reference table: population 'R/R ALL'"),
         _Rule("first or second salvage", "reference table: salvage lines 'salvage 1 or 2'",
               "salvage line 1 or 2 (the sidebar's Salvage line filter)", salvage=(1, 2)),
         _Rule("Ph-positive and Ph-negative disease", "reference table: Ph status 'Ph+ and Ph−'",
               "both Ph statuses are kept (no Ph filter)"),
         _Rule("Ph-positive disease only after failure of at least one second- or third-generation TKI and "
               "standard multi-agent induction", _NOT_TRIAL,
               "the cohort records how many TKIs a patient had before (prior_tki_count), not whether they "
               "failed, and the sidebar has no filter on it", matched=False,
               measures=("ph_positive", "ph_positive_without_tki"),
               count_text="{ph_positive} Ph+ patients in the slice; {ph_positive_without_tki} of them with no "
                          "prior TKI recorded", checked=False),
         _cd22("CD22-positive disease (at least 20% of blasts)", f"reference table: CD22 'CD22-positive'; "
               f"the 20% level from {_NOT_TRIAL}"),
         _Rule("at least 5% bone-marrow blasts", _NOT_TRIAL,
               "the sidebar's one blast threshold also splits every blast-burden subgroup (at the paper's "
               "50%); to apply this criterion set it to 5% and choose High", matched=False, checked=False),
         _Rule("ECOG performance status 0–2", _NOT_TRIAL, "performance status is not in the data contract",
               matched=False, checked=False)),
        notes=("The CR/CRi figures of 2016 are of the first 218 randomised (109 per arm); those of 2019 of "
               "all 326.",)),
    _Eligibility(
        "nct01363297", "NCT01363297 phase 1/2 (Advani et al., 2014; DeAngelo et al., 2017)",
        ("advani2014", "deangelo2017"),
        (_adults("reference table: population 'Adults with CD22-positive R/R ALL'"),
         _relapsed_refractory("reference table: population 'Adults with CD22-positive R/R ALL'"),
         _Rule("second or later salvage (phase 2)", "reference table: salvage lines 'second and later salvage "
               "(the paper's words)' — Advani et al., 2014 was not retrieved",
               "salvage line 2 or later (the sidebar's Salvage line filter)", salvage=2, checked=False),
         _cd22("CD22-positive disease", "reference table: CD22 'CD22-positive'")),
        notes=("DeAngelo et al., 2017 report all 72 treated patients (phases 1 and 2); Advani et al., 2014 the "
               "35 of phase 2, as the paper quotes them.",)),
    _Eligibility(
        "kantarjian2012", "Kantarjian et al., 2012 (phase 2, single dose)", ("kantarjian2012",),
        (_relapsed_refractory("reference table: population 'Adults and children with R/R ALL'"),
         _Rule("adults and children (median age 36, range 6–80 years)",
               "reference table: age 'median 36 y (range 6–80)'",
               "the cohort holds adults only (the data contract requires 18 or older): the study's children "
               "have no counterpart", matched=False),
         _cd22("CD22 positivity above 50% (Table 9)", "reference table: CD22 '>50%' (the paper's Table 9)")),
        notes=("Salvage lines are not stated in the retrieved abstract: the slice keeps every line.",)),
    _Eligibility(
        "kantarjian2013", "Kantarjian et al., 2013 (phase 2, single dose or weekly)", ("kantarjian2013",),
        (_relapsed_refractory("reference table: population 'R/R ALL'"),
         _cd22("CD22 positivity above 50% (Table 9)", "reference table: CD22 '>50%' (the paper's Table 9)"),
         _Rule("age", "reference table: age 'not stated in the abstract'",
               "the retrieved abstract states no age range, so whether children were included cannot be "
               "told", matched=False)),
        notes=("68% were in salvage 2 or beyond: a description of the patients, not a criterion, so the "
               "slice keeps every line.",)),
    _Eligibility(
        "torrent2023", "Torrent et al., 2023 (real-world study)", ("torrent2023",),
        (_relapsed_refractory("reference table: population 'R/R ALL'"),
         _Rule("adults (ages 19–73 in the study)", "reference table: age 'median 43 y (range 19–73)'",
               _ADULTS_HOW)),
        notes=("The abstract states no eligibility beyond R/R ALL treated with InO; 73% were in third or "
               "later salvage, a description, not a criterion, so the slice keeps every line.",)),
    _Eligibility(
        "ref2", "Reference 2 (Indian compassionate-use study, not identified)", ("ref2",),
        (_Rule("R/R B-cell ALL after at least two prior lines", "reference table: population, as the paper "
               "quotes it (the study was not identified)", "salvage line 2 or later (the sidebar's Salvage "
               "line filter)", salvage=2, checked=False),)),
)}


def eligibility_key(study: str) -> str:
    """The comparable slice a study key belongs to ("inovate2019" → "inovate")."""
    if study in ELIGIBILITY:
        return study
    for e in ELIGIBILITY.values():
        if study in e.study_keys:
            return e.key
    known = ", ".join(sorted(set(ELIGIBILITY) | {k for e in ELIGIBILITY.values() for k in e.study_keys}))
    raise ValueError(f"No eligibility is kept for {study!r}; choose one of {known}")


def comparable_slice(study: str, *, salvage_lines: Sequence[int] = (1, 2, 3),
                     base: FilterSpec = FilterSpec()) -> ComparableSlice:
    """The study's eligibility as a slice: `base` (the defaults) with every criterion that can be applied.

    `salvage_lines` are the lines the cohort holds, for a criterion such as "second or later salvage".
    """
    entry = ELIGIBILITY[eligibility_key(study)]
    spec = base
    matched: list[Criterion] = []
    unmatched: list[Criterion] = []
    for rule in entry.rules:
        if rule.salvage is not None:
            lines = (tuple(v for v in sorted(set(salvage_lines)) if v >= rule.salvage)
                     if isinstance(rule.salvage, int) else rule.salvage)
            # no line of the cohort qualifies: keep the first qualifying line (an empty slice), never "all"
            spec = replace(spec, salvage_lines=lines or (int(rule.salvage) if isinstance(rule.salvage, int)
                                                         else rule.salvage[0],))
        criterion = Criterion(text=rule.text, source=rule.source, matched=rule.matched, how=rule.how,
                              measures=rule.measures, count_text=rule.count_text, checked=rule.checked)
        (matched if rule.matched else unmatched).append(criterion)
    known = {s.key: s for s in studies()}
    population = "; ".join(dict.fromkeys(f"{known[k].population} (n = {known[k].population_n})"
                                         if known[k].population_n else known[k].population
                                         for k in entry.study_keys if k in known))
    return ComparableSlice(key=entry.key, title=entry.title, study_keys=entry.study_keys, spec=spec,
                           matched=tuple(matched), unmatched=tuple(unmatched), population=population,
                           notes=entry.notes)


def comparable_slices(*, salvage_lines: Sequence[int] = (1, 2, 3)) -> tuple[ComparableSlice, ...]:
    return tuple(comparable_slice(key, salvage_lines=salvage_lines) for key in ELIGIBILITY)


__all__ = ["ELIGIBILITY", "ComparableSlice", "Criterion", "comparable_slice", "comparable_slices",
           "eligibility_key"]

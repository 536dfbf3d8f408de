"""The view in the URL: query parameters ↔ FilterSpec, parsed field by field.

Pure Python (no streamlit), so the parser is unit-testable. A link is untrusted input: every
parameter is parsed on its own; a value that is malformed, unknown (a centre the cohort does not
have) or hostile (`'; DROP TABLE …`, a 10 kB string) produces a `UrlNotice` and that field falls
back to its default. Values never reach SQL as text: they become typed FilterSpec fields, which
`FilterSpec.where()` binds as parameters.

URL parameters (all optional; absent = no restriction):

    salvage=2,3                 salvage lines
    blast=low|high              blast burden (< threshold / ≥ threshold)
    blast_threshold=50          the burden threshold in % (0–100, exclusive)
    dose=lt1.8,1.8,gt1.8        cycle-1 dose groups (also accepts <1.8 and >1.8)
    dose_min=1.2 dose_max=1.8   cycle-1 dose range in mg/m²
    hsct=yes|no                 HSCT
    age_min=18 age_max=65       age range in years
    sex=F,M                     sex
    centre=Centre A             centre (repeat the parameter for several)
    ph=pos,neg                  Ph status (also accepts Ph+ and Ph-)
    status=relapsed,refractory  disease status before InO
    emd=yes|no                  extramedullary disease at baseline
    missing=exclude             drop patients with a missing value in an active filter
    presenter=1                 presenter mode (tumour-board screen)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields

from core.contract import DEFAULT_BLAST_THRESHOLD, DISEASE_STATUSES, DOSE_GROUPS, PH_STATUSES, SEXES
from core.filters import FilterError, FilterSpec

MAX_VALUE_CHARS = 200          # longer values are rejected before any parsing
MAX_ITEMS = 50                 # a list parameter with more items is rejected
SHOWN_CHARS = 40               # how much of a bad value a notice quotes

# URL parameter → the FilterSpec fields it sets (for resetting on a cross-field error).
PARAM_FIELDS: dict[str, tuple[str, ...]] = {
    "salvage": ("salvage_lines",),
    "blast": ("blast_burden",),
    "blast_threshold": ("blast_threshold",),
    "dose": ("dose_groups",),
    "dose_min": ("dose_min_mg_m2",),
    "dose_max": ("dose_max_mg_m2",),
    "hsct": ("hsct",),
    "age_min": ("age_min",),
    "age_max": ("age_max",),
    "sex": ("sexes",),
    "centre": ("centres",),
    "ph": ("ph_statuses",),
    "status": ("disease_statuses",),
    "emd": ("emd_baseline",),
    "missing": ("include_missing",),
}
PRESENTER_PARAM = "presenter"
KNOWN_PARAMS = frozenset(PARAM_FIELDS) | {PRESENTER_PARAM}

PARAM_TITLES: dict[str, str] = {
    "salvage": "salvage line",
    "blast": "blast burden",
    "blast_threshold": "blast threshold",
    "dose": "cycle-1 dose group",
    "dose_min": "minimum cycle-1 dose",
    "dose_max": "maximum cycle-1 dose",
    "hsct": "HSCT",
    "age_min": "minimum age",
    "age_max": "maximum age",
    "sex": "sex",
    "centre": "centre",
    "ph": "Ph status",
    "status": "disease status",
    "emd": "extramedullary disease",
    "missing": "missing-values rule",
    "presenter": "presenter mode",
    "cohort": "cohort",
    "s_endpoint": "survival endpoint",
    "s_group": "survival stratification",
    "s_ci": "CI band",
    "s_horizon": "time axis",
    "s_rfs_origin": "RFS origin",
    "s_censor_hsct": "censoring at HSCT",
    "s_milestones": "milestones",
    "s_comparison": "comparison",
    "s_logrank": "log-rank test",
    "s_landmark": "landmark",
    "s_cir_origin": "relapse incidence origin",
    "s_cir_stacked": "stacked incidences",
    "s_cir_gray": "Gray's test",
    "pc_show": "paper-check filter",
    "p_sort": "swimmer sort order",
    "l_overlay": "published figures on the chart",
    "l_studies": "published studies",
    "c_variable": "cut-point variable",
    "c_outcome": "cut-point outcome",
}

_DOSE_TOKENS = {"<1.8": "<1.8", "lt1.8": "<1.8", "1.8": "1.8", ">1.8": ">1.8", "gt1.8": ">1.8"}
_DOSE_URL = {"<1.8": "lt1.8", "1.8": "1.8", ">1.8": "gt1.8"}
_PH_TOKENS = {"ph+": "Ph+", "pos": "Ph+", "positive": "Ph+", "+": "Ph+",
              "ph-": "Ph-", "neg": "Ph-", "negative": "Ph-", "-": "Ph-"}
_PH_URL = {"Ph+": "pos", "Ph-": "neg"}
_YES = {"yes", "y", "true", "1", "on"}
_NO = {"no", "n", "false", "0", "off"}


# What a parameter means when it is absent (the value a dropped one is replaced by), in words.
DEFAULT_WORDS: dict[str, str] = {
    "salvage": "all salvage lines",
    "blast": "all blast burdens",
    "blast_threshold": f"{DEFAULT_BLAST_THRESHOLD:g}%",
    "dose": "all dose groups",
    "dose_min": "no minimum",
    "dose_max": "no maximum",
    "hsct": "with and without HSCT",
    "age_min": "no minimum",
    "age_max": "no maximum",
    "sex": "both sexes",
    "centre": "all centres",
    "ph": "any Ph status",
    "status": "relapsed and refractory",
    "emd": "with and without EMD",
    "missing": "missing values kept",
    "presenter": "presenter mode off",
}


@dataclass(frozen=True)
class UrlNotice:
    """One URL parameter that was not used as given: dropped (`used` None) or changed to `used`."""

    param: str
    value: str
    reason: str
    used: str | None = None     # the value the view uses instead, when the link's was changed, not dropped

    @property
    def message(self) -> str:
        title = PARAM_TITLES.get(self.param, self.param)
        given = f"{self.param}={_quote(self.value)}"
        if self.used is not None:
            return f"The link's {title} ({given}) {self.reason}; {self.used} used."
        default = DEFAULT_WORDS.get(self.param)
        return (f"The link's {title} ({given}) was not used: {self.reason}. Showing the default instead"
                + (f" ({default})." if default else "."))


@dataclass(frozen=True)
class CohortVocabulary:
    """What the open cohort can be filtered on (to reject values it does not have)."""

    centres: tuple[str, ...] = ()
    salvage_lines: tuple[int, ...] = ()


@dataclass(frozen=True)
class UrlState:
    spec: FilterSpec = field(default_factory=FilterSpec)
    presenter: bool = False
    notices: tuple[UrlNotice, ...] = ()


class _Invalid(ValueError):
    pass


# ---------------------------------------------------------------------------------------- parse
def parse_query_params(params: Mapping[str, object], vocabulary: CohortVocabulary | None = None) -> UrlState:
    """URL query parameters → a valid FilterSpec, the presenter flag and notices for what was dropped.

    `params` maps a name to a string or a list of strings (repeated parameters). Never raises.
    """
    vocabulary = vocabulary or CohortVocabulary()
    values: dict[str, object] = {}
    notices: list[UrlNotice] = []
    presenter = False

    for name, raw in params.items():
        name = str(name)[:MAX_VALUE_CHARS]
        items = _as_list(raw)
        if name not in KNOWN_PARAMS:
            continue   # other parameters (e.g. from a proxy) are none of our business
        joined = ",".join(items)
        try:
            if any(len(item) > MAX_VALUE_CHARS for item in items):
                raise _Invalid(f"longer than {MAX_VALUE_CHARS} characters")
            if name == PRESENTER_PARAM:
                presenter = _parse_bool(items)
                continue
            values.update(_PARSERS[name](items, vocabulary))
        except _Invalid as exc:
            notices.append(UrlNotice(name, joined, str(exc)))

    # Field by field: a value that the FilterSpec itself rejects is dropped with a notice.
    spec = FilterSpec()
    for name in PARAM_FIELDS:
        changes = {f: values[f] for f in PARAM_FIELDS[name] if f in values}
        if not changes:
            continue
        try:
            spec = spec.with_(**changes)
        except (FilterError, TypeError, ValueError) as exc:
            original = _as_list(params.get(name, ""))
            notices.append(UrlNotice(name, ",".join(original), _reason(exc)))
    return UrlState(spec=spec, presenter=presenter, notices=tuple(notices))


def _parse_salvage(items: list[str], vocabulary: CohortVocabulary) -> dict[str, object]:
    lines: list[int] = []
    for token in _tokens(items):
        if not (token.isascii() and token.isdigit()) or len(token) > 3:  # "²".isdigit() is True
            raise _Invalid("a salvage line is a whole number (1, 2, 3, …)")
        line = int(token)
        if line < 1 or (vocabulary.salvage_lines and line not in vocabulary.salvage_lines):
            raise _Invalid(f"salvage {line} does not occur in this cohort")
        lines.append(line)
    return {"salvage_lines": tuple(sorted(set(lines)))}


def _parse_blast(items: list[str], vocabulary: CohortVocabulary) -> dict[str, object]:
    token = _single(items).lower()
    if token not in ("all", "low", "high"):
        raise _Invalid("use low or high")
    return {"blast_burden": token}


def _parse_threshold(items: list[str], vocabulary: CohortVocabulary) -> dict[str, object]:
    value = _number(_single(items))
    if not 0 < value < 100:
        raise _Invalid("the threshold is a percentage between 0 and 100")
    return {"blast_threshold": value}


def _parse_dose(items: list[str], vocabulary: CohortVocabulary) -> dict[str, object]:
    groups: list[str] = []
    for token in _tokens(items):
        group = _DOSE_TOKENS.get(token.lower().replace(" ", ""))
        if group is None:
            raise _Invalid("use lt1.8, 1.8 or gt1.8")
        groups.append(group)
    return {"dose_groups": tuple(g for g in DOSE_GROUPS if g in groups)}


def _range_parser(field_name: str, floor: float, ceiling: float, unit: str):  # type: ignore[no-untyped-def]
    def parse(items: list[str], vocabulary: CohortVocabulary) -> dict[str, object]:
        value = _number(_single(items))
        if not floor <= value <= ceiling:
            raise _Invalid(f"must be between {floor:g} and {ceiling:g} {unit}")
        return {field_name: value}
    return parse


def _parse_yes_no(field_name: str):  # type: ignore[no-untyped-def]
    def parse(items: list[str], vocabulary: CohortVocabulary) -> dict[str, object]:
        return {field_name: _parse_bool(items)}
    return parse


def _parse_choice(field_name: str, allowed: Sequence[str], mapping: Mapping[str, str] | None = None):  # type: ignore[no-untyped-def]
    lookup = {a.lower(): a for a in allowed} | {k.lower(): v for k, v in (mapping or {}).items()}

    def parse(items: list[str], vocabulary: CohortVocabulary) -> dict[str, object]:
        chosen: list[str] = []
        for token in _tokens(items):
            value = lookup.get(token.lower())
            if value is None:
                raise _Invalid(f"use {', '.join(allowed)}")
            chosen.append(value)
        return {field_name: tuple(a for a in allowed if a in chosen)}
    return parse


def _parse_centre(items: list[str], vocabulary: CohortVocabulary) -> dict[str, object]:
    known = set(vocabulary.centres)
    chosen: list[str] = []
    for item in items:
        # a centre is one parameter each; a comma list is accepted when its parts are centres
        candidates = [item.strip()] if item.strip() in known else [t.strip() for t in item.split(",") if t.strip()]
        for centre in candidates:
            if centre not in known:
                raise _Invalid("no such centre in this cohort")
            chosen.append(centre)
    if len(chosen) > MAX_ITEMS:
        raise _Invalid("too many centres")
    return {"centres": tuple(c for c in vocabulary.centres if c in chosen)}


def _parse_missing(items: list[str], vocabulary: CohortVocabulary) -> dict[str, object]:
    token = _single(items).lower()
    if token in ("include", "keep") or token in _YES:
        return {"include_missing": True}
    if token in ("exclude", "drop") or token in _NO:
        return {"include_missing": False}
    raise _Invalid("use include or exclude")


_PARSERS = {
    "salvage": _parse_salvage,
    "blast": _parse_blast,
    "blast_threshold": _parse_threshold,
    "dose": _parse_dose,
    "dose_min": _range_parser("dose_min_mg_m2", 0, 20, "mg/m²"),
    "dose_max": _range_parser("dose_max_mg_m2", 0, 20, "mg/m²"),
    "hsct": _parse_yes_no("hsct"),
    "age_min": _range_parser("age_min", 0, 130, "years"),
    "age_max": _range_parser("age_max", 0, 130, "years"),
    "sex": _parse_choice("sexes", SEXES, {"female": "F", "male": "M"}),
    "centre": _parse_centre,
    "ph": _parse_choice("ph_statuses", PH_STATUSES, _PH_TOKENS),
    "status": _parse_choice("disease_statuses", DISEASE_STATUSES),
    "emd": _parse_yes_no("emd_baseline"),
    "missing": _parse_missing,
}


# ---------------------------------------------------------------------------------------- write
def spec_to_query_params(spec: FilterSpec, *, presenter: bool = False) -> dict[str, str | list[str]]:
    """The canonical URL parameters of a view: only what differs from the default."""
    out: dict[str, str | list[str]] = {}
    if spec.salvage_lines:
        out["salvage"] = ",".join(str(v) for v in sorted(spec.salvage_lines))
    if spec.blast_burden != "all":
        out["blast"] = spec.blast_burden
    if spec.blast_threshold != DEFAULT_BLAST_THRESHOLD:
        out["blast_threshold"] = _format_number(spec.blast_threshold)
    if spec.dose_groups:
        out["dose"] = ",".join(_DOSE_URL[g] for g in spec.dose_groups)
    if spec.dose_min_mg_m2 is not None:
        out["dose_min"] = _format_number(spec.dose_min_mg_m2)
    if spec.dose_max_mg_m2 is not None:
        out["dose_max"] = _format_number(spec.dose_max_mg_m2)
    if spec.hsct is not None:
        out["hsct"] = "yes" if spec.hsct else "no"
    if spec.age_min is not None:
        out["age_min"] = _format_number(spec.age_min)
    if spec.age_max is not None:
        out["age_max"] = _format_number(spec.age_max)
    if spec.sexes:
        out["sex"] = ",".join(spec.sexes)
    if spec.centres:
        out["centre"] = list(spec.centres) if len(spec.centres) > 1 else spec.centres[0]
    if spec.ph_statuses:
        out["ph"] = ",".join(_PH_URL[p] for p in spec.ph_statuses)
    if spec.disease_statuses:
        out["status"] = ",".join(spec.disease_statuses)
    if spec.emd_baseline is not None:
        out["emd"] = "yes" if spec.emd_baseline else "no"
    if not spec.include_missing:
        out["missing"] = "exclude"
    if presenter:
        out[PRESENTER_PARAM] = "1"
    return out


# ---------------------------------------------------------------------------------------- helpers
def _as_list(raw: object) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, (list, tuple)):
        return [str(v) for v in raw]
    return [str(raw)]


def _tokens(items: Iterable[str]) -> list[str]:
    tokens = [t.strip() for item in items for t in item.split(",") if t.strip()]
    if len(tokens) > MAX_ITEMS:
        raise _Invalid("too many values")
    return tokens


def _single(items: list[str]) -> str:
    tokens = [i.strip() for i in items if i.strip()]
    if len(tokens) != 1:
        raise _Invalid("expected one value")
    return tokens[0]


def _number(token: str) -> float:
    if len(token) > 20:
        raise _Invalid("not a number")
    try:
        value = float(token)
    except ValueError:
        raise _Invalid("not a number") from None
    if not math.isfinite(value):
        raise _Invalid("not a finite number")
    return value


def _parse_bool(items: list[str]) -> bool:
    token = _single(items).lower()
    if token in _YES:
        return True
    if token in _NO:
        return False
    raise _Invalid("use yes or no")


def _format_number(value: float) -> str:
    return f"{value:g}"


def _quote(value: str) -> str:
    """The value as the link gave it, cut short: a notice never echoes a 10 kB parameter."""
    if not value.strip():
        return "(empty)"
    return value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + f"… ({len(value)} characters)"


def value_in_words(param: str, spec: FilterSpec) -> str:
    """What `spec` uses for a URL parameter: its canonical URL value, or the default in words."""
    value = spec_to_query_params(spec).get(param)
    if value is None:
        return DEFAULT_WORDS.get(param, "the default")
    return ", ".join(value) if isinstance(value, list) else value


def _reason(exc: Exception) -> str:
    text = str(exc)
    return text[:160]


def spec_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(FilterSpec))

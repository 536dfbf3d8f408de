"""The page's own choices and the cohort in the URL, so a shared link reopens the same view.

The filters travel as their own parameters (ui.url_state). What a page adds — the endpoint, the
stratification, the comparison, the time axis, milestones, sort orders — travels under the widget's
own key (`s_group=hsct`), declared here with its type, its allowed values and its default. Only
declared keys are read; a value that is not allowed is dropped with a notice naming the parameter,
the value given and the value used, like a filter's. The cohort travels as `cohort=<id>`: the file
stem of an imported cohort (a slug of its label and a random suffix, stable while the file exists),
or `default`.

On a session's first run `restore()` copies the link's values into the session state before the
widgets are drawn; after the page has run `query_params()` lists the current non-default choices of
the widgets the page drew, and app.py writes them to the URL with the filters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.cutpoints import CUTPOINT_VARIABLES, OUTCOMES
from core.groupings import STRATIFY_KEYS
from core.literature.comparison import overlay_studies
from core.survival import KM_ENDPOINTS
from ui.url_state import MAX_VALUE_CHARS, UrlNotice

COHORT_PARAM = "cohort"
DEFAULT_COHORT_ID = "default"
_RESTORED = "_page_state_restored"
_NOTICES = "_page_state_notices"


def _text(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Choice:
    options: tuple[object, ...]
    default: object

    def parse(self, raw: str) -> object:
        for option in self.options:
            if _text(option) == raw:
                return option
        raise ValueError("is not one of " + ", ".join(_text(o) for o in self.options))

    def write(self, value: object) -> str:
        return _text(value)


@dataclass(frozen=True)
class Flag:
    default: bool

    def parse(self, raw: str) -> object:
        if raw in ("1", "0"):
            return raw == "1"
        raise ValueError("is not 1 or 0")

    def write(self, value: object) -> str:
        return _text(bool(value))


@dataclass(frozen=True)
class Number:
    low: float
    high: float
    default: float | None = None     # None: the page picks one from the data; always written

    def parse(self, raw: str) -> object:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError("is not a number") from None
        if not math.isfinite(value) or not self.low <= value <= self.high:
            raise ValueError(f"is outside {self.low:g}–{self.high:g}")
        return value

    def write(self, value: object) -> str:
        return _text(float(value))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Several:
    options: tuple[object, ...]
    default: tuple[object, ...]

    def parse(self, raw: str) -> object:
        one = Choice(self.options, None)
        return [one.parse(item) for item in raw.split(",") if item]

    def write(self, value: object) -> str:
        return ",".join(_text(v) for v in value)  # type: ignore[attr-defined]


Option = Choice | Flag | Number | Several

SURVIVAL_HORIZONS: tuple[object, ...] = (None, 12, 24, 36)
SURVIVAL_MILESTONES: tuple[object, ...] = (3.0, 6.0, 9.0, 12.0, 18.0, 24.0, 36.0)
SURVIVAL_COMPARISONS: tuple[object, ...] = ("landmark", "time_dependent", "naive")

# Every page choice a link may carry: widget key → its type, allowed values and default.
PAGE_OPTIONS: dict[str, Option] = {
    "s_endpoint": Choice(tuple(KM_ENDPOINTS), "os"),
    "s_group": Choice(STRATIFY_KEYS, "all"),
    "s_ci": Flag(True),
    "s_horizon": Choice(SURVIVAL_HORIZONS, None),
    "s_rfs_origin": Choice(("dose", "response"), "dose"),
    "s_censor_hsct": Flag(False),
    "s_milestones": Several(SURVIVAL_MILESTONES, (6.0, 12.0)),
    "s_comparison": Choice(SURVIVAL_COMPARISONS, "landmark"),
    "s_logrank": Flag(False),
    "s_landmark": Number(0.0, 24.0),
    "s_cir_origin": Choice(("response", "dose"), "response"),
    "s_cir_stacked": Flag(False),
    "s_cir_gray": Flag(False),
    "pc_show": Choice(("all", "differ"), "all"),
    "p_sort": Choice(("os_days", "best_response", "n_cycles", "salvage_line", "patient_id"), "os_days"),
    "l_overlay": Choice(("off", "all", "chosen"), "off"),
    "l_studies": Several(overlay_studies("cr_cri"), ()),
    "l_os_overlay": Choice(("off", "all", "chosen"), "off"),
    "l_os_studies": Several(tuple(dict.fromkeys(overlay_studies("os_median") + overlay_studies("os_rate"))), ()),
    "l_safety_overlay": Choice(("off", "all", "chosen"), "all"),
    "l_safety_studies": Several(tuple(dict.fromkeys(overlay_studies("vod") + overlay_studies("hsct_rate"))), ()),
    "c_variable": Choice(tuple(CUTPOINT_VARIABLES), tuple(CUTPOINT_VARIABLES)[0]),
    "c_outcome": Choice(tuple(OUTCOMES), tuple(OUTCOMES)[0]),
}


def _is_default(option: Option, value: object) -> bool:
    if isinstance(option, Number) and option.default is None:
        return False
    if isinstance(option, Several):
        return tuple(value) == tuple(option.default)  # type: ignore[call-overload]
    return value == option.default


def set_defaults(*keys: str) -> None:
    """Give a page's widgets their declared defaults before they are drawn (so a widget never gets
    both a `value=` argument and a value from the link)."""
    for key in keys:
        option = PAGE_OPTIONS[key]
        if key not in st.session_state and option.default is not None:
            default = option.default
            st.session_state[key] = list(default) if isinstance(option, Several) else default  # type: ignore[arg-type]


def parse_page_params(params: Mapping[str, Sequence[str]]) -> tuple[dict[str, object], tuple[UrlNotice, ...]]:
    """The declared page choices in `params` → (session values, notices for values not used)."""
    values: dict[str, object] = {}
    notices: list[UrlNotice] = []
    for key, option in PAGE_OPTIONS.items():
        given = list(params.get(key, ()))
        if not given:
            continue
        raw = given[-1].strip()
        default = "none" if option.default is None else (
            Several.write(option, option.default) if isinstance(option, Several) else _text(option.default))
        if len(raw) > MAX_VALUE_CHARS:
            notices.append(UrlNotice(key, raw[:40], "is too long", used=default))
            continue
        try:
            values[key] = option.parse(raw)
        except ValueError as exc:
            notices.append(UrlNotice(key, raw, str(exc), used=default))
    return values, tuple(notices)


def restore() -> None:
    """On a session's first run: the link's page choices into the session state."""
    if st.session_state.get(_RESTORED):
        return
    raw = {name: st.query_params.get_all(name) for name in st.query_params}
    values, notices = parse_page_params(raw)
    for key, value in values.items():
        st.session_state[key] = value
    st.session_state[_NOTICES] = notices
    st.session_state[_RESTORED] = True


def take_notices() -> tuple[UrlNotice, ...]:
    """The link's page-choice notices, shown once: the next interaction is the user's own choice."""
    return tuple(st.session_state.pop(_NOTICES, ()))


def query_params() -> dict[str, str]:
    """The non-default choices of the declared widgets present in this run."""
    out: dict[str, str] = {}
    for key, option in PAGE_OPTIONS.items():
        if key in st.session_state:
            value = st.session_state[key]
            if not _is_default(option, value):
                out[key] = option.write(value)
    return out


# ---------------------------------------------------------------------------------- the cohort
def cohort_id(path: Path, default_path: Path) -> str:
    """The link's name for a cohort file: `default`, or the imported file's stem."""
    return DEFAULT_COHORT_ID if path.resolve() == default_path.resolve() else path.stem


def cohort_from_link(ids: Mapping[str, Path]) -> tuple[Path | None, UrlNotice | None]:
    """The cohort a link names among those available here (id → path), or a notice why not."""
    given = st.query_params.get(COHORT_PARAM)
    if not given:
        return None, None
    if given in ids:
        return ids[given], None
    shown = given if len(given) <= 40 else given[:40] + "…"
    return None, UrlNotice(COHORT_PARAM, shown, "is not a cohort on this server (it may have been removed, or "
                           "imported on another server)", used=DEFAULT_COHORT_ID)

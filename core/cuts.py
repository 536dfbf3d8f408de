"""What changed between two data cuts of one cohort: patients, events, and the headline figures.

    comparison = compare_cuts(open_cohort(cut_1), open_cohort(cut_2))
    comparison.change_list()       # one row per change, for the page and its downloads
    comparison.figures_frame()     # CR/CRi, median OS, 6/12-month OS, VOD, HSCT in each cut, and the move

Patients are matched by patient_id. Events are matched within one patient and event type: rows equal
in every column are unchanged; the rest are paired, surest first — same identity (the cycle and day
of a dose, the cycle of an assessment, the term of an adverse event) and date, then same identity
(the date moved), then same date (something else changed) — and what is left is new or removed.
Events of a patient who is new (or removed) are counted with the patient, not listed one by one.
The figures are computed on each whole cut by core.response, core.survival and core.safety.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from core.cohorts import cut_of
from core.database import Cohort
from core.filters import FilterSpec
from core.importer.cohort_rows import fetch_table_rows, to_import_text
from core.queries import fetch_study_meta
from core.response import summarise_response
from core.results import ProportionEstimate, TooFewPatients
from core.safety import toxicity_by_hsct
from core.survival import estimate_survival

# the fields that say which event a row is, besides its patient and type
EVENT_IDENTITY: dict[str, tuple[str, ...]] = {
    "ino_dose": ("cycle", "cycle_day"), "response": ("cycle",), "mrd": ("cycle",), "adverse_event": ("ae_term",),
}
CHANGE_COLUMNS = ("what", "change", "patient_id", "event_type", "event_date (earlier)", "event_date (later)",
                  "detail")
LANDMARK_MONTHS = (6.0, 12.0)


@dataclass(frozen=True)
class CutInfo:
    label: str
    cut: int
    file: str
    n_patients: int

    @property
    def name(self) -> str:
        return f"cut {self.cut}"


@dataclass(frozen=True)
class HeadlineFigure:
    """One figure of one cut: a proportion (count of denominator, value in %), a median (months) or a rate (%)."""

    figure: str
    value: float | None            # % for proportions and OS rates, months for the median; None = not estimable
    count: int | None = None
    denominator: int | None = None
    unit: str = "%"                # "%" | "months" | "patients"

    def text(self) -> str:
        if self.unit == "patients":
            return f"{self.count}"
        if self.value is None:
            return "not reached" if self.unit == "months" else "—"
        if self.unit == "months":
            return f"{self.value:.1f} months"
        if self.count is not None:
            return f"{self.count}/{self.denominator} · {self.value:.1f}%"
        return f"{self.value:.1f}%"


def _proportion(figure: str, estimate: ProportionEstimate | TooFewPatients) -> HeadlineFigure:
    if isinstance(estimate, TooFewPatients):
        return HeadlineFigure(figure, None, count=None, denominator=estimate.n)
    return HeadlineFigure(figure, 100 * estimate.estimate, count=estimate.count, denominator=estimate.denominator)


def headline_figures(cohort: Cohort) -> tuple[HeadlineFigure, ...]:
    """The figures a cut is judged by, on the whole cohort."""
    spec = FilterSpec()
    response = summarise_response(cohort, spec)
    toxicity = {row.key: row for row in toxicity_by_hsct(cohort, spec).rows}
    curves = estimate_survival(cohort, spec, "os", landmark_months=LANDMARK_MONTHS).fitted
    curve = curves[0] if curves else None
    figures = [HeadlineFigure("Patients", None, count=response.n, unit="patients"),
               _proportion("CR/CRi", response.cr_cri),
               HeadlineFigure("Median OS", None if curve is None else curve.median.value, unit="months")]
    for months in LANDMARK_MONTHS:
        rate = None if curve is None else curve.landmark(months).estimate
        figures.append(HeadlineFigure(f"{months:g}-month OS", None if rate is None else 100 * rate))
    figures.append(_proportion("VOD", toxicity["vod"].overall) if "vod" in toxicity
                   else HeadlineFigure("VOD", None))
    figures.append(_proportion("HSCT", response.hsct))
    return tuple(figures)


def figure_move(earlier: HeadlineFigure, later: HeadlineFigure) -> str:
    """How a figure moved, in its own unit: "+2 (+3.1 points)", "+1.4 months", "no change"."""
    if earlier.unit == "patients":
        delta = (later.count or 0) - (earlier.count or 0)
        return "no change" if delta == 0 else f"{delta:+d}"
    if earlier.value is None or later.value is None:
        return "no change" if earlier.value == later.value else f"{earlier.text()} → {later.text()}"
    moved = later.value - earlier.value
    if earlier.unit == "months":
        return "no change" if round(moved, 1) == 0 else f"{moved:+.1f} months"
    points = "no change" if round(moved, 1) == 0 else f"{moved:+.1f} points"
    if earlier.count is not None and later.count is not None and later.count != earlier.count:
        return f"{later.count - earlier.count:+d} ({points})"
    return points


@dataclass(frozen=True)
class CutComparison:
    earlier: CutInfo
    later: CutInfo
    new_patients: pd.DataFrame          # patient_id, centre, ino_start_date, events
    removed_patients: pd.DataFrame
    changed_values: pd.DataFrame        # patient_id, column, earlier, later
    event_changes: pd.DataFrame         # patient_id, event_type, change, event_date (earlier/later), detail
    figures: tuple[tuple[HeadlineFigure, HeadlineFigure], ...]

    def counts(self) -> dict[str, int]:
        change = self.event_changes["change"]
        return {"new patients": len(self.new_patients), "removed patients": len(self.removed_patients),
                "patients with changed values": self.changed_values["patient_id"].nunique(),
                "new events": int((change == "new").sum()), "changed events": int((change == "changed").sum()),
                "removed events": int((change == "removed").sum())}

    def summary(self) -> str:
        parts = [f"{n} {what}" for what, n in self.counts().items()]
        return f"{self.earlier.name} → {self.later.name}: " + ", ".join(parts)

    def figures_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"figure": a.figure, self.earlier.name: a.text(), self.later.name: b.text(),
                              "change": figure_move(a, b)} for a, b in self.figures],
                            columns=["figure", self.earlier.name, self.later.name, "change"])

    def change_list(self) -> pd.DataFrame:
        """Every change in one table: patients new, removed or with changed values, then events."""
        rows = []
        for change, frame in (("new", self.new_patients), ("removed", self.removed_patients)):
            for r in frame.itertuples(index=False):
                rows.append({"what": "patient", "change": change, "patient_id": r.patient_id,
                             "detail": f"{r.centre}; first InO dose {r.ino_start_date}; {r.events} events"})
        for pid, group in _by_patient(self.changed_values):
            rows.append({"what": "patient", "change": "changed", "patient_id": pid,
                         "detail": "; ".join(f"{c.column} {c.earlier or '(empty)'} → {c.later or '(empty)'}"
                                             for c in group.itertuples(index=False))})
        for r in self.event_changes.to_dict("records"):
            rows.append({"what": "event", **r})
        return pd.DataFrame(rows, columns=list(CHANGE_COLUMNS)).fillna("")


def _by_patient(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    return [(pid, frame[frame["patient_id"] == pid]) for pid in dict.fromkeys(frame["patient_id"])]


# ---------------------------------------------------------------------------------- patients
def _patient_changes(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    both = a.merge(b, on="patient_id", suffixes=("__a", "__b"))
    rows = []
    for column in (c for c in a.columns if c != "patient_id"):
        differ = both[both[f"{column}__a"] != both[f"{column}__b"]]
        rows += [{"patient_id": r[0], "column": column, "earlier": r[1], "later": r[2]}
                 for r in zip(differ["patient_id"], differ[f"{column}__a"], differ[f"{column}__b"])]
    out = pd.DataFrame(rows, columns=["patient_id", "column", "earlier", "later"])
    rank = out["column"].map({c: i for i, c in enumerate(a.columns)})
    return out.assign(_rank=rank).sort_values(["patient_id", "_rank"], kind="stable", ignore_index=True) \
        .drop(columns="_rank")


def _patients_list(patients: pd.DataFrame, events: pd.DataFrame, ids: set[str]) -> pd.DataFrame:
    mine = patients[patients["patient_id"].isin(ids)]
    counts = events["patient_id"].value_counts()
    return pd.DataFrame({"patient_id": mine["patient_id"].to_numpy(), "centre": mine["centre"].to_numpy(),
                         "ino_start_date": mine["ino_start_date"].to_numpy(),
                         "events": [int(counts.get(p, 0)) for p in mine["patient_id"]]})


# ---------------------------------------------------------------------------------- events
def _unmatched(a: pd.DataFrame, b: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of each side not equal, column for column, to a row of the other (counted: repeats pair once)."""
    columns = list(a.columns)
    a = a.assign(_n=a.groupby(columns, sort=False, dropna=False).cumcount())
    b = b.assign(_n=b.groupby(columns, sort=False, dropna=False).cumcount())
    merged = a.merge(b, on=[*columns, "_n"], how="outer", indicator=True)
    return (merged[merged["_merge"] == "left_only"][columns].reset_index(drop=True),
            merged[merged["_merge"] == "right_only"][columns].reset_index(drop=True))


def _detail(row: dict[str, str], skip: Sequence[str] = ("patient_id", "event_type", "event_date")) -> str:
    return "; ".join(f"{k} {v}" for k, v in row.items() if k not in skip and v != "")


def _difference(a: dict[str, str], b: dict[str, str]) -> str:
    return "; ".join(f"{k} {a[k] or '(empty)'} → {b[k] or '(empty)'}" for k in a
                     if k not in ("patient_id", "event_type") and a[k] != b[k])


def _pair(earlier: list[dict[str, str]], later: list[dict[str, str]], identity: tuple[str, ...]
          ) -> tuple[list[tuple[dict[str, str], dict[str, str]]], list[dict[str, str]], list[dict[str, str]]]:
    pairs: list[tuple[dict[str, str], dict[str, str]]] = []
    for same in (lambda x, y: all(x[k] == y[k] for k in identity) and x["event_date"] == y["event_date"],
                 lambda x, y: all(x[k] == y[k] for k in identity),
                 lambda x, y: x["event_date"] == y["event_date"]):
        for x in list(earlier):
            match = next((y for y in later if same(x, y)), None)
            if match is not None:
                pairs.append((x, match))
                earlier.remove(x)
                later.remove(match)
    return pairs, earlier, later


def _by_date(group: pd.DataFrame) -> list[dict[str, str]]:
    return sorted(group.to_dict("records"), key=lambda r: r["event_date"])


def _event_changes(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    gone, came = _unmatched(a, b)
    rows = []
    key = ["patient_id", "event_type"]
    left = {k: _by_date(g) for k, g in gone.groupby(key, sort=True)}
    arrived = {k: _by_date(g) for k, g in came.groupby(key, sort=True)}
    for k in sorted(set(left) | set(arrived)):
        earlier, later = left.get(k, []), arrived.get(k, [])
        pairs, removed, new = _pair(earlier, later, EVENT_IDENTITY.get(k[1], ()))
        for x, y in pairs:
            rows.append({"patient_id": k[0], "event_type": k[1], "change": "changed",
                         "event_date (earlier)": x["event_date"], "event_date (later)": y["event_date"],
                         "detail": _difference(x, y)})
        for x in removed:
            rows.append({"patient_id": k[0], "event_type": k[1], "change": "removed",
                         "event_date (earlier)": x["event_date"], "event_date (later)": "", "detail": _detail(x)})
        for y in new:
            rows.append({"patient_id": k[0], "event_type": k[1], "change": "new", "event_date (earlier)": "",
                         "event_date (later)": y["event_date"], "detail": _detail(y)})
    columns = ["patient_id", "event_type", "change", "event_date (earlier)", "event_date (later)", "detail"]
    return pd.DataFrame(rows, columns=columns)


def _info(cohort: Cohort, n_patients: int) -> CutInfo:
    meta = fetch_study_meta(cohort)
    return CutInfo(label=meta.get("label", cohort.path.stem), cut=cut_of(meta), file=cohort.path.name,
                   n_patients=n_patients)


def compare_cuts(earlier: Cohort, later: Cohort) -> CutComparison:
    """Everything that changed from one cut to the other (either may be any cohort file)."""
    pa, pb = (to_import_text(fetch_table_rows(c, "patients")) for c in (earlier, later))
    ea, eb = (to_import_text(fetch_table_rows(c, "events")) for c in (earlier, later))
    ids_a, ids_b = set(pa["patient_id"]), set(pb["patient_id"])
    both = ids_a & ids_b
    changes = _event_changes(ea[ea["patient_id"].isin(both)], eb[eb["patient_id"].isin(both)])
    return CutComparison(
        earlier=_info(earlier, len(pa)), later=_info(later, len(pb)),
        new_patients=_patients_list(pb, eb, ids_b - ids_a),
        removed_patients=_patients_list(pa, ea, ids_a - ids_b),
        changed_values=_patient_changes(pa[pa["patient_id"].isin(both)], pb[pb["patient_id"].isin(both)]),
        event_changes=changes,
        figures=tuple(zip(headline_figures(earlier), headline_figures(later))),
    )

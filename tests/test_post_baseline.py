"""Cumulative incidence, landmark and time-dependent HSCT on the default cohort, computed a second
way from the raw rows (pandas and lifelines, no shared code with the engine), and the rules that
keep these analyses valid."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from lifelines import CoxTimeVaryingFitter, KaplanMeierFitter

from core.contract import DAYS_PER_MONTH
from core.database import Cohort, open_cohort
from core.endpoints import EndpointOptions
from core.filters import FilterSpec
from core.post_baseline import (
    default_landmark,
    estimate_incidence,
    landmark_survival,
    time_dependent_survival,
)
from core.survival import estimate_survival


@pytest.fixture(scope="module")
def cohort(default_cohort: Path) -> Cohort:
    return open_cohort(default_cohort)


@pytest.fixture(scope="module")
def raw(default_cohort: Path) -> pd.DataFrame:
    """One row per patient from the raw tables, derived with pandas only."""
    con = duckdb.connect(str(default_cohort), read_only=True)
    patients = con.execute("SELECT patient_id, ino_start_date FROM patients").df()
    events = con.execute("SELECT patient_id, event_type, event_date, response, ae_term FROM events").df()
    con.close()
    events["event_date"] = pd.to_datetime(events["event_date"])
    patients["start"] = pd.to_datetime(patients["ino_start_date"])

    def first(kind: str, extra: pd.Series | None = None) -> pd.Series:
        rows = events[(events["event_type"] == kind) & (True if extra is None else extra)]
        return rows.dropna(subset=["event_date"]).groupby("patient_id")["event_date"].min()

    out = patients.set_index("patient_id")
    out["death"] = first("death")
    out["contact"] = events[events["event_type"] == "last_contact"].groupby("patient_id")["event_date"].max()
    out["relapse"] = first("relapse")
    out["hsct"] = first("hsct")
    out["cr"] = first("response", events["response"].isin(["CR", "CRi"]))
    out["vod"] = first("adverse_event", events["ae_term"] == "VOD")
    out["end"] = out["death"].fillna(out["contact"])
    days = lambda col, origin="start": (out[col] - out[origin]).dt.days  # noqa: E731
    out["os_days"], out["hsct_day"], out["vod_day"] = days("end"), days("hsct"), days("vod")
    out["dead"] = out["death"].notna()
    return out


def _aalen_johansen(days: np.ndarray, cause: np.ndarray, at: float) -> tuple[float, float]:
    """Cumulative incidence of causes 1 and 2 at `at` days, by the textbook sum over event times."""
    survival, cif = 1.0, [0.0, 0.0]
    for t in np.unique(days[days <= at]):
        at_risk = (days >= t).sum()
        d = [((days == t) & (cause == k)).sum() for k in (1, 2)]
        cif = [cif[i] + survival * d[i] / at_risk for i in range(2)]
        survival *= 1 - sum(d) / at_risk
    return cif[0], cif[1]


def test_cumulative_incidence_of_vod_and_hsct_match_the_raw_rows(cohort: Cohort, raw: pd.DataFrame) -> None:
    for key, column in (("vod_incidence", "vod_day"), ("hsct_incidence", "hsct_day")):
        event_day = raw[column]
        days = event_day.fillna(raw["os_days"]).to_numpy(dtype=float)
        cause = np.where(event_day.notna(), 1, np.where(raw["dead"], 2, 0))
        curve = estimate_incidence(cohort, FilterSpec(), key).fitted[0]
        for months in (6.0, 12.0):
            first, competing = _aalen_johansen(days, cause, months * DAYS_PER_MONTH)
            assert curve.cause(1).at(months).estimate == pytest.approx(first, abs=1e-12), (key, months)
            assert curve.cause(2).at(months).estimate == pytest.approx(competing, abs=1e-12), (key, months)
        assert curve.cause(1).events == int((cause == 1).sum())


def test_relapse_and_non_relapse_mortality_from_the_first_dated_response(cohort: Cohort, raw: pd.DataFrame) -> None:
    responders = raw[raw["cr"].notna()]
    end = responders[["relapse", "death"]].min(axis=1).fillna(responders["contact"])
    days = (end - responders["cr"]).dt.days.to_numpy(dtype=float)
    relapse_first = responders["relapse"].notna() & (responders["relapse"] <= responders["death"].fillna(responders["relapse"]))
    cause = np.where(relapse_first, 1, np.where(responders["death"].notna(), 2, 0))
    analysis = estimate_incidence(cohort, FilterSpec(), "relapse_incidence", milestones=(3.0, 6.0, 12.0))
    curve = analysis.fitted[0]
    assert curve.n == len(responders)
    for months in (3.0, 6.0, 12.0):
        relapse, nrm = _aalen_johansen(days, cause, months * DAYS_PER_MONTH)
        assert curve.cause(1).at(months).estimate == pytest.approx(relapse, abs=1e-12)
        assert curve.cause(2).at(months).estimate == pytest.approx(nrm, abs=1e-12)
    # the cumulative incidences of both kinds and the event-free survival add up to 1
    total = np.asarray(curve.causes[0].incidence) + np.asarray(curve.causes[1].incidence) + np.asarray(curve.event_free)
    assert np.allclose(total, 1.0)


def test_a_landmark_at_time_zero_is_the_ordinary_kaplan_meier(cohort: Cohort) -> None:
    at_zero = landmark_survival(cohort, FilterSpec(), "os", "hsct", landmark_months=0.0, compare=False)
    whole = estimate_survival(cohort, FilterSpec(), "os").fitted[0]
    assert at_zero.included == whole.n and at_zero.excluded == 0
    assert sum(c.n for c in at_zero.curves) == whole.n


def test_landmark_matches_lifelines_on_the_raw_rows(cohort: Cohort, raw: pd.DataFrame) -> None:
    choice = default_landmark(cohort, FilterSpec(), "os", "hsct")
    assert choice.supported and choice.months == 3.0
    landmark = choice.months * DAYS_PER_MONTH
    analysis = landmark_survival(cohort, FilterSpec(), "os", "hsct", landmark_months=choice.months)
    kept = raw[raw["os_days"] >= landmark]
    assert analysis.included == len(kept) and analysis.excluded == len(raw) - len(kept)
    transplanted = kept["hsct_day"] <= landmark
    for curve, rows in zip(analysis.curves, (~transplanted, transplanted)):
        fitted = KaplanMeierFitter().fit((kept.loc[rows, "os_days"] - landmark) / DAYS_PER_MONTH,
                                         kept.loc[rows, "dead"])
        assert curve.n == int(rows.sum())
        assert curve.landmark(6.0).estimate == pytest.approx(float(fitted.predict(6.0)), abs=1e-12)


def test_time_dependent_hsct_matches_lifelines_on_the_raw_rows(cohort: Cohort, raw: pd.DataFrame) -> None:
    rows = []
    for pid, r in raw.iterrows():
        h, end = r["hsct_day"], r["os_days"]
        if pd.notna(h) and 0 < h < end:
            rows += [(pid, 0.0, h, False, 0), (pid, h, end, bool(r["dead"]), 1)]
        else:
            rows.append((pid, 0.0, end, bool(r["dead"]), int(pd.notna(h) and h == 0)))
    long = pd.DataFrame(rows, columns=["id", "start", "stop", "event", "hsct"])
    fitted = CoxTimeVaryingFitter().fit(long, id_col="id", start_col="start", stop_col="stop", event_col="event")
    analysis = time_dependent_survival(cohort, FilterSpec(), "os")
    assert analysis.hazard_ratio.hazard_ratio == pytest.approx(float(np.exp(fitted.params_["hsct"])), rel=1e-4)
    assert analysis.curves.moved_to_hsct == int(((raw["hsct_day"] > 0) & (raw["hsct_day"] < raw["os_days"])).sum())
    assert analysis.test.p_value is not None and 0 < analysis.test.p_value < 1


def test_post_baseline_comparisons_refuse_what_they_cannot_answer(cohort: Cohort) -> None:
    with pytest.raises(ValueError, match="fixed at baseline"):
        landmark_survival(cohort, FilterSpec(), "os", "salvage_line", landmark_months=3.0)
    with pytest.raises(ValueError, match="counted from the first dated CR/CRi"):
        time_dependent_survival(cohort, FilterSpec(), "rfs", options=EndpointOptions(rfs_from_response=True))
    with pytest.raises(ValueError, match="censored at HSCT"):
        time_dependent_survival(cohort, FilterSpec(), "rfs", options=EndpointOptions(censor_at_hsct=True))

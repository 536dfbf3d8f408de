"""The filter language: what each FilterSpec means in SQL and in words, checked against a pandas oracle."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.database import Cohort, open_cohort
from core.filters import FilterError, FilterSpec, dose_group
from core.queries import fetch_measures
from tests.cohort_factory import TinyPatient, write_tiny_cohort

# ---------------------------------------------------------------- the filter language as a table
CASES: list[tuple[FilterSpec, str, dict[str, object], str]] = [
    (FilterSpec(), "TRUE", {}, "All patients"),
    (FilterSpec(salvage_lines=(2, 3)),
     "(list_contains($salvage_lines, salvage_line) OR salvage_line IS NULL)", {"salvage_lines": [2, 3]},
     "Salvage 2–3"),
    (FilterSpec(blast_burden="high"),
     "(blast_pct >= $blast_threshold OR blast_pct IS NULL)", {"blast_threshold": 50.0}, "blasts ≥ 50%"),
    (FilterSpec(blast_burden="low", blast_threshold=30, include_missing=False),
     "(blast_pct < $blast_threshold)", {"blast_threshold": 30.0}, "blasts < 30% (missing values excluded)"),
    (FilterSpec(dose_groups=("<1.8",)),
     "(list_contains($dose_groups, cycle1_dose_group) OR cycle1_dose_group IS NULL)", {"dose_groups": ["<1.8"]},
     "cycle-1 dose < 1.8 mg/m²"),
    (FilterSpec(hsct=True), "(hsct = $hsct)", {"hsct": True}, "HSCT"),
    (FilterSpec(age_min=18, age_max=65, include_missing=False),
     "(age_years >= $age_min) AND (age_years <= $age_max)", {"age_min": 18.0, "age_max": 65.0},
     "age 18–65 y (missing values excluded)"),
    (FilterSpec(salvage_lines=(2, 3), blast_burden="high", dose_groups=("<1.8",)),
     None, None, "Salvage 2–3 · blasts ≥ 50% · cycle-1 dose < 1.8 mg/m²"),
    (FilterSpec(centres=("'; DROP TABLE patients; --",)),
     "(list_contains($centres, centre) OR centre IS NULL)", {"centres": ["'; DROP TABLE patients; --"]}, None),
]


@pytest.mark.parametrize("spec, sql, params, words", CASES)
def test_filter_language(spec: FilterSpec, sql: str | None, params: dict | None, words: str | None) -> None:
    got_sql, got_params = spec.where()
    if sql is not None:
        assert got_sql == sql
    if params is not None:
        assert got_params == params
    if words is not None:
        assert spec.describe() == words


def test_values_never_reach_sql_text() -> None:
    hostile = "x' OR 1=1; DROP TABLE events; --" + "A" * 100
    sql, params = FilterSpec(centres=(hostile,)).where()
    assert hostile not in sql and "DROP" not in sql
    assert params["centres"] == [hostile]


@pytest.mark.parametrize("kwargs, message", [
    (dict(blast_burden="medium"), "blast_burden"),
    (dict(blast_threshold=150), "blast_threshold"),
    (dict(dose_groups=("2.0",)), "dose_groups"),
    (dict(salvage_lines=(0,)), "salvage_lines"),
    (dict(sexes=("X",)), "sexes"),
    (dict(age_min=70, age_max=20), "minimum 70 is above maximum 20"),
    (dict(centres=("A" * 10_000,)), "centres"),
])
def test_bad_filters_say_which_field(kwargs: dict, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        FilterSpec(**kwargs)


@pytest.mark.parametrize("dose, group", [(1.8, "1.8"), (1.804, "1.8"), (1.79, "<1.8"), (1.3, "<1.8"),
                                         (2.3, ">1.8"), (None, None)])
def test_dose_group_rule(dose: float | None, group: str | None) -> None:
    assert dose_group(dose) == group


# ---------------------------------------------------------------- SQL against a pandas oracle
CENTRES = ("Centre A", "Centre B", "Centre C")
DOSES = ((0.8, 0.5, 0.5), (0.5, 0.5, 0.3), (0.6, 0.5, 0.5), (1.0, 0.5, 0.5), (0.8, 0.5, 0.5, ))


def _random_people(seed: int, n: int = 80) -> list[TinyPatient]:
    rnd = random.Random(seed)
    maybe = lambda value, p=0.15: None if rnd.random() < p else value  # noqa: E731
    people = []
    for i in range(n):
        people.append(TinyPatient(
            patient_id=f"R{i:03d}", salvage_line=rnd.choice((1, 1, 2, 2, 3, 4)),
            blast_pct=maybe(rnd.choice((5.0, 20.0, 49.9, 50.0, 50.1, 75.0, 95.0))),
            age_years=round(rnd.uniform(18, 80), 2), sex=rnd.choice("FM"), centre=rnd.choice(CENTRES),
            ph_status=maybe(rnd.choice(("Ph+", "Ph-"))), disease_status=rnd.choice(("relapsed", "refractory")),
            emd_baseline=maybe(rnd.random() < 0.2), cycle1_doses=rnd.choice(DOSES),
            response=rnd.choice(("CR", "CRi", "NR", None)), hsct_day=rnd.choice((None, None, 90)),
        ))
    return people


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Cohort, pd.DataFrame]:
    people = _random_people(7)
    path = write_tiny_cohort(Path(tmp_path_factory.mktemp("oracle")) / "oracle.duckdb", people)
    frame = pd.DataFrame([{
        "salvage_line": p.salvage_line, "blast_pct": p.blast_pct, "age_years": p.age_years, "sex": p.sex,
        "centre": p.centre, "ph_status": p.ph_status, "disease_status": p.disease_status,
        "emd_baseline": p.emd_baseline, "cycle1_dose_mg_m2": sum(p.cycle1_doses),
        "cycle1_dose_group": dose_group(sum(p.cycle1_doses)), "hsct": p.hsct_day is not None,
    } for p in people])
    return open_cohort(path), frame


def _oracle_count(frame: pd.DataFrame, spec: FilterSpec) -> int:
    keep = pd.Series(True, index=frame.index)

    def apply(column: str, condition: pd.Series) -> None:
        nonlocal keep
        missing = frame[column].isna()
        keep &= (condition & ~missing) | (missing if spec.include_missing else False)

    if spec.blast_burden == "low":
        apply("blast_pct", frame["blast_pct"] < spec.blast_threshold)
    elif spec.blast_burden == "high":
        apply("blast_pct", frame["blast_pct"] >= spec.blast_threshold)
    if spec.dose_groups:
        apply("cycle1_dose_group", frame["cycle1_dose_group"].isin(spec.dose_groups))
    if spec.dose_min_mg_m2 is not None:
        apply("cycle1_dose_mg_m2", frame["cycle1_dose_mg_m2"] >= spec.dose_min_mg_m2 - 0.005)
    if spec.dose_max_mg_m2 is not None:
        apply("cycle1_dose_mg_m2", frame["cycle1_dose_mg_m2"] <= spec.dose_max_mg_m2 + 0.005)
    if spec.salvage_lines:
        apply("salvage_line", frame["salvage_line"].isin(spec.salvage_lines))
    if spec.hsct is not None:
        keep &= frame["hsct"] == spec.hsct
    if spec.age_min is not None:
        apply("age_years", frame["age_years"] >= spec.age_min)
    if spec.age_max is not None:
        apply("age_years", frame["age_years"] <= spec.age_max)
    for name, column in (("sexes", "sex"), ("centres", "centre"), ("ph_statuses", "ph_status"),
                         ("disease_statuses", "disease_status")):
        if getattr(spec, name):
            apply(column, frame[column].isin(getattr(spec, name)))
    if spec.emd_baseline is not None:
        apply("emd_baseline", frame["emd_baseline"] == spec.emd_baseline)
    return int(keep.sum())


def _subset(values: tuple) -> st.SearchStrategy:
    return st.lists(st.sampled_from(values), unique=True, max_size=len(values)).map(tuple)


@st.composite
def specs(draw: st.DrawFn) -> FilterSpec:
    age_min = draw(st.none() | st.integers(18, 80))
    age_max = draw(st.none() | st.integers(age_min or 18, 90))
    dose_min = draw(st.none() | st.sampled_from((1.3, 1.6, 1.8)))
    return FilterSpec(
        blast_burden=draw(st.sampled_from(("all", "low", "high"))),
        blast_threshold=draw(st.sampled_from((50.0, 49.9, 20.0, 75.0))),
        dose_groups=draw(_subset(("<1.8", "1.8", ">1.8"))),
        dose_min_mg_m2=dose_min,
        dose_max_mg_m2=draw(st.none() | st.sampled_from((1.8, 2.3))),
        salvage_lines=draw(_subset((1, 2, 3, 4))),
        hsct=draw(st.sampled_from((None, True, False))),
        age_min=age_min, age_max=age_max,
        sexes=draw(_subset(("F", "M"))), centres=draw(_subset(CENTRES + ("Nowhere",))),
        ph_statuses=draw(_subset(("Ph+", "Ph-"))), disease_statuses=draw(_subset(("relapsed", "refractory"))),
        emd_baseline=draw(st.sampled_from((None, True, False))),
        include_missing=draw(st.booleans()),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=specs())
def test_sql_filter_matches_pandas_oracle(oracle: tuple[Cohort, pd.DataFrame], spec: FilterSpec) -> None:
    cohort, frame = oracle
    got = fetch_measures(cohort, spec, ("n",))
    n = int(got["n"].iloc[0]) if len(got) else 0
    assert n == _oracle_count(frame, spec)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=specs(), extra=st.sampled_from(["salvage_lines", "sexes", "hsct", "blast_burden"]))
def test_narrowing_never_raises_n(oracle: tuple[Cohort, pd.DataFrame], spec: FilterSpec, extra: str) -> None:
    cohort, _ = oracle
    narrower = {
        # dropping line 1; an emptied tuple would mean "all lines", so keep an impossible line instead
        "salvage_lines": spec.with_(salvage_lines=tuple(x for x in (spec.salvage_lines or (1, 2, 3, 4)) if x != 1)
                                    or (99,)),
        "sexes": spec.with_(sexes=("F",) if spec.sexes in ((), ("F",), ("F", "M"), ("M", "F")) else spec.sexes),
        "hsct": spec if spec.hsct is not None else spec.with_(hsct=True),
        "blast_burden": spec.with_(include_missing=False),
    }[extra]
    count = lambda s: int(fetch_measures(cohort, s, ("n",))["n"].sum())  # noqa: E731
    assert count(narrower) <= count(spec)


@pytest.mark.parametrize("by", ["salvage_line", "blast_burden", "cycle1_dose_group", "hsct", "sex", "centre",
                                "ph_status", "emd_baseline", "best_response"])
def test_disjoint_strata_add_up_to_the_whole(oracle: tuple[Cohort, pd.DataFrame], by: str) -> None:
    cohort, _ = oracle
    spec = FilterSpec(salvage_lines=(1, 2))
    whole = fetch_measures(cohort, spec, ("n", "responders", "hsct"))
    parts = fetch_measures(cohort, spec, ("n", "responders", "hsct"), by=by)
    for column in ("n", "responders", "hsct"):
        assert int(parts[column].sum()) == int(whole[column].iloc[0])

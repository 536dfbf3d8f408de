"""The engine at scale: the synthetic registry, the stored per-patient summary, SQL-aggregated
Kaplan–Meier, and a cohort kept as Parquet files.

* `python -m data.synthetic` is deterministic and writes rows the import validator accepts;
* `patient_summary` (written once per cohort file) gives, column for column, what the CTE
  derivation computes from the events table, under every endpoint option;
* Kaplan–Meier fitted on per-(time, event) counts aggregated in SQL equals lifelines fitted on one
  row per patient derived independently in pandas (scripts/naive_pages.py), to 1e-9;
* a DuckDB file of views over Parquet files is a cohort like any other.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

from core import store
from core.characteristics import patient_characteristics
from core.contract import DAYS_PER_MONTH, EVENT_COLUMNS, PATIENT_COLUMNS, SCHEMA_PATH
from core.database import open_cohort
from core.derivation import PATIENT_ENDPOINTS, SUMMARY_ENDPOINTS, option_parameters, summary_source
from core.endpoints import EndpointOptions
from core.filters import FilterSpec
from core.importer import TextTable, validate_tables
from core.response import cr_cri_rate_by, summarise_response
from core.safety import causes_of_death, toxicity_by_hsct, toxicity_components
from core.survival import SurvivalCurve, estimate_survival
from data.synthetic import draw_chunk, generate

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("naive_pages", ROOT / "scripts" / "naive_pages.py")
assert _spec and _spec.loader
naive = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(naive)

OPTIONS = (EndpointOptions(), EndpointOptions(rfs_from_response=True), EndpointOptions(censor_at_hsct=True),
           EndpointOptions(relapse_from_dose=True),
           EndpointOptions(rfs_from_response=True, censor_at_hsct=True))


@pytest.fixture(scope="module")
def registry_2k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(2_000, 11, tmp_path_factory.mktemp("synthetic") / "registry_2k.duckdb")


@pytest.fixture(scope="module")
def registry_10k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(10_000, 3, tmp_path_factory.mktemp("synthetic") / "registry_10k.duckdb", chunk=4_000)


@pytest.fixture(scope="module")
def registry_10k_raw(registry_10k: Path) -> pd.DataFrame:
    """One row per patient, derived from the raw rows in pandas (independently of the SQL)."""
    con = duckdb.connect(str(registry_10k), read_only=True)
    patients, events = naive.read_tables(con)
    con.close()
    return naive.derive(patients, events)


@pytest.fixture(scope="module")
def default_with_summary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default cohort written afresh by core.store (so it carries patient_summary)."""
    from data.build_db import build

    return build(tmp_path_factory.mktemp("default") / "ino_cohort.duckdb", force=True)


def _rows(path: Path, table: str, order: str) -> pd.DataFrame:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"SELECT * FROM {table} ORDER BY {order}").df()
    finally:
        con.close()


# ------------------------------------------------------------------------------ the generator
def test_same_seed_gives_the_same_rows(registry_2k: Path, tmp_path: Path) -> None:
    again = generate(2_000, 11, tmp_path / "again.duckdb")
    order = "patient_id, event_date NULLS LAST, event_type, cycle NULLS LAST, cycle_day NULLS LAST, ae_term"
    for table, key in (("patients", "patient_id"), ("events", order)):
        pd.testing.assert_frame_equal(_rows(registry_2k, table, key), _rows(again, table, key))
    first, _ = draw_chunk(11, 0, 0, 2_000, 2_000)
    other, _ = draw_chunk(12, 0, 0, 2_000, 2_000)
    pd.testing.assert_frame_equal(first, draw_chunk(11, 0, 0, 2_000, 2_000)[0])
    assert not first.equals(other)


def test_generated_rows_keep_the_data_contract(registry_2k: Path) -> None:
    con = duckdb.connect(str(registry_2k), read_only=True)
    reference = duckdb.connect()
    reference.execute(SCHEMA_PATH.read_text())
    try:
        for table in ("patients", "events"):   # the contract's columns and types, in its order
            assert con.execute(f"DESCRIBE {table}").fetchall() == reference.execute(f"DESCRIBE {table}").fetchall()
        # the import validator (as text, as a user's file would arrive) finds nothing wrong
        frames = {}
        for table, columns in (("patients", PATIENT_COLUMNS), ("events", EVENT_COLUMNS)):
            text = con.execute(f"SELECT {', '.join(f'CAST({c} AS VARCHAR) AS {c}' for c in columns)} FROM {table}").df()
            text.index = text.index + 2
            frames[table] = TextTable(table, f"{table}.csv", text.astype(object).where(text.notna(), None))
        report = validate_tables(frames["patients"], frames["events"]).report
        assert report.n_errors == 0 and report.n_warnings == 0, report.frame().head(10).to_string()
        per_patient = con.execute("SELECT count(*) / 2000 FROM events").fetchone()[0]
        assert 8 <= per_patient <= 16
    finally:
        con.close()
        reference.close()


def test_generated_cohort_looks_like_the_real_one(registry_2k: Path) -> None:
    """Rates in the neighbourhood of the reconstructed cohort's (CR/CRi 59%, HSCT 34%, deaths 53%)."""
    cohort = open_cohort(registry_2k)
    summary = summarise_response(cohort, FilterSpec())
    assert 0.45 <= summary.cr_cri.estimate <= 0.7
    assert 0.15 <= summary.hsct.estimate <= 0.45
    deaths = causes_of_death(cohort, FilterSpec()).deaths
    assert 0.4 <= deaths.estimate <= 0.8
    lines = {r.value for r in cr_cri_rate_by(cohort, FilterSpec(), "salvage_line")}
    assert {1, 2, 3} <= lines
    cohort.close()


# ------------------------------------------------------------------------------ the stored summary
@pytest.mark.parametrize("which", ["default", "generated"])
def test_stored_summary_equals_the_derivation_column_for_column(which: str, default_with_summary: Path,
                                                                registry_2k: Path) -> None:
    path = default_with_summary if which == "default" else registry_2k
    cohort = open_cohort(path)
    assert summary_source(cohort) is SUMMARY_ENDPOINTS
    with cohort.cursor() as cur:
        for options, threshold in [(o, 50.0) for o in OPTIONS] + [(EndpointOptions(), 35.0)]:
            params = option_parameters(options, threshold)
            stored = cur.execute(f"{SUMMARY_ENDPOINTS} SELECT * FROM patient_endpoints ORDER BY patient_id",
                                 params).df()
            derived = cur.execute(f"{PATIENT_ENDPOINTS} SELECT * FROM patient_endpoints ORDER BY patient_id",
                                  params).df()
            assert sorted(stored.columns) == sorted(derived.columns)
            pd.testing.assert_frame_equal(stored, derived[stored.columns])
    cohort.close()


def test_a_stale_or_missing_summary_is_not_used(default_with_summary: Path, tmp_path: Path) -> None:
    changed = tmp_path / "changed.duckdb"
    changed.write_bytes(default_with_summary.read_bytes())
    con = duckdb.connect(str(changed))
    con.execute("INSERT INTO events (patient_id, event_date, event_type, ae_term, ae_grade) "
                "SELECT patient_id, ino_start_date + 3, 'adverse_event', 'VOD', 3 FROM patients WHERE patient_id = 'P03'")
    con.close()
    gone = tmp_path / "gone.duckdb"
    gone.write_bytes(default_with_summary.read_bytes())
    con = duckdb.connect(str(gone))
    con.execute("DROP TABLE patient_summary")
    con.close()
    for path, vod in ((changed, 8), (gone, 7)):
        cohort = open_cohort(path)
        assert summary_source(cohort) is PATIENT_ENDPOINTS
        vod_row = next(r for r in toxicity_by_hsct(cohort, FilterSpec()).rows if r.key == "vod")
        assert vod_row.overall.count == vod
        cohort.close()


# ------------------------------------------------------------------------------ KM from SQL counts
def _raw_fit(days: pd.Series, events: pd.Series) -> KaplanMeierFitter:
    usable = days.notna() & (days >= 0)
    return KaplanMeierFitter().fit(days[usable].astype(float) / DAYS_PER_MONTH, events[usable].astype(bool))


@pytest.mark.parametrize("endpoint", ["os", "rfs", "dor"])
def test_km_from_sql_counts_equals_lifelines_on_raw_rows(endpoint: str, registry_10k: Path,
                                                         registry_10k_raw: pd.DataFrame) -> None:
    cohort = open_cohort(registry_10k)
    raw = registry_10k_raw
    analysis = estimate_survival(cohort, FilterSpec(), endpoint, by="salvage_line")
    curves = {c.label: c for c in analysis.curves if isinstance(c, SurvivalCurve)}
    assert len(curves) == raw["salvage_line"].nunique()
    for line, group in raw.groupby("salvage_line"):
        curve = curves[f"Salvage {line}"]
        kmf = _raw_fit(group[f"{endpoint}_days"], group[f"{endpoint}_event"])
        sf = kmf.survival_function_.iloc[:, 0]
        ci = kmf.confidence_interval_survival_function_
        assert curve.n == int(kmf.event_observed.size) and curve.events == int(kmf.event_observed.sum())
        np.testing.assert_allclose(curve.timeline, sf.index.to_numpy(), rtol=0, atol=1e-9)
        np.testing.assert_allclose(curve.survival, sf.to_numpy(), rtol=0, atol=1e-9)
        np.testing.assert_allclose(curve.lower, ci.iloc[:, 0].to_numpy(), rtol=0, atol=1e-9)
        np.testing.assert_allclose(curve.upper, ci.iloc[:, 1].to_numpy(), rtol=0, atol=1e-9)
        bounds = np.asarray(median_survival_times(kmf.confidence_interval_)).ravel()
        for ours, theirs in ((curve.median.value, kmf.median_survival_time_), (curve.median.lower, bounds[0]),
                             (curve.median.upper, bounds[1])):
            assert (ours is None and not math.isfinite(theirs)) or abs(ours - theirs) <= 1e-9
        for rate in curve.landmarks:
            if rate.estimate is not None:
                assert abs(rate.estimate - float(kmf.survival_function_at_times(rate.months).iloc[0])) <= 1e-9
    cohort.close()


# ------------------------------------------------------------------------------ Parquet
def _endpoints(path: Path, *, full: bool = True) -> tuple:
    cohort = open_cohort(path)
    spec = FilterSpec(salvage_lines=(1, 2))
    out: tuple = (summarise_response(cohort, spec), estimate_survival(cohort, spec, "rfs", by="blast_burden"),
                  toxicity_by_hsct(cohort, FilterSpec()), causes_of_death(cohort, spec))
    if full:
        out += (summarise_response(cohort, FilterSpec()), estimate_survival(cohort, FilterSpec(), "os"),
                estimate_survival(cohort, FilterSpec(), "dor", options=EndpointOptions(censor_at_hsct=True)),
                toxicity_components(cohort, spec), patient_characteristics(cohort, spec),
                cr_cri_rate_by(cohort, FilterSpec(), "cycle1_dose_group"))
    cohort.close()
    return out


@pytest.mark.parametrize("with_summary", [True, False])
def test_a_cohort_of_parquet_views_gives_identical_endpoints(with_summary: bool, default_with_summary: Path,
                                                             tmp_path: Path) -> None:
    tables = ["patients", "events", "study_meta"] + (["patient_summary", "patient_summary_meta"] if with_summary else [])
    source = duckdb.connect(str(default_with_summary), read_only=True)
    for table in tables:
        source.execute(f"COPY {table} TO '{tmp_path / table}.parquet' (FORMAT parquet)")
    source.close()
    views = tmp_path / "parquet_views.duckdb"
    con = duckdb.connect(str(views))
    for table in tables:
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{tmp_path / table}.parquet')")
    con.close()
    cohort = open_cohort(views)
    assert summary_source(cohort) is (SUMMARY_ENDPOINTS if with_summary else PATIENT_ENDPOINTS)
    cohort.close()
    assert _endpoints(views, full=with_summary) == _endpoints(default_with_summary, full=with_summary)


def test_write_parquet_cohort_gives_a_cohort_with_identical_endpoints(default_with_summary: Path,
                                                                     tmp_path: Path) -> None:
    out = tmp_path / "o'brien registry"          # a quote in the path must not break the views
    views = store.write_parquet_cohort(default_with_summary, out)
    assert sorted(p.name for p in out.glob("*.parquet")) == sorted(f"{t}.parquet" for t in store.PARQUET_TABLES)
    assert views.stat().st_size < 2_000_000 and not list(out.glob("*.tmp"))
    cohort = open_cohort(views)
    assert summary_source(cohort) is SUMMARY_ENDPOINTS           # the stored summary is used, not re-derived
    cohort.close()
    assert _endpoints(views) == _endpoints(default_with_summary)

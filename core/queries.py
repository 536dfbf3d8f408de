"""The queries the product runs against a cohort: aggregates, per-time counts, listings.

Every query reads the per-patient table `patient_endpoints` of core.derivation, restricted by a
`FilterSpec` (its WHERE clause and bound parameters), and aggregates in SQL, so the same code serves
32 patients or a registry; nothing here loads the events table into pandas.

Where SQL text lives: the derivation in core.derivation, the queries here, the schema in
data/schema.sql (applied by core.store, which also inserts the rows), and the bulk writer of the
synthetic registry (data/synthetic.py). Values always travel as named parameters; the only text
spliced into SQL is chosen from whitelists (`core.groupings.GROUPINGS`, `MEASURES`, the column
names held by `core.endpoints.ENDPOINTS`, `LISTING_COLUMNS`), never from user input.
"""

from __future__ import annotations

import json
import re
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import TypeVar

import duckdb
import pandas as pd

from core.contract import DEFAULT_BLAST_THRESHOLD, EVENT_COLUMNS, PATIENT_COLUMNS
from core.database import Cohort, CohortError
from core.derivation import option_parameters, with_endpoints
from core.endpoints import EndpointOptions, endpoint
from core.filters import FilterSpec
from core.groupings import grouping

_SIZES: dict[int, int] = {}
_SIZES_LOCK = threading.Lock()


def cohort_patients(cohort: Cohort) -> int:
    """Patients in the cohort, counted once per open cohort (read-only: it cannot change)."""
    key = id(cohort)
    found = _SIZES.get(key)
    if found is not None:
        return found
    n = int(_fetch_rows(cohort, "SELECT count(*) FROM patients", {})[0][0])
    with _SIZES_LOCK:
        if key not in _SIZES:
            _SIZES[key] = n
            weakref.finalize(cohort, _SIZES.pop, key, None)
    return n


# Aggregates over a slice: name → SQL expression. Counts of patients, never of rows.
MEASURES: dict[str, str] = {
    "n": "count(*)",
    "safety_evaluable": "count(*) FILTER (WHERE safety_evaluable)",
    "response_evaluable": "count(*) FILTER (WHERE response_evaluable)",
    "not_evaluable": "count(*) FILTER (WHERE NOT response_evaluable)",
    "responders": "count(*) FILTER (WHERE responder)",
    "cr": "count(*) FILTER (WHERE first_response = 'CR')",
    "cri": "count(*) FILTER (WHERE first_response = 'CRi')",
    "no_response": "count(*) FILTER (WHERE best_response = 'NR')",
    "mrd_negative": "count(*) FILTER (WHERE responder AND mrd_negative)",
    "cr_mrd_negative": "count(*) FILTER (WHERE first_response = 'CR' AND mrd_negative)",
    "cri_mrd_negative": "count(*) FILTER (WHERE first_response = 'CRi' AND mrd_negative)",
    "deep_response": "count(*) FILTER (WHERE responder AND deep_response)",
    "hsct": "count(*) FILTER (WHERE hsct)",
    "responders_hsct": "count(*) FILTER (WHERE responder AND hsct)",
    "responders_hsct_single_cycle": "count(*) FILTER (WHERE responder AND hsct AND n_cycles = 1)",
    "responders_dated": "count(*) FILTER (WHERE responder AND first_dated_response_date IS NOT NULL)",
    "deaths": "count(*) FILTER (WHERE os_event)",
    "lost_to_follow_up": "count(*) FILTER (WHERE NOT os_event AND followup_status = 'lost to follow-up')",
    "vod": "count(*) FILTER (WHERE vod)",
    "vod_post_hsct": "count(*) FILTER (WHERE vod_post_hsct)",
    "liver_toxicity_g34": "count(*) FILTER (WHERE liver_toxicity_g34)",
    "ast_increased_g34": "count(*) FILTER (WHERE ast_increased_g34)",
    "alt_increased_g34": "count(*) FILTER (WHERE alt_increased_g34)",
    "bilirubin_increased_g34": "count(*) FILTER (WHERE bilirubin_increased_g34)",
    "haematologic_toxicity": "count(*) FILTER (WHERE haematologic_toxicity)",
    "thrombocytopenia": "count(*) FILTER (WHERE thrombocytopenia)",
    "neutropenia": "count(*) FILTER (WHERE neutropenia)",
    "febrile_neutropenia": "count(*) FILTER (WHERE febrile_neutropenia)",
    "ph_positive": "count(*) FILTER (WHERE ph_status = 'Ph+')",
    "age_mean": "avg(age_years)",
    "age_median": "median(age_years)",
    "age_sd": "stddev_samp(age_years)",
    "age_min": "min(age_years)",
    "age_max": "max(age_years)",
    "cycles_to_response_median": "median(cycles_to_response) FILTER (WHERE responder)",
    "cycles_to_response_min": "min(cycles_to_response) FILTER (WHERE responder)",
    "cycles_to_response_max": "max(cycles_to_response) FILTER (WHERE responder)",
    "deep_response_cycles_median": "median(cycles_to_response) FILTER (WHERE responder AND deep_response)",
    "first_ino_start": "min(ino_start_date)",
    "last_ino_start": "max(ino_start_date)",
    "centres": "count(DISTINCT centre)",
    "cd22_positive": "count(*) FILTER (WHERE cd22_pct > 0)",
    "cd22_reported": "count(*) FILTER (WHERE cd22_pct IS NOT NULL)",
    "ph_positive_without_tki": "count(*) FILTER (WHERE ph_status = 'Ph+' AND coalesce(prior_tki_count, 0) < 1)",
}

# Columns a patient listing or swimmer plot may ask for (all from patient_endpoints).
LISTING_COLUMNS: tuple[str, ...] = (
    "patient_id", "centre", "sex", "age_years", "ph_status", "disease_status", "salvage_line",
    "blast_pct", "emd_baseline", "cycle1_dose_mg_m2", "cycle1_dose_group", "n_cycles",
    "best_response", "cycles_to_response", "mrd_negative", "deep_response", "hsct",
    "ino_start_date", "response_date", "hsct_date", "relapse_date", "relapse_site",
    "death_date", "death_cause", "last_contact_date", "followup_status", "os_days", "os_event",
    "vod", "liver_toxicity_g34", "haematologic_toxicity",
)


def _params(spec: FilterSpec, options: EndpointOptions) -> tuple[str, dict[str, object]]:
    where, params = spec.where()
    return where, {**params, **option_parameters(options, float(spec.blast_threshold or DEFAULT_BLAST_THRESHOLD))}


_Fetched = TypeVar("_Fetched")


def _run(cohort: Cohort, sql: str, params: dict[str, object]) -> pd.DataFrame:
    return _execute(cohort, sql, params, lambda result: result.df())


def _fetch_rows(cohort: Cohort, sql: str, params: dict[str, object]) -> list[tuple]:
    """As plain tuples: for small results read value by value, pandas costs more than the query."""
    return _execute(cohort, sql, params, lambda result: result.fetchall())


def _execute(cohort: Cohort, sql: str, params: dict[str, object],
             fetch: Callable[[duckdb.DuckDBPyConnection], _Fetched]) -> _Fetched:
    # DuckDB refuses parameters a statement does not use; a lean option layer may not use them all.
    params = {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)}
    try:
        with cohort.cursor() as cur:
            return fetch(cur.execute(sql, params))
    except duckdb.Error as exc:
        raise CohortError(f"The cohort {cohort.path.name} could not be queried: {exc}",
                          hint="Check that it follows the data contract (see the data dictionary).") from exc


def _grouping(name: str) -> str:
    return grouping(name).sql


def fetch_measures(cohort: Cohort, spec: FilterSpec, measures: Sequence[str], *,
                   by: str = "all", options: EndpointOptions = EndpointOptions()) -> pd.DataFrame:
    """Aggregates over the slice, one row per group (column `group`)."""
    unknown = [m for m in measures if m not in MEASURES]
    if unknown:
        raise ValueError(f"Unknown measure {unknown[0]!r}")
    where, params = _params(spec, options)
    select = ", ".join(f"{MEASURES[m]} AS {m}" for m in measures)
    group = _grouping(by)
    sql = with_endpoints(cohort, f" SELECT {group} AS \"group\", {select} FROM patient_endpoints "
           f"WHERE {where} GROUP BY ALL ORDER BY 1 NULLS LAST")
    return _run(cohort, sql, params)


def fetch_survival_counts(cohort: Cohort, spec: FilterSpec, endpoint_key: str, *, by: str = "all",
                          options: EndpointOptions = EndpointOptions()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-time counts for a time-to-event endpoint of the registry, aggregated in SQL.

    Returns (counts, excluded): counts has one row per (group, duration_days, event_kind) with the
    number of patients `n`, and `event` (kind 1, the event a Kaplan–Meier curve counts); excluded
    counts patients in the population of the endpoint who have no usable duration (no date of death
    or last contact, an undated origin, or a negative duration).
    """
    entry = endpoint(endpoint_key)
    if not entry.time_to_event:
        raise ValueError(f"{entry.title} is not a time-to-event endpoint")
    duration, event, population = entry.duration_column, entry.event_column, entry.population_sql
    where, params = _params(spec, options)
    group = _grouping(by)
    # One pass: usable times are grouped by (time, event); the rest are counted per group under a
    # NULL time and split off below (the same two tables two queries would give, in one scan).
    sql = with_endpoints(cohort, f" SELECT {group} AS \"group\", "
           f"CASE WHEN {duration} >= 0 THEN {duration} END AS duration_days, "
           f"CASE WHEN {duration} >= 0 THEN CAST({event} AS INTEGER) END AS event_kind, count(*) AS n "
           f"FROM patient_endpoints WHERE {where} AND {population} GROUP BY ALL ORDER BY 1, 2, 3")
    both = _run(cohort, sql, params)
    # Split with numpy and build the two frames once: astype/loc on the mixed frame cost more
    # than the query on a small cohort.
    usable = both["duration_days"].notna().to_numpy()
    group, n = both["group"].to_numpy(), both["n"].to_numpy(dtype="int64")
    counts = _as_if_alone(pd.DataFrame({
        "group": pd.Series(group[usable], dtype=both["group"].dtype),
        "duration_days": both["duration_days"].to_numpy()[usable].astype("int64"),
        "event": both["event_kind"].to_numpy()[usable] == 1,
        "event_kind": both["event_kind"].to_numpy()[usable].astype("int64"),
        "n": n[usable]}))
    # unusable rows have NULL time and NULL event, so the GROUP BY left one row per group
    excluded = _as_if_alone(pd.DataFrame({"group": pd.Series(group[~usable], dtype=both["group"].dtype),
                                          "n": n[~usable]}))
    return counts, excluded


def _as_if_alone(part: pd.DataFrame) -> pd.DataFrame:
    """A slice of a query result with the dtypes DuckDB gives when the slice is the whole result:
    a group column without missing values is plain bool / int32 (groupings are VARCHAR, INTEGER or
    BOOLEAN), not the nullable / float type the NULLs of the other rows forced."""
    part = part.reset_index(drop=True)
    group = part["group"]
    if not group.isna().any():
        if str(group.dtype) == "boolean":
            part["group"] = group.astype(bool)
        elif group.dtype.kind == "f":
            part["group"] = group.astype("int32")
        elif str(group.dtype).startswith("Int"):          # pandas' nullable integers
            part["group"] = group.astype(str(group.dtype).lower())
    return part


def fetch_patient_listing(cohort: Cohort, spec: FilterSpec, *, columns: Sequence[str] = LISTING_COLUMNS,
                          limit: int = 5000, options: EndpointOptions = EndpointOptions()) -> pd.DataFrame:
    """Per-patient derived rows of the slice (for listings and swimmer plots), at most `limit`."""
    bad = [c for c in columns if c not in LISTING_COLUMNS]
    if bad:
        raise ValueError(f"Unknown listing column {bad[0]!r}")
    where, params = _params(spec, options)
    params["limit"] = int(limit)
    sql = with_endpoints(cohort, f" SELECT {', '.join(columns)} FROM patient_endpoints WHERE {where} "
           "ORDER BY patient_id LIMIT $limit")
    return _run(cohort, sql, params)


def fetch_slice_events(cohort: Cohort, spec: FilterSpec, *, limit_patients: int = 500,
                       options: EndpointOptions = EndpointOptions()) -> pd.DataFrame:
    """The events of (at most `limit_patients`) patients in the slice, for the swimmer plot."""
    where, params = _params(spec, options)
    params["limit"] = int(limit_patients)
    sql = with_endpoints(cohort, f", chosen AS (SELECT patient_id, ino_start_date FROM patient_endpoints "
           f"WHERE {where} ORDER BY patient_id LIMIT $limit) "
           "SELECT e.*, datediff('day', c.ino_start_date, e.event_date) AS day "
           "FROM events e JOIN chosen c USING (patient_id) ORDER BY e.patient_id, e.event_date NULLS LAST")
    return _run(cohort, sql, params)


# Table 1's counts: below this many patients in the cohort they come from the slice's distinct
# combinations of the groupings, unpivoted (32 patients: ~6 ms, against ~17 ms for GROUPING SETS,
# whose fixed cost is a hash table per set); above it the combinations multiply and GROUPING SETS
# wins (1M patients: ~130 ms against ~330 ms). Both give the same counts (tests/test_endpoints.py).
SMALL_COHORT_PATIENTS = 50_000


def fetch_counts_by_each(cohort: Cohort, spec: FilterSpec, groupings: Sequence[str],
                         options: EndpointOptions = EndpointOptions()) -> dict[str, list[tuple[object, int]]]:
    """Patients by the values of each grouping in turn, as (value, n) in value order, missing
    last; one query for all groupings. Plain tuples, not frames: a table of ten small groupings
    costs more in pandas than in DuckDB."""
    names = list(dict.fromkeys(groupings))
    if not names:
        return {}
    where, params = _params(spec, options)
    aliases = [f"g{i}" for i in range(len(names))]
    columns = ", ".join(f"{_grouping(g)} AS {a}" for g, a in zip(names, aliases))
    out: dict[str, list[tuple[object, int]]] = {name: [] for name in names}
    if cohort_patients(cohort) <= SMALL_COHORT_PATIENTS:
        # to_json keeps each value's type through the unpivot (which needs one type) and back
        sql = with_endpoints(cohort, f", combos AS (SELECT {columns}, count(*) AS n FROM patient_endpoints "
               f"WHERE {where} GROUP BY ALL), as_json AS (SELECT "
               f"{', '.join(f'to_json({a}) AS {a}' for a in aliases)}, n FROM combos) "
               "SELECT grouping, value, sum(n) AS n FROM (SELECT * FROM as_json UNPIVOT INCLUDE NULLS "
               f"(value FOR grouping IN ({', '.join(aliases)}))) GROUP BY ALL")
        for alias, value, n in _fetch_rows(cohort, sql, params):
            out[names[int(alias[1:])]].append((None if value is None else json.loads(value), int(n)))
        for name in names:
            out[name].sort(key=lambda r: (r[0] is None, r[0] if r[0] is not None else 0))
        return out
    # GROUPING() tells a group's missing value (a real "not reported") from the NULL of the other
    # sets' rows
    sets = ", ".join(f"({a})" for a in aliases)
    which = " + ".join(f"{i} * (1 - GROUPING({a}))" for i, a in enumerate(aliases))   # the set a row belongs to
    sql = with_endpoints(cohort, f" SELECT {which} AS grouping_set, {columns}, count(*) AS n "
           f"FROM patient_endpoints WHERE {where} GROUP BY GROUPING SETS ({sets}) "
           f"ORDER BY {', '.join(f'{a} NULLS LAST' for a in aliases)}")
    for row in _fetch_rows(cohort, sql, params):
        i = row[0]
        out[names[i]].append((row[1 + i], int(row[-1])))
    return out


def fetch_category_counts(cohort: Cohort, spec: FilterSpec, column: str,
                          options: EndpointOptions = EndpointOptions()) -> pd.DataFrame:
    """Counts of patients by the values of one grouping within the slice (for filter labels)."""
    where, params = _params(spec, options)
    sql = with_endpoints(cohort, f" SELECT {_grouping(column)} AS value, count(*) AS n FROM patient_endpoints "
           f"WHERE {where} GROUP BY ALL ORDER BY 1 NULLS LAST")
    return _run(cohort, sql, params)


def fetch_death_causes(cohort: Cohort, spec: FilterSpec,
                       options: EndpointOptions = EndpointOptions()) -> pd.DataFrame:
    where, params = _params(spec, options)
    sql = with_endpoints(cohort, f" SELECT coalesce(death_cause, 'not recorded') AS cause, count(*) AS n, "
           "count(*) FILTER (WHERE hsct) AS after_hsct FROM patient_endpoints "
           f"WHERE {where} AND os_event GROUP BY ALL ORDER BY n DESC, cause")
    return _run(cohort, sql, params)


def fetch_dose_schedule_check(cohort: Cohort, spec: FilterSpec,
                              options: EndpointOptions = EndpointOptions()) -> pd.DataFrame:
    """Cycle-1 doses by day for each patient, and the gaps between cycle day-1 dates."""
    where, params = _params(spec, options)
    sql = with_endpoints(cohort, f", chosen AS (SELECT patient_id, cycle1_dose_group FROM patient_endpoints WHERE {where}), "
           "d1 AS (SELECT patient_id, cycle, min(event_date) AS day1 FROM events WHERE event_type = 'ino_dose' GROUP BY ALL) "
           "SELECT c.patient_id, c.cycle1_dose_group, "
           "  (SELECT list(dose_mg_m2 ORDER BY cycle_day) FROM events e WHERE e.patient_id = c.patient_id "
           "     AND e.event_type = 'ino_dose' AND e.cycle = 1) AS cycle1_doses, "
           "  (SELECT list(cycle_day ORDER BY cycle_day) FROM events e WHERE e.patient_id = c.patient_id "
           "     AND e.event_type = 'ino_dose' AND e.cycle = 1) AS cycle1_days, "
           "  (SELECT list(g ORDER BY cycle) FROM (SELECT cycle, datediff('day', lag(day1) OVER (ORDER BY cycle), day1) AS g "
           "     FROM d1 WHERE d1.patient_id = c.patient_id) WHERE g IS NOT NULL) AS cycle_gaps_days, "
           "  (SELECT min(event_date) FROM events e WHERE e.patient_id = c.patient_id AND e.event_type = 'ino_dose') AS first_dose, "
           "  (SELECT max(event_date) FROM events e WHERE e.patient_id = c.patient_id AND e.event_type = 'ino_dose') AS last_dose "
           "FROM chosen c ORDER BY c.patient_id")
    return _run(cohort, sql, params)


def fetch_study_meta(cohort: Cohort) -> dict[str, str]:
    with cohort.cursor() as cur:
        tables = {r[0] for r in cur.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "study_meta" not in tables:
            return {}
        return {k: v for k, v in cur.execute("SELECT key, value FROM study_meta").fetchall()}


def fetch_baseline_extent(cohort: Cohort, options: EndpointOptions = EndpointOptions()) -> pd.DataFrame:
    """The whole cohort's category values and ranges, to build filter widgets."""
    sql = with_endpoints(cohort, " SELECT min(age_years) AS age_min, max(age_years) AS age_max, "
           "min(cycle1_dose_mg_m2) AS dose_min, max(cycle1_dose_mg_m2) AS dose_max, "
           "list(DISTINCT centre ORDER BY centre) AS centres, list(DISTINCT salvage_line ORDER BY salvage_line) AS salvage_lines, "
           "count(*) AS n FROM patient_endpoints")
    _, params = _params(FilterSpec(), options)
    return _run(cohort, sql, params)


def fetch_study_window(cohort: Cohort, spec: FilterSpec = FilterSpec(),
                       options: EndpointOptions = EndpointOptions()) -> pd.DataFrame:
    """Calendar facts of the slice, all from event dates: first/last C1D1, the dose window, cut-offs.

    One row: `first_c1d1`/`last_c1d1` (earliest/latest cycle-1 day-1 `ino_dose` date),
    `first_dose`/`last_dose` (any `ino_dose`), `last_event` (latest dated event), the range of the
    centres' `data_cutoff_date`, `events_after_cutoff` and `events_before_start` (rows dated outside
    their patient's window), `start_mismatches` (patients whose `ino_start_date` is not their C1D1),
    `min_potential_days` (shortest cut-off minus C1D1) and `n`.
    """
    where, params = _params(spec, options)
    sql = with_endpoints(cohort, f", chosen AS (SELECT patient_id, ino_start_date, data_cutoff_date "
           f"FROM patient_endpoints WHERE {where}), "
           "c1d1 AS (SELECT patient_id, min(event_date) AS c1d1 FROM events "
           "  WHERE event_type = 'ino_dose' AND cycle = 1 AND cycle_day = 1 GROUP BY patient_id), "
           "ev AS (SELECT e.patient_id, e.event_type, e.event_date, c.ino_start_date, c.data_cutoff_date "
           "  FROM events e JOIN chosen c USING (patient_id)) "
           "SELECT (SELECT min(k.c1d1) FROM c1d1 k JOIN chosen USING (patient_id)) AS first_c1d1, "
           "  (SELECT max(k.c1d1) FROM c1d1 k JOIN chosen USING (patient_id)) AS last_c1d1, "
           "  (SELECT min(event_date) FROM ev WHERE event_type = 'ino_dose') AS first_dose, "
           "  (SELECT max(event_date) FROM ev WHERE event_type = 'ino_dose') AS last_dose, "
           "  (SELECT max(event_date) FROM ev) AS last_event, "
           "  (SELECT min(data_cutoff_date) FROM chosen) AS first_cutoff, "
           "  (SELECT max(data_cutoff_date) FROM chosen) AS last_cutoff, "
           "  (SELECT count(*) FROM ev WHERE event_date > data_cutoff_date) AS events_after_cutoff, "
           "  (SELECT count(*) FROM ev WHERE event_date < ino_start_date) AS events_before_start, "
           "  (SELECT count(*) FROM chosen c LEFT JOIN c1d1 k USING (patient_id) "
           "     WHERE k.c1d1 IS NULL OR k.c1d1 <> c.ino_start_date) AS start_mismatches, "
           "  (SELECT min(datediff('day', k.c1d1, c.data_cutoff_date)) FROM chosen c "
           "     JOIN c1d1 k USING (patient_id)) AS min_potential_days, "
           "  (SELECT count(*) FROM chosen) AS n")
    return _run(cohort, sql, params)


def fetch_response_criteria_check(cohort: Cohort, spec: FilterSpec = FilterSpec(),
                                  options: EndpointOptions = EndpointOptions()) -> pd.DataFrame:
    """Whether the counts on CR and CRi `response` rows meet the paper's definitions.

    One row per response category (`CR`, `CRi`): `n_rows`, `n_with_counts` (blasts, platelets, ANC
    and EMD all recorded) and `n_meeting` (of those, the rows meeting the definition: ≤ 5% marrow
    blasts and no EMD; CR with platelets > 100 and ANC > 1 ×10⁹/L; CRi with platelets < 100 or
    ANC < 1 ×10⁹/L).
    """
    where, params = _params(spec, options)
    sql = with_endpoints(cohort, f", chosen AS (SELECT patient_id FROM patient_endpoints WHERE {where}), "
           "r AS (SELECT e.* FROM events e JOIN chosen USING (patient_id) "
           "  WHERE e.event_type = 'response' AND e.response IN ('CR', 'CRi')), "
           "flagged AS (SELECT response, "
           "  marrow_blast_pct IS NOT NULL AND platelets_10e9_l IS NOT NULL AND anc_10e9_l IS NOT NULL "
           "    AND emd_present IS NOT NULL AS complete, "
           "  marrow_blast_pct <= 5 AND NOT emd_present AND CASE response "
           "    WHEN 'CR' THEN platelets_10e9_l > 100 AND anc_10e9_l > 1 "
           "    ELSE platelets_10e9_l < 100 OR anc_10e9_l < 1 END AS meets FROM r) "
           "SELECT response, count(*) AS n_rows, count(*) FILTER (WHERE complete) AS n_with_counts, "
           "  count(*) FILTER (WHERE complete AND meets) AS n_meeting FROM flagged GROUP BY response ORDER BY response")
    return _run(cohort, sql, params)


def fetch_slice_rows(cohort: Cohort, spec: FilterSpec,
                     options: EndpointOptions = EndpointOptions()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The slice's `patients` and `events` rows in the import format (the contract's columns, in order)."""
    where, params = _params(spec, options)
    chosen = f", chosen AS (SELECT patient_id FROM patient_endpoints WHERE {where}) "
    patient_columns = ", ".join(f"p.{c}" for c in PATIENT_COLUMNS)
    event_columns = ", ".join(f"e.{c}" for c in EVENT_COLUMNS)
    # same-day events tie on the leading keys: every other column breaks the tie, so an export's rows
    # do not depend on the order the events were stored in
    leading = ("patient_id", "event_date", "event_type", "cycle", "cycle_day")
    tie_breaks = tuple(c for c in EVENT_COLUMNS if c not in leading)
    event_order = ", ".join(f"e.{c} NULLS LAST" for c in leading + tie_breaks)
    patients = _run(cohort, with_endpoints(cohort, chosen + f"SELECT {patient_columns} FROM patients p "
                                           "JOIN chosen USING (patient_id) ORDER BY p.patient_id"), params)
    events = _run(cohort, with_endpoints(cohort, chosen + f"SELECT {event_columns} FROM events e "
                                         f"JOIN chosen USING (patient_id) ORDER BY {event_order}"), params)
    return (patients.loc[:, list(PATIENT_COLUMNS)].reset_index(drop=True),
            events.loc[:, list(EVENT_COLUMNS)].reset_index(drop=True))


# Events during follow-up a survival comparison may treat as time-dependent: name → date column.
INTERMEDIATE_EVENTS: dict[str, str] = {"hsct": "hsct_date", "responder": "first_dated_response_date"}


def fetch_intermediate_counts(cohort: Cohort, spec: FilterSpec, endpoint_key: str, intermediate: str, *,
                              options: EndpointOptions = EndpointOptions()) -> tuple[pd.DataFrame, int]:
    """Patients by (duration, event, day of the intermediate event) for a survival endpoint from the
    first dose: what landmark and time-dependent analyses need, aggregated in SQL.

    `event_days` is NULL when the intermediate event (HSCT, first dated CR/CRi) did not happen
    during the endpoint's follow-up (it never did, or only after the endpoint's event or
    censoring). Returns (counts, excluded) — excluded = patients in the endpoint's population
    without a usable duration.
    """
    entry = endpoint(endpoint_key)
    if entry.kind != "survival" or intermediate not in INTERMEDIATE_EVENTS:
        raise ValueError(f"no time-dependent analysis of {intermediate!r} for {entry.title}")
    duration, event, population = entry.duration_column, entry.event_column, entry.population_sql
    day = f"datediff('day', ino_start_date, {INTERMEDIATE_EVENTS[intermediate]})"
    where, params = _params(spec, options)
    sql = with_endpoints(cohort, f" SELECT {duration} AS duration_days, CAST({event} AS INTEGER) = 1 AS event, "
                         f"CASE WHEN {day} BETWEEN 0 AND {duration} THEN {day} END AS event_days, count(*) AS n "
                         f"FROM patient_endpoints WHERE {where} AND {population} AND {duration} >= 0 "
                         "GROUP BY ALL ORDER BY 1, 2, 3 NULLS LAST")
    counts = _run(cohort, sql, params)
    excluded_sql = with_endpoints(cohort, f" SELECT count(*) FROM patient_endpoints WHERE {where} AND {population} "
                                  f"AND ({duration} IS NULL OR {duration} < 0)")
    excluded = int(_fetch_rows(cohort, excluded_sql, params)[0][0])
    return counts.astype({"duration_days": "int64", "event": bool, "event_days": "float64", "n": "int64"}), excluded


# Continuous baseline variables the cut-point explorer may split (columns of patient_endpoints); the
# column named in fetch_cutpoint_counts' SQL comes from this whitelist only.
CUTPOINT_COLUMNS: tuple[str, ...] = ("blast_pct", "cycle1_dose_mg_m2", "age_years")


def fetch_cutpoint_counts(cohort: Cohort, spec: FilterSpec, column: str,
                          options: EndpointOptions = EndpointOptions()) -> pd.DataFrame:
    """Patients of the slice by (`value` of `column`, `responder`, OS `duration_days`, OS `event_kind`), with `n`.

    `value` is NULL when the variable is missing; `duration_days` and `event_kind` are NULL when OS
    has no usable duration (as in fetch_survival_counts). One row per combination, so a registry
    returns a few thousand rows, not one per patient.
    """
    if column not in CUTPOINT_COLUMNS:
        raise ValueError(f"Unknown cut-point variable {column!r}; choose one of {', '.join(CUTPOINT_COLUMNS)}")
    os_endpoint = endpoint("os")
    duration, event = os_endpoint.duration_column, os_endpoint.event_column
    where, params = _params(spec, options)
    sql = with_endpoints(cohort, f" SELECT {column} AS value, responder, "
           f"CASE WHEN {duration} >= 0 THEN {duration} END AS duration_days, "
           f"CASE WHEN {duration} >= 0 THEN CAST({event} AS INTEGER) END AS event_kind, count(*) AS n "
           f"FROM patient_endpoints WHERE {where} GROUP BY ALL ORDER BY 1 NULLS LAST, 2, 3, 4")
    return _run(cohort, sql, params)


def fetch_vod_timing(cohort: Cohort, spec: FilterSpec,
                     options: EndpointOptions = EndpointOptions()) -> pd.DataFrame:
    """One row per patient of the slice with VOD: when it happened relative to the first dose and HSCT.

    `vod_day` is the VOD counted, in days from the first InO dose: the first VOD on or after the
    HSCT when there is one (the paper's "VOD after HSCT"), else the first VOD; `hsct_day` the first
    HSCT (NULL without one); `days_from_hsct` = vod_day − hsct_day (negative: before the HSCT);
    `after_hsct` is true when a VOD is dated on or after the HSCT. Undated VOD rows give NULL days.
    """
    where, params = _params(spec, options)
    sql = with_endpoints(cohort, f", chosen AS (SELECT patient_id, ino_start_date, hsct_date FROM patient_endpoints "
                         f"WHERE {where} AND vod), "
                         "v AS (SELECT e.patient_id, min(e.event_date) AS first_vod, "
                         "  min(e.event_date) FILTER (WHERE e.event_date >= c.hsct_date) AS first_vod_after_hsct "
                         "  FROM events e JOIN chosen c USING (patient_id) "
                         "  WHERE e.event_type = 'adverse_event' AND e.ae_term = 'VOD' GROUP BY e.patient_id) "
                         "SELECT c.patient_id, c.hsct_date IS NOT NULL AS hsct, "
                         "  datediff('day', c.ino_start_date, c.hsct_date) AS hsct_day, "
                         "  datediff('day', c.ino_start_date, coalesce(v.first_vod_after_hsct, v.first_vod)) AS vod_day, "
                         "  datediff('day', c.hsct_date, coalesce(v.first_vod_after_hsct, v.first_vod)) AS days_from_hsct, "
                         "  v.first_vod_after_hsct IS NOT NULL AS after_hsct "
                         "FROM chosen c LEFT JOIN v USING (patient_id) ORDER BY c.patient_id")
    return _run(cohort, sql, params)

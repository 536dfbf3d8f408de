"""The only SQL text in the product.

Everything the engine computes starts from one row per patient, derived in DuckDB from the
`patients` and `events` tables of the data contract (cycle-1 dose, best response, MRD, HSCT,
relapse, death, last contact, adverse-event flags and the time-to-event durations in days).
Filters (`FilterSpec.where()`) apply to that derived row, and aggregation happens in SQL, so the
same code serves 32 patients or a registry; nothing here loads the events table into pandas.

The derivation is written once, in two layers:

* `PATIENT_DERIVATION` — everything that depends on the rows alone (no user option). It ends in the
  CTE `patient_derived`. A cohort file may keep its result as the table `patient_summary`
  (`write_patient_summary`, called by `core.store.write_cohort_file` and `data.synthetic`), stamped
  in `patient_summary_meta` with a fingerprint of this SQL and the row counts it was computed from;
  the query layer reads the table only while both still match, and falls back to the CTE otherwise.
  At 10M events this turns every page query from a re-aggregation of the events table into a scan
  of one narrow row per patient.
* `OPTION_COLUMNS` — what depends on the user's options, computed on top with bound parameters:
  blast burden (`$blast_threshold`), the RFS origin (`$rfs_from_response`) and censoring at HSCT
  (`$censor_at_hsct`). Together they make the CTE `patient_endpoints`, which every query selects
  from; a query gets only the option columns it names.

`PATIENT_ENDPOINTS` (every column, from the raw tables) is kept as the reference definition and for
callers that splice it into their own SQL; `with_endpoints(cohort, body)` gives the fast prefix.

Values always travel as named parameters. The only text spliced into SQL is chosen from the
whitelists below (`GROUPINGS`, `MEASURES`, `ENDPOINT_COLUMNS`), never from user input.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd

from core.database import Cohort, CohortError
from core.filters import DEFAULT_BLAST_THRESHOLD, FilterSpec

DAYS_PER_MONTH = 30.4375  # 365.25 / 12, the data contract's month

# Option-independent per-patient derivation: a list of CTEs (without the leading WITH) ending in
# `patient_derived`. No parameters: its result can be stored once per cohort file.
_DERIVATION_CTES = """
doses AS (
    SELECT patient_id,
           max(cycle)                                   AS n_cycles,
           sum(dose_mg_m2) FILTER (WHERE cycle = 1)     AS cycle1_dose_mg_m2,
           max(event_date)                              AS last_dose_date
    FROM events WHERE event_type = 'ino_dose' GROUP BY patient_id
),
assessed AS (
    SELECT patient_id, count(*) AS n_response_rows
    FROM events WHERE event_type = 'response' GROUP BY patient_id
),
first_cr AS (
    -- the first CR/CRi: by the cycle it followed, then by date (undated rows keep their cycle)
    SELECT patient_id, response AS first_response, cycle AS response_cycle, event_date AS response_date
    FROM events
    WHERE event_type = 'response' AND response IN ('CR', 'CRi')
    QUALIFY row_number() OVER (PARTITION BY patient_id ORDER BY cycle NULLS LAST, event_date NULLS LAST) = 1
),
first_dated_cr AS (
    -- duration of remission starts at the first CR/CRi whose date was recorded
    SELECT patient_id, min(event_date) AS first_dated_response_date
    FROM events
    WHERE event_type = 'response' AND response IN ('CR', 'CRi') AND event_date IS NOT NULL
    GROUP BY patient_id
),
mrd AS (
    SELECT m.patient_id,
           bool_or(m.mrd = 'negative') AS mrd_negative,
           -- deep response: MRD-negative at the assessment that first documented CR/CRi
           bool_or(m.mrd = 'negative' AND (
               (f.response_date IS NOT NULL AND m.event_date = f.response_date)
               OR (f.response_date IS NULL AND m.cycle = f.response_cycle))) AS deep_response
    FROM events m JOIN first_cr f USING (patient_id)
    WHERE m.event_type = 'mrd' GROUP BY m.patient_id
),
hsct AS (
    SELECT patient_id, min(event_date) AS hsct_date
    FROM events WHERE event_type = 'hsct' GROUP BY patient_id
),
relapse AS (
    SELECT patient_id, min(event_date) AS relapse_date, arg_min(relapse_site, event_date) AS relapse_site
    FROM events WHERE event_type = 'relapse' GROUP BY patient_id
),
death AS (
    SELECT patient_id, min(event_date) AS death_date, arg_min(cause, event_date) AS death_cause
    FROM events WHERE event_type = 'death' GROUP BY patient_id
),
contact AS (
    SELECT patient_id, max(event_date) AS last_contact_date,
           arg_max(followup_status, event_date) AS followup_status
    FROM events WHERE event_type = 'last_contact' GROUP BY patient_id
),
ae AS (
    SELECT e.patient_id,
           bool_or(e.ae_term = 'VOD')                                         AS vod,
           bool_or(e.ae_term = 'VOD' AND e.event_date >= h.hsct_date)         AS vod_post_hsct,
           bool_or(e.ae_term = 'AST increased' AND e.ae_grade >= 3)           AS ast_increased_g34,
           bool_or(e.ae_term = 'ALT increased' AND e.ae_grade >= 3)           AS alt_increased_g34,
           bool_or(e.ae_term = 'bilirubin increased' AND e.ae_grade >= 3)     AS bilirubin_increased_g34,
           bool_or(e.ae_term = 'thrombocytopenia')                            AS thrombocytopenia,
           bool_or(e.ae_term = 'neutropenia')                                 AS neutropenia,
           bool_or(e.ae_term = 'febrile neutropenia')                         AS febrile_neutropenia
    FROM events e LEFT JOIN hsct h USING (patient_id)
    WHERE e.event_type = 'adverse_event' GROUP BY e.patient_id
),
patient_derived AS (
    SELECT p.*,
           d.n_cycles, d.cycle1_dose_mg_m2, d.last_dose_date,
           CASE WHEN d.cycle1_dose_mg_m2 IS NULL THEN NULL
                WHEN abs(d.cycle1_dose_mg_m2 - 1.8) <= 0.005 THEN '1.8'
                WHEN d.cycle1_dose_mg_m2 < 1.8 THEN '<1.8' ELSE '>1.8' END       AS cycle1_dose_group,
           CASE WHEN p.age_years IS NULL THEN NULL
                WHEN p.age_years > 65 THEN '>65' ELSE '18-65' END                  AS age_group,
           coalesce(a.n_response_rows, 0) > 0                                      AS response_evaluable,
           f.first_response IS NOT NULL                                            AS responder,
           CASE WHEN f.first_response IS NOT NULL THEN f.first_response
                WHEN coalesce(a.n_response_rows, 0) > 0 THEN 'NR'
                ELSE 'not evaluable' END                                           AS best_response,
           f.first_response, f.response_cycle AS cycles_to_response, f.response_date,
           fd.first_dated_response_date,
           coalesce(m.mrd_negative, FALSE)                                         AS mrd_negative,
           coalesce(m.deep_response, FALSE)                                        AS deep_response,
           h.hsct_date IS NOT NULL                                                 AS hsct,
           h.hsct_date,
           r.relapse_date, r.relapse_site,
           dt.death_date, dt.death_cause,
           c.last_contact_date, c.followup_status,
           coalesce(ae.vod, FALSE)                      AS vod,
           coalesce(ae.vod_post_hsct, FALSE)            AS vod_post_hsct,
           coalesce(ae.ast_increased_g34, FALSE)        AS ast_increased_g34,
           coalesce(ae.alt_increased_g34, FALSE)        AS alt_increased_g34,
           coalesce(ae.bilirubin_increased_g34, FALSE)  AS bilirubin_increased_g34,
           coalesce(ae.ast_increased_g34 OR ae.alt_increased_g34 OR ae.bilirubin_increased_g34, FALSE)
                                                        AS liver_toxicity_g34,
           coalesce(ae.thrombocytopenia, FALSE)         AS thrombocytopenia,
           coalesce(ae.neutropenia, FALSE)              AS neutropenia,
           coalesce(ae.febrile_neutropenia, FALSE)      AS febrile_neutropenia,
           coalesce(ae.thrombocytopenia OR ae.neutropenia OR ae.febrile_neutropenia, FALSE)
                                                        AS haematologic_toxicity,
           -- the end of observation: death, else last contact
           coalesce(dt.death_date, c.last_contact_date)                            AS os_end_date,
           least(r.relapse_date, dt.death_date)                                    AS relapse_or_death_date,
           datediff('day', p.ino_start_date, coalesce(dt.death_date, c.last_contact_date)) AS os_days,
           dt.death_date IS NOT NULL                                               AS os_event
    FROM patients p
    LEFT JOIN doses d    USING (patient_id)
    LEFT JOIN assessed a USING (patient_id)
    LEFT JOIN first_cr f USING (patient_id)
    LEFT JOIN first_dated_cr fd USING (patient_id)
    LEFT JOIN mrd m      USING (patient_id)
    LEFT JOIN hsct h     USING (patient_id)
    LEFT JOIN relapse r  USING (patient_id)
    LEFT JOIN death dt   USING (patient_id)
    LEFT JOIN contact c  USING (patient_id)
    LEFT JOIN ae         USING (patient_id)
)"""

# What the user's options change, computed on top of the derived rows with bound parameters:
# column → SQL expression over one derived row. A query gets only the columns it names (see
# `with_endpoints`), so an OS count does not pay for the RFS arithmetic.
_RFS_ORIGIN = ("CASE WHEN NOT responder THEN NULL WHEN $rfs_from_response THEN first_dated_response_date "
               "ELSE ino_start_date END")
# with censoring at HSCT, an HSCT before the event or last contact ends follow-up
_CENSOR_HSCT = ("CASE WHEN $censor_at_hsct AND hsct_date IS NOT NULL "
                "AND hsct_date < coalesce(relapse_or_death_date, last_contact_date) THEN hsct_date END")
_FOLLOW_UP_END = f"coalesce({_CENSOR_HSCT}, relapse_or_death_date, last_contact_date)"
OPTION_COLUMNS: dict[str, str] = {
    "blast_burden": "CASE WHEN blast_pct IS NULL THEN NULL WHEN blast_pct < $blast_threshold THEN 'low' ELSE 'high' END",
    # RFS (responders): origin = first InO dose by default, or the first dated CR/CRi
    "rfs_origin_date": _RFS_ORIGIN,
    "censor_hsct_date": _CENSOR_HSCT,
    "rfs_days": f"datediff('day', {_RFS_ORIGIN}, {_FOLLOW_UP_END})",
    "rfs_event": f"({_CENSOR_HSCT}) IS NULL AND relapse_or_death_date IS NOT NULL",
    "dor_days": (f"CASE WHEN responder AND first_dated_response_date IS NOT NULL THEN "
                 f"datediff('day', first_dated_response_date, {_FOLLOW_UP_END}) END"),
    "dor_event": f"({_CENSOR_HSCT}) IS NULL AND relapse_or_death_date IS NOT NULL",
}
_OPTION_COLUMN_NAMES = re.compile(r"\b(" + "|".join(OPTION_COLUMNS) + r")\b")


def _option_layer(derived: str, columns: Sequence[str] = tuple(OPTION_COLUMNS)) -> str:
    """The CTE `patient_endpoints`: the derived rows of `derived` plus the option columns asked for."""
    extra = "".join(f",\n           {OPTION_COLUMNS[c]} AS {c}" for c in OPTION_COLUMNS if c in columns)
    return f"patient_endpoints AS (\n    SELECT *{extra}\n    FROM {derived}\n)"


# `WITH …` defining patient_derived from the raw tables (what patient_summary stores).
PATIENT_DERIVATION = "\nWITH\n" + _DERIVATION_CTES + "\n"
# `WITH …` defining patient_endpoints (every column) from the raw tables: the reference definition.
PATIENT_ENDPOINTS = "\nWITH\n" + _DERIVATION_CTES + ",\n" + _option_layer("patient_derived") + "\n"
# `WITH …` defining patient_endpoints (every column) from the stored table patient_summary.
SUMMARY_ENDPOINTS = "\nWITH\n" + _option_layer("patient_summary") + "\n"

SUMMARY_TABLE = "patient_summary"
SUMMARY_META_TABLE = "patient_summary_meta"
# Changes whenever the derivation's SQL does, so a file summarised by an older engine is not trusted.
DERIVATION_FINGERPRINT = hashlib.sha256(_DERIVATION_CTES.encode()).hexdigest()[:16]


def write_patient_summary(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)compute the table patient_summary from patients and events on a writable connection.

    Stamps patient_summary_meta with the derivation's fingerprint and the row counts it saw, which
    is what `summary_source` checks before trusting the table.
    """
    con.execute(f"DROP TABLE IF EXISTS {SUMMARY_TABLE}")
    con.execute(f"DROP TABLE IF EXISTS {SUMMARY_META_TABLE}")
    con.execute(f"CREATE TABLE {SUMMARY_TABLE} AS {PATIENT_DERIVATION} "
                "SELECT * FROM patient_derived ORDER BY patient_id")
    n_patients, n_events = con.execute(
        "SELECT (SELECT count(*) FROM patients), (SELECT count(*) FROM events)").fetchone()  # type: ignore[misc]
    con.execute(f"CREATE TABLE {SUMMARY_META_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
    con.executemany(f"INSERT INTO {SUMMARY_META_TABLE} VALUES (?, ?)", [
        ("derivation", DERIVATION_FINGERPRINT), ("n_patients", str(n_patients)), ("n_events", str(n_events))])


def summary_is_current(cur: duckdb.DuckDBPyConnection) -> bool:
    """Whether the file's patient_summary was computed by this derivation from the rows it now holds."""
    tables = {r[0] for r in cur.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if SUMMARY_TABLE not in tables or SUMMARY_META_TABLE not in tables:
        return False
    stamp = dict(cur.execute(f"SELECT key, value FROM {SUMMARY_META_TABLE}").fetchall())
    n_patients, n_events = cur.execute(
        "SELECT (SELECT count(*) FROM patients), (SELECT count(*) FROM events)").fetchone()  # type: ignore[misc]
    return (stamp.get("derivation") == DERIVATION_FINGERPRINT and stamp.get("n_patients") == str(n_patients)
            and stamp.get("n_events") == str(n_events))


# Whether each open cohort reads patient_summary, decided once per Cohort object (a cohort file
# is opened read-only, so the answer cannot change while it is open).
_SOURCES: dict[int, bool] = {}
_SOURCES_LOCK = threading.Lock()


def uses_summary(cohort: Cohort) -> bool:
    """True when the cohort file holds a current patient_summary (see `summary_is_current`)."""
    key = id(cohort)
    found = _SOURCES.get(key)
    if found is not None:
        return found
    try:
        with cohort.cursor() as cur:
            current = summary_is_current(cur)
    except duckdb.Error:
        current = False
    with _SOURCES_LOCK:
        if key not in _SOURCES:
            _SOURCES[key] = current
            weakref.finalize(cohort, _SOURCES.pop, key, None)
    return current


_SIZES: dict[int, int] = {}


def cohort_patients(cohort: Cohort) -> int:
    """Patients in the cohort, counted once per open cohort (read-only: it cannot change)."""
    key = id(cohort)
    found = _SIZES.get(key)
    if found is not None:
        return found
    n = int(_fetch_rows(cohort, "SELECT count(*) FROM patients", {})[0][0])
    with _SOURCES_LOCK:
        if key not in _SIZES:
            _SIZES[key] = n
            weakref.finalize(cohort, _SIZES.pop, key, None)
    return n


def summary_source(cohort: Cohort) -> str:
    """The full `WITH …` prefix defining patient_endpoints for this cohort: `SUMMARY_ENDPOINTS`
    when the file holds a current patient_summary, else `PATIENT_ENDPOINTS`."""
    return SUMMARY_ENDPOINTS if uses_summary(cohort) else PATIENT_ENDPOINTS


def with_endpoints(cohort: Cohort, body: str) -> str:
    """`WITH … patient_endpoints AS (…)` + body: read from patient_summary when the file has a
    current one, else derived from the events table; with only the option columns `body` names."""
    needed = set(_OPTION_COLUMN_NAMES.findall(body))
    if uses_summary(cohort):
        return "WITH " + _option_layer("patient_summary", tuple(needed)) + body
    return "WITH " + _DERIVATION_CTES + ",\n" + _option_layer("patient_derived", tuple(needed)) + body


# Groupings a user may stratify by: name → SQL expression over patient_endpoints.
GROUPINGS: dict[str, str] = {
    "all": "'All patients'",
    "salvage_line": "salvage_line",
    "blast_burden": "blast_burden",
    "cycle1_dose_group": "cycle1_dose_group",
    "hsct": "hsct",
    "sex": "sex",
    "centre": "centre",
    "ph_status": "ph_status",
    "disease_status": "disease_status",
    "emd_baseline": "emd_baseline",
    "age_group": "age_group",
    "best_response": "best_response",
    "first_response": "first_response",
    "n_cycles": "n_cycles",
}

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

# Time-to-event endpoints: name → (duration column in days, event column).
ENDPOINT_COLUMNS: dict[str, tuple[str, str]] = {
    "os": ("os_days", "os_event"),
    "rfs": ("rfs_days", "rfs_event"),
    "dor": ("dor_days", "dor_event"),
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


@dataclass(frozen=True)
class EndpointOptions:
    """Definitions a user may change; the defaults are the data contract's."""

    rfs_from_response: bool = False   # RFS origin: first InO dose (default) or first dated CR/CRi
    censor_at_hsct: bool = False      # censor RFS and duration of remission at HSCT

    def describe_rfs(self) -> str:
        origin = "first dated CR/CRi" if self.rfs_from_response else "first InO dose"
        text = f"RFS from {origin} to first relapse or death; censored at last contact"
        return text + (" or at HSCT" if self.censor_at_hsct else "")

    def describe_dor(self) -> str:
        text = "Duration of remission from first dated CR/CRi to relapse or death; censored at last contact"
        return text + (" or at HSCT" if self.censor_at_hsct else "")


def _params(spec: FilterSpec, options: EndpointOptions) -> tuple[str, dict[str, object]]:
    where, params = spec.where()
    params = dict(params)
    params.setdefault("blast_threshold", float(spec.blast_threshold or DEFAULT_BLAST_THRESHOLD))
    params["rfs_from_response"] = options.rfs_from_response
    params["censor_at_hsct"] = options.censor_at_hsct
    return where, params


def _run(cohort: Cohort, sql: str, params: dict[str, object]) -> pd.DataFrame:
    return _execute(cohort, sql, params, lambda result: result.df())


def _fetch_rows(cohort: Cohort, sql: str, params: dict[str, object]) -> list[tuple]:
    """As plain tuples: for small results read value by value, pandas costs more than the query."""
    return _execute(cohort, sql, params, lambda result: result.fetchall())


def _execute(cohort: Cohort, sql: str, params: dict[str, object], fetch):  # type: ignore[no-untyped-def]
    # DuckDB refuses parameters a statement does not use; a lean option layer may not use them all.
    params = {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)}
    try:
        with cohort.cursor() as cur:
            return fetch(cur.execute(sql, params))
    except duckdb.Error as exc:
        raise CohortError(f"The cohort {cohort.path.name} could not be queried: {exc}",
                          hint="Check that it follows the data contract (see the data dictionary).") from exc


def _grouping(name: str) -> str:
    if name not in GROUPINGS:
        raise ValueError(f"Unknown grouping {name!r}; choose one of {', '.join(GROUPINGS)}")
    return GROUPINGS[name]


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


def fetch_survival_counts(cohort: Cohort, spec: FilterSpec, endpoint: str, *, by: str = "all",
                          options: EndpointOptions = EndpointOptions()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-time counts for a time-to-event endpoint, aggregated in SQL.

    Returns (counts, excluded): counts has one row per (group, duration_days, event) with the
    number of patients `n`; excluded counts patients in the population of the endpoint who have
    no usable duration (no date of death or last contact, or a negative duration).
    """
    duration, event = ENDPOINT_COLUMNS[endpoint]
    population = {"os": "TRUE", "rfs": "responder", "dor": "responder AND first_dated_response_date IS NOT NULL"}[endpoint]
    where, params = _params(spec, options)
    group = _grouping(by)
    # One pass: usable times are grouped by (time, event); the rest are counted per group under a
    # NULL time and split off below (the same two tables two queries would give, in one scan).
    sql = with_endpoints(cohort, f" SELECT {group} AS \"group\", "
           f"CASE WHEN {duration} >= 0 THEN {duration} END AS duration_days, "
           f"CASE WHEN {duration} >= 0 THEN {event} END AS event, count(*) AS n "
           f"FROM patient_endpoints WHERE {where} AND {population} GROUP BY ALL ORDER BY 1, 2, 3")
    both = _run(cohort, sql, params)
    # Split with numpy and build the two frames once: astype/loc on the mixed frame cost more
    # than the query on a small cohort.
    usable = both["duration_days"].notna().to_numpy()
    group, n = both["group"].to_numpy(), both["n"].to_numpy(dtype="int64")
    counts = _as_if_alone(pd.DataFrame({
        "group": pd.Series(group[usable], dtype=both["group"].dtype),
        "duration_days": both["duration_days"].to_numpy()[usable].astype("int64"),
        "event": both["event"].to_numpy()[usable].astype(bool),
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
    sql = with_endpoints(cohort, f" SELECT min(age_years) AS age_min, max(age_years) AS age_max, "
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
    from core.store import EVENT_COLUMNS, PATIENT_COLUMNS   # store imports this module at load time

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

"""The per-patient derivation: one row per patient computed in SQL from the dated events.

Every endpoint starts from one row per patient, derived in DuckDB from the `patients` and `events`
tables of the data contract (cycle-1 dose, best response, MRD, HSCT, relapse, death, last contact,
adverse-event flags and the time-to-event durations in days with their event kinds). The column
names the endpoint registry (core.endpoints) refers to are defined here, and only here.

The derivation is written once, in two layers:

* `_DERIVATION_CTES` — everything that depends on the rows alone (no user option). It ends in the
  CTE `patient_derived`. A cohort file may keep its result as the table `patient_summary`
  (`write_patient_summary`, called by `core.store.write_cohort_file` and `data.synthetic`), stamped
  in `patient_summary_meta` with a fingerprint of this SQL and the row counts it was computed from;
  the query layer reads the table only while both still match, and falls back to the CTE otherwise.
  At 10M events this turns every page query from a re-aggregation of the events table into a scan
  of one narrow row per patient.
* `OPTION_COLUMNS` — what depends on the user's options, computed on top with bound parameters:
  blast burden (`$blast_threshold`), the RFS origin (`$rfs_from_response`), censoring at HSCT
  (`$censor_at_hsct`) and the origin of the cumulative incidence of relapse (`$relapse_from_dose`).
  Together they make the CTE `patient_endpoints`, which every query selects from; a query gets only
  the option columns it names.

`PATIENT_ENDPOINTS` (every column, from the raw tables) is kept as the reference definition;
`with_endpoints(cohort, body)` gives the fast prefix. No value is ever spliced into this SQL.
"""

from __future__ import annotations

import hashlib
import re
import threading
import weakref
from collections.abc import Sequence

import duckdb

from core.database import Cohort
from core.endpoints import EndpointOptions

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
           min(e.event_date) FILTER (WHERE e.ae_term = 'VOD')                 AS vod_date,
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
           ae.vod_date,
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
           dt.death_date IS NOT NULL                                               AS os_event,
           -- competing risks from the first dose (event kind: 1 the event, 2 death first, 0 censored)
           datediff('day', p.ino_start_date, coalesce(h.hsct_date, dt.death_date, c.last_contact_date)) AS hsct_days,
           CASE WHEN h.hsct_date IS NOT NULL THEN 1 WHEN dt.death_date IS NOT NULL THEN 2 ELSE 0 END AS hsct_kind,
           datediff('day', p.ino_start_date, coalesce(ae.vod_date, dt.death_date, c.last_contact_date)) AS vod_days,
           CASE WHEN ae.vod_date IS NOT NULL THEN 1 WHEN dt.death_date IS NOT NULL THEN 2 ELSE 0 END AS vod_kind
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
_RELAPSE_ORIGIN = "CASE WHEN $relapse_from_dose THEN ino_start_date ELSE first_dated_response_date END"
# which came first of relapse and death (a relapse on the day of death counts as the relapse)
_RELAPSE_FIRST = "relapse_date IS NOT NULL AND relapse_date <= coalesce(death_date, relapse_date)"
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
    # cumulative incidence of relapse and non-relapse mortality: one duration, two event kinds
    "relapse_days": (f"CASE WHEN responder AND first_dated_response_date IS NOT NULL THEN "
                     f"datediff('day', {_RELAPSE_ORIGIN}, {_FOLLOW_UP_END}) END"),
    "relapse_kind": (f"CASE WHEN ({_CENSOR_HSCT}) IS NOT NULL OR relapse_or_death_date IS NULL THEN 0 "
                     f"WHEN {_RELAPSE_FIRST} THEN 1 ELSE 2 END"),
    "nrm_kind": (f"CASE WHEN ({_CENSOR_HSCT}) IS NOT NULL OR relapse_or_death_date IS NULL THEN 0 "
                 f"WHEN {_RELAPSE_FIRST} THEN 2 ELSE 1 END"),
}


def option_parameters(options: EndpointOptions, blast_threshold: float) -> dict[str, object]:
    """The bound parameters the option columns read."""
    return {"blast_threshold": float(blast_threshold), "rfs_from_response": options.rfs_from_response,
            "censor_at_hsct": options.censor_at_hsct, "relapse_from_dose": options.relapse_from_dose}


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

"""The raw rows of a slice, in the import format, so a filtered slice can be saved and loaded again.

`core.queries` has per-patient *derived* rows (`fetch_patient_listing`) and the events of at most
`limit_patients` patients with an added `day` column (`fetch_slice_events`, for the swimmer plot);
neither returns the contract's `patients` columns. This module selects the slice with the same
`PATIENT_ENDPOINTS` CTE and `FilterSpec.where()` (every value a bound parameter) and returns the
`patients` and `events` rows exactly as the data contract (core.store) lists their columns.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from core.database import Cohort, CohortError
from core.filters import DEFAULT_BLAST_THRESHOLD, FilterSpec
from core.queries import PATIENT_ENDPOINTS, EndpointOptions
from core.store import EVENT_COLUMNS, PATIENT_COLUMNS

_PATIENT_SELECT = ", ".join(f"p.{c}" for c in PATIENT_COLUMNS)
_EVENT_SELECT = ", ".join(f"e.{c}" for c in EVENT_COLUMNS)


def _slice_params(spec: FilterSpec, options: EndpointOptions) -> tuple[str, dict[str, object]]:
    where, params = spec.where()
    params = dict(params)
    params.setdefault("blast_threshold", float(spec.blast_threshold or DEFAULT_BLAST_THRESHOLD))
    params["rfs_from_response"] = options.rfs_from_response
    params["censor_at_hsct"] = options.censor_at_hsct
    return where, params


def fetch_slice_rows(cohort: Cohort, spec: FilterSpec,
                     options: EndpointOptions = EndpointOptions()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(patients, events) of the slice, the contract's columns in its order, sorted by patient."""
    where, params = _slice_params(spec, options)
    chosen = f"{PATIENT_ENDPOINTS}, chosen AS (SELECT patient_id FROM patient_endpoints WHERE {where}) "
    patients_sql = (chosen + f"SELECT {_PATIENT_SELECT} FROM patients p JOIN chosen USING (patient_id) "
                    "ORDER BY p.patient_id")
    events_sql = (chosen + f"SELECT {_EVENT_SELECT} FROM events e JOIN chosen USING (patient_id) "
                  "ORDER BY e.patient_id, e.event_date NULLS LAST, e.event_type, e.cycle NULLS LAST, "
                  "e.cycle_day NULLS LAST")
    try:
        with cohort.cursor() as cur:
            patients = cur.execute(patients_sql, params).df()
            events = cur.execute(events_sql, params).df()
    except duckdb.Error as exc:
        raise CohortError(f"The rows of this slice could not be read from {cohort.path.name}: {exc}",
                          hint="Check that the cohort follows the data contract (see the data dictionary).") from exc
    return (patients.loc[:, list(PATIENT_COLUMNS)].reset_index(drop=True),
            events.loc[:, list(EVENT_COLUMNS)].reset_index(drop=True))

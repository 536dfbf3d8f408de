"""Importing CDISC ADaM datasets: ADSL and ADTTE, with ADRS, ADAE and ADEX when present.

    files = AdamFiles.from_directory("adam/", max_bytes=MAX_FILE_BYTES)
    result = import_adam(files, label="Study X", mapping=AdamMapping.from_dict({"SALVLINE": "salvage_line"}))

ADSL gives one patient per subject: USUBJID, SITEID (the centre), SEX, AGE, TRTSDT (the first InO
dose), DCUTDT (the data cut-off) and SAFFL (safety evaluable); DTHCAUS is the cause of death. What
ADaM keeps in sponsor-specific variables (salvage line, blast %, Ph status, …) comes in through a
small mapping, ADSL variable → contract column ({"SALVLINE": "salvage_line", "BLASTPCT": "blast_pct"}),
which may also name the HSCT date (→ "hsct_date", an hsct event) and say what another PARAMCD is
({"PARAMCD": {"OSDY": "OS", "PFS": "ignore"}}). The other datasets become dated events (see
core.importer.adam_events). Endpoints are then derived from the events, as for every cohort; where a
duration ADTTE carried (AVAL, CNSR) differs from the derived one, the report says so (a warning: the
derived value is the one used).

The same validation, limits and atomic write as every import; problems name the dataset, its row
(observation n is row n + 1) and the ADaM variable.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from core.contract import PATIENT_COLUMNS
from core.importer.adam_events import (
    DAYS_PER_UNIT,
    DOSE_PARAMETERS,
    IGNORE,
    RESPONSE_PARAMETERS,
    TIME_TO_EVENT,
    CarriedDuration,
    EventRows,
    adverse_events,
    dose_events,
    records,
    response_events,
    time_to_event_events,
)
from core.importer.adam_read import AdamFiles, adam_date, read_adam_files
from core.importer.files import InputFile
from core.importer.origins import Source, TableOrigins, relay_problems
from core.importer.problems import ERROR, WARNING, ProblemReport
from core.importer.rules import SPECS
from core.importer.table import TextTable
from core.importer.validate import ValidatedCohort, validate_tables
from core.importer.write import ImportResult, check_label, write_import

# contract column → the standard ADSL variable that holds it
ADSL_VARIABLES: dict[str, str] = {
    "patient_id": "usubjid", "centre": "siteid", "sex": "sex", "age_years": "age", "ino_start_date": "trtsdt",
    "data_cutoff_date": "dcutdt", "safety_evaluable": "saffl",
}
EVENT_TARGETS: tuple[str, ...] = ("hsct_date", "hsct_detail")   # mapping targets that make an hsct event
MAPPING_TARGETS: tuple[str, ...] = PATIENT_COLUMNS + EVENT_TARGETS
PARAMETER_KEY = "PARAMCD"
_KINDS = {s.name: s.kind for s in SPECS["patients"]}


@dataclass(frozen=True)
class AdamMapping:
    """ADSL variable (lower case) → contract column, and PARAMCD → what it is (OS, …, or "ignore")."""

    columns: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    file: str = "(mapping)"

    @classmethod
    def from_dict(cls, data: Mapping[str, object], *, file: str = "(mapping)",
                  report: ProblemReport | None = None) -> AdamMapping:
        """The mapping, checked: an unknown target is a problem row (or a ValueError without a report)."""
        problems = report if report is not None else ProblemReport()
        columns: dict[str, str] = {}
        parameters: dict[str, str] = {}
        known = TIME_TO_EVENT + RESPONSE_PARAMETERS + DOSE_PARAMETERS + (IGNORE,)
        for key, target in data.items():
            if str(key).upper() == PARAMETER_KEY and isinstance(target, Mapping):
                for code, kind in target.items():
                    if kind not in known:
                        problems.add(ERROR, file, None, f"{PARAMETER_KEY} {code}", kind, "one of " + ", ".join(known))
                    else:
                        parameters[str(code).strip().upper()] = str(kind)
            elif target not in MAPPING_TARGETS:
                problems.add(ERROR, file, None, str(key), target, "a contract column of the patients table ("
                             + ", ".join(MAPPING_TARGETS) + ")")
            else:
                columns[str(key).strip().lower()] = str(target)
        if report is None and not problems.ok:
            raise ValueError("; ".join(f"{p.column}: {p.value} is not {p.expected}" for p in problems.problems()))
        return cls(columns=columns, parameters=parameters, file=file)

    @classmethod
    def from_json(cls, file: InputFile, report: ProblemReport) -> AdamMapping | None:
        """A mapping file: one JSON object. None after a problem row when it cannot be read."""
        try:
            data = json.loads(file.data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            report.add(ERROR, file.name, None, "", "not UTF-8 text", "a JSON file in UTF-8")
            return None
        except json.JSONDecodeError as exc:
            report.add(ERROR, file.name, exc.lineno, "", exc.msg,
                       'one JSON object, e.g. {"SALVLINE": "salvage_line", "BLASTPCT": "blast_pct"}')
            return None
        if not isinstance(data, dict):
            report.add(ERROR, file.name, None, "", type(data).__name__,
                       'one JSON object, e.g. {"SALVLINE": "salvage_line", "BLASTPCT": "blast_pct"}')
            return None
        before = report.n_errors
        mapping = cls.from_dict(data, file=file.name, report=report)
        return mapping if report.n_errors == before else None


# ---------------------------------------------------------------------------------- ADSL
def _adsl_sources(adsl: TextTable, mapping: AdamMapping, report: ProblemReport) -> dict[str, str] | None:
    """contract column (or hsct_date / hsct_detail) → the ADSL variable read for it."""
    sources = {target: variable for target, variable in ADSL_VARIABLES.items() if variable in adsl.frame.columns}
    for variable, target in mapping.columns.items():
        if variable not in adsl.frame.columns:
            report.add(ERROR, adsl.file, 1, variable.upper(), "(not in the dataset)",
                       f"the ADSL variable {variable.upper()} that the mapping ({mapping.file}) reads as {target}")
        sources[target] = variable
    missing = [s for s in SPECS["patients"] if s.in_header and s.name not in sources]
    for spec in missing:
        standard = ADSL_VARIABLES.get(spec.name)
        report.add(ERROR, adsl.file, 1, standard.upper() if standard else spec.name, "(not in the dataset)",
                   f"an ADSL variable for {spec.name}: " + (f"{standard.upper()}, or " if standard else "")
                   + f'one named in the mapping, e.g. {{"VARNAME": "{spec.name}"}}')
    return None if missing or any(v not in adsl.frame.columns for v in sources.values()) else sources


def _patient_value(kind: str, text: str | None) -> str | None:
    if text is None:
        return None
    if kind == "date":
        return adam_date(text)
    if kind == "boolean":
        return {"Y": "true", "N": "false"}.get(text.strip().upper(), text)
    return text


def patients_table(adsl: TextTable, sources: Mapping[str, str]) -> tuple[TextTable, TableOrigins]:
    frame = pd.DataFrame(index=adsl.frame.index)
    for target, variable in sources.items():
        if target in _KINDS:
            frame[target] = adsl.frame[variable].map(lambda v, k=_KINDS[target]: _patient_value(k, v)).astype(object)
    origins = TableOrigins(label=adsl.file, columns={t: v.upper() for t, v in sources.items()})
    return TextTable(table="patients", file=adsl.file, frame=frame), origins


def _adsl_events(adsl: TextTable, sources: Mapping[str, str], out: EventRows, report: ProblemReport) -> None:
    """HSCT from the mapped date; a death ADTTE does not give, from DTHDT; a DTHDT that disagrees: a warning."""
    hsct = sources.get("hsct_date")
    detail = sources.get("hsct_detail")
    hsct_source = Source(adsl.file, {"patient_id": "USUBJID", "event_date": (hsct or "").upper(),
                                     "detail": (detail or "").upper()})
    death_source = Source(adsl.file, {"patient_id": "USUBJID", "event_date": "DTHDT", "cause": "DTHCAUS"})
    deaths = {r["patient_id"]: (r["event_date"], row) for row, r in zip(out.origins.rows, out.rows)
              if r["event_type"] == "death"}
    for row, record in records(adsl):
        patient = record.get(sources["patient_id"])
        if hsct and record.get(hsct):
            out.add(hsct_source, row, patient_id=patient, event_type="hsct", event_date=adam_date(record[hsct]),
                    detail=record.get(detail) if detail else None)
        died = adam_date(record.get("dthdt"))
        if died is None:
            continue
        if patient not in deaths:
            out.add(death_source, row, patient_id=patient, event_type="death", event_date=died,
                    cause=record.get("dthcaus"))
        elif deaths[patient][0] != died:
            file, source_row, _ = out.origins.where(deaths[patient][1], "event_date")
            report.add(WARNING, adsl.file, row, "DTHDT", record.get("dthdt"),
                       f"the date of death ADTTE gives ({deaths[patient][0]}, {file} row {source_row}); "
                       "that one is used")


# ---------------------------------------------------------------------------------- the import
def check_adam_files(files: AdamFiles, mapping: AdamMapping | None = None, report: ProblemReport | None = None,
                     *, today: dt.date | None = None) -> ValidatedCohort:
    """Read the datasets, turn them into the contract's tables, validate, compare; write nothing."""
    from core.importer import _collector_paused, read_limits

    report = report if report is not None else ProblemReport()
    mapping = mapping or AdamMapping()
    limits = read_limits()
    with _collector_paused():
        tables = read_adam_files(files, report, limits)
        if tables is None:
            return ValidatedCohort(report=report)
        built = _build(tables, mapping, report, limits.max_rows)
        if built is None:
            return ValidatedCohort(report=report)
        patients, events, origins, durations = built
        found = ProblemReport()
        validated = validate_tables(patients, events, found, today=today)
        relay_problems(found, report, origins)
        validated.report = report
        if validated.ok:
            compare_durations(validated, durations, report)
        return validated


def _build(tables: Mapping[str, TextTable], mapping: AdamMapping, report: ProblemReport, max_rows: int
           ) -> tuple[TextTable, TextTable, dict[str, TableOrigins], list[CarriedDuration]] | None:
    adsl = tables["adsl"]
    errors = report.n_errors
    sources = _adsl_sources(adsl, mapping, report)
    if sources is None:
        return None
    patients, patient_origins = patients_table(adsl, sources)
    ids = adsl.frame[sources["patient_id"]]
    causes = dict(zip(ids, adsl.frame["dthcaus"])) if "dthcaus" in adsl.frame.columns else {}
    out = EventRows()
    time_to_event_events(tables["adtte"], mapping.parameters, causes, out, report)
    if "adrs" in tables:
        response_events(tables["adrs"], mapping.parameters, out, report)
    if "adae" in tables:
        adverse_events(tables["adae"], out, report)
    if "adex" in tables:
        dose_events(tables["adex"], mapping.parameters, out, report)
    _adsl_events(adsl, sources, out, report)
    if len(out.rows) > max_rows:
        report.add(ERROR, out.origins.label, None, "", f"{len(out.rows):,} events",
                   f"at most {max_rows:,} event rows in all (split the study, or leave out a dataset)")
    if report.n_errors > errors:
        return None
    events = out.table()
    return patients, events, {adsl.file: patient_origins, events.file: out.origins}, out.durations


def import_adam(files: AdamFiles, label: str, *, mapping: AdamMapping | None = None, source: str = "",
                directory: Path | None = None, now: dt.datetime | None = None) -> ImportResult:
    """Validate, then (only if there is no error) write a new cohort file. Never raises on bad input."""
    report = ProblemReport()
    clean = check_label(label, report)
    validated = check_adam_files(files, mapping, report)
    return write_import(validated, report, label=clean, files=files.describe() + " (CDISC ADaM)", source=source,
                        directory=directory, now=now)


# ---------------------------------------------------------------------------------- carried vs derived
def compare_durations(validated: ValidatedCohort, durations: list[CarriedDuration], report: ProblemReport) -> None:
    """A warning for each ADTTE duration (AVAL, CNSR) that differs from the one derived from the events."""
    if not durations:
        return
    try:
        derived = _derived_dates(validated)
    except Exception as exc:  # a temporary file that cannot be written must not stop an import  # noqa: BLE001
        report.add(WARNING, durations[0].file, None, "AVAL", f"{type(exc).__name__}: {exc}",
                   "durations compared with the events; the comparison could not run, the import goes on")
        return
    for carried in durations:
        dates = derived.get(carried.patient_id)
        if dates is None:
            continue
        origin_name, origin, end_name, end, event = _endpoint(carried.parameter, dates)
        if origin is None or end is None:
            report.add(WARNING, carried.file, carried.row, "PARAMCD", carried.parameter,
                       f"a {carried.parameter} the events give: this patient has "
                       + ("no CR/CRi" if origin is None else "no death or last contact")
                       + "; the ADaM duration is not used")
            continue
        days = (end - origin).days
        span = f"{origin_name} {origin.isoformat()} to {end_name} {end.isoformat()}"
        if carried.censored == event:
            report.add(WARNING, carried.file, carried.row, "CNSR", "1" if carried.censored else "0",
                       f"{0 if event else 1}: the {carried.parameter} derived from the events ends in "
                       f"{'an event' if event else 'censoring'} ({span}); the derived value is used")
        aval = _aval_days(carried)
        if aval is not None and abs(aval[0] - days) > aval[1]:
            report.add(WARNING, carried.file, carried.row, "AVAL", carried.aval,
                       f"{_in_unit(days, carried.unit)}: the {carried.parameter} derived from the events ({span}); "
                       "the derived value is used")


def _derived_dates(validated: ValidatedCohort) -> dict[str, dict[str, dt.date | None]]:
    """Per patient, the dates the endpoints start and end at, from the product's own derivation."""
    from core.database import open_cohort
    from core.filters import FilterSpec
    from core.queries import fetch_patient_listing
    from core.store import write_cohort_file

    assert validated.patients is not None and validated.events is not None
    columns = ("patient_id", "ino_start_date", "best_response", "response_date", "relapse_date", "death_date",
               "last_contact_date")
    with tempfile.TemporaryDirectory(prefix="adam-") as directory:
        path = write_cohort_file(Path(directory) / "derived.duckdb", validated.patients, validated.events,
                                 {"label": "durations to compare"})
        cohort = open_cohort(path)
        try:
            listing = fetch_patient_listing(cohort, FilterSpec(), columns=columns,
                                            limit=len(validated.patients) + 1)
        finally:
            cohort.close()
    out: dict[str, dict[str, dt.date | None]] = {}
    for record in listing.to_dict("records"):
        dates = {c: _as_date(record[c]) for c in columns[3:]}
        dates["start"] = _as_date(record["ino_start_date"])
        dates["responder"] = dates["start"] if record["best_response"] in ("CR", "CRi") else None
        out[str(record["patient_id"])] = dates
    return out


def _as_date(value: object) -> dt.date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()


def _endpoint(parameter: str, d: Mapping[str, dt.date | None]
              ) -> tuple[str, dt.date | None, str, dt.date | None, bool]:
    """(origin's name, origin, end's name, end, whether the end is an event) as the events give them."""
    if parameter == "OS":
        if d["death_date"] is not None:
            return "first InO dose", d["start"], "death", d["death_date"], True
        return "first InO dose", d["start"], "last contact", d["last_contact_date"], False
    failures = [x for x in (d["relapse_date"], d["death_date"]) if x is not None]
    end_name, end, event = ("relapse or death", min(failures), True) if failures else \
        ("last contact", d["last_contact_date"], False)
    if parameter == "RFS":
        return "first InO dose", d["responder"], end_name, end, event
    return "first CR/CRi", d["response_date"] if d["responder"] else None, end_name, end, event


def _aval_days(carried: CarriedDuration) -> tuple[float, float] | None:
    """(AVAL in days, the difference allowed: a day, plus half the last digit AVAL was rounded to)."""
    factor = DAYS_PER_UNIT.get(carried.unit)
    try:
        value = float(carried.aval) if carried.aval is not None else None
    except ValueError:
        value = None
    if factor is None or value is None:
        return None
    decimals = next((d for d in range(5) if abs(round(value, d) - value) < 1e-9), 5)
    return value * factor, 1.0 + 0.5 * 10 ** -decimals * factor


def _in_unit(days: int, unit: str) -> str:
    factor = DAYS_PER_UNIT.get(unit, 1.0)
    if factor == 1.0:
        return f"{days} days"
    return f"{days / factor:.2f} {unit.lower()} ({days} days)"

"""ADaM records → the contract's dated events: ADTTE, ADRS, ADAE and ADEX, row by row.

    ADTTE  OS: CNSR 0 → death on ADT; CNSR 1 → last contact on ADT (lost to follow-up when the censoring
           description says "lost", else alive at cut-off). RFS, DOR: an event that is not a death → a
           relapse on ADT (its site from the words marrow, CNS, extramedullary in EVNTDESC); deaths come
           from OS. ADT missing: STARTDT + AVAL when AVAL is in days.
    ADRS   OVRLRESP: a response at a visit (AVALC CR, CRi, NR; ADT; the cycle from AVISITN or AVISIT
           "CYCLE n"); BOR: the best response, used for a patient without visit responses; MRD: an MRD
           result (AVALC negative / positive).
    ADAE   an adverse event: AEDECOD (MedDRA preferred terms translated to the contract's terms, others
           kept as written), the grade from AETOXGR (or ATOXGR), the date ASTDT.
    ADEX   DOSE: an InO dose, AVAL in mg/m² on ASTDT, cycle and day from AVISITN / AVISIT "CYCLE n DAY d".

Each event row remembers the dataset, row and variables it came from (core.importer.origins).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import pandas as pd

from core.contract import AE_TERMS, EVENT_COLUMNS
from core.importer.adam_read import adam_date
from core.importer.origins import Source, TableOrigins
from core.importer.problems import ERROR, ProblemReport
from core.importer.redcap_dictionary import RELAPSE_SITES, SITE_JOINER
from core.importer.table import TextTable

TIME_TO_EVENT: tuple[str, ...] = ("OS", "RFS", "DOR")
RESPONSE_PARAMETERS: tuple[str, ...] = ("OVRLRESP", "BOR", "MRD")
DOSE_PARAMETERS: tuple[str, ...] = ("DOSE",)
IGNORE = "ignore"
EVENTS_LABEL = "ADaM events"
RESPONSES = {"CR": "CR", "CRI": "CRi", "NR": "NR"}
DAYS_PER_UNIT = {"DAYS": 1.0, "DAY": 1.0, "WEEKS": 7.0, "WEEK": 7.0, "MONTHS": 30.4375, "MONTH": 30.4375,
                 "YEARS": 365.25, "YEAR": 365.25}
DOSE_UNITS = frozenset({"mg/m2", "mg/m^2", "mg/m**2", "mg/m²"})
# MedDRA preferred terms (and common synonyms) → the contract's terms, which the endpoints count.
MEDDRA_TERMS: dict[str, str] = {
    "venoocclusive liver disease": "VOD", "veno-occlusive liver disease": "VOD",
    "hepatic veno-occlusive disease": "VOD", "venoocclusive disease": "VOD", "veno-occlusive disease": "VOD",
    "sinusoidal obstruction syndrome": "VOD",
    "platelet count decreased": "thrombocytopenia", "neutrophil count decreased": "neutropenia",
    "aspartate aminotransferase increased": "AST increased", "alanine aminotransferase increased": "ALT increased",
    "blood bilirubin increased": "bilirubin increased", "hyperbilirubinaemia": "bilirubin increased",
    "hyperbilirubinemia": "bilirubin increased",
    **{term.casefold(): term for term in AE_TERMS},
}
_CYCLE = re.compile(r"\bCYCLE\s*(\d+)", re.IGNORECASE)
_DAY = re.compile(r"\bDAY\s*(\d+)", re.IGNORECASE)
_GRADE = re.compile(r"(\d+)")


@dataclass(frozen=True)
class CarriedDuration:
    """A time-to-event row as ADaM carried it, kept to compare with what the events give."""

    patient_id: str
    parameter: str            # OS | RFS | DOR
    aval: str | None
    unit: str
    censored: bool
    file: str
    row: int


@dataclass
class EventRows:
    """The event rows being built, each with the dataset row it came from."""

    rows: list[dict[str, str | None]] = field(default_factory=list)
    origins: TableOrigins = field(default_factory=lambda: TableOrigins(label=EVENTS_LABEL))
    durations: list[CarriedDuration] = field(default_factory=list)

    def add(self, source: Source, source_row: int, **values: str | None) -> None:
        self.rows.append({c: values.get(c) for c in EVENT_COLUMNS})
        self.origins.rows[len(self.rows) + 1] = (self.origins.source(source), source_row)

    def table(self) -> TextTable:
        index = pd.Index(range(2, len(self.rows) + 2), dtype="int64", name="row")
        frame = pd.DataFrame(self.rows, columns=list(EVENT_COLUMNS), index=index, dtype=object)
        return TextTable(table="events", file=EVENTS_LABEL, frame=frame)


def records(table: TextTable) -> Iterator[tuple[int, dict[str, str | None]]]:
    for row, record in zip(table.frame.index, table.frame.to_dict("records")):
        yield int(row), record


def require(table: TextTable, report: ProblemReport, *needed: str | tuple[str, ...]) -> bool:
    """The variables a dataset must have (a tuple: any one of them)."""
    ok = True
    for name in needed:
        options = name if isinstance(name, tuple) else (name,)
        if not any(o in table.frame.columns for o in options):
            report.add(ERROR, table.file, 1, options[0].upper(), "(not in the dataset)",
                       "the variable " + " or ".join(o.upper() for o in options))
            ok = False
    return ok


def parameter(code: str | None, known: tuple[str, ...], aliases: Mapping[str, str], file: str, row: int,
              report: ProblemReport) -> str | None:
    """A row's PARAMCD as one the import reads, IGNORE, or None after a problem row."""
    text = (code or "").strip().upper()
    kind = aliases.get(text, text)
    if kind == IGNORE or kind in known:
        return kind
    report.add(ERROR, file, row, "PARAMCD", code, "one of " + ", ".join(known) + " in this dataset; for another "
               "parameter, say in the mapping what it is or that it is ignored (\"PARAMCD\": {\"" + (text or "X")
               + "\": \"" + IGNORE + "\"})")
    return None


def _cycle(record: Mapping[str, str | None]) -> str | None:
    if record.get("avisitn"):
        return record["avisitn"]
    match = _CYCLE.search(record.get("avisit") or "")
    return match.group(1) if match else None


def _day(record: Mapping[str, str | None]) -> str | None:
    match = _DAY.search(record.get("avisit") or "")
    return match.group(1) if match else None


def _relapse_site(description: str | None) -> str | None:
    words = (description or "").casefold()
    found = [site for site in RELAPSE_SITES if re.search(rf"\b{re.escape(site.casefold())}\b", words)]
    return SITE_JOINER.join(found) or None


def _censored(text: str | None) -> bool | None:
    """CNSR: 0 the event, a positive whole number censored (ADaM numbers the censoring reasons 1, 2, …)."""
    try:
        value = float(text or "")
    except ValueError:
        return None
    return None if value < 0 or value != int(value) else value > 0


def _event_date(record: Mapping[str, str | None]) -> str | None:
    """ADT; else STARTDT + AVAL when AVAL counts days."""
    if record.get("adt"):
        return adam_date(record["adt"])
    start, aval = adam_date(record.get("startdt")), record.get("aval")
    unit = (record.get("avalu") or "DAYS").upper()
    if start is None or aval is None or DAYS_PER_UNIT.get(unit) != 1.0:
        return None
    try:
        return (dt.date.fromisoformat(start) + dt.timedelta(days=round(float(aval)))).isoformat()
    except ValueError:
        return None


def time_to_event_events(table: TextTable, aliases: Mapping[str, str], causes: Mapping[str, str | None],
                         out: EventRows, report: ProblemReport) -> None:
    """ADTTE → death, last-contact and relapse rows (and the durations ADaM carried)."""
    if not require(table, report, "usubjid", "paramcd", "cnsr", ("adt", "startdt")):
        return
    source = Source(table.file, {"patient_id": "USUBJID", "event_type": "PARAMCD", "event_date": "ADT",
                                 "followup_status": "CNSDTDSC", "relapse_site": "EVNTDESC", "cause": "DTHCAUS"})
    relapses: set[tuple[str | None, str | None]] = set()
    for row, record in records(table):
        kind = parameter(record.get("paramcd"), TIME_TO_EVENT, aliases, table.file, row, report)
        if kind is None or kind == IGNORE:
            continue
        censored = _censored(record.get("cnsr"))
        if censored is None:
            report.add(ERROR, table.file, row, "CNSR", record.get("cnsr"), "0 (the event) or 1 (censored)")
            continue
        patient, date = record.get("usubjid"), _event_date(record)
        if date is None:
            report.add(ERROR, table.file, row, "ADT", None, "the date of the event or censoring (ADT), or STARTDT "
                       "and AVAL in days")
            continue
        out.durations.append(CarriedDuration(patient or "", kind, record.get("aval"),
                                             (record.get("avalu") or "DAYS").upper(), censored, table.file, row))
        description = " ".join(filter(None, (record.get("evntdesc"), record.get("cnsdtdsc"))))
        if kind == "OS" and not censored:
            out.add(source, row, patient_id=patient, event_date=date, event_type="death", cause=causes.get(patient or ""))
        elif kind == "OS":
            lost = "lost" in description.casefold()
            out.add(source, row, patient_id=patient, event_date=date, event_type="last_contact",
                    followup_status="lost to follow-up" if lost else "alive at cut-off")
        elif not censored and "death" not in description.casefold() and (patient, date) not in relapses:
            relapses.add((patient, date))
            out.add(source, row, patient_id=patient, event_date=date, event_type="relapse",
                    relapse_site=_relapse_site(record.get("evntdesc")))


def response_events(table: TextTable, aliases: Mapping[str, str], out: EventRows, report: ProblemReport) -> None:
    """ADRS → response and MRD rows."""
    if not require(table, report, "usubjid", "paramcd", "avalc"):
        return
    source = Source(table.file, {"patient_id": "USUBJID", "event_type": "PARAMCD", "event_date": "ADT",
                                 "response": "AVALC", "mrd": "AVALC", "cycle": "AVISITN"})
    best: list[tuple[int, dict[str, str | None]]] = []
    with_visits: set[str | None] = set()
    for row, record in records(table):
        kind = parameter(record.get("paramcd"), RESPONSE_PARAMETERS, aliases, table.file, row, report)
        if kind is None or kind == IGNORE:
            continue
        value, patient = record.get("avalc"), record.get("usubjid")
        common = {"patient_id": patient, "event_date": adam_date(record.get("adt")), "cycle": _cycle(record)}
        if kind == "BOR":
            best.append((row, record))
        elif kind == "OVRLRESP":
            with_visits.add(patient)
            out.add(source, row, event_type="response", response=RESPONSES.get((value or "").upper(), value),
                    **common)
        else:
            folded = (value or "").casefold()
            out.add(source, row, event_type="mrd", mrd=folded if folded in ("negative", "positive") else value,
                    **common)
    for row, record in best:
        if record.get("usubjid") not in with_visits:
            value = record.get("avalc")
            out.add(source, row, patient_id=record.get("usubjid"), event_date=adam_date(record.get("adt")),
                    cycle=_cycle(record), event_type="response", response=RESPONSES.get((value or "").upper(), value))


def adverse_events(table: TextTable, out: EventRows, report: ProblemReport) -> None:
    """ADAE → adverse-event rows (terms in the contract's words where it has them)."""
    if not require(table, report, "usubjid", ("aedecod", "aeterm"), ("aetoxgr", "atoxgr"), ("astdt", "aestdtc")):
        return
    term_column = "aedecod" if "aedecod" in table.frame.columns else "aeterm"
    grade_column = "aetoxgr" if "aetoxgr" in table.frame.columns else "atoxgr"
    date_column = "astdt" if "astdt" in table.frame.columns else "aestdtc"
    source = Source(table.file, {"patient_id": "USUBJID", "ae_term": term_column.upper(),
                                 "ae_grade": grade_column.upper(), "event_date": date_column.upper()})
    for row, record in records(table):
        term = record.get(term_column) or record.get("aeterm")
        grade = record.get(grade_column)
        match = _GRADE.search(grade or "")
        date = record.get(date_column)
        out.add(source, row, patient_id=record.get("usubjid"), event_type="adverse_event",
                event_date=adam_date(date[:10] if date and date_column == "aestdtc" else date),
                ae_term=MEDDRA_TERMS.get((term or "").casefold(), term), ae_grade=match.group(1) if match else grade)


def dose_events(table: TextTable, aliases: Mapping[str, str], out: EventRows, report: ProblemReport) -> None:
    """ADEX → InO dose rows."""
    if not require(table, report, "usubjid", "paramcd", "aval", ("astdt", "adt")):
        return
    date_column = "astdt" if "astdt" in table.frame.columns else "adt"
    source = Source(table.file, {"patient_id": "USUBJID", "event_type": "PARAMCD", "event_date": date_column.upper(),
                                 "dose_mg_m2": "AVAL", "cycle": "AVISITN", "cycle_day": "AVISIT"})
    for row, record in records(table):
        kind = parameter(record.get("paramcd"), DOSE_PARAMETERS, aliases, table.file, row, report)
        if kind is None or kind == IGNORE:
            continue
        unit = (record.get("avalu") or "").replace(" ", "").lower()
        if unit and unit not in DOSE_UNITS:
            report.add(ERROR, table.file, row, "AVALU", record.get("avalu"), "the dose in mg/m2 (AVALU mg/m2)")
            continue
        out.add(source, row, patient_id=record.get("usubjid"), event_type="ino_dose",
                event_date=adam_date(record.get(date_column)), dose_mg_m2=record.get("aval"), cycle=_cycle(record),
                cycle_day=_day(record))

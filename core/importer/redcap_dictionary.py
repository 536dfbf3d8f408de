"""REDCap data dictionaries: the contract written as one, and a project's own dictionary read back.

A REDCap project is defined by its data dictionary, a CSV file with one row per field and the 18
columns below, in REDCap's order. `redcap_dictionary_frame()` writes the contract as one: a
`patients` form (the record id `patient_id` first) and an `events` form, meant to be set up as a
repeating instrument (one instance per event). Each contract column becomes a field of the same
name: listed values become radio buttons or drop-downs whose labels are the contract's values, true /
false becomes yesno, numbers, whole numbers and dates become text fields with REDCap's validation
(number, integer, date_ymd) and the contract's range, relapse_site becomes checkboxes. A column whose
values are counted but not limited (event_type, ae_term, cause) gets an "other" choice and a text
field `<column>_other`, shown only when "other" is chosen. Fields that belong to some event types
only are shown (branching logic) only for those.

`read_redcap_dictionary()` reads a dictionary exported from a project, so an export of its records
can be decoded: which form each field is on, its type, and its choices (code → label).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import pandas as pd

from core.contract import OTHER_EVENT_TYPES
from core.importer.files import InputFile
from core.importer.limits import ReadLimits
from core.importer.problems import ERROR, ProblemReport
from core.importer.read import read_csv_table
from core.importer.rules import SPECS, ColumnSpec

DICTIONARY_COLUMNS: tuple[str, ...] = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
    "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
)
FIELD_TYPES: frozenset[str] = frozenset({"text", "notes", "dropdown", "radio", "checkbox", "yesno", "truefalse",
                                         "file", "calc", "sql", "descriptive", "slider"})
CHOICE_TYPES = frozenset({"dropdown", "radio", "checkbox"})
VALIDATION_TYPES = {"number": "number", "integer": "integer", "date": "date_ymd"}
# REDCap's own rule for a variable name; it advises 26 characters at most, and refuses more than 100.
VARIABLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
RECOMMENDED_NAME_CHARS = 26
MAX_NAME_CHARS = 100

RECORD_ID = "patient_id"
PATIENTS_FORM = "patients"
EVENTS_FORM = "events"
OTHER_CODE = "99"
OTHER_LABEL = "other"
OTHER_SUFFIX = "_other"
# The sites relapse_site names; a relapse at several sites is written with "+" in this order.
RELAPSE_SITES: tuple[str, ...] = ("marrow", "CNS", "extramedullary")
SITE_JOINER = "+"
# The event types an events field belongs to; REDCap shows it only for those (fields not listed: always).
SHOWN_ON: dict[str, tuple[str, ...]] = {
    "cycle": ("ino_dose", "response", "mrd"),
    "cycle_day": ("ino_dose",), "dose_mg_m2": ("ino_dose",),
    "response": ("response",), "marrow_blast_pct": ("response",), "platelets_10e9_l": ("response",),
    "anc_10e9_l": ("response",), "emd_present": ("response",),
    "mrd": ("mrd",), "ae_term": ("adverse_event",), "ae_grade": ("adverse_event",),
    "cause": ("death",), "followup_status": ("last_contact",), "relapse_site": ("relapse",),
}
RADIO_MAX_CHOICES = 4     # longer lists are drop-downs


# ---------------------------------------------------------------------------------- the contract as a dictionary
def contract_choices(spec: ColumnSpec) -> tuple[tuple[str, str], ...]:
    """(code, label) of a contract column offered as choices; () for a column entered as text."""
    if spec.name == "relapse_site":
        values: tuple[str, ...] = RELAPSE_SITES
    elif spec.allowed:
        values = spec.allowed
    elif spec.suggested:
        extra = OTHER_EVENT_TYPES if spec.name == "event_type" else ()
        values = spec.suggested + extra
    else:
        return ()
    coded = tuple((str(i), v) for i, v in enumerate(values, start=1))
    if spec.suggested:
        assert len(values) < int(OTHER_CODE)
        coded += ((OTHER_CODE, OTHER_LABEL),)
    return coded


def _field_type(spec: ColumnSpec) -> str:
    if spec.name == "relapse_site":
        return "checkbox"
    if spec.kind == "boolean":
        return "yesno"
    choices = contract_choices(spec)
    if choices:
        return "radio" if len(choices) <= RADIO_MAX_CHOICES else "dropdown"
    return "text"


def _field_note(spec: ColumnSpec) -> str:
    parts: list[str] = []
    if spec.kind == "date":
        parts.append("YYYY-MM-DD")
    if spec.minimum is not None or spec.maximum is not None:
        parts.append(spec.range_expected().removeprefix("a value "))
    if spec.empty_means:
        parts.append(f"empty means {spec.empty_means}")
    return "; ".join(parts)


def _branching(spec: ColumnSpec, event_codes: dict[str, str]) -> str:
    shown_on = SHOWN_ON.get(spec.name, ())
    return " or ".join(f"[event_type] = '{event_codes[t]}'" for t in shown_on)


def _row(name: str, form: str, field_type: str, label: str, **values: str) -> dict[str, str]:
    row = dict.fromkeys(DICTIONARY_COLUMNS, "")
    row.update({"Variable / Field Name": name, "Form Name": form, "Field Type": field_type, "Field Label": label})
    for key, value in values.items():
        row[_KEYS[key]] = value
    return row


_KEYS = {"choices": "Choices, Calculations, OR Slider Labels", "note": "Field Note",
         "validation": "Text Validation Type OR Show Slider Number", "minimum": "Text Validation Min",
         "maximum": "Text Validation Max", "branching": "Branching Logic (Show field only if...)",
         "required": "Required Field?", "section": "Section Header"}


def _spec_rows(spec: ColumnSpec, form: str, event_codes: dict[str, str]) -> list[dict[str, str]]:
    choices = contract_choices(spec)
    validation = VALIDATION_TYPES.get(spec.kind, "")
    branching = _branching(spec, event_codes) if form == EVENTS_FORM else ""
    rows = [_row(spec.name, form, _field_type(spec), spec.meaning,
                 choices=" | ".join(f"{code}, {label}" for code, label in choices),
                 note=_field_note(spec), validation=validation,
                 minimum="" if spec.minimum is None or not validation else f"{spec.minimum:g}",
                 maximum="" if spec.maximum is None or not validation else f"{spec.maximum:g}",
                 branching=branching, required="y" if spec.required else "")]
    if spec.suggested:
        shown = f"[{spec.name}] = '{OTHER_CODE}'"
        rows.append(_row(spec.name + OTHER_SUFFIX, form, "text", f"{spec.name}: the other value, as written",
                         branching=f"({branching}) and {shown}" if branching else shown, required="y"))
    return rows


def redcap_dictionary_frame() -> pd.DataFrame:
    """The contract as a REDCap data dictionary: the `patients` form, then the repeating `events` form."""
    event_type = next(s for s in SPECS["events"] if s.name == "event_type")
    event_codes = {label: code for code, label in contract_choices(event_type)}
    rows: list[dict[str, str]] = []
    for spec in SPECS["patients"]:
        rows.extend(_spec_rows(spec, PATIENTS_FORM, event_codes))
    for spec in SPECS["events"]:
        if spec.name != RECORD_ID:          # the record id is the patients form's first field only
            rows.extend(_spec_rows(spec, EVENTS_FORM, event_codes))
    rows[0]["Section Header"] = "One record per patient, at the first InO dose"
    first_event = next(i for i, r in enumerate(rows) if r["Form Name"] == EVENTS_FORM)
    rows[first_event]["Section Header"] = "One instance of this repeating form per event"
    return pd.DataFrame(rows, columns=list(DICTIONARY_COLUMNS))


def redcap_dictionary_csv() -> bytes:
    """The dictionary as the CSV file REDCap's Data Dictionary upload takes (UTF-8)."""
    buffer = io.StringIO()
    redcap_dictionary_frame().to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


# ---------------------------------------------------------------------------------- a project's dictionary
@dataclass(frozen=True)
class RedcapField:
    """One field of a project: its form, type and choices (code → label, in the dictionary's order)."""

    name: str
    form: str
    field_type: str
    choices: dict[str, str] = field(default_factory=dict)
    row: int = 0                   # its row in the dictionary file

    def checkbox_column(self, code: str) -> str:
        """How a records export names this checkbox's column for one choice."""
        return f"{self.name}___{re.sub(r'[^a-z0-9]', '_', code.lower())}"


@dataclass(frozen=True)
class RedcapDictionary:
    """A project's fields in the dictionary's order; the first is the record id."""

    file: str
    fields: tuple[RedcapField, ...]

    @property
    def record_id(self) -> str:
        return self.fields[0].name

    def by_name(self) -> dict[str, RedcapField]:
        return {f.name: f for f in self.fields}

    @property
    def forms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.form for f in self.fields))


_CHOICE = re.compile(r"^\s*([^,]+?)\s*,\s*(.*?)\s*$", re.DOTALL)


def parse_choices(text: str | None) -> dict[str, str] | None:
    """"1, Label | 2, Label" → {"1": "Label", "2": "Label"}; None when a choice has no "code, label" form."""
    if text is None or not text.strip():
        return {}
    out: dict[str, str] = {}
    for part in text.split("|"):
        match = _CHOICE.match(part)
        if match is None or not match.group(2):
            return None
        out[match.group(1)] = match.group(2)
    return out


def _header(name: str) -> str:
    return name.lower()


def read_redcap_dictionary(file: InputFile, report: ProblemReport, limits: ReadLimits) -> RedcapDictionary | None:
    """A project's data dictionary (CSV) → its fields; None after problem rows when it cannot be used."""
    table = read_csv_table(file, "patients", report, limits)
    if table is None:
        return None
    frame = table.frame
    needed = [DICTIONARY_COLUMNS[i] for i in (0, 1, 3, 5)]
    missing = [c for c in needed if _header(c) not in frame.columns]
    if missing:
        for column in missing:
            report.add(ERROR, file.name, 1, column, "(not in the header)",
                       "a REDCap data dictionary (Project Setup → Data Dictionary → download), with the column "
                       f"{column}")
        return None
    names, forms, types, choices = (frame[_header(c)] for c in needed)
    fields: list[RedcapField] = []
    seen: dict[str, int] = {}
    errors = report.n_errors
    for row in frame.index:
        name, form, kind = names[row], forms[row], types[row]
        if name is None:
            report.add(ERROR, file.name, row, needed[0], None, "the field's variable name")
            continue
        if name in seen:
            report.add(ERROR, file.name, row, needed[0], name, f"each variable name once (also row {seen[name]})")
            continue
        seen[name] = int(row)
        if kind is None or kind.lower() not in FIELD_TYPES:
            report.add(ERROR, file.name, row, needed[2], kind, "one of REDCap's field types: "
                       + ", ".join(sorted(FIELD_TYPES)))
            continue
        kind = kind.lower()
        coded: dict[str, str] = {}
        if kind in CHOICE_TYPES:
            parsed = parse_choices(choices[row])
            if not parsed:
                report.add(ERROR, file.name, row, needed[3], choices[row],
                           "choices written as 1, Label | 2, Label (a code, a comma, the label; | between choices)")
                continue
            coded = parsed
        elif kind == "yesno":
            coded = {"1": "Yes", "0": "No"}
        elif kind == "truefalse":
            coded = {"1": "True", "0": "False"}
        fields.append(RedcapField(name=name, form=form or "", field_type=kind, choices=coded, row=int(row)))
    if report.n_errors > errors:
        return None
    if not fields:
        report.add(ERROR, file.name, 2, needed[0], "(no fields)", "one row per field of the project")
        return None
    return RedcapDictionary(file=file.name, fields=tuple(fields))

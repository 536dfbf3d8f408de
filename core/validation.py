"""The import rules: every column of the data contract, what it accepts, and the checks a cohort passes.

One source of truth serves three readers: the pandera schemas that validate an uploaded file, the
data dictionary page, and the import templates. Validation runs on the file *as text* (every cell a
string or None) so a problem can always show the value exactly as the user typed it:

1. pandera checks each column on its own — present in the header, filled in where required, the
   right type (number, whole number, date as YYYY-MM-DD, true/false), allowed values, ranges, unique
   patient ids — lazily, so every failure is collected;
2. pandas checks what spans rows and files — the fields an event type needs, dates inside the
   patient's window (first InO dose … data cut-off), nothing after a death, every event's patient
   listed in the patients file.

Rows are the user's rows: 1-based, the header is row 1, so the first data row is row 2 (what a
spreadsheet shows). Every problem names file · row · column · value · what is expected.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from core.store import EVENT_COLUMNS, PATIENT_COLUMNS

ROW_CONVENTION = ("Rows are numbered as a spreadsheet shows them: the header is row 1, "
                  "so the first data row is row 2.")

ERROR = "error"
WARNING = "warning"

# ---------------------------------------------------------------------------------- vocabulary
SEXES = ("F", "M")
PH_STATUSES = ("Ph+", "Ph-")
DISEASE_STATUSES = ("relapsed", "refractory")
EVENT_TYPES = ("ino_dose", "response", "mrd", "hsct", "relapse", "adverse_event", "death", "last_contact")
RESPONSES = ("CR", "CRi", "NR")
MRD_RESULTS = ("negative", "positive")
FOLLOWUP_STATUSES = ("alive at cut-off", "lost to follow-up")
AE_TERMS = ("VOD", "thrombocytopenia", "neutropenia", "febrile neutropenia", "AST increased",
            "ALT increased", "bilirubin increased")
DEATH_CAUSES = ("progression of disease", "relapse", "septic shock", "VOD-related multi-organ failure",
                "VOD pneumonia", "CNS relapse", "not mentioned")
OTHER_EVENT_TYPES = ("subsequent_therapy",)   # named by the contract: kept, ignored by the endpoints
UNDATED_EVENT_TYPES = ("response", "mrd")

TRUE_TEXT = frozenset({"true", "yes", "y", "1"})
FALSE_TEXT = frozenset({"false", "no", "n", "0"})
# Cells read as missing besides empty ones (R writes NA; databases write NULL). Documented in the dictionary.
MISSING_TEXT = frozenset({"NA", "N/A", "n/a", "NULL", "null", "NaN", "nan"})
EXCEL_ERRORS = frozenset({"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!"})

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
MAX_VALUE_CHARS = 120   # how much of a bad value a problem row quotes


# ---------------------------------------------------------------------------------- column rules
@dataclass(frozen=True)
class ColumnSpec:
    """One column of the contract: its type, whether it must be filled in, allowed values, range."""

    table: str
    name: str
    kind: str                         # text | choice | number | integer | date | boolean
    meaning: str
    required: bool = False            # a value on every row
    in_header: bool = False           # the column must be in the header (else it may be left out)
    allowed: tuple[str, ...] = ()     # choice: the only values accepted
    suggested: tuple[str, ...] = ()   # text: the values the endpoints count (others are kept)
    minimum: float | None = None
    maximum: float | None = None
    unique: bool = False
    required_on: str = ""             # e.g. "adverse_event rows" (checked across columns)
    empty_means: str = ""             # what an empty cell stands for
    example: str = ""

    @property
    def duckdb_type(self) -> str:
        return {"text": "VARCHAR", "choice": "VARCHAR", "number": "DOUBLE", "integer": "INTEGER",
                "date": "DATE", "boolean": "BOOLEAN"}[self.kind]

    def type_text(self) -> str:
        return {"text": "text", "choice": "text (a listed value)", "number": "number",
                "integer": "whole number", "date": "date (YYYY-MM-DD)", "boolean": "true / false"}[self.kind]

    def kind_expected(self) -> str:
        """What the type check asks for, in words."""
        if self.kind == "number":
            return "a number (digits, . for decimals, no % or units)"
        if self.kind == "integer":
            return "a whole number (e.g. 2)"
        if self.kind == "date":
            return "a date written YYYY-MM-DD (e.g. 2024-01-31)"
        if self.kind == "boolean":
            return "true or false (also yes/no, 1/0)"
        if self.kind == "choice":
            return self.allowed_expected()
        return "text"

    def allowed_expected(self) -> str:
        return "one of: " + ", ".join(self.allowed) + " (exactly as written)"

    def range_expected(self) -> str:
        unit = " (whole number)" if self.kind == "integer" else ""
        if self.minimum is not None and self.maximum is not None:
            return f"a value from {_num(self.minimum)} to {_num(self.maximum)}{unit}"
        if self.minimum is not None:
            return f"a value ≥ {_num(self.minimum)}{unit}"
        return f"a value ≤ {_num(self.maximum)}{unit}"

    def rule_text(self) -> str:
        """The allowed values or range, for the dictionary."""
        parts: list[str] = []
        if self.allowed:
            parts.append(", ".join(self.allowed))
        if self.suggested:
            parts.append("counted by the endpoints: " + ", ".join(self.suggested) + "; other terms are kept")
        if self.minimum is not None or self.maximum is not None:
            parts.append(self.range_expected().removeprefix("a value "))
        if self.unique:
            parts.append("unique")
        return "; ".join(parts)

    def required_text(self) -> str:
        if self.required:
            return "yes"
        if self.required_on:
            return f"on {self.required_on}"
        return "no"


def _num(x: float) -> str:
    return f"{x:g}"


def _c(table: str, name: str, kind: str, meaning: str, **kw: object) -> ColumnSpec:
    return ColumnSpec(table=table, name=name, kind=kind, meaning=meaning, **kw)  # type: ignore[arg-type]


PATIENT_SPECS: tuple[ColumnSpec, ...] = (
    _c("patients", "patient_id", "text", "De-identified patient id, e.g. P07; one row per patient",
       required=True, in_header=True, unique=True, example="P01"),
    _c("patients", "centre", "text", "Treating centre label", required=True, in_header=True, example="Centre X"),
    _c("patients", "sex", "choice", "Sex", required=True, in_header=True, allowed=SEXES, example="F"),
    _c("patients", "age_years", "number", "Age at the first InO dose, years (decimals allowed)",
       required=True, in_header=True, minimum=18, maximum=120, example="45"),
    _c("patients", "ph_status", "choice", "Philadelphia chromosome status", allowed=PH_STATUSES,
       empty_means="unknown", example="Ph-"),
    _c("patients", "prior_tki_count", "integer", "TKIs failed before InO (0 for Ph-)", minimum=0, example="0"),
    _c("patients", "cd22_pct", "number", "% CD22-positive blasts", minimum=0, maximum=100,
       empty_means="not reported", example="90"),
    _c("patients", "disease_status", "choice", "Disease status before InO", required=True, in_header=True,
       allowed=DISEASE_STATUSES, example="relapsed"),
    _c("patients", "salvage_line", "integer", "InO given as salvage 1, 2, 3, …", required=True, in_header=True,
       minimum=1, example="1"),
    _c("patients", "blast_pct", "number", "Bone-marrow blasts % at baseline", minimum=0, maximum=100,
       empty_means="not reported", example="60"),
    _c("patients", "emd_baseline", "boolean", "Extramedullary disease at baseline", empty_means="unknown",
       example="false"),
    _c("patients", "ino_start_date", "date", "Date of the first InO dose (origin of OS and RFS)",
       required=True, in_header=True, example="2024-01-08"),
    _c("patients", "data_cutoff_date", "date", "The centre's data cut-off for this patient; on or after "
       "ino_start_date", required=True, in_header=True, example="2025-06-30"),
    _c("patients", "safety_evaluable", "boolean", "FALSE only for a patient with no post-baseline safety data",
       empty_means="true", example="true"),
)

EVENT_SPECS: tuple[ColumnSpec, ...] = (
    _c("events", "patient_id", "text", "The patient (must be listed in the patients file)", required=True,
       in_header=True, example="P01"),
    _c("events", "event_date", "date", "Date of the event; on or after the patient's ino_start_date, on or "
       "before data_cutoff_date, not after a death. May be empty only on response and mrd rows "
       "(assessment known by cycle, date not recorded)", in_header=True,
       required_on="every row except response and mrd", example="2024-01-08"),
    _c("events", "event_type", "text", "What happened (other types, e.g. subsequent_therapy, are kept and "
       "ignored by the endpoints)", required=True, in_header=True, suggested=EVENT_TYPES, example="ino_dose"),
    _c("events", "cycle", "integer", "InO cycle number (ino_dose; on response/mrd rows the cycle it followed)",
       minimum=1, required_on="ino_dose rows", example="1"),
    _c("events", "cycle_day", "integer", "Day within the cycle (ino_dose: 1, 8, 15, …)", minimum=1, example="1"),
    _c("events", "dose_mg_m2", "number", "InO dose given that day, mg/m² (ino_dose)", minimum=0,
       required_on="ino_dose rows", example="0.8"),
    _c("events", "response", "choice", "Response at the assessment (response rows)", allowed=RESPONSES,
       required_on="response rows", example=""),
    _c("events", "marrow_blast_pct", "number", "Marrow blasts % behind a response row (optional)",
       minimum=0, maximum=100, example=""),
    _c("events", "platelets_10e9_l", "number", "Platelets ×10⁹/L behind a response row (optional)", minimum=0,
       example=""),
    _c("events", "anc_10e9_l", "number", "Absolute neutrophil count ×10⁹/L behind a response row (optional)",
       minimum=0, example=""),
    _c("events", "emd_present", "boolean", "Extramedullary disease at that response assessment (optional)",
       example=""),
    _c("events", "mrd", "choice", "MRD result (mrd rows)", allowed=MRD_RESULTS, required_on="mrd rows",
       example=""),
    _c("events", "ae_term", "text", "Adverse event term (adverse_event rows); another CTCAE term is allowed",
       suggested=AE_TERMS, required_on="adverse_event rows", example=""),
    _c("events", "ae_grade", "integer", "CTCAE grade (adverse_event rows)", minimum=1, maximum=5,
       required_on="adverse_event rows", example=""),
    _c("events", "cause", "text", "Cause of death (death rows; recommended, a warning when empty)",
       suggested=DEATH_CAUSES, example=""),
    _c("events", "followup_status", "choice", "Status at last contact (last_contact rows)",
       allowed=FOLLOWUP_STATUSES, required_on="last_contact rows", example=""),
    _c("events", "relapse_site", "text", "Relapse site (relapse rows): marrow, CNS, extramedullary or a "
       "combination like marrow+CNS", example=""),
    _c("events", "detail", "text", "Free text (HSCT donor and conditioning, …), optional", example=""),
)

SPECS: dict[str, tuple[ColumnSpec, ...]] = {"patients": PATIENT_SPECS, "events": EVENT_SPECS}
assert tuple(s.name for s in PATIENT_SPECS) == PATIENT_COLUMNS
assert tuple(s.name for s in EVENT_SPECS) == EVENT_COLUMNS

# Which event types need which fields: (event_type, column, severity, expected).
EVENT_REQUIREMENTS: tuple[tuple[str, str, str, str], ...] = (
    ("ino_dose", "cycle", ERROR, "the InO cycle number on an ino_dose row"),
    ("ino_dose", "dose_mg_m2", ERROR, "the dose in mg/m² on an ino_dose row"),
    ("response", "response", ERROR, "CR, CRi or NR on a response row"),
    ("mrd", "mrd", ERROR, "negative or positive on an mrd row"),
    ("adverse_event", "ae_term", ERROR, "the adverse event term on an adverse_event row"),
    ("adverse_event", "ae_grade", ERROR, "the CTCAE grade 1–5 on an adverse_event row"),
    ("death", "cause", WARNING, "a cause of death (recommended; the row is kept without one)"),
    ("last_contact", "followup_status", ERROR, "alive at cut-off or lost to follow-up on a last_contact row"),
)


@dataclass(frozen=True)
class EndpointDefinition:
    name: str
    definition: str


# The derived endpoints (data contract, "Derived per patient"): shown by the data dictionary page.
DERIVED_ENDPOINTS: tuple[EndpointDefinition, ...] = (
    EndpointDefinition("Months", "days / 30.4375, counted from the patient's ino_start_date (OS, RFS) or from "
                       "the first dated CR/CRi (duration of remission). Durations are never stored."),
    EndpointDefinition("Cycle-1 dose", "sum of dose_mg_m2 over cycle-1 ino_dose rows; dose group <1.8, 1.8 or "
                       ">1.8 mg/m²/cycle (1.8 within ±0.005)."),
    EndpointDefinition("Number of InO cycles", "highest cycle among ino_dose rows."),
    EndpointDefinition("Blast burden", "<50% or ≥50% bone-marrow blasts at baseline (threshold adjustable)."),
    EndpointDefinition("Best response", "CR/CRi if any response row says CR or CRi (CR vs CRi from the first "
                       "such row), else NR if any response row exists, else not evaluable."),
    EndpointDefinition("Cycles to response", "cycle of the first CR/CRi response row."),
    EndpointDefinition("MRD negativity (responders)", "any mrd row negative. Deep response: an mrd row "
                       "negative at the assessment that first documented CR/CRi (same date, or — undated — "
                       "same cycle)."),
    EndpointDefinition("HSCT", "any hsct row; an adverse event is post-HSCT when dated on or after the HSCT."),
    EndpointDefinition("Overall survival (OS)", "first InO dose → death (event), else censored at the "
                       "last_contact date."),
    EndpointDefinition("Relapse-free survival (RFS, responders)", "first InO dose → first relapse or death, "
                       "else censored at last contact."),
    EndpointDefinition("Duration of remission", "responders with a dated CR/CRi: first dated CR/CRi → relapse "
                       "or death, else censored at last contact."),
    EndpointDefinition("Lost to follow-up", "censored with followup_status = lost to follow-up."),
    EndpointDefinition("Grade 3/4 liver toxicity", "AST increased, ALT increased or bilirubin increased with "
                       "ae_grade ≥ 3."),
    EndpointDefinition("Haematologic toxicity", "thrombocytopenia, neutropenia or febrile neutropenia, any "
                       "grade."),
    EndpointDefinition("VOD", "ae_term = VOD, any grade."),
    EndpointDefinition("Kaplan–Meier", "lifelines defaults: exponential Greenwood (log(−log)) pointwise 95% CI; "
                       "the median's CI is where that band crosses 0.5."),
)


def dictionary_frame(table: str) -> pd.DataFrame:
    """The data dictionary of one table: column, type, required, allowed values / range, meaning."""
    rows = [{"column": s.name, "type": s.type_text(), "database type": s.duckdb_type,
             "required": s.required_text(), "allowed values / range": s.rule_text(),
             "empty means": s.empty_means or ("—" if s.required else "missing"), "meaning": s.meaning,
             "example": s.example} for s in SPECS[table]]
    return pd.DataFrame(rows)


def endpoints_frame() -> pd.DataFrame:
    return pd.DataFrame([{"endpoint": e.name, "definition": e.definition} for e in DERIVED_ENDPOINTS])


# ---------------------------------------------------------------------------------- problems
PROBLEM_COLUMNS = ("severity", "file", "row", "column", "value", "expected")


@dataclass(frozen=True)
class Problem:
    """One thing wrong (error: blocks the import) or worth a look (warning: the import goes ahead)."""

    severity: str
    file: str
    row: int | None      # 1-based row in the user's file, header = row 1; None = the file as a whole
    column: str
    value: str
    expected: str


def quote_value(value: object) -> str:
    """A value as the problem table shows it: verbatim, shortened, '(empty)' when missing."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "(empty)"
    text = str(value)
    if text == "":
        return "(empty)"
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


@dataclass
class ProblemReport:
    """Every problem found, errors and warnings, in the order of the user's files and rows."""

    _chunks: list[pd.DataFrame] = field(default_factory=list)
    _files: list[str] = field(default_factory=list)
    _claimed: dict[tuple[str, str], set[int]] = field(default_factory=dict)

    def claim(self, file: str, row: int, column: str) -> None:
        """This cell's problem is already reported (e.g. a formula): later checks stay quiet about it."""
        self._claimed.setdefault((file, column), set()).add(row)

    def add(self, severity: str, file: str, row: int | None, column: str, value: object, expected: str) -> None:
        self._note_file(file)
        self._chunks.append(pd.DataFrame({
            "severity": [severity], "file": [file], "row": pd.array([row], dtype="Int64"),
            "column": [column], "value": [quote_value(value)], "expected": [expected]}))

    def add_many(self, severity: str, file: str, rows: Iterable[int], column: str, values: Iterable[object],
                 expected: str | Sequence[str]) -> None:
        rows = list(rows)
        values = list(values)
        expected_list = [expected] * len(rows) if isinstance(expected, str) else list(expected)
        claimed = self._claimed.get((file, column))
        if claimed:
            keep = [i for i, r in enumerate(rows) if r not in claimed]
            rows, values, expected_list = ([x[i] for i in keep] for x in (rows, values, expected_list))
        if not rows:
            return
        self._note_file(file)
        self._chunks.append(pd.DataFrame({
            "severity": severity, "file": file, "row": pd.array(rows, dtype="Int64"), "column": column,
            "value": [quote_value(v) for v in values], "expected": expected_list}))

    def _note_file(self, file: str) -> None:
        if file not in self._files:
            self._files.append(file)

    def frame(self) -> pd.DataFrame:
        """The problems as a table (columns PROBLEM_COLUMNS), sorted by file, then row."""
        if not self._chunks:
            return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "row" else object) for c in PROBLEM_COLUMNS})
        out = pd.concat(self._chunks, ignore_index=True)
        order = out["file"].map({f: i for i, f in enumerate(self._files)})
        out = out.assign(_f=order, _r=out["row"].fillna(0)).sort_values(["_f", "_r"], kind="stable")
        return out.drop(columns=["_f", "_r"]).reset_index(drop=True)

    @property
    def n_errors(self) -> int:
        return int(sum((c["severity"] == ERROR).sum() for c in self._chunks))

    @property
    def n_warnings(self) -> int:
        return int(sum((c["severity"] == WARNING).sum() for c in self._chunks))

    @property
    def ok(self) -> bool:
        return self.n_errors == 0

    def problems(self) -> list[Problem]:
        f = self.frame()
        return [Problem(r.severity, r.file, None if pd.isna(r.row) else int(r.row), r.column, r.value, r.expected)
                for r in f.itertuples(index=False)]

    def to_csv_bytes(self) -> bytes:
        """The problem table as UTF-8 CSV (with a BOM, so spreadsheet programs read the accents)."""
        buffer = io.StringIO()
        frame = self.frame()
        for column in ("file", "column", "value", "expected"):
            frame[column] = frame[column].map(_defuse_spreadsheet_formula)
        frame.to_csv(buffer, index=False)
        return buffer.getvalue().encode("utf-8-sig")

    def summary(self) -> str:
        e, w = self.n_errors, self.n_warnings
        return f"{e} error{'s' if e != 1 else ''}, {w} warning{'s' if w != 1 else ''}"


def _defuse_spreadsheet_formula(text: object) -> object:
    """A cell a spreadsheet would run as a formula (=, +, @, -x) gets a leading apostrophe (CSV injection)."""
    if not isinstance(text, str) or not text:
        return text
    if text[0] in "=+@\t\r" or (text[0] == "-" and not _NUMBER.match(text)):
        return "'" + text
    return text


# ---------------------------------------------------------------------------------- parsing text
def _values(series: pd.Series) -> list[tuple[int, str]]:
    """(position, text) of the non-empty cells: the parsers loop over these only (most cells are empty)."""
    return [(i, v) for i, v in enumerate(series.to_numpy(dtype=object)) if isinstance(v, str)]


def parse_number(series: pd.Series) -> pd.Series:
    """float per cell; NaN where empty or not a plain number (no %, no units, no decimal comma, finite)."""
    out = np.full(len(series), np.nan)
    for i, text in _values(series):
        if _NUMBER.match(text):
            value = float(text)
            if np.isfinite(value):
                out[i] = value
    return pd.Series(out, index=series.index, dtype="float64")


def parse_integer(series: pd.Series) -> pd.Series:
    """Int64 per cell; <NA> where empty, not a number, or not whole."""
    numbers = parse_number(series).to_numpy()
    whole = ~np.isnan(numbers) & (numbers == np.floor(numbers)) & (np.abs(numbers) < 2**31)
    return pd.Series(pd.array(np.where(whole, numbers, 0).astype("int64"), dtype="Int64"), index=series.index) \
        .where(whole, pd.NA)


def parse_date(series: pd.Series) -> pd.Series:
    """datetime.date per cell (object); None where empty or not a real YYYY-MM-DD date."""
    out = np.full(len(series), None, dtype=object)
    for i, text in _values(series):
        m = _DATE.match(text)
        if m:
            try:
                out[i] = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                pass
    return pd.Series(out, index=series.index, dtype=object)


def parse_boolean(series: pd.Series) -> pd.Series:
    out = np.full(len(series), None, dtype=object)
    for i, text in _values(series):
        lowered = text.lower()
        out[i] = True if lowered in TRUE_TEXT else False if lowered in FALSE_TEXT else None
    return pd.Series(pd.array(out, dtype="boolean"), index=series.index)


def _parse(spec: ColumnSpec, series: pd.Series) -> pd.Series:
    return {"number": parse_number, "integer": parse_integer, "date": parse_date,
            "boolean": parse_boolean}.get(spec.kind, lambda s: s)(series)


def _outside(spec: ColumnSpec, parsed: pd.Series) -> pd.Series:
    """True where a parsed value lies outside the column's range."""
    values = parsed.to_numpy(dtype="float64", na_value=np.nan)
    bad = np.zeros(len(values), dtype=bool)
    with np.errstate(invalid="ignore"):
        if spec.minimum is not None:
            bad |= values < spec.minimum
        if spec.maximum is not None:
            bad |= values > spec.maximum
    return pd.Series(bad, index=parsed.index)


@dataclass(frozen=True)
class ParsedColumn:
    """A typed column parsed once: its values, where they parsed, where they fall outside the range."""

    values: pd.Series
    ok: pd.Series
    outside: pd.Series


def _kind_ok(spec: ColumnSpec, parsed: ParsedColumn) -> pa.Check:
    """The type check: empty cells pass here (the nullable rule speaks for them)."""
    return pa.Check(lambda s: s.isna() | parsed.ok, name=spec.kind_expected(), ignore_na=False)


def _range_ok(spec: ColumnSpec, parsed: ParsedColumn) -> pa.Check:
    """The range check: only on values that parsed (a non-number is reported once, by the type check)."""
    return pa.Check(lambda s: ~parsed.outside, name=spec.range_expected(), ignore_na=False)


def _allowed_ok(spec: ColumnSpec) -> pa.Check:
    allowed = set(spec.allowed)
    return pa.Check(lambda s: s.isna() | s.isin(allowed), name=spec.allowed_expected(), ignore_na=False)


def parse_columns(table: str, frame: pd.DataFrame) -> dict[str, ParsedColumn]:
    """Each typed contract column present in the frame, parsed once (the checks and the typed table share it)."""
    out: dict[str, ParsedColumn] = {}
    for spec in SPECS[table]:
        if spec.name in frame.columns and spec.kind not in ("text", "choice"):
            values = _parse(spec, frame[spec.name])
            ok = pd.Series(values.notna().to_numpy(dtype=bool), index=frame.index)
            outside = _outside(spec, values) if spec.kind in ("number", "integer") else pd.Series(False, index=frame.index)
            out[spec.name] = ParsedColumn(values, ok, outside)
    return out


def pandera_schema(table: str, present: Sequence[str], parsed: dict[str, ParsedColumn]) -> pa.DataFrameSchema:
    """The column-by-column rules of one table, on the file as text.

    Columns that must be in the header are `required`; an optional column the file left out is not
    checked (it is filled with empty cells afterwards). Extra columns are allowed (strict=False).
    `parsed` holds each typed column already parsed (see parse_columns), so a check never parses twice.
    """
    columns: dict[str, pa.Column] = {}
    for spec in SPECS[table]:
        if not spec.in_header and spec.name not in present:
            continue
        checks: list[pa.Check] = []
        if spec.kind == "choice":
            checks.append(_allowed_ok(spec))
        elif spec.kind != "text" and spec.name in parsed:
            checks.append(_kind_ok(spec, parsed[spec.name]))
            if spec.minimum is not None or spec.maximum is not None:
                checks.append(_range_ok(spec, parsed[spec.name]))
        columns[spec.name] = pa.Column(object, checks=checks, nullable=not spec.required, unique=spec.unique,
                                       required=spec.in_header, coerce=False)
    return pa.DataFrameSchema(columns, strict=False, name=table)


# ---------------------------------------------------------------------------------- tables
@dataclass
class TextTable:
    """One table as the user wrote it: every cell a stripped string or None; index = the file's row."""

    table: str                 # "patients" | "events"
    file: str                  # how problems name it: "events.csv" or "cohort.xlsx (sheet events)"
    frame: pd.DataFrame


@dataclass
class ValidatedCohort:
    """The outcome of validation: typed tables ready to store (None when there are errors) and the report."""

    report: ProblemReport
    patients: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    patients_extra: pd.DataFrame | None = None
    events_extra: pd.DataFrame | None = None
    extra_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.report.ok and self.patients is not None and self.events is not None


def _schema_problems(table: TextTable, parsed: dict[str, ParsedColumn], report: ProblemReport) -> set[str]:
    """Run pandera (lazy: all failures at once). Returns the required columns missing from the header."""
    frame = table.frame
    _excel_errors(table, report)
    schema = pandera_schema(table.table, list(frame.columns), parsed)
    missing: set[str] = set()
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
            if check == "column_in_dataframe":
                for name in group["failure_case"]:
                    missing.add(str(name))
                    report.add(ERROR, table.file, 1, str(name), "(not in the header)",
                               f"a column named {name} in the header row (see the template)")
                continue
            spec = _spec(table.table, str(column))
            rows = [int(i) for i in group["index"]]
            if check == "not_nullable":
                expected = f"a value ({spec.kind_expected()}); this column may not be empty"
            elif check == "field_uniqueness":
                expected = f"a {column} used once (it appears on more than one row)"
            else:
                expected = str(check)
            values = [table.frame.at[i, column] for i in rows]
            report.add_many(ERROR, table.file, rows, str(column), values, expected)
    return missing


def _excel_errors(table: TextTable, report: ProblemReport) -> None:
    """Excel error values (#N/A, #VALUE!, …) pasted as text: reported once; the other checks skip the cell."""
    found = table.frame.isin(EXCEL_ERRORS)
    if not found.to_numpy().any():
        return
    for column in table.frame.columns[found.any(axis=0).to_numpy()]:
        rows = table.frame.index[found[column].to_numpy()]
        report.add_many(ERROR, table.file, rows, column, table.frame.loc[rows, column],
                        "a value, not an Excel error (fix the formula in your source sheet)")
        for row in rows:
            report.claim(table.file, int(row), column)


def _spec(table: str, name: str) -> ColumnSpec:
    return next(s for s in SPECS[table] if s.name == name)


def _typed(table: TextTable, parsed: dict[str, ParsedColumn]) -> pd.DataFrame:
    """Contract columns as their types (values that did not parse become missing; they were reported)."""
    out = pd.DataFrame(index=table.frame.index)
    for spec in SPECS[table.table]:
        if spec.name not in table.frame.columns:
            out[spec.name] = pd.Series(None, index=table.frame.index, dtype=object)
            continue
        if spec.kind in ("text", "choice"):
            raw = table.frame[spec.name]
            value = raw.where(raw.notna() & ~raw.isin(EXCEL_ERRORS), None).astype(object)
            if spec.kind == "choice":
                value = value.where(value.isin(set(spec.allowed)), None)
        else:
            column = parsed[spec.name]
            value = column.values
            if column.outside.any():
                value = value.where(~column.outside, None if value.dtype == object else pd.NA)
        out[spec.name] = value
    return out


def _extra_columns(table: TextTable, report: ProblemReport) -> tuple[str, ...]:
    known = {s.name for s in SPECS[table.table]}
    extras = tuple(c for c in table.frame.columns if c not in known)
    for name in extras:
        report.add(WARNING, table.file, 1, name, name,
                   f"a column of the {table.table} template; unknown columns are kept (table "
                   f"{table.table}_extra) but not used by any view — check the spelling if it was meant as one")
    left_out = [s for s in SPECS[table.table] if not s.in_header and s.name not in table.frame.columns]
    if left_out:
        names = ", ".join(s.name for s in left_out)
        meanings = "; ".join(f"{s.name} = {s.empty_means}" for s in left_out if s.empty_means)
        report.add(WARNING, table.file, 1, names, "(not in the header)",
                   "optional columns; left out, so every value is taken as missing"
                   + (f" ({meanings})" if meanings else ""))
    return extras


def validate_tables(patients: TextTable, events: TextTable, report: ProblemReport | None = None) -> ValidatedCohort:
    """Every check on the two tables; typed frames come back only when there is no error."""
    report = report if report is not None else ProblemReport()
    extras = {"patients": _extra_columns(patients, report), "events": _extra_columns(events, report)}
    parsed_p = parse_columns("patients", patients.frame)
    parsed_e = parse_columns("events", events.frame)
    absent_p = _schema_problems(patients, parsed_p, report)
    absent_e = _schema_problems(events, parsed_e, report)
    typed_p = _typed(patients, parsed_p)
    typed_e = _typed(events, parsed_e)
    _check_patients(patients, typed_p, absent_p, report)
    _check_events(events, typed_e, absent_e, report)
    _check_across(patients, typed_p, absent_p, events, typed_e, absent_e, report)
    if not ({"patient_id"} & absent_p) and not ({"patient_id", "event_type"} & absent_e):
        check_follow_up(patients, typed_p, typed_e, report)
    result = ValidatedCohort(report=report, extra_columns=extras)
    if report.ok:
        result.patients = _store_ready(typed_p, patients.table)
        result.events = _store_ready(typed_e, events.table)
        result.patients_extra = _extras_frame(patients, extras["patients"], ("patient_id",))
        result.events_extra = _extras_frame(events, extras["events"], ("patient_id", "event_type", "event_date"))
    return result


def _check_patients(table: TextTable, typed: pd.DataFrame, absent: set[str], report: ProblemReport) -> None:
    if {"ino_start_date", "data_cutoff_date"} & absent:
        return
    start, cutoff = typed["ino_start_date"], typed["data_cutoff_date"]
    both = start.notna() & cutoff.notna()
    bad = both & (cutoff.where(both, dt.date.min) < start.where(both, dt.date.min))
    rows = typed.index[bad]
    report.add_many(ERROR, table.file, rows, "data_cutoff_date", table.frame.loc[rows, "data_cutoff_date"],
                    [f"a date on or after ino_start_date ({start[r].isoformat()})" for r in rows])


def _check_events(table: TextTable, typed: pd.DataFrame, absent: set[str], report: ProblemReport) -> None:
    raw = table.frame
    if "event_type" in absent:
        return
    etype = raw["event_type"]
    known = set(EVENT_TYPES)
    lower_known = {t.lower(): t for t in EVENT_TYPES}
    unknown = etype.notna() & ~etype.isin(known | set(OTHER_EVENT_TYPES))
    if unknown.any():
        near = etype[unknown].map(lambda v: lower_known.get(str(v).strip().lower().replace(" ", "_")))
        miscased = near.notna()
        rows = near.index[miscased]
        report.add_many(ERROR, table.file, rows, "event_type", etype[rows],
                        [f"{near[r]} (lower case, exactly as the dictionary spells it)" for r in rows])
        rows = near.index[~miscased]
        report.add_many(WARNING, table.file, rows, "event_type", etype[rows],
                        "one of: " + ", ".join(EVENT_TYPES) + " — other types are kept but ignored by the endpoints")
    if "event_date" not in absent:
        no_date = raw["event_date"].isna() & etype.notna() & ~etype.isin(UNDATED_EVENT_TYPES)
        rows = raw.index[no_date]
        report.add_many(ERROR, table.file, rows, "event_date", [None] * len(rows),
                        "a date written YYYY-MM-DD (only response and mrd rows may leave it empty)")
    for event_type, column, severity, expected in EVENT_REQUIREMENTS:
        if column not in raw.columns:
            # the whole optional column is missing: one problem per row that needs it
            needs = raw.index[etype == event_type]
        else:
            needs = raw.index[(etype == event_type) & raw[column].isna()]
        report.add_many(severity, table.file, needs, column, [None] * len(needs), expected)
    if "ae_term" in raw.columns:
        _check_spelling(table, raw["ae_term"], AE_TERMS, "ae_term", report)


def _check_spelling(table: TextTable, values: pd.Series, terms: Sequence[str], column: str,
                    report: ProblemReport) -> None:
    """A value equal to a counted term but for case/spaces would be silently missed by the endpoints."""
    canon = {" ".join(t.lower().split()): t for t in terms}
    candidates = values.notna() & ~values.isin(set(terms))
    near = values[candidates].map(lambda v: canon.get(" ".join(str(v).lower().split())))
    rows = near.index[near.notna()]
    report.add_many(ERROR, table.file, rows, column, values[rows],
                    [f"{near[r]} (spelt exactly so, or the endpoints will not count it)" for r in rows])


def _check_across(patients: TextTable, typed_p: pd.DataFrame, absent_p: set[str], events: TextTable,
                  typed_e: pd.DataFrame, absent_e: set[str], report: ProblemReport) -> None:
    if "patient_id" in absent_p or "patient_id" in absent_e:
        return
    ids = typed_p["patient_id"]
    first = ~ids.duplicated(keep="first") & ids.notna()
    by_id = typed_p[first].set_index("patient_id", drop=False)
    ev_id = typed_e["patient_id"]
    listed = ev_id.isin(set(by_id.index))
    rows = typed_e.index[ev_id.notna() & ~listed]
    report.add_many(ERROR, events.file, rows, "patient_id", events.frame.loc[rows, "patient_id"],
                    f"a patient_id listed in {patients.file}")

    if "event_date" in absent_e:
        return
    date = typed_e["event_date"]
    dated = listed & date.notna()
    if not {"ino_start_date", "data_cutoff_date"} & absent_p:
        start = ev_id.map(by_id["ino_start_date"])
        cutoff = ev_id.map(by_id["data_cutoff_date"])
        has_start = dated & start.notna()
        before = has_start & (date.where(has_start, dt.date.min) < start.where(has_start, dt.date.min))
        rows = typed_e.index[before]
        report.add_many(ERROR, events.file, rows, "event_date", events.frame.loc[rows, "event_date"],
                        [f"a date on or after the patient's first InO dose (ino_start_date {start[r].isoformat()})"
                         for r in rows])
        has_cut = dated & cutoff.notna()
        after = has_cut & (date.where(has_cut, dt.date.max) > cutoff.where(has_cut, dt.date.max))
        rows = typed_e.index[after]
        report.add_many(ERROR, events.file, rows, "event_date", events.frame.loc[rows, "event_date"],
                        [f"a date on or before the patient's data_cutoff_date ({cutoff[r].isoformat()})"
                         for r in rows])

    if "event_type" in absent_e:
        return
    etype = typed_e["event_type"]
    deaths = typed_e[listed & (etype == "death") & date.notna()]
    if deaths.empty:
        return
    order = deaths.assign(_row=deaths.index).sort_values(["event_date", "_row"])
    first_death = order.drop_duplicates("patient_id", keep="first")
    again = order.index.difference(first_death.index)
    death_row = pd.Series(first_death.index, index=first_death["patient_id"])
    death_date = pd.Series(first_death["event_date"].to_numpy(), index=first_death["patient_id"])
    rows = sorted(again)
    report.add_many(ERROR, events.file, rows, "event_type", events.frame.loc[rows, "event_type"],
                    [f"one death row per patient (this patient's death is already on row "
                     f"{death_row[typed_e.at[r, 'patient_id']]})" for r in rows])
    when = ev_id.map(death_date)
    has = dated & when.notna()
    late = has & (date.where(has, dt.date.min) > when.where(has, dt.date.max))
    late &= ~typed_e.index.isin(again)
    rows = typed_e.index[late]
    report.add_many(ERROR, events.file, rows, "event_date", events.frame.loc[rows, "event_date"],
                    [f"nothing after the patient's death on {when[r].isoformat()} "
                     f"(row {death_row[typed_e.at[r, 'patient_id']]})" for r in rows])


def check_follow_up(patients: TextTable, typed_p: pd.DataFrame, typed_e: pd.DataFrame,
                    report: ProblemReport) -> None:
    """Warnings for patients whose OS cannot be computed (no death, no last_contact row)."""
    ids = typed_p["patient_id"]
    ended = set(typed_e.loc[typed_e["event_type"].isin(("death", "last_contact")), "patient_id"])
    rows = typed_p.index[ids.notna() & ~ids.isin(ended)]
    report.add_many(WARNING, patients.file, rows, "patient_id", ids[rows],
                    "a death or last_contact row in the events file for this patient (without one, overall "
                    "survival leaves the patient out)")


def _store_ready(typed: pd.DataFrame, table: str) -> pd.DataFrame:
    out = typed.reset_index(drop=True).copy()
    if table == "patients":
        out["safety_evaluable"] = out["safety_evaluable"].astype("boolean").fillna(True)
    for spec in SPECS[table]:
        if spec.kind == "boolean":
            out[spec.name] = out[spec.name].astype(object).where(out[spec.name].notna(), None)
    return out


def _extras_frame(table: TextTable, extras: Sequence[str], keys: Sequence[str]) -> pd.DataFrame | None:
    """Unknown columns, kept as text next to the row they came from (source_row = the file's row)."""
    if not extras:
        return None
    frame = pd.DataFrame({"source_row": table.frame.index.astype("int64")})
    for key in keys:
        frame[key] = table.frame[key].to_numpy() if key in table.frame.columns else None
    for name in extras:
        column = name
        while column in frame.columns:
            column = f"{column}_extra"
        frame[column] = table.frame[name].to_numpy()
    return frame

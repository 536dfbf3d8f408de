"""A column mapping: how a centre's own file becomes the contract's tables, saved as a small JSON file.

    mapping = ImportMapping.from_json(path.read_bytes())        # the last cut's mapping, reused
    mapped = apply_mapping(table, mapping.patients, report)      # TextTable → TextTable, before validation

Per table, a mapping says for each of the file's columns which contract column it fills (or that it is
kept as an extra column, or dropped), how a date column is written, which values stand for which
contract value ("Male" → M, "1st salvage" → 1), and one value for every row where the file has no
column (e.g. a data cut-off date). Applying it keeps the file's row numbers, so every problem the
validator finds still names the user's own row, and a problem about a renamed column names both:
"gender → sex". Proposing a mapping from a file's headers and values: core.importer.proposal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial

import pandas as pd

from core.importer.dates import DATE_STYLES, ISO, to_iso
from core.importer.problems import ERROR, ProblemReport
from core.importer.rules import SPECS, TABLES, ColumnSpec
from core.importer.synonyms import value_key
from core.importer.table import TextTable, header_name

MAPPING_FORMAT = "ino-cohort-import-mapping"
MAPPING_VERSION = 1
KEEP = "(keep)"      # carried as an extra column (patients_extra / events_extra); no view reads it
DROP = "(drop)"      # not carried into the cohort at all
MAX_MAPPING_BYTES = 1024 * 1024
MAX_MAPPING_ENTRIES = 20_000


class MappingError(ValueError):
    """A mapping file that cannot be used: what is wrong, and where in the file."""


@dataclass(frozen=True)
class TableMapping:
    """How one table of the user's files becomes the contract's table."""

    columns: Mapping[str, str] = field(default_factory=dict)             # your column → contract column | KEEP | DROP
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)   # contract column → {your value → value}
    date_formats: Mapping[str, str] = field(default_factory=dict)        # your column → a style of DATE_STYLES
    constants: Mapping[str, str] = field(default_factory=dict)           # contract column → the value where none is

    def target(self, source: str, table: str) -> str:
        """Where a column of the file goes: its mapping, else its own name when the contract has it, else KEEP."""
        if source in self.columns:
            return self.columns[source]
        return source if source in contract_columns(table) else KEEP

    def value_map(self, target: str) -> dict[str, str]:
        """value_key of your value → the contract's value."""
        return {value_key(k): v for k, v in self.values.get(target, {}).items()}

    def to_dict(self) -> dict[str, object]:
        return {"columns": dict(self.columns), "values": {k: dict(v) for k, v in self.values.items() if v},
                "date_formats": dict(self.date_formats), "constants": dict(self.constants)}

    @property
    def is_identity(self) -> bool:
        """True when it changes nothing (every column keeps its name, no value, date or constant)."""
        return (all(source == target for source, target in self.columns.items())
                and not any(self.values.values()) and not self.constants
                and all(style == ISO for style in self.date_formats.values()))


@dataclass(frozen=True)
class ImportMapping:
    """A whole source's mapping: both tables. Saved as JSON and reused by the next cut of the same source."""

    patients: TableMapping = field(default_factory=TableMapping)
    events: TableMapping = field(default_factory=TableMapping)

    def table(self, name: str) -> TableMapping:
        return self.patients if name == "patients" else self.events

    @property
    def is_identity(self) -> bool:
        return self.patients.is_identity and self.events.is_identity

    def to_json(self) -> bytes:
        document = {"format": MAPPING_FORMAT, "version": MAPPING_VERSION,
                    **{name: self.table(name).to_dict() for name in TABLES}}
        return (json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes | str) -> ImportMapping:
        """Read a saved mapping; MappingError names the entry that is wrong and the rule."""
        raw = data.encode("utf-8") if isinstance(data, str) else data
        if len(raw) > MAX_MAPPING_BYTES:
            raise MappingError(f"a mapping file of at most {MAX_MAPPING_BYTES // 1024} KB (this one is larger)")
        try:
            document = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MappingError(f"a JSON mapping file as the import page saves it ({exc})") from None
        if not isinstance(document, dict) or document.get("format") != MAPPING_FORMAT:
            raise MappingError(f'a JSON object with "format": "{MAPPING_FORMAT}" (download one from the import '
                               "page, or write one with scripts/import_cohort.py --write-mapping)")
        if document.get("version") != MAPPING_VERSION:
            raise MappingError(f'"version": {MAPPING_VERSION} (this file says {document.get("version")!r})')
        entries = 0
        tables: dict[str, TableMapping] = {}
        for name in TABLES:
            part = document.get(name, {})
            tables[name], n = _table_from_dict(name, part)
            entries += n
            if entries > MAX_MAPPING_ENTRIES:
                raise MappingError(f"at most {MAX_MAPPING_ENTRIES:,} entries in a mapping file")
        return cls(**tables)


def contract_columns(table: str) -> tuple[str, ...]:
    return tuple(s.name for s in SPECS[table])


def _text_dict(where: str, value: object) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise MappingError(f"{where}: an object of text → text")
    return value


def _table_from_dict(name: str, part: object) -> tuple[TableMapping, int]:
    if not isinstance(part, dict):
        raise MappingError(f"{name}: an object with columns, values, date_formats and constants")
    unknown = set(part) - {"columns", "values", "date_formats", "constants"}
    if unknown:
        raise MappingError(f"{name}: only columns, values, date_formats and constants (not {sorted(unknown)[0]})")
    known = set(contract_columns(name))
    columns = {header_name(k): v for k, v in _text_dict(f"{name}.columns", part.get("columns", {})).items()}
    for source, target in columns.items():
        if target not in known | {KEEP, DROP}:
            raise MappingError(f"{name}.columns[{source!r}]: a contract column of the {name} table, {KEEP} or "
                               f"{DROP} (not {target!r})")
    values_part = part.get("values", {})
    if not isinstance(values_part, dict):
        raise MappingError(f"{name}.values: an object of contract column → {{your value → contract value}}")
    values = {}
    for target, table in values_part.items():
        if target not in known:
            raise MappingError(f"{name}.values: keys are contract columns of the {name} table (not {target!r})")
        values[target] = _text_dict(f"{name}.values[{target!r}]", table)
    formats = {header_name(k): v for k, v in _text_dict(f"{name}.date_formats", part.get("date_formats", {})).items()}
    for source, style in formats.items():
        if style not in DATE_STYLES:
            raise MappingError(f"{name}.date_formats[{source!r}]: one of {', '.join(DATE_STYLES)} (not {style!r})")
    constants = _text_dict(f"{name}.constants", part.get("constants", {}))
    for target in constants:
        if target not in known:
            raise MappingError(f"{name}.constants: keys are contract columns of the {name} table (not {target!r})")
    n = len(columns) + sum(len(v) for v in values.values()) + len(formats) + len(constants)
    return TableMapping(columns=columns, values=values, date_formats=formats, constants=constants), n


# ---------------------------------------------------------------------------------- applying
def _restyle(text: str, *, style: str) -> str:
    return to_iso(text, style)


def _recode(text: str, *, values: Mapping[str, str]) -> str:
    return values.get(value_key(text), text)


def _each_distinct(series: pd.Series, change: Callable[[str], str]) -> pd.Series:
    """`change` on each distinct text once, spread back over the rows (None stays None)."""
    codes, distinct = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=True)
    if not len(distinct):
        return series
    changed = pd.array([change(v) for v in distinct] + [None], dtype=object)
    return pd.Series(changed[codes], index=series.index, dtype=object)


def required_rule(spec: ColumnSpec) -> str:
    rule = "a value on every row" if spec.required else "the column in the file"
    return f"{spec.name} is required ({rule}: {spec.meaning})"


def apply_mapping(table: TextTable, mapping: TableMapping, report: ProblemReport, *,
                  derived: Mapping[str, str] | None = None) -> TextTable | None:
    """The file's table with the contract's column names and values; None (after a problem row) when the
    mapping cannot make a complete table: two columns onto one, or a required column left without values.

    `derived` (e.g. `centre` from the centre the user named) and the mapping's constants fill a contract
    column the file has no column for, and the cells the file leaves empty; `derived` comes first.
    """
    frame = table.frame
    contract = set(contract_columns(table.table))
    sources: dict[str, list[str]] = {}
    kept: dict[str, pd.Series] = {}
    for source in frame.columns:
        target = mapping.target(source, table.table)
        if target == DROP:
            continue
        if target == KEEP:
            kept[f"{source} (kept)" if source in contract else source] = frame[source]
            continue
        sources.setdefault(target, []).append(source)
    refused = False
    for target, names in sources.items():
        if len(names) > 1:
            report.add(ERROR, table.file, 1, target, ", ".join(names),
                       f"one column of the file mapped to {target} (these {len(names)} are): map the others to "
                       "another column, keep them as extra columns or drop them")
            refused = True
    out: dict[str, pd.Series] = {}
    fill = {**mapping.constants, **(derived or {})}
    for spec in SPECS[table.table]:
        mapped_from = sources.get(spec.name, [])
        if mapped_from:
            source = mapped_from[0]
            column = frame[source]
            style = mapping.date_formats.get(source, ISO)
            if spec.kind == "date" and style != ISO:
                column = _each_distinct(column, partial(_restyle, style=style))
            recode = mapping.value_map(spec.name)
            if recode:
                column = _each_distinct(column, partial(_recode, values=recode))
            if str(fill.get(spec.name, "")).strip():
                column = column.where(column.notna(), str(fill[spec.name]).strip())
            if spec.required and column.isna().all():
                report.add(ERROR, table.file, 1, shown_column(source, spec.name), "(empty in every row)",
                           f"values in the column mapped to {spec.name}: {required_rule(spec)}")
                refused = True
            out[spec.name] = column
        elif spec.name in fill and str(fill[spec.name]).strip():
            out[spec.name] = pd.Series(str(fill[spec.name]).strip(), index=frame.index, dtype=object)
        elif spec.in_header:
            report.add(ERROR, table.file, 1, spec.name, "(no column mapped)",
                       f"a column of the file mapped to {spec.name}, or one value for every row — "
                       f"{required_rule(spec)}")
            refused = True
    if refused:
        return None
    report.rename_columns(table.file, {t: names[0] for t, names in sources.items() if names[0] != t})
    for name, column in kept.items():
        if name not in out:
            out[name] = column
    mapped = pd.DataFrame(out, index=frame.index)
    return TextTable(table=table.table, file=table.file, frame=mapped)


def shown_column(source: str, target: str) -> str:
    """How a problem names a renamed column: "gender → sex"."""
    return target if source == target else f"{source} → {target}"

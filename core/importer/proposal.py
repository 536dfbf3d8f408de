"""Proposing a column mapping from a file's headers and values, for the user to confirm or correct.

    proposal = propose_mapping({"patients": [table, …], "events": [table, …]}, saved=last_cuts_mapping)
    proposal.mapping            # an ImportMapping, ready to apply or to save as JSON
    proposal.columns_frame()    # your column → contract column, and how it was found
    proposal.values_frame()     # your value → contract value, per column

Columns are matched, most certain first: a saved mapping; the contract's own name; a known synonym
("Gender" → sex, "C1D1" → ino_start_date); a synonym inside a longer header ("Age at InO (years)");
then by content, only where one column and one contract column are left that fit each other (a
column of dates, a column of codes such as M/F or CR/CRi/NR). Values are matched by the contract's
spelling in any case and by synonyms ("Male" → M, "Ph+ve" → Ph+, "1st salvage" → 1, "Yes" → true).
Anything not recognised is kept as typed and left for the user (and the validator) to see.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from core.importer.dates import ISO, DateStyle, detect_date_style
from core.importer.mapping import DROP, KEEP, ImportMapping, TableMapping, contract_columns, required_rule
from core.importer.parse import _number
from core.importer.rules import SPECS, TABLES, ColumnSpec
from core.importer.synonyms import (
    BOOLEAN_SYNONYMS,
    COLUMN_SYNONYMS,
    header_key,
    value_key,
    value_table,
    whole_number_text,
)
from core.importer.table import TextTable

_CODED_TEXT = ("event_type", "relapse_site")
_CODED_INTEGERS = ("salvage_line", "cycle", "cycle_day", "ae_grade", "prior_tki_count")
SAMPLE_ROWS = 5_000          # rows looked at per file to judge a column's content
MAX_DISTINCT_VALUES = 300    # a column with more distinct values gets no value mapping (ids, dates, numbers)
CONTENT_SHARE = 0.8          # share of a column's distinct values that must fit a content match
# one-word synonyms too common to count inside a longer header
_GENERIC_WORDS = frozenset({"id", "date", "day", "type", "status", "line", "site", "event", "what", "patient",
                            "subject", "dose", "grade", "cycle", "course", "safety", "note", "notes", "cause",
                            "remission", "outcome", "category", "age", "sex", "ph", "emd", "ae", "anc", "plt",
                            "hospital", "institution", "center", "centre"})
# how sure a match is: the lower, the surer
SAVED, SAME_NAME, SYNONYM, INSIDE, CONTENT = range(5)
HOW = {SAVED: "saved mapping", SAME_NAME: "same name", SYNONYM: "synonym", INSIDE: "synonym in the name",
       CONTENT: "content"}


@dataclass(frozen=True)
class ColumnProposal:
    table: str
    source: str                 # your column, as read (trimmed, lower case)
    target: str                 # a contract column, KEEP or DROP
    how: str
    examples: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class ValueProposal:
    table: str
    column: str                 # the contract column
    value: str                  # as written in the file
    rows: int
    becomes: str                # the contract's value; = value when it is kept as written
    how: str                    # "synonym", "saved mapping", "number in the text", "not recognised"


@dataclass(frozen=True)
class MappingProposal:
    mapping: ImportMapping
    columns: tuple[ColumnProposal, ...]
    values: tuple[ValueProposal, ...]
    date_notes: Mapping[tuple[str, str], str] = field(default_factory=dict)   # (table, your column) → note

    @property
    def needed(self) -> bool:
        """False when the files already follow the template: nothing to confirm."""
        return not self.mapping.is_identity

    def columns_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"table": p.table, "your column": p.source, "contract column": p.target,
                              "found by": p.how, "dates": self.date_notes.get((p.table, p.source), ""),
                              "examples": p.examples, "files": ", ".join(p.files)} for p in self.columns],
                            columns=["table", "your column", "contract column", "found by", "dates", "examples",
                                     "files"])

    def values_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"table": p.table, "contract column": p.column, "your value": p.value, "rows": p.rows,
                              "becomes": p.becomes, "found by": p.how} for p in self.values],
                            columns=["table", "contract column", "your value", "rows", "becomes", "found by"])

    def summary_frame(self, derived: Iterable[str] = ()) -> pd.DataFrame:
        """Each contract column: mapped from which column, derived, or left empty; then each column dropped
        or kept. `derived` names contract columns filled for the user (e.g. centre from the centre's name)."""
        return mapping_summary(self.mapping, self.columns, derived)


def mapping_summary(mapping: ImportMapping, columns: Sequence[ColumnProposal],
                    derived: Iterable[str] = ()) -> pd.DataFrame:
    derived = set(derived)
    rows = []
    for table in TABLES:
        part = mapping.table(table)
        by_target: dict[str, list[str]] = {}
        for p in columns:
            if p.table == table:
                by_target.setdefault(p.target, []).append(p.source)
        for spec in SPECS[table]:
            sources = by_target.get(spec.name, [])
            recoded = len(part.values.get(spec.name, {}))
            notes = [f"{recoded} value(s) recoded"] if recoded else []
            notes += [f"{s}: dates read as {part.date_formats[s]}" for s in sources
                      if part.date_formats.get(s, ISO) != ISO]
            if sources:
                status = "mapped"
            elif spec.name in derived:
                status, notes = "derived", ["from the centre's name"]
            elif spec.name in part.constants:
                status, notes = "derived", [f"the same value on every row: {part.constants[spec.name]}"]
            elif spec.in_header:
                status, notes = "missing", [required_rule(spec)]
            else:
                status = "left empty" + (f" ({spec.empty_means})" if spec.empty_means else "")
            rows.append({"table": table, "contract column": spec.name, "your column": ", ".join(sources),
                         "status": status, "how": "; ".join(notes)})
        for target, label in ((KEEP, "kept as an extra column (no view reads it)"), (DROP, "dropped")):
            for source in by_target.get(target, []):
                rows.append({"table": table, "contract column": "", "your column": source, "status": label,
                             "how": ""})
    return pd.DataFrame(rows, columns=["table", "contract column", "your column", "status", "how"])


# ---------------------------------------------------------------------------------- content
@dataclass
class _Column:
    table: str
    source: str
    files: list[str]
    counts: pd.Series            # distinct value → rows (the sample; None left out)
    too_many: bool = False       # more distinct values than MAX_DISTINCT_VALUES
    dates: DateStyle | None = None


def _columns(table: str, tables: Sequence[TextTable]) -> list[_Column]:
    found: dict[str, _Column] = {}
    for text in tables:
        for source in text.frame.columns:
            sample = text.frame[source].iloc[:SAMPLE_ROWS].dropna()
            counts = sample.value_counts(sort=False)
            if source in found:
                column = found[source]
                column.files.append(text.file)
                column.counts = column.counts.add(counts, fill_value=0).astype("int64")
            else:
                found[source] = _Column(table, source, [text.file], counts.astype("int64"))
    for column in found.values():
        distinct = [str(v) for v in column.counts.index]
        column.dates = detect_date_style(distinct, minimum_share=CONTENT_SHARE)
        column.too_many = len(distinct) > MAX_DISTINCT_VALUES
    return list(found.values())


def _recode(spec: ColumnSpec, text: str) -> str | None:
    """The contract's value a written value stands for (None when not recognised)."""
    if spec.kind == "boolean":
        return BOOLEAN_SYNONYMS.get(value_key(text))
    if spec.kind == "integer":
        return whole_number_text(text)
    return _vocabulary(spec).get(value_key(text))


def _vocabulary(spec: ColumnSpec) -> Mapping[str, str]:
    return value_table(spec.name, spec.allowed + spec.suggested)


def _free_text(spec: ColumnSpec) -> bool:
    """Text the endpoints count only in part: other terms are kept as written (ae_term, cause, detail)."""
    return spec.kind == "text" and spec.name not in _CODED_TEXT


def _has_vocabulary(spec: ColumnSpec) -> bool:
    return spec.kind in ("boolean", "choice") or spec.name in _CODED_INTEGERS or bool(_vocabulary(spec))


def _as_written_ok(spec: ColumnSpec, text: str) -> bool:
    """True when the validator takes the value as it is (so it needs no entry in the mapping)."""
    if spec.kind == "boolean":
        return text in ("true", "false")
    if spec.kind == "integer":
        number = _number(text)
        return number == number and float(number).is_integer()
    if spec.kind == "choice":
        return text in spec.allowed
    return text in spec.suggested or text in _vocabulary(spec).values()


def _code_share(spec: ColumnSpec, column: _Column) -> float:
    """Share of a column's distinct values that are the contract's codes, or stand for one."""
    distinct = [str(v) for v in column.counts.index]
    if not distinct:
        return 0.0
    return sum(_as_written_ok(spec, v) or _recode(spec, v) is not None for v in distinct) / len(distinct)


def _fits(spec: ColumnSpec, column: _Column) -> float:
    """Share of a column's distinct values the contract column takes (1.0 for an empty column or free text)."""
    if not len(column.counts) or _free_text(spec):
        return 1.0
    if spec.kind == "date":
        return column.dates.share if column.dates is not None else 0.0
    if _has_vocabulary(spec):
        return _code_share(spec, column)
    if spec.kind in ("number", "integer"):
        distinct = [str(v) for v in column.counts.index]
        return sum(_number(v) == _number(v) for v in distinct) / len(distinct)
    return 1.0


# ---------------------------------------------------------------------------------- columns
def _name_level(table: str, spec: ColumnSpec, source: str) -> tuple[int, int] | None:
    """(level, −matched words) of a header for a contract column, or None."""
    key = header_key(source)
    if key == header_key(spec.name):
        return SAME_NAME, 0
    synonyms = [header_key(s) for s in COLUMN_SYNONYMS[table].get(spec.name, ())]
    if key in synonyms:
        return SYNONYM, 0
    words = set(key.split())
    best = 0
    for synonym in (*synonyms, header_key(spec.name)):
        parts = synonym.split()
        if (len(parts) > 1 or parts[0] not in _GENERIC_WORDS and len(parts[0]) >= 3) and set(parts) <= words:
            best = max(best, len(parts))
    return (INSIDE, -best) if best else None


def _propose_columns(table: str, columns: list[_Column], saved: TableMapping) -> dict[str, tuple[str, str]]:
    """your column → (target, how)."""
    specs = {s.name: s for s in SPECS[table]}
    chosen: dict[str, tuple[str, str]] = {}
    taken: set[str] = set()
    for column in columns:
        if column.source in saved.columns:
            target = saved.columns[column.source]
            chosen[column.source] = (target, HOW[SAVED])
            if target in specs:
                taken.add(target)
    candidates: list[tuple[int, int, int, str, str]] = []
    for order, column in enumerate(columns):
        if column.source in chosen:
            continue
        for spec in specs.values():
            level = _name_level(table, spec, column.source)
            if level is None:
                continue
            if level[0] != SAME_NAME and _fits(spec, column) < (0.5 if level[0] == SYNONYM else CONTENT_SHARE):
                continue                  # e.g. a "status" column of Alive/Dead is not disease_status
            candidates.append((level[0], level[1], order, column.source, spec.name))
    for rank, _, _, source, target in sorted(candidates):
        if source not in chosen and target not in taken:
            chosen[source] = (target, HOW[rank])
            taken.add(target)
    _by_content(columns, specs, chosen, taken)
    for column in columns:
        chosen.setdefault(column.source, (KEEP, "not recognised"))
    return chosen


def _by_content(columns: list[_Column], specs: dict[str, ColumnSpec], chosen: dict[str, tuple[str, str]],
                taken: set[str]) -> None:
    """A column and a contract column that are the only ones left of their kind are paired by content."""
    left = [c for c in columns if c.source not in chosen and len(c.counts)]
    open_specs = [s for s in specs.values() if s.name not in taken]
    kinds: dict[str, tuple[list[ColumnSpec], list[_Column]]] = {
        "dates": ([s for s in open_specs if s.kind == "date"], [c for c in left if c.dates is not None]),
    }
    booleans = [s for s in open_specs if s.kind == "boolean"]
    kinds["yes/no"] = (booleans, [c for c in left if booleans and _code_share(booleans[0], c) >= CONTENT_SHARE])
    for spec in open_specs:
        if spec.kind == "choice" or spec.name in _CODED_TEXT:
            kinds[f"codes of {spec.name}"] = ([spec], [c for c in left if c.dates is None and not c.too_many
                                                       and _code_share(spec, c) >= CONTENT_SHARE])
    if "patient_id" in specs and any(c.table == "patients" for c in left):
        ids = [c for c in left if c.table == "patients" and c.dates is None and len(c.counts)
               and int(c.counts.max()) == 1 and all(any(ch.isdigit() for ch in str(v)) for v in c.counts.index)]
        kinds["unique ids"] = ([specs["patient_id"]] if "patient_id" not in taken else [], ids)
    for kind, (targets, sources) in kinds.items():
        sources = [c for c in sources if c.source not in chosen]
        targets = [s for s in targets if s.name not in taken]
        if len(targets) == 1 and len(sources) == 1:
            chosen[sources[0].source] = (targets[0].name, f"content: {kind.split(' of ')[0]}")
            taken.add(targets[0].name)


# ---------------------------------------------------------------------------------- values
def _propose_values(table: str, columns: list[_Column], targets: Mapping[str, str],
                    saved: TableMapping) -> tuple[dict[str, dict[str, str]], list[ValueProposal]]:
    specs = {s.name: s for s in SPECS[table]}
    values: dict[str, dict[str, str]] = {}
    shown: list[ValueProposal] = []
    for column in columns:
        spec = specs.get(targets[column.source])
        if spec is None or column.too_many or not _has_vocabulary(spec):
            continue
        saved_map = saved.value_map(spec.name)
        for value, rows in column.counts.items():
            text = str(value)
            if value_key(text) in saved_map:
                becomes, how = saved_map[value_key(text)], HOW[SAVED]
            elif _as_written_ok(spec, text):
                continue
            else:
                recoded = _recode(spec, text)
                if recoded is None:
                    becomes, how = text, "kept as written" if _free_text(spec) else "not recognised"
                else:
                    becomes, how = recoded, "number in the text" if spec.kind == "integer" else "synonym"
            if becomes != text:
                values.setdefault(spec.name, {})[text] = becomes
            shown.append(ValueProposal(table, spec.name, text, int(rows), becomes, how))
    return values, shown


def propose_mapping(tables: Mapping[str, Sequence[TextTable]], saved: ImportMapping | None = None
                    ) -> MappingProposal:
    """A mapping for these files (each table may come from several files: one per centre).

    `saved` (e.g. the last cut's mapping, or the user's corrections) is kept as it is; the proposal fills
    in only what it does not say.
    """
    saved = saved or ImportMapping()
    parts: dict[str, TableMapping] = {}
    proposals: list[ColumnProposal] = []
    value_proposals: list[ValueProposal] = []
    notes: dict[tuple[str, str], str] = {}
    for table in TABLES:
        known = saved.table(table)
        columns = _columns(table, tables.get(table, ()))
        chosen = _propose_columns(table, columns, known)
        targets = {source: target for source, (target, _) in chosen.items()}
        formats: dict[str, str] = {}
        specs = {s.name: s for s in SPECS[table]}
        for column in columns:
            spec = specs.get(targets[column.source])
            if spec is None or spec.kind != "date":
                continue
            if column.source in known.date_formats:
                formats[column.source] = known.date_formats[column.source]
            elif column.dates is not None:
                formats[column.source] = column.dates.style
                notes[(table, column.source)] = column.dates.note()
        values, shown = _propose_values(table, columns, targets, known)
        for target, entries in known.values.items():       # saved entries for values not in this cut stay
            values.setdefault(target, {}).update({k: v for k, v in entries.items() if k not in values[target]})
        mapping_columns = {c.source: targets[c.source] for c in columns
                           if targets[c.source] != c.source or chosen[c.source][1] == HOW[SAVED]
                           or c.source not in contract_columns(table)}
        mapping_columns = {s: t for s, t in mapping_columns.items() if not (t == KEEP and s not in known.columns)}
        parts[table] = TableMapping(columns=mapping_columns, values=values,
                                    date_formats={s: f for s, f in formats.items() if f != ISO},
                                    constants=dict(known.constants))
        for column in columns:
            target, how = chosen[column.source]
            examples = ", ".join(str(v) for v in list(column.counts.index)[:4])
            proposals.append(ColumnProposal(table, column.source, target, how, examples, tuple(column.files)))
        value_proposals.extend(shown)
    return MappingProposal(mapping=ImportMapping(**parts), columns=tuple(proposals), values=tuple(value_proposals),
                           date_notes=notes)


def with_choices(mapping: ImportMapping, table: str, *, columns: Mapping[str, str] | None = None,
                 values: Mapping[str, Mapping[str, str]] | None = None, date_formats: Mapping[str, str] | None = None,
                 constants: Mapping[str, str] | None = None) -> ImportMapping:
    """The mapping with the user's corrections for one table (what the import page's editors return)."""
    part = mapping.table(table)
    new = TableMapping(columns=dict(columns) if columns is not None else dict(part.columns),
                       values={k: dict(v) for k, v in (values if values is not None else part.values).items()},
                       date_formats=dict(date_formats) if date_formats is not None else dict(part.date_formats),
                       constants=dict(constants) if constants is not None else dict(part.constants))
    return ImportMapping(**{name: new if name == table else mapping.table(name) for name in TABLES})



"""Import a centre's cohort from the command line (the same import the Import page runs).

    python scripts/import_cohort.py --patients p.csv --events e.csv --label "Centre X 2024"
    python scripts/import_cohort.py --xlsx cohort.xlsx --label "Centre X 2024" --problems-csv problems.csv
    python scripts/import_cohort.py --check --xlsx cohort.xlsx            # validate only, write nothing
    python scripts/import_cohort.py --write-templates data/templates      # regenerate the templates

Several centres, each centre's own column names, data cuts:

    python scripts/import_cohort.py --centre "Centre A=a.xlsx" --centre "Centre B=b_patients.csv,b_events.csv" \
        --write-mapping mapping.json                                      # propose a mapping; read, correct it
    python scripts/import_cohort.py --centre "Centre A=a.xlsx" --centre "Centre B=b_patients.csv,b_events.csv" \
        --mapping mapping.json --label "Registry 2024" [--prefix-ids]
    python scripts/import_cohort.py --centre "Centre B=b_2025.xlsx" --mapping mapping.json \
        --new-cut-of registry-2024-1a2b3c4d.duckdb                        # a new cut: Centre B's rows swapped

Every problem is printed as file · row · column · value · expected (rows as a spreadsheet shows
them: the header is row 1, the first data row is row 2). Exit status: 0 imported (or valid with
--check), 1 the input has errors (nothing was written), 2 wrong arguments.
New cohorts go to $INO_COHORTS_DIR (default data/cohorts/), or --cohorts-dir.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))



def format_problems(report) -> str:  # type: ignore[no-untyped-def]
    """One line per problem: SEVERITY file · row N · column · value · expected …"""
    return format_problem_rows(report.frame())


def format_problem_rows(frame) -> str:  # type: ignore[no-untyped-def]
    if frame.empty:
        return ""
    lines = []
    for r in frame.itertuples(index=False):
        row = "-" if r.row is None or str(r.row) == "<NA>" else str(r.row)
        column = r.column or "-"
        lines.append(f"{r.severity.upper():7} {r.file} · row {row} · {column} · {r.value} · expected {r.expected}")
    return "\n".join(lines)


def _input(path: str):  # type: ignore[no-untyped-def]
    from core.importer import InputFile

    try:
        return InputFile.from_path(path)
    except OSError as exc:
        raise SystemExit(f"error: cannot read {path}: {exc.strerror or exc}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", help="patients CSV file")
    parser.add_argument("--events", help="events CSV file")
    parser.add_argument("--xlsx", help="one XLSX workbook with the sheets patients and events")
    parser.add_argument("--label", help="the cohort's label, e.g. 'Centre X 2024' (required to import)")
    parser.add_argument("--source", default="", help="where the data come from (default: the file names)")
    parser.add_argument("--cohorts-dir", type=Path, help="where to write the cohort (default $INO_COHORTS_DIR "
                        "or data/cohorts/)")
    parser.add_argument("--problems-csv", type=Path, help="also write every problem to this CSV file")
    parser.add_argument("--check", action="store_true", help="validate only; write no cohort")
    parser.add_argument("--write-templates", type=Path, metavar="DIR", help="write the import templates and exit")
    # several centres, the centres' own column names, data cuts
    more = parser.add_argument_group("several centres, your own column names, data cuts")
    more.add_argument("--centre", action="append", default=[], metavar="NAME=FILES",
                      help="one centre's files: NAME=patients.csv,events.csv or NAME=workbook.xlsx (repeat it for "
                           "each centre; without it, --patients/--events or --xlsx are one source)")
    more.add_argument("--prefix-ids", action="store_true",
                      help="prefix every patient id with its centre (when centres number their patients alike)")
    more.add_argument("--mapping", type=Path, metavar="FILE",
                      help="a saved column mapping (JSON): your columns and values → the template's")
    more.add_argument("--write-mapping", type=Path, metavar="FILE",
                      help="write the mapping proposed for these files (JSON, after --mapping's choices) and exit")
    more.add_argument("--new-cut-of", metavar="COHORT",
                      help="import as the next cut of this imported cohort (its file, or its name in the cohorts "
                           "directory); only the centres given are replaced, the earlier cut is kept")
    add_standards_arguments(parser)
    args = parser.parse_args(argv)
    from_standards = run_standards(args, parser)
    if from_standards is not None:
        return from_standards
    if args.centre or args.mapping or args.write_mapping or args.new_cut_of or args.prefix_ids:
        return import_sources(parser, args)
    # imported after the arguments are checked: a usage error answers at once
    from core.importer import (
        CohortFiles,
        ProblemReport,
        check_cohort_files,
        check_label,
        import_cohort,
        write_templates,
    )

    if args.write_templates:
        for path in write_templates(args.write_templates):
            print(f"wrote {path}")
        return 0
    if args.xlsx and (args.patients or args.events):
        parser.error("give either --xlsx or --patients and --events, not both")
    if not args.xlsx and not (args.patients and args.events):
        parser.error("give --patients and --events (two CSV files), or --xlsx (one workbook)")
    if not args.check and not (args.label and args.label.strip()):
        parser.error("--label is required to import (e.g. --label 'Centre X 2024')")

    files = (CohortFiles.from_workbook(_input(args.xlsx)) if args.xlsx
             else CohortFiles.from_csv(_input(args.patients), _input(args.events)))
    if args.check:
        report = ProblemReport()
        if args.label:
            check_label(args.label, report)
        check_cohort_files(files, report)
        ok, path = report.ok, None
    else:
        result = import_cohort(files, args.label, source=args.source, directory=args.cohorts_dir)
        report, ok, path = result.report, result.ok, result.path

    return _finish(args, report, ok, path, files.describe())


# ---------------------------------------------------------------------------------- several centres
def _centre(parser: argparse.ArgumentParser, text: str):  # type: ignore[no-untyped-def]
    from core.importer import CentreFiles, CohortFiles

    name, sep, files = text.partition("=")
    paths = [p.strip() for p in files.split(",") if p.strip()]
    if not sep or not name.strip() or len(paths) not in (1, 2):
        parser.error(f"--centre {text!r}: give NAME=patients.csv,events.csv or NAME=workbook.xlsx")
    if len(paths) == 1:
        return CentreFiles(name.strip(), CohortFiles.from_workbook(_input(paths[0])))
    return CentreFiles(name.strip(), CohortFiles.from_csv(_input(paths[0]), _input(paths[1])))


def _cohort_file(parser: argparse.ArgumentParser, text: str, directory: Path | None) -> Path:
    from core.cohorts import cohorts_dir

    path = Path(text)
    for candidate in (path, (directory or cohorts_dir()) / text):
        if candidate.is_file():
            return candidate
    parser.error(f"--new-cut-of: no cohort file {text} (nor in {directory or cohorts_dir()})")
    raise AssertionError  # parser.error exits


def _print_mapping(proposal) -> None:  # type: ignore[no-untyped-def]
    for row in proposal.summary_frame().itertuples(index=False):
        source = row[2] or "-"
        target = row[1] or "-"
        print(f"{row[0]:8} {source} → {target} · {row[3]}" + (f" · {row[4]}" if row[4] else ""))
    for p in proposal.values:
        if p.becomes != p.value or p.how == "not recognised":
            print(f"{p.table:8} {p.column}: {p.value!r} → {p.becomes!r} ({p.how}, {p.rows} rows)")


def import_sources(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """--centre, --mapping, --write-mapping, --new-cut-of: several centres, mapped, as one cohort or a new cut."""
    from core.importer import (
        ROW_CONVENTION,
        WHOLE_COHORT,
        CentreFiles,
        CohortFiles,
        ImportMapping,
        MappingError,
        import_centres,
        propose_mapping,
        read_for_mapping,
    )

    if args.centre and (args.xlsx or args.patients or args.events):
        parser.error("give the files either with --centre or with --patients/--events/--xlsx, not both")
    if args.centre:
        sources = [_centre(parser, text) for text in args.centre]
    elif args.xlsx and not (args.patients or args.events):
        sources = [CentreFiles("", CohortFiles.from_workbook(_input(args.xlsx)))]
    elif args.patients and args.events and not args.xlsx:
        sources = [CentreFiles("", CohortFiles.from_csv(_input(args.patients), _input(args.events)))]
    else:
        parser.error("give --centre NAME=FILES (repeatable), or --patients and --events, or --xlsx")
    mapping = None
    if args.mapping:
        try:
            mapping = ImportMapping.from_json(args.mapping.read_bytes())
        except OSError as exc:
            parser.error(f"cannot read {args.mapping}: {exc.strerror or exc}")
        except MappingError as exc:
            print(f"error: {args.mapping} is not a usable mapping: expected {exc}", file=sys.stderr)
            return 2
    if args.write_mapping:
        from core.importer import ProblemReport

        report = ProblemReport()
        proposal = propose_mapping(read_for_mapping(sources, report), saved=mapping)
        text = format_problems(report)
        if text:
            print(text)
        args.write_mapping.write_bytes(proposal.mapping.to_json())
        _print_mapping(proposal)
        print(f"mapping written to {args.write_mapping}: check it, then import with --mapping {args.write_mapping}")
        return 0 if report.ok else 1
    new_cut_of = _cohort_file(parser, args.new_cut_of, args.cohorts_dir) if args.new_cut_of else None
    if not args.check and new_cut_of is None and not (args.label and args.label.strip()):
        parser.error("--label is required to import (e.g. --label 'Registry 2024')")
    result = import_centres(sources, args.label or "", mapping=mapping, prefix_ids=args.prefix_ids,
                            new_cut_of=new_cut_of, source=args.source, directory=args.cohorts_dir,
                            write=not args.check)
    report = result.report
    for centre, frame in result.problems_by_centre().items():
        errors = int((frame["severity"] == "error").sum())
        print(f"── {centre if centre != WHOLE_COHORT else 'whole cohort'}: {errors} error(s), "
              f"{len(frame) - errors} warning(s)")
        print(format_problem_rows(frame))
    if not report.frame().empty:
        print(f"({ROW_CONVENTION})")
    if args.problems_csv:
        args.problems_csv.write_bytes(report.to_csv_bytes())
        print(f"problems written to {args.problems_csv}")
    described = "; ".join(s.describe() for s in sources)
    if not report.ok:
        print(f"NOT IMPORTED: {report.summary()} in {described}. Nothing was written.", file=sys.stderr)
        return 1
    if result.path is None:
        print(f"valid: {report.summary()} in {described}")
    elif new_cut_of is not None:
        print(f"imported {described} as cut {result.cut} of {result.label}: {result.path} "
              f"({', '.join(result.replaced_centres)} replaced; {report.summary()})")
    else:
        print(f"imported {described} as {result.path} ({report.summary()})")
    return 0


# ---------------------------------------------------------------------------------- REDCap and CDISC ADaM
STANDARDS_HELP = """\
A REDCap project's records export (flat CSV, raw codes or labels) with its data dictionary, or CDISC
ADaM datasets (adsl, adtte, and adrs, adae, adex when present; .xpt or .csv) from one folder:
  --redcap-records records.csv --redcap-dictionary dictionary.csv --label "Centre X 2024"
  --adam adam/ --adam-mapping mapping.json --label "Study X"    (mapping: {"SALVLINE": "salvage_line"})
  --write-redcap-dictionary dictionary.csv   (the contract as a REDCap data dictionary, to set up a project)"""


def add_standards_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("REDCap and CDISC ADaM", STANDARDS_HELP)
    group.add_argument("--redcap-records", metavar="FILE", help="a REDCap records export (CSV)")
    group.add_argument("--redcap-dictionary", metavar="FILE", help="the data dictionary of the same project (CSV)")
    group.add_argument("--adam", type=Path, metavar="DIR", help="a folder with the ADaM datasets (.xpt or .csv)")
    group.add_argument("--adam-mapping", metavar="FILE", help="JSON: ADSL variable -> contract column, and "
                       "optionally \"PARAMCD\": {code: OS | RFS | DOR | ... | ignore}")
    group.add_argument("--write-redcap-dictionary", type=Path, metavar="FILE",
                       help="write the contract as a REDCap data dictionary and exit")


def run_standards(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int | None:
    """The REDCap and ADaM paths; None when none of their options was given."""
    redcap = bool(args.redcap_records or args.redcap_dictionary)
    adam = bool(args.adam or args.adam_mapping)
    if not (redcap or adam or args.write_redcap_dictionary):
        return None
    if args.write_redcap_dictionary:
        from core.importer.redcap_dictionary import redcap_dictionary_csv

        args.write_redcap_dictionary.write_bytes(redcap_dictionary_csv())
        print(f"wrote {args.write_redcap_dictionary}")
        return 0
    if args.patients or args.events or args.xlsx:
        parser.error("give one kind of input: --patients/--events, --xlsx, --redcap-records or --adam")
    if redcap and adam:
        parser.error("give either the REDCap files or the ADaM folder, not both")
    if redcap and not (args.redcap_records and args.redcap_dictionary):
        parser.error("give --redcap-records and --redcap-dictionary (the records export and its data dictionary)")
    if adam and not args.adam:
        parser.error("give --adam DIR (the folder with adsl.xpt, adtte.xpt, …) with --adam-mapping")
    if adam and not args.adam.is_dir():
        parser.error(f"--adam {args.adam}: not a folder")
    if not args.check and not (args.label and args.label.strip()):
        parser.error("--label is required to import (e.g. --label 'Centre X 2024')")
    return _import_records(args) if redcap else _import_adam(args)


def _import_records(args: argparse.Namespace) -> int:
    from core.importer import ProblemReport, check_label
    from core.importer.redcap import check_redcap_files, import_redcap

    records, dictionary = _input(args.redcap_records), _input(args.redcap_dictionary)
    described = f"{records.name} + {dictionary.name}"
    if args.check:
        report = ProblemReport()
        if args.label:
            check_label(args.label, report)
        check_redcap_files(records, dictionary, report)
        return _finish(args, report, report.ok, None, described)
    result = import_redcap(records, dictionary, args.label, source=args.source, directory=args.cohorts_dir)
    return _finish(args, result.report, result.ok, result.path, described)


def _import_adam(args: argparse.Namespace) -> int:
    from core.importer import MAX_FILE_BYTES, ProblemReport, check_label
    from core.importer.adam import AdamMapping, check_adam_files, import_adam
    from core.importer.adam_read import AdamFiles

    try:
        files = AdamFiles.from_directory(args.adam, max_bytes=MAX_FILE_BYTES)
    except OSError as exc:
        raise SystemExit(f"error: cannot read {args.adam}: {exc.strerror or exc}") from None
    described = files.describe() or str(args.adam)
    report = ProblemReport()
    mapping = AdamMapping()
    if args.adam_mapping:
        read = AdamMapping.from_json(_input(args.adam_mapping), report)
        if read is None:
            return _finish(args, report, False, None, described)
        mapping = read
    if args.check:
        if args.label:
            check_label(args.label, report)
        check_adam_files(files, mapping, report)
        return _finish(args, report, report.ok, None, described)
    result = import_adam(files, args.label, mapping=mapping, source=args.source, directory=args.cohorts_dir)
    return _finish(args, result.report, result.ok, result.path, described)


def _finish(args: argparse.Namespace, report, ok: bool, path: Path | None,  # type: ignore[no-untyped-def]
            described: str) -> int:
    """Print the problems and the outcome, as for the other inputs."""
    from core.importer import ROW_CONVENTION

    text = format_problems(report)
    if text:
        print(text)
        print(f"({ROW_CONVENTION})")
    if args.problems_csv:
        args.problems_csv.write_bytes(report.to_csv_bytes())
        print(f"problems written to {args.problems_csv}")
    if not ok:
        print(f"NOT IMPORTED: {report.summary()} in {described}. Nothing was written.", file=sys.stderr)
        return 1
    if path is None:
        print(f"valid: {report.summary()} in {described}")
    else:
        print(f"imported {described} as {path} ({report.summary()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Peak memory and time of `scripts/import_cohort.py --check` on the heaviest inputs a centre might send.

    python scripts/import_memory.py [--keep DIR] [--max-mb 500]

Generates, into a temporary folder (or --keep DIR), from the default cohort (data/ino_cohort.duckdb,
built when missing):

* default-32: the default cohort's two CSVs as an export writes them, the baseline of the run: what
  starting the importer and checking 32 patients costs on this machine;
* long-cell-100k / long-cell-1M: the default cohort's CSVs with 100,000 / 1,000,000 characters in one
  `detail` cell of the events file (refused: one problem naming file, row and column);
* events-200k: a valid 200,000-row events file (the 32 patients copied under new ids, ~14,000
  patients, ~12 MB);
* workbook-190k: one XLSX workbook, sheet `events` of 190,000 rows × 26 columns (18 contract columns
  + 8 extra columns), written as Excel writes it (shared strings, numbers as numbers, empty cells
  left out), and its patients.

Each runs in its own process (`--check`, nothing written); the report gives the exit code, the
problem summary, the process's peak resident memory (ru_maxrss of that child, from os.wait4), its
CPU time and its wall time. Wall time depends on what else runs on the machine (the load average
is printed); CPU time is the work itself, but still depends on the machine, so each case's time
target is a ratio to a baseline measured in the same run: the long cells cost at most a few times
the 32-patient check (refused as they are read, not after), the 200,000 events at most a few times
more, and the workbook at most a few times the same rows sent as CSV (openpyxl's per-cell reader
took about twenty times). Memory targets are absolute. Exits 1 when a case misses a target.
tests/test_import_memory.py runs the same cases against the same targets.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CLI = ROOT / "scripts" / "import_cohort.py"
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
EXTRA_COLUMNS = ("site_code", "visit_no", "lab_id", "entered_by", "batch", "checked", "source_page", "note")


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]          # the input arguments of import_cohort.py
    size_bytes: int
    expect_valid: bool
    baseline: str | None = None    # the case whose CPU time this one's is compared with
    max_ratio: float = 0.0         # at most this many times the baseline's CPU time


@dataclass(frozen=True)
class Measurement:
    case: Case
    exit_code: int
    summary: str                   # the last line import_cohort.py printed
    peak_mb: float
    cpu_seconds: float
    wall_seconds: float

    def within(self, max_mb: float, baseline: Measurement | None) -> bool:
        return self.peak_mb <= max_mb and (baseline is None or self.ratio(baseline) <= self.case.max_ratio)

    def ratio(self, baseline: Measurement) -> float:
        return self.cpu_seconds / max(baseline.cpu_seconds, 1e-9)


# ---------------------------------------------------------------------------------- inputs
def default_cohort_text() -> tuple[list[list[str]], list[list[str]]]:
    """The default cohort's patients and events as rows of text (header first), as an export writes them."""
    from core.database import open_cohort
    from core.importer import export_import_format
    from data.build_db import DEFAULT_COHORT_PATH, build

    path = DEFAULT_COHORT_PATH if DEFAULT_COHORT_PATH.exists() else build(DEFAULT_COHORT_PATH)
    cohort = open_cohort(path)
    try:
        patients, events = export_import_format(cohort)
    finally:
        cohort.close()
    return ([list(patients.columns), *patients.astype(str).values.tolist()],
            [list(events.columns), *events.astype(str).values.tolist()])


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


def copied_cohort(patients: list[list[str]], events: list[list[str]], n_events: int
                  ) -> tuple[list[list[str]], list[list[str]]]:
    """The cohort copied under new patient ids (P01-0000, P01-0001, …) until there are n_events events."""
    p_id, e_id = patients[0].index("patient_id"), events[0].index("patient_id")
    out_p, out_e = [patients[0]], [events[0]]
    copy = 0
    while len(out_e) - 1 < n_events:
        suffix = f"-{copy:04d}"
        out_p.extend([*r[:p_id], r[p_id] + suffix, *r[p_id + 1:]] for r in patients[1:])
        out_e.extend([*r[:e_id], r[e_id] + suffix, *r[e_id + 1:]] for r in events[1:])
        copy += 1
    del out_e[n_events + 1:]
    listed = {r[e_id] for r in out_e[1:]}
    return [out_p[0], *(r for r in out_p[1:] if r[p_id] in listed)], out_e


def write_xlsx(path: Path, sheets: dict[str, list[list[str]]]) -> Path:
    """A minimal XLSX as Excel writes one: text in shared strings, numbers as numbers, empty cells left out."""
    strings: dict[str, int] = {}
    parts: dict[str, bytes] = {}
    for number, rows in enumerate(sheets.values(), start=1):
        width = max(len(r) for r in rows)
        letters = [_column_letters(i) for i in range(1, width + 1)]
        chunks = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.'
                  'openxmlformats.org/spreadsheetml/2006/main">'
                  f'<dimension ref="A1:{letters[-1]}{len(rows)}"/><sheetData>']
        for r, row in enumerate(rows, start=1):
            cells = "".join(f'<c r="{letters[c]}{r}"><v>{v}</v></c>' if _NUMBER.match(v) else
                            f'<c r="{letters[c]}{r}" t="s"><v>{strings.setdefault(v, len(strings))}</v></c>'
                            for c, v in enumerate(row) if v)
            chunks.append(f'<row r="{r}">{cells}</row>')
        chunks.append("</sheetData></worksheet>")
        parts[f"xl/worksheets/sheet{number}.xml"] = "".join(chunks).encode()
    sst = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    parts["xl/sharedStrings.xml"] = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://'
                                     'schemas.openxmlformats.org/spreadsheetml/2006/main" count="'
                                     f'{len(strings)}" uniqueCount="{len(strings)}">{sst}</sst>').encode()
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    names = list(sheets)
    parts["[Content_Types].xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/>'
        + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{ct}.worksheet+xml"/>'
                  for i in range(1, len(names) + 1)) + "</Types>").encode()
    parts["_rels/.rels"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.'
        f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>').encode()
    parts["xl/workbook.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
        + "".join(f'<sheet name="{n}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(names, start=1))
        + "</sheets></workbook>").encode()
    parts["xl/_rels/workbook.xml.rels"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships">'
        + "".join(f'<Relationship Id="rId{i}" Type="{rel}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                  for i in range(1, len(names) + 1))
        + f'<Relationship Id="rId{len(names) + 1}" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
        + "</Relationships>").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return path


def _column_letters(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def generate_inputs(directory: Path) -> None:
    """Write every heavy input into `directory` (the names list_cases expects)."""
    directory.mkdir(parents=True, exist_ok=True)
    patients, events = default_cohort_text()
    _write_csv(directory / "patients.csv", patients)
    _write_csv(directory / "events.csv", events)
    detail = events[0].index("detail")
    for label, length in (("100k", 100_000), ("1M", 1_000_000)):
        rows = [list(r) for r in events]
        rows[4][detail] = "x" * length
        _write_csv(directory / f"events_long_{label}.csv", rows)
    big_p, big_e = copied_cohort(patients, events, 200_000)
    _write_csv(directory / "patients_200k.csv", big_p)
    _write_csv(directory / "events_200k.csv", big_e)
    write_heavy_workbook(directory / "cohort_190k.xlsx", 190_000, (patients, events))


def write_heavy_workbook(path: Path, n_events: int,
                         cohort: tuple[list[list[str]], list[list[str]]] | None = None) -> Path:
    """The default cohort copied to n_events event rows, with the 8 extra columns, as one workbook."""
    patients, events = cohort or default_cohort_text()
    book_p, book_e = copied_cohort(patients, events, n_events)
    extras = [f"S{i % 7}" for i in range(1, len(EXTRA_COLUMNS) + 1)]
    book_e = [book_e[0] + list(EXTRA_COLUMNS), *(r + extras for r in book_e[1:])]
    return write_xlsx(path, {"patients": book_p, "events": book_e})


def generate_in_child(directory: Path) -> list[Case]:
    """generate_inputs in a process of its own: a child's peak RSS counts its parent's memory at the fork,
    so the measuring process must stay small."""
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--generate-only", str(directory)], cwd=ROOT,
                   check=True)
    return list_cases(directory)


def list_cases(directory: Path) -> list[Case]:
    """The cases, each baseline before the cases compared with it."""
    def case(name: str, valid: bool, baseline: str | None = None, max_ratio: float = 0.0, **files: str) -> Case:
        args = tuple(a for key, value in files.items() for a in (f"--{key}", str(directory / value)))
        size = sum((directory / value).stat().st_size for value in files.values())
        return Case(name, args, size, expect_valid=valid, baseline=baseline, max_ratio=max_ratio)

    # Ratios measured here: long cells 1.1-1.4x, 200k events 2.6x, workbook 3.4x its CSV; the targets
    # leave room for machines whose start-up and arithmetic differ in speed.
    return [case("default-32", True, patients="patients.csv", events="events.csv"),
            case("long-cell-100k", False, "default-32", 3.0, patients="patients.csv", events="events_long_100k.csv"),
            case("long-cell-1M", False, "default-32", 3.0, patients="patients.csv", events="events_long_1M.csv"),
            case("events-200k", True, "default-32", 6.0, patients="patients_200k.csv", events="events_200k.csv"),
            case("workbook-190k", True, "events-200k", 6.0, xlsx="cohort_190k.xlsx")]


# ---------------------------------------------------------------------------------- measuring
def run_check(case: Case, directory: Path) -> Measurement:
    """import_cohort.py --check on the case, in its own process: its peak RSS, CPU and wall time.

    A child's ru_maxrss starts from its parent's memory at the fork (Linux carries the high-water
    mark across fork and exec), so a fresh, small helper process starts the check and reports on
    it: the figure is then the importer's own, whatever the size of the process asking (pytest).
    """
    helper = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--measure",
                             str(directory / f"{case.name}.out"), *case.args],
                            cwd=ROOT, capture_output=True, text=True, check=True)
    return Measurement(case=case, **json.loads(helper.stdout.strip().splitlines()[-1]))


def run_all(cases: list[Case], directory: Path) -> Iterator[tuple[Measurement, Measurement | None]]:
    """Each case measured in order, with the measurement of its baseline (None for a baseline)."""
    measured: dict[str, Measurement] = {}
    for case in cases:
        m = measured[case.name] = run_check(case, directory)
        yield m, measured[case.baseline] if case.baseline else None


def measure(out_path: Path, args: list[str]) -> dict[str, object]:
    """Run import_cohort.py --check ARGS as this process's child; its exit code, last line and rusage."""
    with out_path.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(CLI), "--check", *args], cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)      # this child's own rusage (ru_maxrss in KiB on Linux)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = out_path.read_text(errors="replace").strip().splitlines()
    return {"exit_code": proc.returncode, "summary": lines[-1][:200] if lines else "",
            "peak_mb": usage.ru_maxrss / 1024, "cpu_seconds": usage.ru_utime + usage.ru_stime, "wall_seconds": wall}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--measure"]:                     # the helper of run_check: --measure OUT ARGS…
        print(json.dumps(measure(Path(argv[1]), argv[2:])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path, help="write the inputs here and keep them (default: a temp folder)")
    parser.add_argument("--max-mb", type=float, default=500.0)
    parser.add_argument("--generate-only", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--workbook-only", type=Path, metavar="PATH", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=190_000, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate_only:
        generate_inputs(args.generate_only)
        return 0
    if args.workbook_only:
        write_heavy_workbook(args.workbook_only, args.rows)
        return 0

    with tempfile.TemporaryDirectory(prefix="import-memory-") as tmp:
        directory = args.keep or Path(tmp)
        started = time.perf_counter()
        cases = generate_in_child(directory)
        print(f"inputs written to {directory} in {time.perf_counter() - started:.1f} s")
        print(f"{'case':16} {'input':>9} {'exit':>4} {'peak RSS':>9} {'CPU':>7} {'wall':>7}  load  "
              f"{'CPU ratio (target)':30}  result")
        failed = 0
        for m, baseline in run_all(cases, directory):
            case = m.case
            ok = m.within(args.max_mb, baseline) and (m.exit_code == 0) == case.expect_valid
            failed += not ok
            ratio = (f"{m.ratio(baseline):4.1f}x {case.baseline} (<= {case.max_ratio:.0f}x)" if baseline
                     else "baseline")
            print(f"{case.name:16} {case.size_bytes / 1e6:7.1f}MB {m.exit_code:>4} {m.peak_mb:7.0f}MB "
                  f"{m.cpu_seconds:6.1f}s {m.wall_seconds:6.1f}s {os.getloadavg()[0]:5.1f}  {ratio:30}  "
                  f"{'ok' if ok else 'OVER TARGET'}: {m.summary}")
    print(f"targets: at most {args.max_mb:.0f} MB peak per case and CPU time within its ratio — "
          + ("all met" if not failed else f"{failed} case(s) missed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

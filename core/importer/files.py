"""The files a user hands over: what they are (by content, not only by name) and the first refusals
(too big, empty, not a table at all), shared by CSV reading (core.importer.read) and workbook
reading (core.importer.workbook)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.importer.limits import MAX_FILE_BYTES, ReadLimits
from core.importer.problems import ERROR, ProblemReport

ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # legacy .xls / .doc
_SNIFF = {b"%PDF": "a PDF document", b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image",
          b"SQLite format 3": "an SQLite database", b"DUCK": "a DuckDB database", b"\x1f\x8b": "a gzip archive"}


# ---------------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class InputFile:
    """A file as uploaded: its name (for messages only) and its bytes."""

    name: str
    data: bytes

    @classmethod
    def from_path(cls, path: str | Path, *, max_bytes: int = MAX_FILE_BYTES) -> InputFile:
        """Read a file from disk, refusing to read more than the size limit (+1 byte to tell)."""
        path = Path(path)
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
        return cls(name=path.name, data=data)

    @property
    def size_text(self) -> str:
        return f"{len(self.data) / 1024 / 1024:.1f} MB"


@dataclass(frozen=True)
class CohortFiles:
    """What the user gave: two CSVs, or one workbook."""

    patients: InputFile | None = None
    events: InputFile | None = None
    workbook: InputFile | None = None

    @classmethod
    def from_csv(cls, patients: InputFile, events: InputFile) -> CohortFiles:
        return cls(patients=patients, events=events)

    @classmethod
    def from_workbook(cls, workbook: InputFile) -> CohortFiles:
        return cls(workbook=workbook)

    def describe(self) -> str:
        if self.workbook is not None:
            return self.workbook.name
        return " + ".join(f.name for f in (self.patients, self.events) if f is not None)


# ---------------------------------------------------------------------------------- reading
def refuse_too_big(file: InputFile, report: ProblemReport, limits: ReadLimits) -> bool:
    """True (after a problem row) when the file is over the size limit."""
    if len(file.data) > limits.max_file_bytes:
        report.add(ERROR, file.name, None, "", f"{file.size_text} or more",
                   f"a file of at most {limits.max_file_bytes // 1024 // 1024} MB (split the cohort or remove unused "
                   "columns and sheets)")
        return True
    return False


def refuse_empty(file: InputFile, report: ProblemReport) -> bool:
    """True (after a problem row) when the file holds nothing but white space."""
    if not file.data.strip():
        report.add(ERROR, file.name, None, "", "(empty file)",
                   "a file with a header row and one row per record (download the template)")
        return True
    return False


def binary_kind(data: bytes) -> str | None:
    """What a file that is not text is, by its first bytes (None for text)."""
    if data.startswith(ZIP_MAGIC):
        return "an Excel workbook or ZIP archive"
    if data.startswith(_OLE_MAGIC):
        return "a legacy Excel (.xls) or Office file"
    for magic, kind in _SNIFF.items():
        if data.startswith(magic):
            return kind
    return None



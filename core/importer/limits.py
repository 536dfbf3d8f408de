"""How much of a file the importer reads at most. Kept free of heavy imports: the app reads it at start-up."""

from __future__ import annotations

from dataclasses import dataclass

MAX_FILE_BYTES = 50 * 1024 * 1024            # = server.maxUploadSize in .streamlit/config.toml
MAX_ROWS = 200_000                           # data rows per table
MAX_XLSX_UNCOMPRESSED_BYTES = 150 * 1024 * 1024   # all parts of a workbook, counted as they are inflated
MAX_SHARED_TEXT_BYTES = 32 * 1024 * 1024     # a workbook's table of distinct texts, read whole (by openpyxl)
MAX_COLUMNS = 256                            # the contract has 18; the rest are kept as extra columns
MAX_CELL_CHARS = 32_767                      # Excel's own limit for one cell


@dataclass(frozen=True)
class ReadLimits:
    """The limits one read works within (core.importer passes its module-level settings in)."""

    max_file_bytes: int = MAX_FILE_BYTES
    max_rows: int = MAX_ROWS
    max_xlsx_unpacked_bytes: int = MAX_XLSX_UNCOMPRESSED_BYTES
    max_shared_text_bytes: int = MAX_SHARED_TEXT_BYTES
    max_columns: int = MAX_COLUMNS
    max_cell_chars: int = MAX_CELL_CHARS

"""The boundaries the code keeps: core/ is plain Python, pages/ only lay out what core computes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_never_imports_streamlit() -> None:
    offenders = [p.name for p in (ROOT / "core").glob("*.py") if "streamlit" in _imports(p)]
    assert offenders == []


def test_pages_run_no_sql_and_compute_no_statistics() -> None:
    pattern = re.compile(r"duckdb|\.execute\(|\bSELECT\b|groupby\(|lifelines|scipy|KaplanMeier")
    offenders = [p.name for p in (ROOT / "pages").glob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_sql_text_lives_in_queries_only() -> None:
    sql = re.compile(r"\bSELECT\b[^\n]*\bFROM\b")
    allowed = {"queries.py", "store.py", "database.py"}
    offenders = [p.name for p in (ROOT / "core").glob("*.py") if p.name not in allowed and sql.search(p.read_text())]
    assert offenders == []

"""The boundaries the code keeps: core/ is plain Python, pages/ only lay out what core computes,
modules import each other without cycles, and no production module grows past a screenful of jobs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_DIRS = ("core", "ui", "pages", "data")
MAX_MODULE_LINES = 500


def _python_files(*dirs: str) -> list[Path]:
    files = [p for d in dirs for p in sorted((ROOT / d).rglob("*.py"))]
    return [p for p in files if ".venv" not in p.parts]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _product_modules() -> dict[str, Path]:
    modules = {_module_name(p): p for p in _python_files(*PRODUCT_DIRS)}
    modules["app"] = ROOT / "app.py"
    return modules


def _imported_modules(path: Path, known: set[str]) -> set[str]:
    """Every product module `path` imports, at module level or inside a function.

    `from package import name` counts as importing the submodule `package.name` when there is one,
    else the package itself.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    own = _module_name(path) if path.name != "app.py" else "app"
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
    return {name for name in found if name in known and name != own}


def _import_graph() -> dict[str, set[str]]:
    modules = _product_modules()
    known = set(modules)
    return {name: _imported_modules(path, known) for name, path in modules.items()}


def _top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_core_imports_neither_streamlit_nor_the_app_layers() -> None:
    offenders = {str(p.relative_to(ROOT)): sorted(_top_level_imports(p) & {"streamlit", "ui", "pages", "data"})
                 for p in _python_files("core")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_ui_never_imports_pages_and_data_only_imports_core() -> None:
    graph = _import_graph()
    bad = [(m, d) for m, deps in graph.items() for d in deps
           if (m.startswith("ui.") and d.startswith("pages."))
           or (m.startswith("data.") and (d.startswith(("ui.", "pages.")) or d == "app"))]
    assert bad == []


def _find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}          # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return cycles


def test_no_import_cycles_among_the_products_modules() -> None:
    assert _find_cycles(_import_graph()) == []


def test_the_checker_sees_a_lazy_import_cycle_and_a_submodule_import(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("from pkg.km import km_figure\n")
    (tmp_path / "pkg" / "km.py").write_text("def km_figure():\n    from pkg import style\n")
    (tmp_path / "pkg" / "style.py").write_text("from pkg.km import km_figure\n")
    known = {"pkg", "pkg.km", "pkg.style"}
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        graph = {name: _imported_modules(tmp_path / (name.replace(".", "/") + ("/__init__.py" if name == "pkg" else ".py")),
                                         known) for name in known}
    finally:
        ROOT = saved
    assert graph == {"pkg": {"pkg.km"}, "pkg.km": {"pkg.style"}, "pkg.style": {"pkg.km"}}
    assert _find_cycles(graph) == [["pkg.km", "pkg.style", "pkg.km"]]


def test_pages_run_no_sql_and_compute_no_statistics() -> None:
    pattern = re.compile(r"duckdb|\.execute\(|\bSELECT\b|groupby\(|lifelines|scipy|KaplanMeier")
    offenders = [p.name for p in (ROOT / "pages").glob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_sql_text_lives_in_the_database_layer_only() -> None:
    # core.derivation (the per-patient derivation), core.queries (every query), core.store and
    # core.database (schema and rows of a file being written or opened); data/synthetic.py writes
    # the synthetic registry in bulk. core/queries.py's docstring names the same places.
    sql = re.compile(r"\bSELECT\b[^\n]*\bFROM\b")
    allowed = {"core/derivation.py", "core/queries.py", "core/store.py", "core/database.py"}
    offenders = [str(p.relative_to(ROOT)) for p in _python_files("core", "ui", "pages")
                 if str(p.relative_to(ROOT)) not in allowed and sql.search(p.read_text())]
    assert offenders == []
    docstring = ast.get_docstring(ast.parse((ROOT / "core" / "queries.py").read_text())) or ""
    for place in ("core.derivation", "core.store", "data/synthetic.py"):
        assert place in docstring


def test_no_production_module_is_longer_than_a_module_should_be() -> None:
    long = {str(p.relative_to(ROOT)): n for p in _python_files(*PRODUCT_DIRS)
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
            # the reconstruction's offline search is run by hand to regenerate the cohort, not by the app
            and "reconstruction" not in p.parts}
    assert long == {}

"""The paper package itself: targets.csv is the one copy of the published figures, and the rules it keeps.

What the check computes is tested in test_paper_check.py; here: the CSV ships next to the module
and is read strictly, conflicts and targets agree, and the package stays plain, small and rounds
one way.
"""

from __future__ import annotations

import ast
import csv
import re
from importlib import resources
from pathlib import Path

import pytest

import core.paper
from core.paper import CONFLICTS, TARGETS, TARGETS_PATH, TargetsFileError
from core.paper.conflicts import MISS_STATUS_BY_CONFLICT, _Note, documented_conflicts
from core.paper.targets import COLUMNS, PaperTarget, read_targets

PACKAGE = Path(core.paper.__file__).resolve().parent
MODULES = sorted(PACKAGE.glob("*.py"))
GOLDEN_PATH = Path(__file__).resolve().parent / "golden_paper_figures.csv"
HEADER = ",".join(COLUMNS)


# ------------------------------------------------------------------ targets.csv ships with the package
def test_targets_csv_is_package_data_next_to_the_module() -> None:
    assert TARGETS_PATH.parent.resolve() == PACKAGE
    assert resources.files("core.paper").joinpath("targets.csv").is_file()


def test_targets_csv_lists_169_figures_and_one_metadata_record() -> None:
    assert len(TARGETS) == 170
    assert [t.target_id for t in TARGETS if t.metadata] == ["A51"]


def test_the_golden_file_repeats_no_published_value() -> None:
    with GOLDEN_PATH.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert reader.fieldnames == ["target_id", "expected_status", "expected_computed"]
    published = {t.target_id: t.published for t in TARGETS}
    for row in rows:
        # an expected value is written only where the reconstruction cannot print what the paper prints
        assert (row["expected_computed"] == "") == (row["expected_status"] in ("exact", "metadata")), row
        assert row["expected_computed"] != published[row["target_id"]], row


# ------------------------------------------------------------------ targets.csv is read strictly
GOOD_ROW = 'A01,Table 1 — Patient characteristics,Patients analysed,32,Table 1,,'


@pytest.mark.parametrize("lines, message", [
    (["target_id,section,figure,published,where", GOOD_ROW], "header is"),
    ([HEADER, GOOD_ROW, GOOD_ROW], "listed twice"),
    ([HEADER, 'A1,Table 1,Patients analysed,32,Table 1,,'], "target_id 'A1' is not a letter and two digits"),
    ([HEADER, 'A01,Table 1,Patients analysed,,Table 1,,'], "'published' is empty"),
    ([HEADER, 'A01,Table 1,Patients analysed,32,,,'], "'where' is empty"),
    ([HEADER, 'A01,Table 1,Patients analysed,32,Table 1,C2,'], "conflict 'C2' is not a paper-conflicts.md id"),
    ([HEADER, 'A01,Table 1,Patients analysed,32,Table 1,,true'], "metadata 'true' must be 'yes' or empty"),
    ([HEADER, 'A01,Table 1,Patients analysed,32,Table 1; Sec 4,,,extra'], "more than 7 cells"),
    ([HEADER, 'A01,Table 1,Patients analysed,32'], "no 'where' cell"),
])
def test_a_broken_targets_file_is_refused_with_its_line(tmp_path: Path, lines: list[str], message: str) -> None:
    path = tmp_path / "targets.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(TargetsFileError, match=re.escape(message)):
        read_targets(path)


def test_a_good_targets_file_reads_as_printed(tmp_path: Path) -> None:
    path = tmp_path / "targets.csv"
    path.write_text(f'{HEADER}\n{GOOD_ROW}\nA51,Figure 1,"Cases identified (screened)",50,Figure 1,C12,yes\n',
                    encoding="utf-8")
    assert read_targets(path) == (
        PaperTarget("A01", "Table 1 — Patient characteristics", "Patients analysed", "32", "Table 1"),
        PaperTarget("A51", "Figure 1", "Cases identified (screened)", "50", "Figure 1", metadata=True,
                    conflict="C12"),
    )


# ------------------------------------------------------------------ conflicts agree with targets.csv
def test_every_conflict_id_in_targets_csv_has_its_explanation() -> None:
    assert {t.target_id: t.conflict for t in TARGETS if t.conflict} == {k: c.code for k, c in CONFLICTS.items()}
    for target_id, conflict in CONFLICTS.items():
        assert conflict.miss_status == (MISS_STATUS_BY_CONFLICT[conflict.code]
                                        if conflict.reconstructed is not None else None), target_id


def test_a_conflict_without_an_explanation_is_refused() -> None:
    targets = (PaperTarget("E08", "Figure 2", "Number at risk at 12 months", "9", "Figure 2", conflict="C02"),)
    with pytest.raises(ValueError, match=r"conflict without a note \['E08'\]"):
        documented_conflicts(targets, {})
    with pytest.raises(ValueError, match=r"note without a conflict \['E09'\]"):
        documented_conflicts(targets, {"E08": _Note("why", "4"), "E09": _Note("why")})


def test_a_resolved_conflict_cannot_make_a_figure_unattainable() -> None:
    targets = (PaperTarget("D01", "§4.3.2", "Proceeded to HSCT: n", "11", "Abstract", conflict="C01"),)
    with pytest.raises(ValueError, match="C01 is resolved"):
        documented_conflicts(targets, {"D01": _Note("why", "10")})


# ------------------------------------------------------------------ the package stays plain, small, one rounding
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_no_paper_module_is_above_500_lines() -> None:
    assert MODULES
    long = {p.name: n for p in MODULES if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500}
    assert long == {}


def test_the_paper_package_imports_no_streamlit_and_no_data() -> None:
    for path in MODULES:
        for node in ast.walk(_tree(path)):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] in ("streamlit", "data") for n in names), path.name


def test_the_paper_package_runs_no_sql() -> None:
    sql = re.compile(r"\bSELECT\b[^\n]*\bFROM\b|\.execute\(")
    assert [p.name for p in MODULES if sql.search(p.read_text(encoding="utf-8"))] == []


def test_the_paper_package_rounds_only_through_round_half_up() -> None:
    """Any other rounding (round(), .round(), quantize, "%.1f", f"{x:.1f}") could print a tie differently."""
    offences: list[str] = []
    for path in MODULES:
        source = path.read_text(encoding="utf-8")
        if re.search(r"%[-+ 0#]*\d*\.\d+[fFeEgG%]|ROUND_HALF|quantize|\.round\(", source):
            offences.append(f"{path.name}: rounding outside round_half_up")
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "round":
                offences.append(f"{path.name}:{node.lineno}: round()")
            if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
                spec = ast.unparse(node.format_spec)
                if re.search(r"\.\d+[fFeE%]", spec):
                    offences.append(f"{path.name}:{node.lineno}: format spec {spec}")
    assert offences == []
    uses = {p.name for p in MODULES if "round_half_up" in p.read_text(encoding="utf-8")}
    assert uses and all("from core.results import round_half_up" in (PACKAGE / name).read_text(encoding="utf-8")
                        for name in uses)

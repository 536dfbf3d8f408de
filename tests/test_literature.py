"""The literature reference table: its integrity, the paper's Table 9 rebuilt from it row for row,
and the evidence behind the discrepancies (core/literature/README.md states the rules).

The integrity checks read the CSV with the csv module as well as through core.literature, so a
rule is not only checked by the code that enforces it.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path

import pytest

from core.literature import (
    REFERENCE_PATH,
    ReferenceFileError,
    discrepancies,
    figure,
    figures,
    integrity_problems,
    read_reference,
    studies,
    table9_rows,
)
from core.literature.reference import read_discrepancies
from core.results import clopper_pearson

ROOT = Path(__file__).resolve().parent.parent
GOLDEN_TABLE9 = ROOT / "tests" / "golden_table9.csv"
# the paper's full text sits in shared/ beside the repository (on a developer's machine and in CI)
PAPER = Path(__file__).resolve().parent.parent.parent / "shared" / "paper" / "inotuzumab-rr-ball-india-rws.txt"
TABLE9_FIELDS = ("study", "phase", "cohort", "dosing", "cd22", "cr_cri", "median_os", "duration_of_remission")


def _raw_rows() -> list[dict[str, str]]:
    with REFERENCE_PATH.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _half_unit(printed: str) -> Decimal:
    return Decimal(5) * Decimal(10) ** (Decimal(printed).as_tuple().exponent - 1)


# ------------------------------------------------------------------------------------------ integrity
def test_the_reference_table_reads_and_breaks_no_rule() -> None:
    assert len(read_reference()) >= 60
    assert integrity_problems() == []


def test_every_row_has_its_required_fields_and_names_a_source() -> None:
    required = ("row_id", "study_key", "study", "phase", "arm", "population", "endpoint", "definition",
                "estimate", "unit", "locator", "verified", "checked")
    for row in _raw_rows():
        missing = [c for c in required if not row[c].strip()]
        assert missing == [], f"{row['row_id']}: {missing}"
        assert row["verified"] in ("yes", "secondary", "no")
        if row["verified"] != "no":
            assert row["url"] or row["doi"], row["row_id"]
        if row["doi"]:
            assert re.fullmatch(r"10\.\d{4,9}/\S+", row["doi"]), row["doi"]


def test_every_ci_contains_its_estimate() -> None:
    with_ci = [r for r in _raw_rows() if r["ci_lower"] or r["ci_upper"]]
    assert len(with_ci) >= 20
    for row in with_ci:
        estimate = Decimal(row["estimate"])
        assert row["ci_level"], row["row_id"]
        if row["ci_lower"]:
            assert Decimal(row["ci_lower"]) <= estimate, row["row_id"]
        if row["ci_upper"] and row["ci_upper"] != "NR":
            assert estimate <= Decimal(row["ci_upper"]), row["row_id"]


def test_counts_and_denominators_agree_with_the_printed_percentages() -> None:
    checked = 0
    for row in _raw_rows():
        if row["unit"] != "%" or not row["denominator"]:
            assert not row["count"] or row["denominator"], f"{row['row_id']}: a count without a denominator"
            continue
        n, half = int(row["denominator"]), _half_unit(row["estimate"])
        candidates = [int(row["count"])] if row["count"] else range(n + 1)
        fits = [k for k in candidates if abs(Decimal(100 * k) / n - Decimal(row["estimate"])) <= half]
        assert fits, f"{row['row_id']}: no count of {n} gives {row['estimate']}%"
        if "count" in row["derived"].split(";"):
            # a derived count is the only whole number that fits
            assert [k for k in range(n + 1) if abs(Decimal(100 * k) / n - Decimal(row["estimate"])) <= half] \
                == [int(row["count"])], row["row_id"]
        checked += 1
    assert checked >= 35


def test_intervals_said_to_equal_clopper_pearson_do() -> None:
    said = [f for f in read_reference() if "Clopper–Pearson" in f.checked]
    assert {f.row_id for f in said} >= {"k2012-orr", "iv2016-cr-cri-ino", "iv2016-cr-cri-soc", "iv2019-hsct-ino",
                                        "iv2019-hsct-soc"}
    for f in said:
        lower, upper = clopper_pearson(f.count, f.denominator)
        assert abs(Decimal(f"{100 * lower:.6f}") - f.ci_lower) <= _half_unit(str(f.ci_lower)), f.row_id
        assert abs(Decimal(f"{100 * upper:.6f}") - f.ci_upper) <= _half_unit(str(f.ci_upper)), f.row_id


def test_study_fields_are_the_same_on_every_row_of_a_study() -> None:
    fields = ("study", "cited_as", "phase", "population", "population_n", "salvage_lines", "age", "ph_status",
              "dosing", "cd22")
    by_study: dict[str, tuple[str, ...]] = {}
    for row in _raw_rows():
        values = tuple(row[f] for f in fields)
        assert by_study.setdefault(row["study_key"], values) == values, row["row_id"]


def test_every_study_of_table9_and_the_discussion_is_in_the_table() -> None:
    keys = {s.key for s in studies()}
    assert {"kantarjian2012", "kantarjian2013", "advani2014", "inovate2016", "inovate2019", "torrent2023",
            "agrawal2025", "ref2", "ref9"} <= keys
    # the INO-VATE final report updates the first on CR/CRi, OS and VOD
    assert {f.endpoint for f in figures(study="inovate2019")} >= {"cr_cri", "os_median", "os_rate", "vod"}


def test_figures_filter_by_study_endpoint_arm_and_verification() -> None:
    both_arms = figures(study="inovate2019", endpoint="cr_cri")
    assert [f.arm for f in both_arms] == ["InO", "standard chemotherapy"]
    assert [f.estimate for f in both_arms] == [Decimal("73.8"), Decimal("30.9")]
    assert figures(study="inovate2016", endpoint="cr_cri", arm="InO")[0].format_ci() == "95% CI 72.1–87.7"
    assert all(f.verified == "no" for f in figures(study="advani2014"))
    assert figure("ref9-dor").format_ci() == "95% CI 11.5–NR"
    with pytest.raises(ValueError, match="Unknown study 'inovate'"):
        figures(study="inovate")


# ------------------------------------------------------------------------------------------ Table 9
def _golden_table9() -> list[dict[str, str]]:
    with GOLDEN_TABLE9.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _normalise(text: str) -> str:
    # the paper's text lost the superscript of m²
    return " ".join(text.replace("mg/m2", "mg/m²").split())


def _close_parentheses(text: str) -> str:
    return text + ")" * (text.count("(") - text.count(")"))


def test_table9_as_printed_is_the_papers_table_row_for_row() -> None:
    golden = _golden_table9()
    rebuilt = table9_rows(as_printed=True)
    assert [r.study for r in rebuilt] == [g["study"] for g in golden]
    for row, printed in zip(rebuilt, golden):
        cells = dict(zip(TABLE9_FIELDS, (" | ".join(c) for c in row.cells())))
        # the figures and the study's identity: exactly as printed
        for field in ("study", "phase", "cohort", "cd22", "cr_cri", "median_os", "duration_of_remission"):
            assert cells[field] == printed[field], (row.study_key, field)
        # dosing is descriptive text: equal once m² and a dropped closing parenthesis are restored
        assert _normalise(cells["dosing"]) == _normalise(_close_parentheses(printed["dosing"])), row.study_key


def test_table9_from_the_sources_differs_only_where_a_discrepancy_says_so() -> None:
    printed, sourced = table9_rows(as_printed=True), table9_rows()
    for a, b in zip(printed, sourced):
        changed = [name for name, x, y in zip(TABLE9_FIELDS, a.cells(), b.cells()) if x != y]
        claimed = {d.table9_column for d in discrepancies(study=a.study_key) if d.table9_column}
        columns = {"cd22": "CD22 positivity", "cr_cri": "CR/CRi", "median_os": "Median OS (months)",
                   "duration_of_remission": "Duration of remission (months)"}
        assert {columns[c] for c in changed} == claimed, a.study_key
    by_key = {r.study_key: r for r in sourced}
    assert by_key["kantarjian2012"].cr_cri == ("CR", "9/49 (18%)", "marrow CR", "19/49 (39%)")
    assert by_key["kantarjian2012"].median_os == ("5.1",)
    assert by_key["torrent2023"].duration_of_remission == ("4.7",)


@pytest.mark.skipif(not PAPER.exists(), reason="the paper's text is not on this machine")
def test_the_golden_transcription_is_the_papers_table9() -> None:
    lines = PAPER.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.replace("\xa0", " ").startswith("Table 9 |"))
    cells: list[list[str]] = []
    for line in lines[start + 1:]:
        if line.startswith("InO, inotuzumab"):
            break
        if line.startswith("\t"):
            cells.append([line[1:].replace("\xa0", " ").strip()])
        elif line.strip():
            cells[-1].append(line.replace("\xa0", " ").strip())
    body = [cells[i:i + 8] for i in range(8, len(cells), 8)]
    parsed = [{f: " | ".join(v for v in cell if v) for f, cell in zip(TABLE9_FIELDS, row)} for row in body]
    assert parsed == _golden_table9()


# ------------------------------------------------------------------------------------------ discrepancies
def test_the_papers_73_8_percent_with_72_to_88_is_no_exact_interval() -> None:
    # 72.1–87.7 is the exact interval of the first report's 88/109 (80.7%) ...
    lower, upper = clopper_pearson(88, 109)
    assert (round(100 * lower, 1), round(100 * upper, 1)) == (72.1, 87.7)
    assert (round(100 * lower), round(100 * upper)) == (72, 88)
    # ... 73.8% is the final report's 121/164, whose exact interval is 66.4–80.3 ...
    assert [k for k in range(165) if round(1000 * k / 164) == 738] == [121]
    lower, upper = clopper_pearson(121, 164)
    assert (round(100 * lower, 1), round(100 * upper, 1)) == (66.4, 80.3)
    # ... and no sample size gives 73.8% an exact 95% CI of 72–88
    for n in range(20, 2001):
        for k in (k for k in range(n + 1) if round(1000 * k / n) == 738):
            lower, upper = clopper_pearson(k, n)
            assert (round(100 * lower), round(100 * upper)) != (72, 88), (k, n)
    d01 = next(d for d in read_discrepancies() if d.discrepancy_id == "D01")
    assert "121/164" in d01.evidence and "88/109" in d01.evidence


def test_the_arithmetic_in_the_table9_discrepancies() -> None:
    assert round(100 * 8 / 90) == 9                       # D08: 8/90 is 9%, not 19%
    assert round(100 * 17 / 90) == 19                     # the 19% belongs to CR
    assert 39 + 19 != figure("iv2016-cr-cri-ino").count   # D09: 58 ≠ 88 responders of 109
    assert figure("iv2016-cr-cri-ino").count - 39 == 49
    assert figure("t2023-pfs").estimate == Decimal("3.5")  # D10: Table 9's remission duration is Torrent's PFS
    assert figure("iv2016-dor-ino").ci_upper == Decimal("5.4")   # D03: the paper's DOR is the CI's upper limit


def test_every_discrepancy_cites_rows_that_exist_and_is_unique() -> None:
    found = read_discrepancies()
    assert len({d.discrepancy_id for d in found}) == len(found) >= 10
    ids = {f.row_id for f in read_reference()}
    for d in found:
        assert set(d.reference_rows) <= ids and set(d.replaces) <= ids, d.discrepancy_id
        assert d.evidence and d.kind and d.paper_text


# ------------------------------------------------------------------------------------------ the reader's rules
def _write(tmp_path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    path = tmp_path / "reference.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header or list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_the_reader_names_the_line_and_the_rule(tmp_path: Path) -> None:
    good = _raw_rows()[0]
    read_reference(_write(tmp_path, [good]))
    with pytest.raises(ReferenceFileError, match=r"line 2 \(k2012-cr\): verified 'maybe' is not one of yes"):
        read_reference(_write(tmp_path, [{**good, "verified": "maybe"}]))
    with pytest.raises(ReferenceFileError, match=r"'checked' is empty"):
        read_reference(_write(tmp_path, [{**good, "checked": ""}]))
    with pytest.raises(ReferenceFileError, match=r"a CI without its level"):
        read_reference(_write(tmp_path, [{**good, "ci_lower": "10", "ci_upper": "30"}]))
    with pytest.raises(ReferenceFileError, match=r"count '9\.5' is not a whole number"):
        read_reference(_write(tmp_path, [{**good, "count": "9.5"}]))
    with pytest.raises(ReferenceFileError, match=r"listed twice"):
        read_reference(_write(tmp_path, [good, good]))
    with pytest.raises(ReferenceFileError, match=r"header is"):
        read_reference(_write(tmp_path, [{k: v for k, v in good.items() if k != "doi"}]))


def test_integrity_catches_a_ci_outside_its_estimate_and_a_count_that_is_not_the_percentage(tmp_path: Path) -> None:
    good = _raw_rows()[0]
    bad = read_reference(_write(tmp_path, [{**good, "count": "10"},
                                           {**good, "row_id": "x-ci", "ci_lower": "20", "ci_upper": "30",
                                            "ci_level": "0.95"}]))
    problems = integrity_problems(bad, ())
    assert "k2012-cr: 10/49 is not 18%" in problems
    assert "x-ci: CI lower 20 is above the estimate 18" in problems

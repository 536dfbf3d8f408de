"""Exported tables keep their formatted text and add the same figures as numbers for analysis."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from core import export
from core.database import open_cohort
from core.filters import FilterSpec
from core.provenance import Provenance, for_proportion, for_survival, slice_provenance
from core.response import cr_cri_rate, cr_cri_rate_by, summarise_response
from core.safety import toxicity_by_hsct
from core.survival import estimate_survival
from ui import display

SPEC = FilterSpec()
TEXT_COLUMNS = ["Group", "n", "Events", "Median, months (95% CI)", "6 months (95% CI)", "12 months (95% CI)"]


@pytest.fixture()
def cohort(tiny_cohort: Path):
    c = open_cohort(tiny_cohort)
    yield c
    c.close()


@pytest.fixture()
def base() -> Provenance:
    return slice_provenance(SPEC, n_slice=10, n_total=10, meta={"label": "tiny"})


def _read_csv(data: bytes) -> pd.DataFrame:
    text = data.decode("utf-8-sig")
    skip = sum(1 for line in text.splitlines() if line.startswith("# "))
    return pd.read_csv(io.StringIO(text), skiprows=skip)


# ----------------------------------------------------------------------------- survival
def test_survival_csv_keeps_the_text_and_adds_numbers(cohort, base) -> None:
    analysis = estimate_survival(cohort, SPEC, "os", by="salvage_line")
    table = _read_csv(export.table_csv(display.survival_table(analysis), for_survival(base, analysis)))
    assert list(table.columns[:6]) == TEXT_COLUMNS
    assert set(display.survival_number_columns()) <= set(table.columns)
    for curve in analysis.fitted:
        row = table[table["Group"] == curve.label].iloc[0]
        assert row["n"] == curve.n and row["n_events"] == curve.events
        for column, value in (("median_months", curve.median.value), ("median_lower_months", curve.median.lower),
                              ("median_upper_months", curve.median.upper)):
            assert (pd.isna(row[column]) if value is None else row[column] == pytest.approx(value, abs=1e-12))
        rate = curve.landmark(6.0)
        assert row["at_risk_6mo"] == rate.at_risk
        if rate.estimate is not None:
            assert row["survival_6mo"] == pytest.approx(rate.estimate, abs=1e-12)
            if rate.lower is not None:
                assert row["survival_6mo_lower"] <= row["survival_6mo"] <= row["survival_6mo_upper"]
            assert f"{100 * rate.estimate:.1f}%" in row["6 months (95% CI)"]      # the text says the same


def test_too_small_groups_get_empty_numbers_and_the_screen_table_is_unchanged(cohort) -> None:
    analysis = estimate_survival(cohort, FilterSpec(salvage_lines=(3,)), "os", by="blast_burden")
    table = display.survival_table(analysis)
    assert table[display.survival_number_columns()].iloc[-1].isna().all() or len(analysis.fitted) == len(table)
    shown = display.survival_summary(analysis)
    assert shown.iloc[:, 0].tolist() == TEXT_COLUMNS[1:] + (["Note"] if "Note" in table else [])
    assert not any(name in shown.to_string() for name in ("n_events", "median_months", "survival_6mo"))


def test_survival_numbers_follow_suppression(cohort, base) -> None:
    analysis = estimate_survival(cohort, SPEC, "os")
    prov = for_survival(base, analysis).with_(suppress_below=5)
    table = _read_csv(export.table_csv(display.survival_table(analysis), prov))
    row = table.iloc[0]
    assert row["at_risk_12mo"] == "<5"                                 # 10 patients: few left at 12 months
    for column in ("survival_12mo", "survival_6mo", "median_months", "12 months (95% CI)"):
        assert row[column] == "suppressed"


# ----------------------------------------------------------------------------- proportions
def test_response_tables_get_count_denominator_estimate_and_exact_bounds(cohort, base) -> None:
    sections = [("Salvage line", cr_cri_rate_by(cohort, SPEC, "salvage_line"))]
    overall = cr_cri_rate(cohort, SPEC)
    frame = display.subgroup_tables(sections)
    table = _read_csv(export.table_csv(frame, for_proportion(base, overall, analysis="CR/CRi")))
    assert list(table.columns) == list(frame.columns) + ["count", "denominator", "estimate", "lower", "upper"]
    for i, row in enumerate(sections[0][1]):
        rate = row.rate
        assert table["count"][i] == rate.count and table["denominator"][i] == rate.denominator
        assert table["estimate"][i] == pytest.approx(rate.estimate, abs=1e-12)
        assert table["lower"][i] == pytest.approx(rate.lower, abs=1e-12)        # full precision, not the print
        assert table["upper"][i] == pytest.approx(rate.upper, abs=1e-12)


def test_estimate_table_numbers_in_xlsx_are_numbers(cohort, base) -> None:
    summary = summarise_response(cohort, SPEC)
    frame = display.estimate_table([("MRD negative", summary.mrd_negative, "responders")], "MRD")
    data = export.table_xlsx(frame, for_proportion(base, summary.mrd_negative, analysis="MRD"), sheet="MRD")
    ws = openpyxl.load_workbook(io.BytesIO(data))["MRD"]
    header = next(r for r in range(1, 40) if ws.cell(r, 1).value == "MRD")
    names = [ws.cell(header, c).value for c in range(1, ws.max_column + 1)]
    values = dict(zip(names, (ws.cell(header + 1, c).value for c in range(1, ws.max_column + 1))))
    assert isinstance(values["count"], int) and values["count"] == summary.mrd_negative.count
    assert isinstance(values["estimate"], float) and values["lower"] == pytest.approx(summary.mrd_negative.lower)


def test_several_estimate_columns_are_prefixed_and_notes_are_empty(cohort, base) -> None:
    tox = toxicity_by_hsct(cohort, SPEC)
    frame = pd.DataFrame([{"Toxicity": r.label, f"HSCT (n = {tox.n_hsct})": display.count_text(r.hsct),
                           "Overall": display.count_text(r.overall)} for r in tox.rows])
    table = _read_csv(export.table_csv(frame, base))
    first = tox.rows[0]
    assert table["hsct_count"][0] == first.hsct.count and table["overall_denominator"][0] == first.overall.denominator
    assert table["overall_estimate"][0] == pytest.approx(first.overall.estimate, abs=1e-12)
    assert "lower" not in table.columns                                 # no CI printed, none invented


def test_counts_of_a_characteristics_table(base) -> None:
    frame = pd.DataFrame({"Variable": ["Patients", "Age (years)", "Sex"], "Category": ["–", "mean ± SD", "F"],
                          "N (%)": ["32", "45.00 ± 12.31", "12 (37.5)"]})
    table = _read_csv(export.table_csv(frame, base))
    assert table["count"].tolist()[0] == 32 and pd.isna(table["count"][1]) and table["count"][2] == 12


def test_suppressed_counts_leave_no_numbers_behind(base) -> None:
    frame = pd.DataFrame({"Group": ["a", "b"], "n/N": ["3/18", "12/20"], "%": ["16.7%", "60.0%"],
                          "95% CI (exact)": ["3.6–41.4", "36.1–80.9"]})
    table = _read_csv(export.table_csv(frame, base.with_(suppress_below=5)))
    assert table["n/N"][0] == "<5/18" and pd.isna(table["count"][0]) and pd.isna(table["estimate"][0])
    assert pd.isna(table["denominator"][0]) and pd.isna(table["lower"][0])
    assert table["count"][1] == 12 and table["estimate"][1] == pytest.approx(0.6)


def test_patient_level_and_plain_tables_are_written_as_they_are(base) -> None:
    listing = pd.DataFrame({"patient_id": ["P1"], "cycles": ["1/3"]})
    assert list(_read_csv(export.table_csv(listing, base, row_level=True)).columns) == ["patient_id", "cycles"]
    plain = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    assert list(_read_csv(export.table_csv(plain, base)).columns) == ["x", "y"]

"""Exported files carry their provenance, keep spreadsheets safe, suppress small counts on request,
and degrade without a browser. Image tests render with the real renderer (kaleido + Chromium) and
are skipped where no browser is installed; the missing-browser path is simulated by pointing
$BROWSER_PATH at a file that does not exist."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import plotly.graph_objects as go
import pytest
from pypdf import PdfReader

from core import charts, export
from core.contract import EVENT_COLUMNS, PATIENT_COLUMNS
from core.database import open_cohort
from core.filters import FilterSpec
from core.provenance import (
    PRODUCT_VERSION,
    RECONSTRUCTED_TAG,
    Provenance,
    for_survival,
    slice_provenance,
)
from core.queries import fetch_slice_rows
from core.response import cr_cri_rate, cr_cri_rate_by
from core.survival import estimate_survival

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TODAY = dt.date(2026, 3, 2)

needs_browser = pytest.mark.skipif(not export.export_available(), reason="no Chrome/Chromium for static export")


def _png_size(data: bytes) -> tuple[int, int]:
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.fixture()
def cohort(tiny_cohort: Path):
    c = open_cohort(tiny_cohort)
    yield c
    c.close()


@pytest.fixture()
def base() -> Provenance:
    return slice_provenance(FilterSpec(salvage_lines=(1, 2)), n_slice=8, n_total=10,
                            meta={"label": "tiny test cohort", "reconstructed": "true"}, exported_on=TODAY)


@pytest.fixture()
def km(cohort, base):
    analysis = estimate_survival(cohort, FilterSpec(salvage_lines=(1, 2)), "os")
    return charts.km_figure(analysis, caption=base.caption), for_survival(base, analysis)


# ----------------------------------------------------------------------------- provenance
def test_provenance_states_slice_n_definitions_version_and_date(km) -> None:
    _, prov = km
    items = dict(prov.items())
    assert items["Data"] == RECONSTRUCTED_TAG
    assert items["Slice"] == "Salvage 1–2 · n = 8 of 10"
    assert items["Patients"] == "8 analysed, 0 excluded"
    assert items["Endpoint"].startswith("Overall survival from the first InO dose")
    assert items["Censoring"] == "censored at last contact"
    assert "Greenwood" in items["CI method"]
    assert items["Product"].endswith(PRODUCT_VERSION) and PRODUCT_VERSION == "0.1.0"
    assert items["Exported"] == "2026-03-02"
    assert items["Small-cell suppression"].startswith("off")


def test_survival_provenance_counts_responders_only_population_as_excluded(cohort, base) -> None:
    analysis = estimate_survival(cohort, FilterSpec(salvage_lines=(1, 2)), "rfs")
    prov = for_survival(base, analysis)
    assert prov.n_result + prov.n_excluded == base.n_slice
    assert "responders" in prov.excluded_reason


def test_suppression_threshold_is_validated() -> None:
    with pytest.raises(ValueError, match="suppress_below"):
        Provenance(slice_text="All patients", n_slice=3, suppress_below=1)


# ----------------------------------------------------------------------------- figures
def test_with_provenance_returns_a_copy_with_a_footer(km) -> None:
    fig, prov = km
    before = json.loads(fig.to_json())
    out = export.with_provenance(fig, prov, width_px=1280)
    assert json.loads(fig.to_json()) == before          # the caller's figure is untouched
    footer = [a for a in out.layout.annotations if a.name == "provenance"]
    assert len(footer) == 1
    assert RECONSTRUCTED_TAG in footer[0].text and "0.1.0" in footer[0].text and "2026-03-02" in footer[0].text
    assert out.layout.margin.b > fig.layout.margin.b and out.layout.height > fig.layout.height
    assert out.layout.meta["provenance"]["Slice"] == "Salvage 1–2 · n = 8 of 10"


def test_footer_escapes_markup_from_the_slice_text(base) -> None:
    fig = charts.message_figure("nothing", title="t", caption="c")
    out = export.with_provenance(fig, base.with_(slice_text="cycle-1 dose <1.8 mg/m² & more"))
    text = [a for a in out.layout.annotations if a.name == "provenance"][0].text
    assert "&lt;1.8" in text and "&amp; more" in text


def test_presets_give_pixel_sizes_at_300_dpi() -> None:
    assert export.PRESETS["slide"].pixel_size() == (4000, 2250)
    assert export.PRESETS["journal_single"].pixel_size(500)[0] == 1050
    assert export.PRESETS["journal_double"].pixel_size(500)[0] == 2100


@needs_browser
def test_png_slide_has_requested_pixel_size_and_dpi(km) -> None:
    fig, prov = km
    data = export.figure_image(fig, prov, "png", "slide")
    assert data[:8] == PNG_MAGIC
    assert _png_size(data) == (4000, 2250)
    from PIL import Image
    assert round(Image.open(io.BytesIO(data)).info["dpi"][0]) == 300


@needs_browser
def test_png_journal_column_is_1050_px_wide(km) -> None:
    fig, prov = km
    data = export.figure_image(fig, prov, "png", "journal_single")
    assert data[:8] == PNG_MAGIC and _png_size(data)[0] == 1050


@needs_browser
def test_svg_carries_the_provenance_text(km) -> None:
    fig, prov = km
    svg = export.figure_image(fig, prov, "svg", "journal_double").decode("utf-8")
    assert svg.lstrip().startswith("<svg")
    for text in (RECONSTRUCTED_TAG, "Salvage 1–2 · n = 8 of 10", "0.1.0", "2026-03-02", "censored at last contact"):
        assert text in svg


@needs_browser
def test_pdf_opens_with_one_page_holding_the_provenance(km) -> None:
    fig, prov = km
    data = export.figure_image(fig, prov, "pdf", "journal_double")
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Reconstructed cohort" in text and "Exported" in text


def test_unknown_format_is_refused(km) -> None:
    fig, prov = km
    with pytest.raises(ValueError, match="png, svg, pdf"):
        export.figure_image(fig, prov, "eps")


# ----------------------------------------------------------------------------- tables
def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "Group": ["=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3", "\tx", "Salvage 1"],
        "n": [12, 3, 0, 7, 20, 4],
        "Change": [-1.5, 2.0, -3.0, 0.5, 1.0, -0.25],
        "n/N": ["12/20", "3/20", "0/20", "7/9", "20/20", "4/4"],
        "% (95% CI)": ["60.0 (36–81)", "15.0 (3–38)", "0.0 (0–17)", "77.8 (40–97)", "100 (83–100)", "100 (40–100)"],
        "Text number": ["-1.5", "x", "y", "z", "w", "v"],
    })


def test_formula_cells_are_neutralised_and_numbers_stay_numbers() -> None:
    out = export.neutralise_formulas(_frame())
    assert out["Group"].tolist()[:5] == ["'=HYPERLINK(\"http://x\")", "'+cmd|' /C calc'!A0", "'@SUM(A1)",
                                         "'-2+3", "'\tx"]
    assert out["Change"].tolist() == [-1.5, 2.0, -3.0, 0.5, 1.0, -0.25]
    assert out["Text number"].iloc[0] == "-1.5"       # a plain number as text cannot run


def test_csv_has_comment_header_then_the_table(base) -> None:
    data = export.table_csv(_frame(), base).decode("utf-8-sig")
    lines = data.splitlines()
    comments = [line for line in lines if line.startswith("# ")]
    assert comments[0] == f"# Data: {RECONSTRUCTED_TAG}"
    assert "# Exported: 2026-03-02" in comments
    table = pd.read_csv(io.StringIO(data), skiprows=len(comments))
    assert table["n"].tolist() == [12, 3, 0, 7, 20, 4]
    assert table["Change"].iloc[0] == -1.5
    assert table["Group"].iloc[0].startswith("'=")
    rows = list(csv.reader(io.StringIO(data)))
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)


def test_xlsx_holds_header_block_numbers_and_no_formulas(base) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(export.table_xlsx(_frame(), base, sheet="Response")))
    ws = wb["Response"]
    block = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, 12) if ws.cell(r, 1).value}
    assert block["Data"] == RECONSTRUCTED_TAG
    assert block["Slice"] == "Salvage 1–2 · n = 8 of 10"
    assert block["Exported"] == "2026-03-02"
    header_row = next(r for r in range(1, 30) if ws.cell(r, 1).value == "Group")
    assert [ws.cell(header_row, c).value for c in range(1, 4)] == ["Group", "n", "Change"]
    assert ws.cell(header_row + 1, 2).value == 12 and isinstance(ws.cell(header_row + 1, 2).value, int)
    assert ws.cell(header_row + 1, 3).value == -1.5
    assert all(cell.data_type != "f" for row in ws.iter_rows() for cell in row)
    assert ws.cell(header_row + 1, 1).value.startswith("'=")
    assert "Salvage 1–2" in wb.properties.description


def test_small_counts_are_suppressed_with_their_percentages() -> None:
    out = export.suppress_small_counts(_frame(), 5)
    assert out["n"].tolist() == [12, "<5", 0, 7, 20, "<5"]
    assert out["n/N"].tolist() == ["12/20", "<5/20", "0/20", "7/9", "20/20", "<5/<5"]
    assert out["% (95% CI)"].tolist()[1] == "suppressed" and out["% (95% CI)"].tolist()[5] == "suppressed"
    assert out["% (95% CI)"].tolist()[0] == "60.0 (36–81)"          # untouched rows keep their numbers
    text = export.suppress_small_counts(pd.DataFrame({"N (%)": ["3 (9.4)", "29 (90.6)"],
                                                      "x": ["2/18 · 11.1% (95% CI 1–35)", "a"]}), 5)
    assert text["N (%)"].tolist() == ["<5", "29 (90.6)"]
    assert text["x"].iloc[0] == "<5/18"


def test_suppression_option_applies_to_exports_and_is_stated(base) -> None:
    prov = base.with_(suppress_below=5)
    data = export.table_csv(_frame(), prov).decode("utf-8-sig")
    assert "# Small-cell suppression: on: counts 1–4 shown as <5" in data
    assert "<5/20" in data and "3/20" not in data


def test_patient_level_exports_are_refused_while_suppressing(base) -> None:
    with pytest.raises(export.RowLevelExportBlocked, match="patient-level"):
        export.table_csv(pd.DataFrame({"patient_id": ["T01"]}), base.with_(suppress_below=5), row_level=True)


def test_chart_labels_are_suppressed(cohort, base) -> None:
    spec = FilterSpec(salvage_lines=(1, 2))
    fig = charts.forest_figure((), cr_cri_rate(cohort, spec), title="CR/CRi",
                               sections=[("Salvage line", cr_cri_rate_by(cohort, spec, "salvage_line"))],
                               caption=base.caption)
    out = export.suppress_figure_counts(fig, 5)
    texts = [a.text for a in out.layout.annotations if a.name == "forest-count"]
    assert "&lt;5/&lt;5" in texts and "7/8" in " ".join(texts)
    assert "–" in [a.text for a in out.layout.annotations if a.name == "forest-ci"]
    assert fig.to_json() != out.to_json() and "&lt;5" not in fig.to_json()


# ----------------------------------------------------------------------------- slice data
def test_slice_rows_are_the_contract_columns_of_the_slice(cohort) -> None:
    patients, events = fetch_slice_rows(cohort, FilterSpec(salvage_lines=(3,)))
    assert tuple(patients.columns) == PATIENT_COLUMNS and tuple(events.columns) == EVENT_COLUMNS
    assert patients["patient_id"].tolist() == ["T06", "T08"]
    assert set(events["patient_id"]) == {"T06", "T08"}
    everyone, _ = fetch_slice_rows(cohort, FilterSpec())
    assert len(everyone) == 10


def test_slice_zip_and_xlsx_reload_in_the_import_format(cohort, base) -> None:
    patients, events = fetch_slice_rows(cohort, FilterSpec(salvage_lines=(1, 2)))
    with zipfile.ZipFile(io.BytesIO(export.slice_data_zip(patients, events, base))) as archive:
        assert sorted(archive.namelist()) == ["PROVENANCE.txt", "events.csv", "patients.csv"]
        header = archive.read("patients.csv").decode("utf-8-sig").splitlines()[0]
        assert header.split(",") == list(PATIENT_COLUMNS)
        reread = pd.read_csv(io.BytesIO(archive.read("patients.csv")), encoding="utf-8-sig")
        assert len(reread) == 8 and reread["ino_start_date"].iloc[0] == "2020-01-06"
        assert RECONSTRUCTED_TAG in archive.read("PROVENANCE.txt").decode()
    wb = openpyxl.load_workbook(io.BytesIO(export.slice_data_xlsx(patients, events, base)))
    assert wb.sheetnames == ["patients", "events", "readme"]
    assert [c.value for c in wb["events"][1]] == list(EVENT_COLUMNS)
    assert wb["patients"].max_row == 9


def test_slice_data_reloads_through_the_importer(cohort, base) -> None:
    importer = pytest.importorskip("core.importer")
    patients, events = fetch_slice_rows(cohort, FilterSpec(salvage_lines=(1, 2)))
    workbook = importer.CohortFiles.from_workbook(
        importer.InputFile("slice.xlsx", export.slice_data_xlsx(patients, events, base)))
    with zipfile.ZipFile(io.BytesIO(export.slice_data_zip(patients, events, base))) as archive:
        csvs = importer.CohortFiles.from_csv(importer.InputFile("patients.csv", archive.read("patients.csv")),
                                             importer.InputFile("events.csv", archive.read("events.csv")))
    for files in (workbook, csvs):
        validated = importer.check_cohort_files(files)
        assert validated.patients is not None, files.describe()
        assert sorted(validated.patients["patient_id"]) == sorted(patients["patient_id"])
        assert len(validated.events) == len(events)


# ----------------------------------------------------------------------------- line breaks in cells, row order
CR_PAYLOAD = "septic shock\r=cmd|' /C calc'!A0"      # a cause of death the importer accepts
FORMULA_START = ("=", "+", "-", "@")


def _runs_as_formula(cell: str) -> bool:
    start = cell.lstrip()
    return start.startswith(FORMULA_START) and re.fullmatch(r"[+-]?\d+(?:\.\d+)?", start) is None


def _cr_reader_rows(text: str) -> list[list[str]]:
    """Rows as a reader that ends lines at CR, LF or CRLF sees them (universal newlines, quotes honoured)."""
    return list(csv.reader(io.StringIO(text, newline=None)))


def test_csv_quotes_a_carriage_return_so_no_row_starts_inside_a_cell(base) -> None:
    frame = pd.DataFrame({"Cause": [CR_PAYLOAD, "line\nbreak", "crlf\r\nbreak", "plain"], "n": [1, 2, 3, 4]})
    data = export.table_csv(frame, base).decode("utf-8-sig")
    n_comments = sum(1 for line in data.split("\n") if line.startswith("# "))
    rows = _cr_reader_rows(data)
    assert len(rows) == n_comments + 1 + len(frame)
    assert [row[0] for row in rows[n_comments + 1:]] == [
        "septic shock\n=cmd|' /C calc'!A0", "line\nbreak", "crlf\nbreak", "plain"]   # newline=None reads CR as LF
    assert not any(_runs_as_formula(cell) for row in rows for cell in row)
    table = pd.read_csv(io.StringIO(data), skiprows=n_comments)        # pandas' C parser also ends lines at CR
    assert table["Cause"].tolist() == frame["Cause"].tolist() and table["n"].tolist() == [1, 2, 3, 4]


def test_csv_text_writes_values_as_pandas_does_and_quotes_the_cr_cell() -> None:
    from core.export.tables import csv_text

    frame = pd.DataFrame({"n": [1, 2, 3], "share": [0.1, float("nan"), 1e-05],
                          "day": pd.to_datetime(["2020-01-06", None, "2021-02-03"]), "hsct": [True, False, True],
                          "text": ["x", 'say "no", twice', "two\nlines"]})
    assert csv_text(frame) == frame.to_csv(index=False, lineterminator="\n")
    with_cr = frame.assign(text=["x\ry", 'say "no", twice', "two\nlines"])
    expected = frame.to_csv(index=False, lineterminator="\n").replace("True,x\n", 'True,"x\ry"\n')
    assert expected != frame.to_csv(index=False, lineterminator="\n") and csv_text(with_cr) == expected


def test_formula_after_leading_whitespace_or_line_break_is_neutralised(base) -> None:
    cells = [" =1+1", "\n=cmd|' /C calc'!A0", "\r\n@SUM(A1)", " \t+1+1", "  -2+3", " -1.5", "a\r=1+1"]
    out = export.neutralise_formulas(pd.DataFrame({"x": cells}))["x"].tolist()
    assert out == ["' =1+1", "'\n=cmd|' /C calc'!A0", "'\r\n@SUM(A1)", "' \t+1+1", "'  -2+3", " -1.5", "a\r=1+1"]
    data = export.table_csv(pd.DataFrame({"x": cells}), base).decode("utf-8-sig")
    assert not any(_runs_as_formula(cell) for row in _cr_reader_rows(data) for cell in row)


def test_comment_lines_cannot_start_a_formula_cell(base) -> None:
    prov = base.with_(data_label='Centre X, =HYPERLINK("http://x") ,+1')
    data = export.table_csv(pd.DataFrame({"x": [1]}), prov).decode("utf-8-sig")
    rows = _cr_reader_rows(data)
    assert ['# Cohort: Centre X, =HYPERLINK("http://x") ,+1'] in rows
    assert not any(_runs_as_formula(cell) for row in rows for cell in row)


def _tables_with_cr_payload() -> tuple[pd.DataFrame, pd.DataFrame]:
    from tests.cohort_factory import tiny_tables
    from tests.conftest import varied_patients

    people = varied_patients()
    people[5].cause = CR_PAYLOAD                                                   # T06 dies of it
    people[7].aes = (("neutropenia", 4, 12), ("febrile neutropenia", 3, 12))       # same-day events
    return tiny_tables(people)


def _import_csv(patients: bytes, events: bytes, label: str, directory: Path) -> Path:
    from core.importer import CohortFiles, InputFile, import_cohort

    result = import_cohort(CohortFiles.from_csv(InputFile("patients.csv", patients), InputFile("events.csv", events)),
                           label, directory=directory)
    assert result.ok, result.report.frame().to_string()
    assert result.path is not None
    return result.path


def test_slice_zip_with_a_carriage_return_reimports_to_the_same_cohort(tmp_path: Path, base) -> None:
    from core.importer import fetch_table_rows, to_import_text

    patients, events = _tables_with_cr_payload()
    source = _import_csv(*(to_import_text(t).to_csv(index=False, quoting=csv.QUOTE_ALL).encode()
                           for t in (patients, events)), "With a CR", tmp_path)
    original = open_cohort(source)
    try:
        rows = fetch_slice_rows(original, FilterSpec())
        assert CR_PAYLOAD in fetch_table_rows(original, "events")["cause"].tolist()   # accepted on import
    finally:
        original.close()
    with zipfile.ZipFile(io.BytesIO(export.slice_data_zip(*rows, base))) as archive:
        reimported = _import_csv(archive.read("patients.csv"), archive.read("events.csv"), "Again", tmp_path)
    again = open_cohort(reimported)
    try:
        for before, after in zip(rows, fetch_slice_rows(again, FilterSpec())):
            pd.testing.assert_frame_equal(before, after)
    finally:
        again.close()


def test_two_exports_of_a_slice_differ_only_in_the_export_date(tmp_path: Path, base) -> None:
    """The same slice stored in another row order, exported on another day: only the date lines differ."""
    from core.store import write_cohort_file

    patients, events = _tables_with_cr_payload()
    meta = {"label": "tiny test cohort", "reconstructed": "false"}
    stored = {"as_made": write_cohort_file(tmp_path / "a.duckdb", patients, events, meta),
              "shuffled": write_cohort_file(tmp_path / "b.duckdb", patients, events.sample(frac=1, random_state=0),
                                            meta)}
    later = TODAY + dt.timedelta(days=1)
    zips: dict[tuple[str, dt.date], bytes] = {}
    csvs: dict[tuple[str, dt.date], bytes] = {}
    for name, path in stored.items():
        cohort = open_cohort(path)
        try:
            slice_rows = fetch_slice_rows(cohort, FilterSpec(salvage_lines=(2, 3)))
        finally:
            cohort.close()
        for day in (TODAY, later):
            zips[name, day] = export.slice_data_zip(*slice_rows, base.with_(exported_on=day))
            csvs[name, day] = export.table_csv(slice_rows[1], base.with_(exported_on=day))
    assert zips["as_made", TODAY] == zips["shuffled", TODAY]
    assert csvs["as_made", TODAY] == csvs["shuffled", TODAY]

    def without_export_date(data: bytes) -> list[bytes]:
        return [line for line in data.split(b"\n") if not line.startswith((b"Exported: ", b"# Exported: "))]

    first, second = (zipfile.ZipFile(io.BytesIO(zips["as_made", day])) for day in (TODAY, later))
    assert first.namelist() == second.namelist() == ["patients.csv", "events.csv", "PROVENANCE.txt"]
    for name in first.namelist():
        assert without_export_date(first.read(name)) == without_export_date(second.read(name)), name
        assert first.getinfo(name).date_time == (TODAY.year, TODAY.month, TODAY.day, 0, 0, 0)  # not the clock
    assert first.read("PROVENANCE.txt") != second.read("PROVENANCE.txt")
    assert without_export_date(csvs["shuffled", TODAY]) == without_export_date(csvs["as_made", later])


# ----------------------------------------------------------------------------- deck
@needs_browser
def test_deck_pptx_and_pdf(cohort) -> None:
    from pptx import Presentation

    spec = FilterSpec()
    prov = slice_provenance(spec, n_slice=10, n_total=10, meta={"label": "tiny", "reconstructed": "false"})
    seen: list[float] = []
    files = export.build_deck(cohort, spec, prov, on_progress=lambda f, m: seen.append(f))
    assert seen == sorted(seen) and seen[-1] == 1.0
    deck = Presentation(io.BytesIO(files.pptx))
    titles = [s.shapes.title.text for s in deck.slides]
    charts = ["Response: CR/CRi by subgroup", "Overall survival", "Relapse and non-relapse mortality (competing risks)",
              "Safety: toxicity by HSCT status", "Course of treatment per patient"]
    assert titles == [export.DECK_TITLE, charts[0], "Response: key numbers", *charts[1:], "Provenance",
                      "Provenance (continued)"]
    for slide in list(deck.slides)[1:7]:
        if slide.shapes.title.text in charts:
            assert any(shape.shape_type == 13 for shape in slide.shapes)       # the chart picture
        if slide.shapes.title.text != charts[0]:                                # the forest's numbers follow it
            tables = [shape.table for shape in slide.shapes if shape.has_table]   # a native, editable table
            assert tables and tables[0].cell(0, 0).text in ("Measure", "Toxicity")
    first = "\n".join(shape.text_frame.text for shape in deck.slides[0].shapes if shape.has_text_frame)
    assert "All patients · n = 10" in first and "tiny" in first
    assert files.pdf is not None and files.pdf.startswith(b"%PDF")
    assert len(PdfReader(io.BytesIO(files.pdf)).pages) == len(deck.slides)


@needs_browser
def test_deck_with_suppression_leaves_out_the_swimmer_and_suppresses_tables(cohort) -> None:
    from pptx import Presentation

    spec = FilterSpec(salvage_lines=(1, 2))
    prov = slice_provenance(spec, n_slice=8, n_total=10, meta={}, suppress_below=5)
    content = export.deck_content(cohort, spec, prov)
    assert [c.key for c in content.charts] == ["response", "survival", "relapse", "safety"]
    assert any("swimmer" in note for note in content.notes)
    safety = content.charts[3].numbers
    assert "<5/<5" in safety.to_string() or "<5/" in safety.to_string()
    deck = Presentation(io.BytesIO(export.deck_pptx(content)))
    assert [s.shapes.title.text for s in deck.slides][5:] == ["Safety: toxicity by HSCT status", "Provenance",
                                                              "Provenance (continued)"]


# ----------------------------------------------------------------------------- no browser
def test_missing_browser_gives_a_typed_error_and_tables_still_work(monkeypatch, km, base, cohort) -> None:
    from pptx import Presentation

    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    status = export.export_available()
    assert not status and "apt-get install chromium" in status.message and "/nonexistent/chromium" in status.message
    fig, prov = km
    with pytest.raises(export.StaticExportUnavailable, match="apt-get install chromium"):
        export.figure_image(fig, prov, "png")
    assert export.table_csv(_frame(), base).startswith("\ufeff# Data".encode())
    assert export.table_xlsx(_frame(), base)[:2] == b"PK"
    files = export.build_deck(cohort, FilterSpec(), slice_provenance(FilterSpec(), n_slice=10, meta={}))
    assert files.pdf is None and "apt-get install chromium" in files.pdf_message
    assert len(Presentation(io.BytesIO(files.pptx)).slides) == 9    # the slides of test_deck_pptx_and_pdf


# ----------------------------------------------------------------------------- default cohort
@pytest.mark.skipif(not (ROOT / "data" / "reconstruction" / "expand.py").exists(),
                    reason="the default cohort's reconstruction (data/reconstruction/expand.py) is not there yet")
@needs_browser
def test_default_cohort_deck_ends_with_the_paper_check(default_cohort: Path) -> None:
    from pptx import Presentation

    from core.queries import fetch_study_meta

    c = open_cohort(default_cohort)
    try:
        meta = fetch_study_meta(c)
        prov = slice_provenance(FilterSpec(), n_slice=32, n_total=32, meta=meta)
        assert prov.reconstructed
        files = export.build_deck(c, FilterSpec(), prov)
        deck = Presentation(io.BytesIO(files.pptx))
        assert deck.slides[-1].shapes.title.text == "Paper check"
        text = "\n".join(s.text_frame.text for s in deck.slides[-1].shapes if s.has_text_frame)
        assert "published figures reproduced exactly" in text
        assert RECONSTRUCTED_TAG in "\n".join(s.text_frame.text for s in deck.slides[0].shapes if s.has_text_frame)
    finally:
        c.close()


def test_figure_copy_does_not_share_state() -> None:
    fig = go.Figure(go.Scatter(y=[1, 2]))
    out = export.with_provenance(fig, Provenance(slice_text="All patients", n_slice=2))
    out.data[0].y = (5, 6)
    assert tuple(fig.data[0].y) == (1, 2)


def test_export_package_stays_plain_python_in_small_modules() -> None:
    import ast

    for path in (ROOT / "core" / "export").glob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module}
        assert "streamlit" not in imported, path.name
        assert len(path.read_text().splitlines()) < 500, path.name

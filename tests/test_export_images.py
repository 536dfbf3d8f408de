"""How much provenance a chart image shows (block, one line, none) and the provenance every image
file carries in its metadata. Rendering tests need Chromium and are skipped without it."""

from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from core import charts, export
from core.database import open_cohort
from core.filters import FilterSpec
from core.provenance import PRODUCT_NAME, for_survival, for_toxicity, slice_provenance
from core.safety import toxicity_by_hsct
from core.survival import estimate_survival

ROOT = Path(__file__).resolve().parent.parent
SPEC = FilterSpec(salvage_lines=(1, 2))
SINGLE = export.PRESETS["journal_single"]
needs_browser = pytest.mark.skipif(not export.export_available(), reason="no Chrome/Chromium for static export")


@pytest.fixture()
def cohort(tiny_cohort: Path):
    c = open_cohort(tiny_cohort)
    yield c
    c.close()


@pytest.fixture()
def base():
    return slice_provenance(SPEC, n_slice=8, n_total=10, meta={"label": "tiny", "reconstructed": "true"},
                            exported_on=dt.date(2026, 3, 2))


@pytest.fixture()
def km(cohort, base):
    analysis = estimate_survival(cohort, SPEC, "os")
    return charts.km_figure(analysis, caption=base.caption, width_px=SINGLE.css_width), for_survival(base, analysis)


def _annotation(fig, name: str):
    return next((a for a in fig.layout.annotations if a.name == name), None)


# ----------------------------------------------------------------------------- in the picture
def test_block_line_and_none_show_less_and_less(km) -> None:
    fig, prov = km
    block, line, none = (export.with_provenance(fig, prov, width_px=SINGLE.css_width, stamp=s)
                         for s in ("block", "line", "none"))
    assert block.layout.height > line.layout.height > none.layout.height
    assert none.layout.height < fig.layout.height                  # the slice line went, nothing came
    assert _annotation(none, "provenance") is None
    assert prov.slice_text not in _annotation(none, "caption").text
    assert "Median" in _annotation(none, "caption").text              # the chart's own note stays
    footer = _annotation(line, "provenance").text
    assert "Salvage 1–2" in footer and PRODUCT_NAME in footer and "2026-03-02" in footer
    assert "Endpoint" not in footer                                    # one line, not the record
    for out in (block, line, none):
        assert out.layout.meta["provenance"]["Slice"] == "Salvage 1–2 · n = 8 of 10"


def test_figure_only_keeps_a_charts_notes_but_not_the_slice(cohort, base) -> None:
    table = toxicity_by_hsct(cohort, SPEC)
    fig = charts.toxicity_figure(table, caption=base.caption, width_px=SINGLE.css_width)
    out = export.with_provenance(fig, for_toxicity(base, table), stamp="none")
    caption = _annotation(out, "caption").text
    assert "HSCT: patients with an HSCT" in caption and "Salvage" not in caption and "Reconstructed" not in caption
    assert fig.layout.height - out.layout.height > 0
    assert "Salvage 1–2" in _annotation(fig, "caption").text      # the caller's figure is untouched


def test_suppression_leaves_a_ctcae_grade_range_alone(cohort, base) -> None:
    table = toxicity_by_hsct(cohort, SPEC)
    fig = export.suppress_figure_counts(charts.toxicity_figure(table, caption=base.caption), 5)
    assert "Grade 3/4 liver toxicity" in fig.layout.yaxis.ticktext
    assert any("&lt;5/" in str(t.text) for t in fig.data if (t.meta or {}).get("role") == "toxicity_labels")


def test_without_caption_leaves_the_plot_its_size(km) -> None:
    fig, _ = km
    out = export.without_caption(fig)
    assert _annotation(out, "caption") is None
    plot = fig.layout.height - fig.layout.margin.t - fig.layout.margin.b
    assert out.layout.height - out.layout.margin.t - out.layout.margin.b == pytest.approx(plot, abs=2)


def test_unknown_stamp_is_refused(km) -> None:
    fig, prov = km
    with pytest.raises(ValueError, match="block, line, none"):
        export.with_provenance(fig, prov, stamp="corner")
    with pytest.raises(ValueError, match="block, line, none"):
        export.figure_image(fig, prov, "png", stamp="corner")


# ----------------------------------------------------------------------------- in the file
def test_png_text_chunks_round_trip(base) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "white").save(buffer, format="PNG")
    png = export.with_metadata(buffer.getvalue(), "png", base)
    text = export.png_text(png)
    assert text["Title"] == "Salvage 1–2 · n = 8 of 10"
    assert text["Author"] == f"{PRODUCT_NAME} 0.1.0"
    assert text["Description"].splitlines() == base.lines()
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.size == (4, 3) and image.text["Comment"] == base.compact_line()     # Pillow reads them too


def test_image_zip_bundles_the_image_and_its_provenance(base) -> None:
    data = export.image_zip("chart.png", b"png bytes", base, text_name="chart_provenance.txt")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["chart.png", "chart_provenance.txt"]
        assert archive.read("chart.png") == b"png bytes"
        text = archive.read("chart_provenance.txt").decode("utf-8")
    assert all(line in text for line in base.lines())


@needs_browser
def test_figure_only_journal_column_is_the_figure_and_the_file_keeps_the_record(km) -> None:
    fig, prov = km
    heights = {}
    for stamp in ("block", "line", "none"):
        png = export.figure_image(fig, prov, "png", "journal_single", stamp=stamp)
        width, height = Image.open(io.BytesIO(png)).size
        assert width == 1050
        heights[stamp] = height / SINGLE.dpi
        text = export.png_text(png)
        assert text["Description"].splitlines() == prov.lines()
        assert text["Title"].startswith("Overall survival")
    assert heights["block"] > heights["line"] > heights["none"]
    assert heights["none"] < 0.7 * heights["block"]


@needs_browser
def test_svg_and_pdf_carry_the_provenance_in_their_metadata(km) -> None:
    fig, prov = km
    svg = export.figure_image(fig, prov, "svg", "journal_double", stamp="none")
    root = ET.fromstring(svg)
    dc = "{http://purl.org/dc/elements/1.1/}"
    assert root.find(f".//{dc}description").text.splitlines() == prov.lines()
    assert root.find(f".//{dc}creator").text == f"{PRODUCT_NAME} 0.1.0"
    pdf = export.figure_image(fig, prov, "pdf", "journal_double", stamp="none")
    reader = PdfReader(io.BytesIO(pdf))
    info = reader.metadata
    assert info.title == f"{prov.analysis} · Salvage 1–2 · n = 8 of 10" and "Kaleido" not in info.title
    assert info.author == info.creator == f"{PRODUCT_NAME} 0.1.0"
    assert info.subject == prov.compact_line()
    assert len(reader.pages) == 1 and "Exported" not in reader.pages[0].extract_text()   # not in the picture
    line = PdfReader(io.BytesIO(export.figure_image(fig, prov, "pdf", "journal_double", stamp="line")))
    assert "exported 2026-03-02" in line.pages[0].extract_text()


# ----------------------------------------------------------------------------- the control
@needs_browser
def test_chart_popover_lets_the_user_leave_provenance_out_and_take_it_as_a_txt(tiny_cohort: Path,
                                                                                 cohort_env) -> None:
    cohort_env(tiny_cohort)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/survival.py").run()
    key = "dl_chart_overall_survival"
    assert at.radio(key=f"{key}_stamp").value == "block"
    assert f"{key}_txt" not in {b.key for b in at.download_button}
    at.radio(key=f"{key}_stamp").set_value("none").run()
    buttons = {b.key: b.label for b in at.download_button}
    assert buttons[f"{key}_txt"] == "Provenance · TXT" and buttons[f"{key}_png_slide"] == "PNG · slide"
    at.toggle(key=f"{key}_bundle").set_value(True).run()
    buttons = {b.key: b.label for b in at.download_button}
    assert buttons[f"{key}_png_journal_single"] == "PNG · 1 column + provenance (ZIP)"
    assert not at.exception

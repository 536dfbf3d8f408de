"""The tumour-board deck can be shown as it comes out: every shape on the slide, nothing overlapping,
type at 14 pt or more (the one-line footer at 10 pt or more), charts filling their box at presenter
size, the slice stated once per slide, the full provenance at the end.

Decks are built once per module from the default (reconstructed) cohort: the whole cohort (32
patients: the swimmer plot takes two slides) and a narrow slice. The PDF is rendered to PNG with
poppler's pdftoppm and each page is checked for its size and for ink."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pptx import Presentation
from pptx.util import Emu
from pypdf import PdfReader

from core import export
from core.database import open_cohort
from core.export.deck_layout import (
    DECK_PX_PER_IN,
    FOOTER_PT,
    MAX_SWIMMER_LANES,
    SLIDE_H_IN,
    SLIDE_W_IN,
    chart_image_job,
    text_width_in,
)
from core.export.deck_plan import plan_deck
from core.filters import FilterSpec
from core.provenance import RECONSTRUCTED_TAG, slice_provenance
from core.queries import fetch_study_meta

needs_browser = pytest.mark.skipif(not export.export_available(), reason="no Chrome/Chromium for static export")
pytestmark = needs_browser

EMU_PER_IN = 914400
MIN_PT, MIN_FOOTER_PT = 14, 10
SLICES = {"whole": (FilterSpec(), 32), "narrow": (FilterSpec(salvage_lines=(2, 3), blast_burden="high"), None)}


@pytest.fixture(scope="module")
def decks(default_cohort: Path) -> dict[str, tuple[export.DeckContent, export.DeckFiles]]:
    from core.queries import fetch_patient_listing

    cohort = open_cohort(default_cohort)
    try:
        out = {}
        for name, (spec, _) in SLICES.items():
            n = len(fetch_patient_listing(cohort, spec))
            prov = slice_provenance(spec, n_slice=n, n_total=32, meta=fetch_study_meta(cohort))
            content = export.deck_content(cohort, spec, prov)
            out[name] = content, export.build_deck(cohort, spec, prov)
        return out
    finally:
        cohort.close()


def _inches(emu: int) -> float:
    return emu / EMU_PER_IN


def _box(shape) -> tuple[float, float, float, float]:  # type: ignore[no-untyped-def]
    return _inches(shape.left), _inches(shape.top), _inches(shape.left + shape.width), _inches(shape.top + shape.height)


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] - 1e-3 and b[0] < a[2] - 1e-3 and a[1] < b[3] - 1e-3 and b[1] < a[3] - 1e-3


def _runs(shape):  # type: ignore[no-untyped-def]
    frames = [shape.text_frame] if shape.has_text_frame else []
    if shape.has_table:
        frames += [cell.text_frame for row in shape.table.rows for cell in row.cells]
    return [run for frame in frames for paragraph in frame.paragraphs for run in paragraph.runs if run.text.strip()]


# ----------------------------------------------------------------------------- PowerPoint geometry
@pytest.mark.parametrize("name", list(SLICES))
def test_every_shape_is_on_the_slide_and_nothing_overlaps(decks, name: str) -> None:
    _, files = decks[name]
    deck = Presentation(io.BytesIO(files.pptx))
    assert (_inches(deck.slide_width), _inches(deck.slide_height)) == pytest.approx((SLIDE_W_IN, SLIDE_H_IN))
    for number, slide in enumerate(deck.slides, start=1):
        boxes = [(shape.name, _box(shape)) for shape in slide.shapes]
        for shape_name, (left, top, right, bottom) in boxes:
            assert left >= 0 and top >= 0 and right <= SLIDE_W_IN + 1e-3 and bottom <= SLIDE_H_IN + 1e-3, \
                (number, shape_name)
        for i, (a_name, a) in enumerate(boxes):
            for b_name, b in boxes[i + 1:]:
                assert not _overlap(a, b), (number, a_name, b_name)


@pytest.mark.parametrize("name", list(SLICES))
def test_type_is_14_pt_or_more_and_the_footer_10_pt_or_more(decks, name: str) -> None:
    _, files = decks[name]
    deck = Presentation(io.BytesIO(files.pptx))
    for number, slide in enumerate(deck.slides, start=1):
        small = []
        for shape in slide.shapes:
            for run in _runs(shape):
                assert run.font.size is not None, (number, shape.name, run.text)
                if run.font.size.pt < MIN_PT:
                    small.append((shape, run))
        # only a footer: one line, one run, in the slide's bottom strip
        assert len(small) <= 1, (number, [r.text for _, r in small])
        for shape, run in small:
            assert run.font.size.pt >= MIN_FOOTER_PT and _inches(shape.top) > SLIDE_H_IN - 0.6, (number, run.text)
            assert text_width_in(run.text, run.font.size.pt) <= _inches(shape.width), (number, run.text)


@pytest.mark.parametrize("name", list(SLICES))
def test_title_boxes_have_a_height_and_sit_in_the_top_of_the_slide(decks, name: str) -> None:
    _, files = decks[name]
    deck = Presentation(io.BytesIO(files.pptx))
    first = deck.slides[0].shapes.title
    assert first.height > Emu(0) and _inches(first.height) >= 0.5 and first.text_frame.text == export.DECK_TITLE
    for slide in list(deck.slides)[1:]:
        title = slide.shapes.title
        assert title.height > Emu(0) and 0 < _inches(title.top) < 0.5 and _inches(title.top + title.height) < 1.1


@pytest.mark.parametrize("name", list(SLICES))
def test_each_slide_states_its_slice_once_and_the_provenance_comes_at_the_end(decks, name: str) -> None:
    content, files = decks[name]
    deck = Presentation(io.BytesIO(files.pptx))
    titles = [s.shapes.title.text for s in deck.slides]
    assert titles[-1] == "Paper check"                                          # the reconstructed cohort
    first_provenance = titles.index("Provenance")
    assert all(t.startswith("Provenance") for t in titles[first_provenance:-1])
    slice_text = content.provenance.slice_text
    for slide in list(deck.slides)[1:first_provenance]:
        texts = [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]
        assert sum(slice_text in t for t in texts) == 1, slide.shapes.title.text     # the footer, and only it
        assert any(f"provenance: slide {first_provenance + 1}" in t for t in texts)
    record = "\n".join(shape.text_frame.text for slide in list(deck.slides)[first_provenance:-1]
                       for shape in slide.shapes if shape.has_text_frame)
    for chart in content.charts:
        for key, value in chart.provenance.items():
            if key not in ("Data", "Product", "Exported"):
                assert value in record, (chart.title, key)
    assert RECONSTRUCTED_TAG in record


# ----------------------------------------------------------------------------- charts on the slide
def _fonts(fig) -> list[float]:  # type: ignore[no-untyped-def]
    layout = fig.layout
    sizes = [layout.font.size, layout.legend.font.size, layout.title.font.size]
    sizes += [a.font.size for a in layout.annotations]
    for name in layout.to_plotly_json():
        if name.startswith(("xaxis", "yaxis")):
            sizes += [layout[name].tickfont.size, layout[name].title.font.size]
    sizes += [t.textfont.size for t in fig.data if "text" in (getattr(t, "mode", None) or "")]
    return [float(s) for s in sizes if s is not None]


@pytest.mark.parametrize("name", list(SLICES))
def test_charts_are_laid_out_for_their_box_at_presenter_size(decks, name: str) -> None:
    content, files = decks[name]
    deck = Presentation(io.BytesIO(files.pptx))
    pictures = [shape for slide in deck.slides for shape in slide.shapes if shape.shape_type == 13]
    assert len(pictures) == len(content.charts)
    for chart, picture in zip(content.charts, pictures):
        fig, _, fmt, preset = chart_image_job(chart, "png")
        placed_w, placed_h = _inches(picture.width), _inches(picture.height)
        assert preset.css_width / placed_w == pytest.approx(DECK_PX_PER_IN, rel=0.01)      # not shrunk to fit
        assert preset.css_height / placed_h == pytest.approx(DECK_PX_PER_IN, rel=0.01)
        assert min(_fonts(fig)) * 72 / DECK_PX_PER_IN >= MIN_PT, chart.title
        assert placed_w * placed_h >= 0.45 * SLIDE_W_IN * SLIDE_H_IN, chart.title      # the chart fills the slide
        assert not [a.name for a in fig.layout.annotations if a.name in ("caption", "provenance")]
        image = Image.open(io.BytesIO(picture.image.blob))
        assert image.size[0] / image.size[1] == pytest.approx(placed_w / placed_h, rel=0.01)


def test_toxicity_labels_of_the_two_arms_do_not_overlap(decks) -> None:
    for content, _ in decks.values():
        chart = next(c for c in content.charts if c.key == "safety")
        fig, *_ = chart_image_job(chart, "png")
        plot_px = fig.layout.height - fig.layout.margin.t - fig.layout.margin.b
        low, high = fig.layout.yaxis.range
        px_per_unit = plot_px / (high - low)
        labels = [t for t in fig.data if (t.meta or {}).get("role") == "toxicity_labels"]
        hsct, no_hsct = (sorted(t.y) for t in labels)
        size = labels[0].textfont.size
        for a, b in zip(hsct, no_hsct):
            assert abs(a - b) * px_per_unit >= 1.2 * size            # one label's height apart, and more


def test_the_swimmer_plot_takes_as_many_slides_as_its_lanes_need_on_one_time_axis(decks) -> None:
    content, files = decks["whole"]
    parts = [c for c in content.charts if c.key == "swimmer"]
    assert len(parts) == -(-32 // MAX_SWIMMER_LANES) == 2
    assert [c.title for c in parts] == ["Course of treatment per patient (1 of 2)",
                                        "Course of treatment per patient (2 of 2)"]
    lanes = [len(c.figure.layout.yaxis.tickvals) for c in parts]
    assert sum(lanes) == 32 and max(lanes) <= MAX_SWIMMER_LANES
    assert parts[0].figure.layout.xaxis.range == parts[1].figure.layout.xaxis.range
    assert not parts[0].numbers.empty and parts[1].numbers.empty
    for chart in parts:
        fig, *_ = chart_image_job(chart, "png")
        lane_px = (fig.layout.height - fig.layout.margin.t - fig.layout.margin.b) / (len(fig.layout.yaxis.tickvals)
                                                                                      + 0.6)
        assert lane_px >= fig.layout.yaxis.tickfont.size * 1.15


# ----------------------------------------------------------------------------- the PDF as a reader sees it
@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) is not installed")
@pytest.mark.parametrize("name", list(SLICES))
def test_pdf_pages_render_at_slide_size_and_are_not_blank(decks, name: str, tmp_path: Path) -> None:
    content, files = decks[name]
    assert files.pdf is not None
    pdf = tmp_path / "deck.pdf"
    pdf.write_bytes(files.pdf)
    reader = PdfReader(io.BytesIO(files.pdf))
    assert reader.metadata.title.startswith(export.DECK_TITLE) and "Kaleido" not in reader.metadata.title
    assert reader.metadata.subject == content.provenance.compact_line()
    subprocess.run(["pdftoppm", "-png", "-r", "30", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    plans = plan_deck(content)
    assert len(pages) == len(reader.pages) == len(plans)
    for page, plan in zip(pages, plans):
        image = Image.open(page).convert("L")
        assert image.size == (round(SLIDE_W_IN * 30), round(SLIDE_H_IN * 30)), page.name
        ink = image.point(lambda value: 255 if value < 200 else 0).histogram()[255] / (image.size[0] * image.size[1])
        assert ink > (0.03 if plan.kind == "chart" else 0.005), (page.name, plan.title, ink)


def test_footer_line_fits_even_for_a_long_slice() -> None:
    from core.export.deck_plan import footer_text

    spec = FilterSpec(salvage_lines=(1, 2, 3), blast_burden="high", dose_groups=("<1.8", "1.8"), hsct=False,
                      age_min=18, age_max=60, sexes=("F",), centres=("A very long centre name " * 4,),
                      ph_statuses=("Ph+",), disease_statuses=("refractory",), emd_baseline=False)
    prov = slice_provenance(spec, n_slice=3, n_total=32, meta={"reconstructed": "true"})
    line = footer_text(prov, 9)
    assert text_width_in(line, FOOTER_PT) <= SLIDE_W_IN - 0.9
    assert line.endswith("provenance: slide 9") and "…" in line and RECONSTRUCTED_TAG in line

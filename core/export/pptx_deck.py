"""The tumour-board deck as PowerPoint: title slide, one slide per chart (image + native table),
and the paper check."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from core.export.deck_layout import (
    BOX_BOTTOM_IN,
    BOX_LEFT_IN,
    BOX_TOP_IN,
    BOX_W_IN,
    MAX_MISSES_SHOWN,
    SLIDE_H_IN,
    SLIDE_W_IN,
    DeckContent,
    ProgressCallback,
    chart_image_job,
    column_weights,
    footer_text,
    misses_shown,
    report_progress,
    title_lines,
)
from core.export.renderer import export_available, figure_images, png_size
from core.provenance import RECONSTRUCTED_TAG


def deck_pptx(content: DeckContent, *, images: Sequence[bytes] | None = None,
              on_progress: ProgressCallback | None = None) -> bytes:
    """The deck as PowerPoint: title slide, one slide per chart (image + native table), paper check."""
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.util import Inches, Pt

    if images is None and export_available():
        images = figure_images([chart_image_job(c, "png") for c in content.charts])
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(SLIDE_W_IN), Inches(SLIDE_H_IN)
    title_layout, title_only = prs.slide_layouts[0], prs.slide_layouts[5]
    margin = Inches(0.4)
    content_w = prs.slide_width - 2 * margin
    red = RGBColor(0x9C, 0x00, 0x06)

    def place_title(slide: Any, text: str) -> None:
        title = slide.shapes.title
        title.left, title.top, title.width, title.height = margin, Inches(0.25), content_w, Inches(0.8)
        title.text = text
        para = title.text_frame.paragraphs[0]
        para.font.size, para.font.bold = Pt(30), True
        para.alignment = 1  # left

    def footer(slide: Any) -> None:
        box = slide.shapes.add_textbox(margin, prs.slide_height - Inches(0.45), content_w, Inches(0.35))
        box.text_frame.word_wrap = True
        para = box.text_frame.paragraphs[0]
        para.text = footer_text(content.provenance)
        para.font.size = Pt(11)
        if content.provenance.reconstructed:
            para.font.color.rgb = red

    def add_table(slide: Any, frame: pd.DataFrame, left: int, top: int, width: int, max_rows: int = 16,
                  size: int = 14) -> None:
        shown = frame.head(max_rows)
        rows, cols = len(shown) + 1, len(shown.columns)
        height = Inches(0.4) * rows
        table = slide.shapes.add_table(rows, cols, left, top, width, height).table
        weights = column_weights(shown)
        for c, weight in enumerate(weights):
            table.columns[c].width = int(width * weight / sum(weights))
        for c, name in enumerate(shown.columns):
            cell = table.cell(0, c)
            cell.text = str(name)
            cell.text_frame.paragraphs[0].font.size = Pt(size)
            cell.text_frame.paragraphs[0].font.bold = True
        for r, row in enumerate(shown.itertuples(index=False), start=1):
            for c, value in enumerate(row):
                cell = table.cell(r, c)
                cell.text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
                cell.text_frame.paragraphs[0].font.size = Pt(size)

    # title slide
    slide = prs.slides.add_slide(title_layout)
    slide.shapes.title.text = content.title
    slide.shapes.title.text_frame.paragraphs[0].font.size = Pt(36)
    subtitle = slide.placeholders[1]
    subtitle.left, subtitle.width = margin, content_w
    subtitle.top, subtitle.height = Inches(3.6), Inches(3.4)
    slide.shapes.title.left, slide.shapes.title.width = margin, content_w
    frame = subtitle.text_frame
    for i, line in enumerate(title_lines(content)):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        para.text = line
        para.font.size = Pt(22 if i == 0 else 18)
        if line == RECONSTRUCTED_TAG:
            para.font.bold = True
            para.font.color.rgb = red

    n_steps = len(content.charts) + 1
    for i, chart in enumerate(content.charts):
        report_progress(on_progress, 0.8 + 0.15 * i / n_steps, f"Slide: {chart.title}")
        slide = prs.slides.add_slide(title_only)
        place_title(slide, chart.title)
        top = Inches(BOX_TOP_IN)
        box_w, box_h = Inches(BOX_W_IN), prs.slide_height - top - Inches(BOX_BOTTOM_IN)
        image_w = box_w
        if images is not None:
            png = images[i]
            w_px, h_px = png_size(png)
            scale = min(box_w / w_px, box_h / h_px)
            image_w, image_h = int(w_px * scale), int(h_px * scale)
            slide.shapes.add_picture(io.BytesIO(png), Inches(BOX_LEFT_IN), top, width=image_w, height=image_h)
        else:
            box = slide.shapes.add_textbox(margin, top, box_w, Inches(1))
            box.text_frame.word_wrap = True
            box.text_frame.text = "Chart image unavailable: " + export_available().message
        table_left = Inches(BOX_LEFT_IN) + image_w + Inches(0.2)
        add_table(slide, chart.numbers, table_left, top, prs.slide_width - table_left - margin,
                  size=14 if len(chart.numbers.columns) <= 3 else 12)
        footer(slide)

    if content.paper_summary is not None:
        slide = prs.slides.add_slide(title_only)
        place_title(slide, "Paper check")
        box = slide.shapes.add_textbox(margin, Inches(1.15), content_w, Inches(0.6))
        box.text_frame.text = content.paper_summary + (
            f"; {len(content.paper_misses)} differ:" if content.paper_misses is not None and len(content.paper_misses)
            else "")
        box.text_frame.paragraphs[0].font.size = Pt(22)
        if content.paper_misses is not None and len(content.paper_misses):
            add_table(slide, misses_shown(content.paper_misses), margin, Inches(1.9), content_w,
                      max_rows=MAX_MISSES_SHOWN + 1, size=12)
        footer(slide)
    report_progress(on_progress, 0.97, "PowerPoint written")
    buffer = io.BytesIO()
    prs.save(buffer)
    return buffer.getvalue()

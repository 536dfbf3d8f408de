"""The tumour-board deck as PowerPoint, drawn from `deck_plan.plan_deck`: native titles, text and
tables (editable), chart images placed at their box's size. Every text run carries its size and
font explicitly, so what PowerPoint shows is what the plan measured."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from core.export.deck_layout import (
    FONT,
    SLIDE_H_IN,
    SLIDE_W_IN,
    Box,
    DeckContent,
    ProgressCallback,
    TableLayout,
    chart_image_job,
    report_progress,
)
from core.export.deck_plan import SlidePlan, TextBlock, plan_deck, unavailable_block
from core.export.renderer import export_available, figure_images


def _emu(inches: float) -> int:
    return int(round(inches * 914400))


def _place(shape: Any, box: Box) -> None:
    shape.left, shape.top, shape.width, shape.height = _emu(box.left), _emu(box.top), _emu(box.width), _emu(box.height)


def _style_run(run: Any, pt: float, *, bold: bool = False, colour: str = "000000") -> None:
    from pptx.dml.color import RGBColor
    from pptx.util import Pt

    run.font.size = Pt(pt)
    run.font.bold = bold
    run.font.name = FONT
    run.font.color.rgb = RGBColor.from_string(colour)


def _frame(text_frame: Any) -> None:
    from pptx.enum.text import MSO_AUTO_SIZE

    text_frame.word_wrap = True
    text_frame.auto_size = MSO_AUTO_SIZE.NONE
    text_frame.margin_left = text_frame.margin_right = 0
    text_frame.margin_top = text_frame.margin_bottom = 0


def _write(text_frame: Any, block: TextBlock) -> None:
    from pptx.util import Pt

    _frame(text_frame)
    for i, paragraph in enumerate(block.paragraphs):
        para = text_frame.paragraphs[0] if i == 0 else text_frame.add_paragraph()
        para.alignment = 1                          # left
        para.line_spacing = 1.1
        if paragraph.space_before_pt:
            para.space_before = Pt(paragraph.space_before_pt)
        run = para.add_run()
        run.text = paragraph.text
        _style_run(run, paragraph.pt, bold=paragraph.bold, colour=paragraph.colour)


def _title(slide: Any, plan: SlidePlan) -> None:
    from pptx.enum.text import MSO_ANCHOR

    title = slide.shapes.title
    _place(title, plan.title_box)
    _frame(title.text_frame)
    title.text_frame.vertical_anchor = MSO_ANCHOR.TOP
    para = title.text_frame.paragraphs[0]
    para.alignment = 1
    run = para.add_run()
    run.text = plan.title
    _style_run(run, plan.title_pt, bold=True)


def _table(slide: Any, layout: TableLayout) -> None:
    rows = (layout.header, *layout.rows)
    shape = slide.shapes.add_table(len(rows), len(layout.col_widths), _emu(layout.left), _emu(layout.top),
                                   _emu(layout.box.width), _emu(layout.box.height))
    table = shape.table
    for c, width in enumerate(layout.col_widths):
        table.columns[c].width = _emu(width)
    for r, height in enumerate(layout.row_heights):
        table.rows[r].height = _emu(height)
    for r, cells in enumerate(rows):
        for c, lines in enumerate(cells):
            cell = table.cell(r, c)
            cell.margin_left = cell.margin_right = _emu(0.08)
            cell.margin_top = cell.margin_bottom = _emu(0.05)
            frame = cell.text_frame
            frame.word_wrap = True
            run = frame.paragraphs[0].add_run()
            run.text = " ".join(lines)               # PowerPoint wraps it within the measured width
            _style_run(run, layout.font_pt, bold=r == 0)


def _text_box(slide: Any, block: TextBlock) -> None:
    box = slide.shapes.add_textbox(0, 0, 0, 0)
    _write(box.text_frame, block)
    _place(box, block.box)


def _remove_empty_placeholders(slide: Any) -> None:
    for shape in list(slide.placeholders):
        if shape.placeholder_format.idx != 0 and not shape.text_frame.text:
            shape.element.getparent().remove(shape.element)


def deck_pptx(content: DeckContent, *, images: Sequence[bytes] | None = None,
              on_progress: ProgressCallback | None = None) -> bytes:
    """The deck as PowerPoint (see `deck_plan` for the slides); `images` are the charts' PNGs in
    content order, rendered here when not given and a browser is there."""
    from pptx import Presentation
    from pptx.util import Emu

    if images is None and export_available():
        images = figure_images([chart_image_job(c, "png") for c in content.charts], stamp="none")
    prs = Presentation()
    prs.slide_width, prs.slide_height = Emu(_emu(SLIDE_W_IN)), Emu(_emu(SLIDE_H_IN))
    title_layout, title_only = prs.slide_layouts[0], prs.slide_layouts[5]
    plans = plan_deck(content)
    for n, plan in enumerate(plans):
        report_progress(on_progress, 0.8 + 0.15 * n / len(plans), f"Slide: {plan.title}")
        slide = prs.slides.add_slide(title_layout if plan.kind == "title" else title_only)
        _title(slide, plan)
        for block in plan.blocks:
            if plan.kind == "title":                  # the title layout's subtitle placeholder holds it
                subtitle = slide.placeholders[1]
                _place(subtitle, block.box)
                _write(subtitle.text_frame, block)
            else:
                _text_box(slide, block)
        if plan.kind == "chart" and plan.chart is not None and plan.chart_box is not None:
            if images is not None:
                slide.shapes.add_picture(io.BytesIO(images[plan.chart]), _emu(plan.chart_box.left),
                                         _emu(plan.chart_box.top), _emu(plan.chart_box.width),
                                         _emu(plan.chart_box.height))
            else:
                _text_box(slide, unavailable_block(plan.chart_box, export_available().message))
        if plan.table is not None:
            _table(slide, plan.table)
        if plan.footer is not None:
            _text_box(slide, plan.footer)
        _remove_empty_placeholders(slide)
    report_progress(on_progress, 0.97, "PowerPoint written")
    buffer = io.BytesIO()
    prs.save(buffer)
    return buffer.getvalue()

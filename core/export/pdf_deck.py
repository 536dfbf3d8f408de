"""The tumour-board deck as a PDF drawn from `deck_plan.plan_deck`, one page per slide, all vector:
each slide is one plotly page (text as annotations, tables as plotly tables, the chart's SVG as a
layout image in its box); pypdf joins the pages and writes the deck's document information."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import plotly.graph_objects as go

from core.export.deck_layout import (
    CELL_MARGIN_Y_IN,
    FONT,
    SLIDE_H_IN,
    SLIDE_W_IN,
    TABLE_LINE_SPACING,
    Box,
    DeckContent,
    ProgressCallback,
    TableLayout,
    chart_image_job,
    line_height_in,
    report_progress,
    wrap_text,
)
from core.export.deck_plan import SlidePlan, TextBlock, plan_deck
from core.export.metadata import pdf_info
from core.export.renderer import figure_images, render_pages, require_export
from core.export.stamp import CSS_PX_PER_INCH
from core.text import plotly_text

_SLIDE_CSS = (round(SLIDE_W_IN * CSS_PX_PER_INCH), round(SLIDE_H_IN * CSS_PX_PER_INCH))   # 1280 × 720
_PX_PER_PT = CSS_PX_PER_INCH / 72


def _x(inches: float) -> float:
    return inches / SLIDE_W_IN


def _y(inches: float) -> float:
    """Paper y of a distance from the slide's top edge."""
    return 1 - inches / SLIDE_H_IN


def _page() -> go.Figure:
    w, h = _SLIDE_CSS
    fig = go.Figure()
    fig.update_layout(width=w, height=h, margin=dict(l=0, r=0, t=0, b=0), paper_bgcolor="#FFFFFF",
                      plot_bgcolor="#FFFFFF", showlegend=False, font=dict(family=FONT, color="#000000"))
    fig.update_xaxes(visible=False, range=[0, 1], fixedrange=True)
    fig.update_yaxes(visible=False, range=[0, 1], fixedrange=True)
    return fig


def _text(fig: go.Figure, lines: Sequence[str], left: float, top: float, pt: float, *, bold: bool = False,
          colour: str = "000000") -> None:
    body = "<br>".join(plotly_text(line) for line in lines)
    fig.add_annotation(text=f"<b>{body}</b>" if bold else body, xref="paper", yref="paper", x=_x(left), y=_y(top),
                       xanchor="left", yanchor="top", showarrow=False, align="left",
                       font=dict(size=pt * _PX_PER_PT, color=f"#{colour}"))


def _block(fig: go.Figure, block: TextBlock) -> None:
    top = block.box.top
    for paragraph, lines in zip(block.paragraphs, block.lines):
        top += paragraph.space_before_pt / 72
        _text(fig, lines, block.box.left, top, paragraph.pt, bold=paragraph.bold, colour=paragraph.colour)
        top += len(lines) * line_height_in(paragraph.pt)


def _table(fig: go.Figure, layout: TableLayout) -> None:
    box = layout.box
    size = layout.font_pt * _PX_PER_PT
    row_px = (layout.font_pt * TABLE_LINE_SPACING / 72 + 2 * CELL_MARGIN_Y_IN) * CSS_PX_PER_INCH
    columns = list(zip(*layout.rows)) if layout.rows else [()] * len(layout.col_widths)
    # plotly draws rows from the top of the domain; room below keeps a row it sets taller from being cut
    bottom = min(SLIDE_H_IN - 0.05, box.bottom + 0.6)
    fig.add_trace(go.Table(
        domain=dict(x=[_x(box.left), _x(box.right)], y=[_y(bottom), _y(box.top)]),
        columnwidth=list(layout.col_widths),
        header=dict(values=["<b>" + "<br>".join(plotly_text(t) for t in lines) + "</b>" for lines in layout.header],
                    align="left", fill_color="#E8EEF4", line_color="#999999", height=row_px,
                    font=dict(size=size, color="#000000", family=FONT)),
        cells=dict(values=[["<br>".join(plotly_text(t) for t in lines) for lines in column] for column in columns],
                   align="left", fill_color="#FFFFFF", line_color="#BBBBBB", height=row_px,
                   font=dict(size=size, color="#000000", family=FONT)),
    ))


def _chart(fig: go.Figure, svg: bytes, box: Box) -> None:
    fig.add_layout_image(source="data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii"),
                         xref="paper", yref="paper", x=_x(box.left), y=_y(box.top), sizex=box.width / SLIDE_W_IN,
                         sizey=box.height / SLIDE_H_IN, xanchor="left", yanchor="top", sizing="stretch",
                         layer="above")


def _slide(plan: SlidePlan, chart_svgs: Sequence[bytes]) -> go.Figure:
    fig = _page()
    _text(fig, wrap_text(plan.title, plan.title_box.width, plan.title_pt, bold=True), plan.title_box.left,
          plan.title_box.top, plan.title_pt, bold=True)
    for block in plan.blocks:
        _block(fig, block)
    if plan.kind == "chart" and plan.chart is not None and plan.chart_box is not None:
        _chart(fig, chart_svgs[plan.chart], plan.chart_box)
    if plan.table is not None:
        _table(fig, plan.table)
    if plan.footer is not None:
        _block(fig, plan.footer)
    return fig


def deck_pdf(content: DeckContent, *, chart_svgs: Sequence[bytes] | None = None,
             on_progress: ProgressCallback | None = None) -> bytes:
    """The deck as a PDF (see `deck_plan` for the slides); `chart_svgs` are the charts' SVGs in
    content order, rendered here when not given. Needs the static-export browser."""
    from pypdf import PdfReader, PdfWriter

    require_export()
    if chart_svgs is None:
        report_progress(on_progress, 0.4, "Rendering chart images")
        chart_svgs = figure_images([chart_image_job(c, "svg") for c in content.charts], stamp="none")
    w, h = _SLIDE_CSS
    pages = [_slide(plan, chart_svgs) for plan in plan_deck(content)]
    report_progress(on_progress, 0.75, "Rendering PDF pages")
    rendered = render_pages([(page.to_dict(), {"format": "pdf", "width": w, "height": h, "scale": 1})
                             for page in pages])
    writer = PdfWriter()
    for pdf in rendered:
        writer.add_page(PdfReader(io.BytesIO(pdf)).pages[0])
    p = content.provenance
    writer.add_metadata({**pdf_info(p), "/Title": f"{content.title} · {p.slice_text} · {p.n_text}"})
    buffer = io.BytesIO()
    writer.write(buffer)
    report_progress(on_progress, 0.97, "PDF written")
    return buffer.getvalue()

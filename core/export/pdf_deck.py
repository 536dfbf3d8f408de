"""The tumour-board deck as a PDF, one page per slide, all vector: each slide (title, chart, native
table, footer) is one plotly page with the chart's SVG as a layout image; pypdf joins the pages."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from core.export.deck_layout import (
    BOX_BOTTOM_IN,
    BOX_LEFT_IN,
    BOX_TOP_IN,
    BOX_W_IN,
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
from core.export.renderer import ExportRenderError, figure_images, render_pages, require_export
from core.export.stamp import CSS_PX_PER_INCH
from core.provenance import PRODUCT_NAME, RECONSTRUCTED_TAG
from core.text import plotly_text

_SLIDE_CSS = (round(SLIDE_W_IN * CSS_PX_PER_INCH), round(SLIDE_H_IN * CSS_PX_PER_INCH))   # 1280 × 720


def _slide_figure(title: str, *, footer: str, reconstructed: bool) -> go.Figure:
    w, h = _SLIDE_CSS
    fig = go.Figure()
    fig.update_layout(width=w, height=h, margin=dict(l=0, r=0, t=0, b=0), paper_bgcolor="#FFFFFF",
                      plot_bgcolor="#FFFFFF", showlegend=False,
                      font=dict(family="Arial, Helvetica, 'Liberation Sans', sans-serif", color="#000000"))
    fig.update_xaxes(visible=False, range=[0, 1], fixedrange=True)
    fig.update_yaxes(visible=False, range=[0, 1], fixedrange=True)
    fig.add_annotation(text=f"<b>{plotly_text(title)}</b>", xref="paper", yref="paper", x=0.03, y=0.975,
                       xanchor="left", yanchor="top", showarrow=False, font=dict(size=30))
    fig.add_annotation(text=plotly_text(footer), xref="paper", yref="paper", x=0.03, y=0.012, xanchor="left",
                       yanchor="bottom", showarrow=False, align="left",
                       font=dict(size=11, color="#9C0006" if reconstructed else "#333333"))
    return fig


def _table_trace(frame: pd.DataFrame, x: tuple[float, float], y: tuple[float, float], size: int) -> go.Table:
    widths = column_weights(frame)
    return go.Table(
        domain=dict(x=list(x), y=list(y)), columnwidth=widths,
        header=dict(values=[f"<b>{plotly_text(str(c))}</b>" for c in frame.columns], align="left",
                    fill_color="#E8EEF4", line_color="#999999", font=dict(size=size, color="#000000"),
                    height=size * 2),
        cells=dict(values=[[plotly_text("" if v is None else str(v)) for v in frame[c]] for c in frame.columns],
                   align="left", fill_color="#FFFFFF", line_color="#BBBBBB", font=dict(size=size, color="#000000"),
                   height=size * 1.9),
    )


def _chart_box_fit(width: float, height: float) -> tuple[float, float]:
    """(scale, fitted width in inches) of a chart of `width` × `height` (any unit per inch ratio)."""
    box_w, box_h = BOX_W_IN, SLIDE_H_IN - BOX_TOP_IN - BOX_BOTTOM_IN
    scale = min(box_w / width, box_h / height)
    return scale, width * scale


def _svg_size(svg: bytes) -> tuple[float, float]:
    head = svg[:400].decode("utf-8", "replace")
    w = re.search(r'width="([\d.]+)', head)
    h = re.search(r'height="([\d.]+)', head)
    if not (w and h):
        raise ExportRenderError("The chart SVG has no size; cannot place it on the slide.")
    return float(w.group(1)), float(h.group(1))


def deck_pdf(content: DeckContent, *, chart_svgs: Sequence[bytes] | None = None,
             on_progress: ProgressCallback | None = None) -> bytes:
    """The deck as a PDF, one page per slide, all vector: each slide (title, chart, native table,
    footer) is one plotly page with the chart's SVG as a layout image; pypdf joins the pages."""
    from pypdf import PdfReader, PdfWriter

    require_export()
    if chart_svgs is None:
        report_progress(on_progress, 0.4, "Rendering chart images")
        chart_svgs = figure_images([chart_image_job(c, "svg") for c in content.charts])
    p = content.provenance
    footer = footer_text(p)
    w, h = _SLIDE_CSS
    pages: list[go.Figure] = []

    title = _slide_figure(content.title, footer=footer, reconstructed=p.reconstructed)
    title.layout.annotations[0].update(y=0.62, yanchor="bottom", font=dict(size=36))
    lines = title_lines(content)
    text = "<br>".join(f"<b>{plotly_text(line)}</b>" if line == RECONSTRUCTED_TAG else plotly_text(line)
                       for line in lines)
    title.add_annotation(text=text, xref="paper", yref="paper", x=0.03, y=0.56, xanchor="left", yanchor="top",
                         showarrow=False, align="left", font=dict(size=20))
    pages.append(title)

    for chart, svg in zip(content.charts, chart_svgs):
        page = _slide_figure(chart.title, footer=footer, reconstructed=p.reconstructed)
        cw, ch = _svg_size(svg)
        scale, fitted_w = _chart_box_fit(cw, ch)
        page.add_layout_image(source="data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii"),
                              xref="paper", yref="paper", x=BOX_LEFT_IN / SLIDE_W_IN, y=1 - BOX_TOP_IN / SLIDE_H_IN,
                              sizex=fitted_w / SLIDE_W_IN, sizey=ch * scale / SLIDE_H_IN, xanchor="left",
                              yanchor="top", sizing="contain", layer="above")
        size = 14 if len(chart.numbers.columns) <= 3 else 12
        left = (BOX_LEFT_IN + fitted_w + 0.2) / SLIDE_W_IN
        page.add_trace(_table_trace(chart.numbers, (left, 1 - 0.4 / SLIDE_W_IN),
                                    (0.08, 1 - BOX_TOP_IN / SLIDE_H_IN), size))
        pages.append(page)

    if content.paper_summary is not None:
        page = _slide_figure("Paper check", footer=footer, reconstructed=p.reconstructed)
        misses = content.paper_misses if content.paper_misses is not None else pd.DataFrame()
        summary = content.paper_summary + (f"; {len(misses)} differ:" if len(misses) else "")
        page.add_annotation(text=plotly_text(summary),
                            xref="paper", yref="paper", x=0.03, y=0.86, xanchor="left", yanchor="top",
                            showarrow=False, font=dict(size=22))
        if len(misses):
            page.add_trace(_table_trace(misses_shown(misses), (0.03, 0.97), (0.08, 0.78), 12))
        pages.append(page)

    report_progress(on_progress, 0.75, "Rendering PDF pages")
    rendered = render_pages([(page.to_dict(), {"format": "pdf", "width": w, "height": h, "scale": 1})
                             for page in pages])
    writer = PdfWriter()
    for pdf in rendered:
        writer.add_page(PdfReader(io.BytesIO(pdf)).pages[0])
    writer.add_metadata({"/Title": content.title, "/Creator": f"{PRODUCT_NAME} {p.product_version}",
                         "/Subject": "; ".join(p.lines())})
    buffer = io.BytesIO()
    writer.write(buffer)
    report_progress(on_progress, 0.97, "PDF written")
    return buffer.getvalue()

"""The tumour-board deck slide by slide: what each slide says and where, for both files.

Slides: the title; per chart its slide (the chart filling the content area, or beside its key
numbers) and, for a chart whose numbers are a different idea, a slide of those numbers; the
provenance (as many slides as it takes at 14 pt); the paper check last, when included. A chart
slide states its slice once, in a one-line footer that points to the provenance slide; the title
and provenance slides need no footer. `plan_deck` fixes every box, every line of wrapped text and
every table row, so `pptx_deck` and `pdf_deck` only draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.export.deck_layout import (
    BODY_PT,
    CONTENT_BOTTOM_IN,
    CONTENT_BOX,
    CONTENT_TOP_IN,
    CONTENT_W_IN,
    FOOTER_BOX,
    FOOTER_PT,
    INK,
    MARGIN_IN,
    MUTED,
    RED,
    TITLE_BOX,
    Box,
    DeckContent,
    TableLayout,
    chart_box,
    fit_line,
    has_numbers_beside,
    line_height_in,
    numbers_box,
    table_layout,
    wrap_text,
)
from core.provenance import PRODUCT_NAME, RECONSTRUCTED_TAG, Provenance

DECK_TITLE_PT = 32
NUMBERS_PT = 18          # a slide that is only a table can take larger type
PROVENANCE_TITLE = "Provenance"
PAPER_TITLE = "Paper check"


@dataclass(frozen=True)
class Paragraph:
    text: str
    pt: float = BODY_PT
    bold: bool = False
    colour: str = INK
    space_before_pt: float = 0.0


@dataclass(frozen=True)
class TextBlock:
    """Paragraphs in a box; `lines` holds each paragraph wrapped to the box (what the PDF draws)."""

    box: Box
    paragraphs: tuple[Paragraph, ...]
    lines: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class SlidePlan:
    title: str
    title_box: Box = TITLE_BOX
    title_pt: float = 28
    blocks: tuple[TextBlock, ...] = ()
    footer: TextBlock | None = None
    chart: int | None = None                # index into DeckContent.charts
    chart_box: Box | None = None
    table: TableLayout | None = None
    kind: str = "chart"                     # title, chart, numbers, provenance, paper


def text_block(paragraphs: list[Paragraph], left: float, top: float, width: float) -> TextBlock:
    """Paragraphs stacked from (left, top) in `width`; the box is as tall as their wrapped lines."""
    lines = tuple(tuple(wrap_text(p.text, width, p.pt, p.bold)) for p in paragraphs)
    height = sum(len(ls) * line_height_in(p.pt) + p.space_before_pt / 72 for p, ls in zip(paragraphs, lines))
    return TextBlock(Box(left, top, width, height), tuple(paragraphs), lines)


def _footer(text: str, reconstructed: bool) -> TextBlock:
    line = Paragraph(text, pt=FOOTER_PT, colour=RED if reconstructed else MUTED)
    return TextBlock(FOOTER_BOX, (line,), ((text,),))


def footer_text(p: Provenance, provenance_slide: int | None = None) -> str:
    """The one line a chart slide says about itself: slice · n (· analysed) (· reconstructed) · where
    the rest is. A slice too long for the line is shortened ("…"); the provenance slide has it whole."""
    text = p.compact_line(product=False)
    if provenance_slide is not None:
        text += f" · provenance: slide {provenance_slide}"
    return fit_line(text, FOOTER_BOX.width, FOOTER_PT, shorten=p.slice_text)


def title_lines(content: DeckContent) -> list[str]:
    p = content.provenance
    lines = [f"{p.slice_text} · {p.n_text}"]
    if p.data_label:
        lines.append(f"Data: {p.data_label}")
    if p.reconstructed:
        lines.append(RECONSTRUCTED_TAG)
    if p.suppress_below is not None:
        lines.append(f"Small-cell suppression: counts below {p.suppress_below} shown as <{p.suppress_below}")
    lines.extend(content.notes)
    lines.append(f"{PRODUCT_NAME} {p.product_version} · exported {p.exported_on.isoformat()}")
    return lines


def _title_slide(content: DeckContent) -> SlidePlan:
    title = text_block([Paragraph(content.title, pt=DECK_TITLE_PT, bold=True)], MARGIN_IN, 0, CONTENT_W_IN)
    title_box = Box(MARGIN_IN, 1.6, CONTENT_W_IN, title.box.height + 0.1)
    paragraphs = [Paragraph(line, pt=22 if i == 0 else 18, bold=line == RECONSTRUCTED_TAG,
                            colour=RED if line == RECONSTRUCTED_TAG else INK, space_before_pt=0 if i == 0 else 4)
                  for i, line in enumerate(title_lines(content))]
    subtitle = text_block(paragraphs, MARGIN_IN, title_box.bottom + 0.35, CONTENT_W_IN)
    return SlidePlan(content.title, title_box=title_box, title_pt=DECK_TITLE_PT, blocks=(subtitle,), kind="title")


def _provenance_sections(content: DeckContent) -> list[list[Paragraph]]:
    """The full record: the slice and the data once, then what each chart adds."""
    p = content.provenance
    common = [Paragraph("Slice and data", pt=18, bold=True)]
    for key, value in p.items():
        if key in ("Analysis", "Patients", "Endpoint", "Censoring", "CI method"):
            continue
        red = key == "Data" and value == RECONSTRUCTED_TAG
        common.append(Paragraph(value if red else f"{key}: {value}", bold=red, colour=RED if red else INK))
    common += [Paragraph(note) for note in content.notes]
    sections = [common]
    seen: set[str] = set()
    for chart in content.charts:
        if chart.key in seen:
            continue
        seen.add(chart.key)
        section = [Paragraph(chart.title.split(" (")[0], pt=18, bold=True, space_before_pt=8)]
        for key, value in chart.provenance.items():
            if key in ("Analysis", "Patients", "Endpoint", "Censoring", "CI method"):
                section.append(Paragraph(f"{key}: {value}"))
        sections.append(section)
    return sections


def _provenance_slides(content: DeckContent) -> list[SlidePlan]:
    """The provenance at 14 pt, on as many slides as it takes; a section moves whole to the next
    slide when it fits there, and only a section longer than a slide is split."""
    pages: list[list[TextBlock]] = [[]]
    top = CONTENT_TOP_IN

    def block(paragraphs: list[Paragraph], at: float) -> TextBlock:
        return text_block(paragraphs, MARGIN_IN, at, CONTENT_W_IN)

    def place(paragraphs: list[Paragraph]) -> None:
        nonlocal top
        pages[-1].append(block(paragraphs, top))
        top = pages[-1][-1].box.bottom

    def next_page() -> None:
        nonlocal top
        pages.append([])
        top = CONTENT_TOP_IN

    for section in _provenance_sections(content):
        if block(section, top).box.bottom <= CONTENT_BOTTOM_IN:
            place(section)
            continue
        if pages[-1] and block(section, CONTENT_TOP_IN).box.bottom <= CONTENT_BOTTOM_IN:
            next_page()
            place(section)
            continue
        part: list[Paragraph] = []
        for paragraph in section:
            if block(part + [paragraph], top).box.bottom > CONTENT_BOTTOM_IN and (part or pages[-1]):
                if part:
                    place(part)
                next_page()
                part = []
            part.append(paragraph)
        if part:
            place(part)
    titles = [PROVENANCE_TITLE] + [f"{PROVENANCE_TITLE} (continued)"] * (len(pages) - 1)
    return [SlidePlan(t, blocks=tuple(blocks), kind="provenance") for t, blocks in zip(titles, pages)]


def _paper_slide(content: DeckContent) -> SlidePlan:
    p = content.provenance
    misses = content.paper_misses if content.paper_misses is not None else pd.DataFrame()
    summary = (content.paper_summary or "") + (f"; {len(misses)} differ:" if len(misses) else "")
    block = text_block([Paragraph(summary, pt=22)], MARGIN_IN, CONTENT_TOP_IN, CONTENT_W_IN)
    table = None
    if len(misses):
        area = Box(MARGIN_IN, block.box.bottom + 0.25, CONTENT_W_IN, CONTENT_BOTTOM_IN - block.box.bottom - 0.25)
        table = table_layout(misses, area, more="… and {n} more (see the paper-check page)")
    whole = f"All patients · n = {p.n_total if p.n_total is not None else p.n_slice} (the paper check always uses " \
            "the whole cohort)" + (f" · {RECONSTRUCTED_TAG}" if p.reconstructed else "")
    return SlidePlan(PAPER_TITLE, blocks=(block,), table=table, footer=_footer(whole, p.reconstructed), kind="paper")


def numbers_title(title: str) -> str:
    """"Response: CR/CRi by subgroup" → "Response: key numbers"."""
    return f"{title.split(':')[0]}: key numbers"


def plan_deck(content: DeckContent) -> list[SlidePlan]:
    """Every slide of the deck, in order (see the module docstring)."""
    body: list[SlidePlan] = []
    for i, chart in enumerate(content.charts):
        beside = has_numbers_beside(chart)
        box = chart_box(chart.numbers if beside else None)
        table = table_layout(chart.numbers, numbers_box(box)) if beside else None
        body.append(SlidePlan(chart.title, chart=i, chart_box=box, table=table, kind="chart"))
        if chart.numbers_slide and not chart.numbers.empty:
            area = Box(MARGIN_IN, CONTENT_TOP_IN, min(CONTENT_W_IN, 10.0), CONTENT_BOX.height)
            body.append(SlidePlan(numbers_title(chart.title), chart=i, kind="numbers",
                                  table=table_layout(chart.numbers, area, pt=NUMBERS_PT)))
    provenance = _provenance_slides(content)
    first_provenance = 1 + len(body) + 1                       # slides are numbered from 1
    slides = [_title_slide(content)]
    for plan in body:
        p = content.charts[plan.chart].provenance if plan.chart is not None else content.provenance
        footer = _footer(footer_text(p, first_provenance), p.reconstructed)
        slides.append(SlidePlan(plan.title, blocks=plan.blocks, footer=footer, chart=plan.chart,
                                chart_box=plan.chart_box, table=plan.table, kind=plan.kind))
    slides += provenance
    if content.paper_summary is not None:
        slides.append(_paper_slide(content))
    return slides


def unavailable_block(box: Box, message: str) -> TextBlock:
    """What a chart's box says when its image could not be made."""
    return text_block([Paragraph(f"Chart image unavailable: {message}", colour=MUTED)], box.left, box.top,
                      box.width)

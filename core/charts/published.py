"""Published figures drawn on the cohort's charts: CR/CRi rows on the forest, OS points on a Kaplan–Meier.

Pure like every builder: results in (core.literature's PublishedRates and PublishedPoint), a figure
out. A built figure is never changed in place (figures on the screen are shared): each function
returns a new one. Every published mark is labelled as published and not randomised against the
cohort, and the sources are cited in the caption under the plot, so an exported image says where
each mark comes from.

    fig = with_published_points(km_fig, published_survival_points(studies), presenter=False)
    figures.draw(view, published_km_figure, analysis, points=points, show_ci=True, key="survival_km")
    figures.draw(view, published_forest_figure, (), overall, published=rates, title=…, sections=…, key=…)
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from core.charts.forest import forest_figure
from core.charts.km import km_figure
from core.charts.layout import _legend_rows
from core.charts.style import ChartStyle, chart_style, wrap_caption
from core.literature.comparison import (
    PUBLISHED_LABEL,
    PUBLISHED_SECTION,
    UNVERIFIED_NOTE,
    PublishedPoint,
    PublishedRates,
)
from core.response import SubgroupRate
from core.results import ProportionEstimate, TooFewPatients
from core.survival import SurvivalAnalysis
from core.text import plotly_text

PUBLISHED_COLOUR = "#555555"          # grey: a published mark is context, not one of the cohort's groups
PUBLISHED_SYMBOLS: tuple[str, ...] = ("diamond-open", "triangle-up-open", "square-open", "star-open",
                                      "hexagon-open", "cross-open", "x-open", "pentagon-open")


def citation_lines(lines: Sequence[str], *, unverified: bool = False, what: str = "Grey marks") -> str:
    """The caption's paragraph naming the published marks and their sources: one line each."""
    label = PUBLISHED_LABEL[0].lower() + PUBLISHED_LABEL[1:]
    out = [f"{what}: {label}."] + [f"· {line}" for line in lines]
    if unverified:
        out.append(UNVERIFIED_NOTE)
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------- forest
def published_forest_figure(rows: Sequence[SubgroupRate], overall: ProportionEstimate | TooFewPatients, *,
                            published: PublishedRates, title: str, caption: str, presenter: bool = False,
                            sections: Sequence[tuple[str, Sequence[SubgroupRate]]] | None = None,
                            width_px: int | None = None, **forest_options: object) -> go.Figure:
    """The forest chart with the published rates as a last section, drawn in grey open diamonds, and
    their sources cited under the plot. Without published rows it is the forest chart itself."""
    if not published.rows:
        return forest_figure(rows, overall, title=title, caption=caption, presenter=presenter, sections=sections,
                             width_px=width_px, **forest_options)  # type: ignore[arg-type]
    all_sections = [*(sections or ()), (PUBLISHED_SECTION, published.rows)]
    lines = [*published.citations, *(f"Not drawn: {n.describe()}" for n in published.not_drawn)]
    paragraph = citation_lines(lines, unverified=published.any_unverified, what="Grey rows") + (
        "\nPublished rows: the CI the source printed where it printed one, else exact (Clopper–Pearson) "
        "from the published n/N.")
    full_caption = f"{caption}\n{plotly_text(paragraph)}"
    fig = forest_figure(rows, overall, title=title, caption=full_caption, presenter=presenter,
                        sections=all_sections, width_px=width_px, **forest_options)  # type: ignore[arg-type]
    style = chart_style(presenter, width_px)
    n_layout_rows = 1 + len(rows) + sum(1 + len(section_rows) for _, section_rows in all_sections)
    published_ys = {-float(n_layout_rows - k) for k in range(1, len(published.rows) + 1)}
    return _restyle_published(fig, published_ys, style)


def _restyle_published(fig: go.Figure, published_ys: set[float], style: ChartStyle) -> go.Figure:
    """Move the published rows' points out of the subgroup trace into a grey trace of their own."""
    data = []
    for trace in fig.data:
        meta = trace.meta or {}
        if not (isinstance(meta, dict) and meta.get("role") == "subgroup"):
            data.append(trace)
            continue
        keep = [i for i, y in enumerate(trace.y) if float(y) not in published_ys]
        moved = [i for i, y in enumerate(trace.y) if float(y) in published_ys]

        def part(indices: list[int], **changes: object) -> go.Scatter:
            new = go.Scatter(trace)
            new.update(x=[trace.x[i] for i in indices], y=[trace.y[i] for i in indices],
                       text=[trace.text[i] for i in indices], customdata=[trace.customdata[i] for i in indices])
            new.error_x.update(array=[trace.error_x.array[i] for i in indices],
                               arrayminus=[trace.error_x.arrayminus[i] for i in indices])
            new.update(**changes)
            return new

        if keep:
            data.append(part(keep))
        if moved:
            data.append(part(moved, name="Published", meta={"role": "published"},
                             marker=dict(color=PUBLISHED_COLOUR, symbol="diamond-open", size=style.marker_size + 3,
                                         line=dict(color=PUBLISHED_COLOUR, width=2)),
                             error_x=dict(color=PUBLISHED_COLOUR),
                             hovertemplate="<b>%{text}</b><br>%{customdata}<br>" + PUBLISHED_LABEL
                                           + "<extra></extra>"))
    out = go.Figure(data=data, layout=fig.layout)
    return out


# ---------------------------------------------------------------------------------------------- survival
def with_published_points(fig: go.Figure, points: Sequence[PublishedPoint], *, presenter: bool = False,
                          width_px: int | None = None, cite: bool = True) -> go.Figure:
    """A copy of a built Kaplan–Meier figure with published OS figures as points with their CIs.

    A median is drawn at survival 0.5 with its CI along the time axis, a milestone rate at its time
    with its CI along the survival axis; one legend entry per study (grey, an open symbol each).
    Points beyond the time axis are not drawn and the caption says which. With `cite` the sources
    are added under the caption (the figure grows to hold them).
    """
    out = go.Figure(fig)
    if not points:
        return out
    style = chart_style(presenter, width_px)
    x_range = out.layout.xaxis.range
    x_max = float(x_range[1]) if x_range is not None else None
    shown = [p for p in points if x_max is None or p.months <= x_max + 1e-9]
    beyond = [p for p in points if p not in shown]
    studies = list(dict.fromkeys(p.study for p in points))
    for p in shown:
        i = studies.index(p.study)
        first_of_study = p is next(q for q in shown if q.study == p.study)
        error = _error_bar(p, style)
        # x/y are the survival plot of a Kaplan–Meier figure (its first row; the risk table is x2/y2)
        out.add_trace(go.Scatter(
            x=[p.months], y=[p.survival], xaxis="x", yaxis="y", mode="markers",
            name=f"{plotly_text(p.study)} (published)", legendgroup=f"published-{i}", showlegend=first_of_study,
            legendrank=700 + i, cliponaxis=False,
            marker=dict(symbol=PUBLISHED_SYMBOLS[i % len(PUBLISHED_SYMBOLS)], size=style.marker_size + 3,
                        color=PUBLISHED_COLOUR, line=dict(color=PUBLISHED_COLOUR, width=2)),
            hovertemplate=f"<b>{plotly_text(p.study)}</b><br>{plotly_text(p.text)}<br>{PUBLISHED_LABEL}"
                          "<extra></extra>",
            meta={"role": "published", "row_id": p.row_id, "kind": p.kind},
            **error,
        ))
    _grow_legend(out, [f"{p} (published)" for p in studies], style, width_px)
    if cite:
        lines = [f"{p.text} — {p.citation}" for p in shown]
        lines += [f"{p.text} — {p.citation} (beyond the time axis, not drawn)" for p in beyond]
        paragraph = citation_lines(lines, unverified=any(p.verified == "no" for p in points), what="Grey points")
        _extend_caption(out, paragraph, style)
    return out


def _grow_legend(fig: go.Figure, names: Sequence[str], style: ChartStyle, width_px: int | None) -> None:
    """Room above the plot for the legend rows the published entries add (the builder sized it without them)."""
    width = (width_px or style.nominal_width) - 120
    before = [t.name for t in fig.data if t.showlegend is not False and t.name and
              (t.meta or {}).get("role") != "published"]
    extra = _legend_rows([*before, *names], style, width) - _legend_rows(before, style, width)
    if extra <= 0:
        return
    extra_px = extra * style.legend_size * 1.9
    fig.update_layout(margin=dict(t=int((fig.layout.margin.t or 0) + extra_px)),
                      height=int((fig.layout.height or 450) + extra_px))


def _error_bar(p: PublishedPoint, style: ChartStyle) -> dict[str, object]:
    bar = dict(type="data", symmetric=False, color=PUBLISHED_COLOUR, thickness=1.5, width=style.marker_size * 0.5)
    if p.lower is None and p.upper is None:
        return {}
    if p.kind == "median":
        upper = p.upper if p.upper is not None else p.months
        return {"error_x": dict(bar, array=[upper - p.months], arrayminus=[p.months - (p.lower or p.months)])}
    upper = p.upper if p.upper is not None else p.survival
    return {"error_y": dict(bar, array=[upper - p.survival], arrayminus=[p.survival - (p.lower or p.survival)])}


def _extend_caption(fig: go.Figure, paragraph: str, style: ChartStyle) -> None:
    """Add lines under the figure's caption stamp and grow the figure by their height."""
    caption = next((a for a in fig.layout.annotations if a.name == "caption"), None)
    wrapped = wrap_caption(paragraph, width_px=style.nominal_width - 80, size=style.caption_size)
    extra_px = len(wrapped) * style.caption_size * 1.45
    text = "<br>".join(plotly_text(line) for line in wrapped)
    if caption is not None:
        caption.text = f"{caption.text}<br>{text}"
    else:
        fig.add_annotation(name="caption", text=text, showarrow=False, align="left", xref="paper", x=0,
                           xanchor="left", yref="paper", y=0, yanchor="top",
                           font=dict(size=style.caption_size, color=style.muted_colour))
    margin_b = fig.layout.margin.b or 0
    fig.update_layout(margin=dict(b=int(margin_b + extra_px)),
                      height=int((fig.layout.height or 450) + extra_px))
    meta = dict(fig.layout.meta or {})
    meta["caption"] = f"{meta.get('caption', '')}\n{paragraph}".strip()
    fig.update_layout(meta=meta)


def published_km_figure(analysis: SurvivalAnalysis, *, points: Sequence[PublishedPoint], caption: str,
                        presenter: bool = False, width_px: int | None = None,
                        **km_options: object) -> go.Figure:
    """`km_figure` with the published points on it: a builder for ui.figures.draw."""
    fig = km_figure(analysis, caption=caption, presenter=presenter, width_px=width_px,
                    **km_options)  # type: ignore[arg-type]
    return with_published_points(fig, points, presenter=presenter, width_px=width_px)


__all__ = ["PUBLISHED_COLOUR", "citation_lines", "published_forest_figure", "published_km_figure",
           "with_published_points"]

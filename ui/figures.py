"""Drawing the charts core.charts builds: one place that passes the caption and presenter mode.

Every chart gets `caption=chart_caption(view)` and `presenter=view.presenter`. A page passes the
builder itself (a function of core.charts). If it fails on an unusual slice the page says so in a
line and keeps its tables; a chart is never the only place a number is shown.

`draw` returns the figure it showed (None when it showed none), so the page hands that same
figure to `ui.downloads.chart_downloads` and the exported file is the chart on the screen, laid out
again by its builder for the export's width (`at_width`): a journal column is not a shrunken
dashboard chart.
"""

from __future__ import annotations

import hashlib
import io
import logging
import pickle
import threading
import weakref
from collections.abc import Callable
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ui.view import View, chart_caption

log = logging.getLogger(__name__)

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "toImageButtonOptions": {"format": "png", "scale": 2}}


ChartBuilder = Callable[..., go.Figure]


def _name(builder: ChartBuilder) -> str:
    return f"{builder.__module__}.{builder.__qualname__}"


@st.cache_resource(show_spinner=False, max_entries=512)
def _build_by_digest(name: str, digest: str, caption: str, presenter: bool, _builder: ChartBuilder,
                     _args: tuple[Any, ...], _kwargs: tuple[tuple[str, Any], ...]) -> Any:
    """Build a figure once per (builder, results, caption, mode): plotly's validation is slow, results repeat.

    A resource cache hands every session the same figure object; st.plotly_chart only reads it.
    The results are keyed by `digest` (see `_digest`), not hashed by Streamlit: its generic hasher
    walks a survival analysis object by object on every rerun (~1.5 ms a chart). `name` stands for
    the builder (leading underscores: not hashed).
    """
    return _builder(*_args, caption=caption, presenter=presenter, **dict(_kwargs))


@st.cache_resource(show_spinner=False, max_entries=512)
def _build_hashed(name: str, _builder: ChartBuilder, args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...],
                  caption: str, presenter: bool) -> Any:
    """As `_build_by_digest`, for results that cannot be pickled: Streamlit hashes them."""
    return _builder(*args, caption=caption, presenter=presenter, **dict(kwargs))


class _KeyPickler(pickle.Pickler):
    """Pickles a builder's inputs for their digest only (never loaded back), so that equal inputs
    give equal bytes: without the memo (`fast`), a value shared by two fields is written twice,
    as in a copy that does not share it; a DataFrame goes in as its labels, dtypes and column
    values, not its block layout (which differs between a frame fresh from DuckDB and its copy)."""

    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.fast = True            # no memo; a self-referencing input raises and falls back

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, pd.DataFrame):
            columns = tuple(obj.iloc[:, i].to_numpy() for i in range(obj.shape[1]))
            return pd.DataFrame, (tuple(map(str, obj.columns)), tuple(map(str, obj.dtypes)), columns,
                                  obj.index.to_numpy(), tuple(map(str, obj.index.names)))
        if isinstance(obj, pd.Series):
            return pd.Series, (str(obj.name), str(obj.dtype), obj.to_numpy(), obj.index.to_numpy(),
                               tuple(map(str, obj.index.names)))
        return NotImplemented


def _digest(args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...]) -> str | None:
    """A key for a builder's inputs: a digest of their pickle (C-fast; equal bytes mean equal inputs),
    or None when something in them cannot be pickled."""
    buffer = io.BytesIO()
    try:
        _KeyPickler(buffer).dump((args, kwargs))
    except Exception:  # a lambda, a lock…: let Streamlit's hasher decide
        return None
    return hashlib.blake2b(buffer.getbuffer(), digest_size=20).hexdigest()


def _build(name: str, builder: ChartBuilder, args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...],
           caption: str, presenter: bool) -> Any:
    digest = _digest(args, kwargs)
    if digest is None:
        return _build_hashed(name, builder, args, kwargs, caption, presenter)
    return _build_by_digest(name, digest, caption, presenter, builder, args, kwargs)


# id(figure) → how it was built, so an export can ask the builder for another width. An entry is
# dropped when its figure is collected, so an id reused by a later object never finds a stale recipe.
Recipe = tuple[str, ChartBuilder, tuple[Any, ...], tuple[tuple[str, Any], ...], str, bool]
_RECIPES: dict[int, Recipe] = {}
_RECIPES_LOCK = threading.Lock()


def _remember(figure: go.Figure, recipe: Recipe) -> None:
    key = id(figure)
    with _RECIPES_LOCK:
        if key not in _RECIPES:
            weakref.finalize(figure, _RECIPES.pop, key, None)
        _RECIPES[key] = recipe


def at_width(figure: go.Figure, width_px: int) -> go.Figure:
    """`figure` as its builder lays it out for `width_px` (the same figure when it was not drawn by
    `draw`, or its builder fails at that width)."""
    recipe = _RECIPES.get(id(figure))
    if recipe is None:
        return figure
    name, builder, args, kwargs, caption, presenter = recipe
    try:
        return _build(name, builder, args, tuple(sorted({**dict(kwargs), "width_px": int(width_px)}.items())),
                      caption, presenter)
    except Exception:  # the export falls back to the figure on the screen
        log.exception("chart %s could not be laid out at %s px", name, width_px)
        return figure


def draw(view: View, builder: ChartBuilder, *args: Any, key: str, **kwargs: Any) -> go.Figure | None:
    """Build `builder(*args, caption=…, presenter=…, **kwargs)`, show it full width, return it.

    The figure is shared through the resource cache: read it (export it), never change it.
    Returns None when no chart could be drawn (the page's table carries the numbers).
    """
    name = _name(builder)
    try:
        recipe = (name, builder, args, tuple(sorted(kwargs.items())), chart_caption(view), view.presenter)
        figure = _build(*recipe)
    except Exception:  # a chart must never take the page down; the table carries the numbers
        log.exception("chart %s failed", name)
        st.caption("This chart could not be drawn for this slice; the numbers are in the table.")
        return None
    _remember(figure, recipe)
    st.plotly_chart(figure, key=key, config=PLOTLY_CONFIG, theme=None)
    return figure

"""Drawing the charts core.charts builds: one place that passes the caption and presenter mode.

Every chart gets `caption=chart_caption(view)` and `presenter=view.presenter`. If the builders are
not available (core.charts missing or failing on an unusual slice) the page says so in a line and
keeps its tables; a chart is never the only place a number is shown.

`draw` returns the figure it showed (None when it showed none), so the page hands that same
figure to `ui.downloads.chart_downloads` and the exported file is the chart on the screen.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from ui.frame import View, chart_caption

log = logging.getLogger(__name__)

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "toImageButtonOptions": {"format": "png", "scale": 2}}


def _builder(name: str) -> Callable[..., Any] | None:
    try:
        module = importlib.import_module("core.charts")
    except ImportError:
        return None
    return getattr(module, name, None)


@st.cache_resource(show_spinner=False, max_entries=512)
def _build(name: str, args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...], caption: str,
           presenter: bool) -> Any:
    """Build a figure once per (results, caption, mode): plotly's validation is slow, results repeat.

    A resource cache hands every session the same figure object; st.plotly_chart only reads it.
    """
    builder = _builder(name)
    assert builder is not None
    return builder(*args, caption=caption, presenter=presenter, **dict(kwargs))


def draw(view: View, name: str, *args: Any, key: str, **kwargs: Any) -> go.Figure | None:
    """Build `core.charts.<name>(*args, caption=…, presenter=…, **kwargs)`, show it full width, return it.

    The figure is shared through the resource cache: read it (export it), never change it.
    Returns None when no chart could be drawn (the page's table carries the numbers).
    """
    builder = _builder(name)
    if builder is None:
        st.caption("Chart unavailable (core.charts is not installed yet); the numbers are in the table.")
        return None
    try:
        figure = _build(name, args, tuple(sorted(kwargs.items())), chart_caption(view), view.presenter)
    except Exception:  # a chart must never take the page down; the table carries the numbers
        log.exception("chart %s failed", name)
        st.caption("This chart could not be drawn for this slice; the numbers are in the table.")
        return None
    st.plotly_chart(figure, key=key, config=PLOTLY_CONFIG, theme=None)
    return figure

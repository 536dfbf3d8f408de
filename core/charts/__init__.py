"""Pure figure builders: results in, a plotly figure out, the slice and its n stamped on it.

Every builder takes results already computed by the endpoint modules (`core.response`,
`core.survival`, `core.safety`, `core.queries` listings) and only lays them out: no SQL, no
streamlit, no estimation. Each figure

* carries its caption (the slice in words and n) as an annotation under the plot, so an exported
  image explains itself, and in `fig.layout.meta = {"caption": ..., "n": ...}`;
* has a fixed pixel height (exports look the same as the screen; the width follows the container);
* uses the Okabe–Ito colour-blind-safe palette with a redundant line dash / marker symbol per group;
* in presenter mode (tumour board, large screen) uses black text on white and no font below 18 pt.

Traces and annotations carry a `meta={"role": ...}` (traces) or `name` (annotations, shapes) so
that tests and pages can find the parts of a figure without relying on their order.

Modules: `style` (template, palette, sizes, caption wrapping), `layout` (title, legend, margins,
caption stamp; the nothing-to-draw figure), `km`, `forest`, `bars` (composition, cycles, toxicity,
subgroup rates) and `swimmer`. Every builder is importable from here, so a caller may pass the
function itself rather than its name.
"""

from __future__ import annotations

from core.charts.bars import composition_figure, cycles_figure, subgroup_bar_figure, toxicity_figure
from core.charts.forest import forest_figure
from core.charts.km import km_figure
from core.charts.layout import message_figure
from core.charts.style import (
                               FONT_FAMILY,
                               GROUP_COLOURS,
                               GROUP_DASHES,
                               GROUP_SYMBOLS,
                               NARROW_WIDTH,
                               OKABE_ITO,
                               PRESENTER_MIN_FONT,
                               RESPONSE_COLOURS,
                               RESPONSE_LABELS,
                               RESPONSE_PATTERNS,
                               SPARSE_DASH,
                               TEMPLATE,
                               ChartStyle,
                               apply_style,
                               chart_style,
                               text_px,
                               wrap_caption,
)
from core.charts.swimmer import swimmer_figure

# The tests measure label widths exactly as the builders do.
_text_px = text_px

__all__ = [
    "FONT_FAMILY", "GROUP_COLOURS", "GROUP_DASHES", "GROUP_SYMBOLS", "NARROW_WIDTH", "OKABE_ITO",
    "PRESENTER_MIN_FONT", "RESPONSE_COLOURS", "RESPONSE_LABELS", "RESPONSE_PATTERNS", "SPARSE_DASH", "TEMPLATE",
    "ChartStyle", "apply_style", "chart_style", "text_px", "wrap_caption",
    "composition_figure", "cycles_figure", "forest_figure", "km_figure", "message_figure", "subgroup_bar_figure",
    "swimmer_figure", "toxicity_figure",
]

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

Untrusted text never becomes markup. Plotly renders `<a href>`, `<span style>` and `<br>` in every
text property, and a centre's name, a patient id, a cause of death, a group or subgroup label and
the caption (the slice in words holds centre names from the file or the URL) come from the data.
The boundary is the builder's signature: every string a builder receives — its `caption`, `title`,
axis titles, `caveat`, and every label inside the results and listings it is given — is plain
text, and is escaped with `core.text.plotly_text` exactly once, where it becomes a plotly text
property (legend name, tick label, hover text, annotation, title). Markup (`<b>`, `<i>`, `<br>`)
is only ever added by the builders, around text already escaped. Helpers follow the same rule:
`layout.frame_for`/`finish`/`message_figure` escape the caption, banner, title and message they
are handed; `style.wrapped_text` wraps plain text and escapes each line; `risk_table.table_rows`
takes labels already escaped (they are markup-ready row labels). `layout.meta` keeps the caption as
plain text (it is data for pages and exports, never rendered), as do traces' `meta`.

In presenter mode a chart is fitted under PRESENTER_MAX_HEIGHT (620 px) where its content allows
(`layout.fitted_px` shrinks the plot area or the row pitch, never below a readable minimum), so a
tumour-board screen of 1920 × 1080 or 1366 × 768 shows it, with its number-at-risk table, whole.

Modules: `style` (template, palette, sizes, caption wrapping), `layout` (title, banner, legend,
margins, caption stamp; the nothing-to-draw figure), `risk_table` (time ticks and the KMunicate
number-at-risk table), `km`, `forest`, `bars` (composition, cycles, toxicity, subgroup rates),
`safety` (VOD timing relative to HSCT, causes of death) and `swimmer`. Every builder is importable from here, so a caller may pass the
function itself rather than its name.
"""

from __future__ import annotations

from core.charts.bars import composition_figure, cycles_figure, subgroup_bar_figure, toxicity_figure
from core.charts.forest import forest_figure
from core.charts.km import km_figure
from core.charts.layout import message_figure
from core.charts.safety import causes_of_death_figure, vod_timing_figure
from core.charts.style import (
                               FONT_FAMILY,
                               GROUP_COLOURS,
                               GROUP_DASHES,
                               GROUP_SYMBOLS,
                               NARROW_WIDTH,
                               OKABE_ITO,
                               PRESENTER_MAX_HEIGHT,
                               PRESENTER_MIN_FONT,
                               RESPONSE_COLOURS,
                               RESPONSE_LABELS,
                               RESPONSE_PATTERNS,
                               SPARSE_DASH,
                               TEMPLATE,
                               WARNING_COLOUR,
                               ChartStyle,
                               apply_style,
                               chart_style,
                               text_px,
                               wrap_caption,
                               wrapped_text,
)
from core.charts.swimmer import swimmer_figure

# The tests measure label widths exactly as the builders do.
_text_px = text_px

__all__ = [
    "FONT_FAMILY", "GROUP_COLOURS", "GROUP_DASHES", "GROUP_SYMBOLS", "NARROW_WIDTH", "OKABE_ITO",
    "PRESENTER_MAX_HEIGHT", "PRESENTER_MIN_FONT", "RESPONSE_COLOURS", "RESPONSE_LABELS", "RESPONSE_PATTERNS",
    "SPARSE_DASH", "TEMPLATE", "WARNING_COLOUR",
    "ChartStyle", "apply_style", "chart_style", "text_px", "wrap_caption", "wrapped_text",
    "composition_figure", "cycles_figure", "forest_figure", "km_figure", "message_figure", "subgroup_bar_figure",
    "swimmer_figure", "toxicity_figure", "causes_of_death_figure", "vod_timing_figure",
]

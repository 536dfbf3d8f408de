"""wrap_caption: how a caption under a chart (or in an exported file) is broken into lines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.charts import wrap_caption

CAPTION = "Salvage 2–3 · blasts ≥ 50% · n = 11 of 32 · Reconstructed cohort — not real patient data"


def limit(width_px: float, size: float) -> int:
    """Characters a line holds: the estimate wrap_caption documents (about 0.6 em per character)."""
    return max(20, int(width_px / (size * 0.6)))


def test_whole_items_where_they_fit() -> None:
    assert wrap_caption(CAPTION, width_px=2000, size=12) == [CAPTION]
    assert wrap_caption(CAPTION, width_px=360, size=12) == [   # 50 characters a line
        "Salvage 2–3 · blasts ≥ 50% · n = 11 of 32", "Reconstructed cohort — not real patient data"]


def test_an_item_longer_than_a_line_breaks_at_its_spaces_never_with_a_separator() -> None:
    lines = wrap_caption("n = 4 · not drawn: group 3 has 4 patients, at least 5 needed", width_px=240, size=10)
    assert lines == ["n = 4", "not drawn: group 3 has 4 patients, at", "least 5 needed"]   # 40 a line


def test_a_word_longer_than_a_line_is_cut() -> None:
    assert wrap_caption("x" * 45, width_px=120, size=10) == ["x" * 20, "x" * 20, "x" * 5]


def test_each_newline_starts_a_line_and_an_empty_caption_is_one_empty_line() -> None:
    assert wrap_caption("Median 7.0 mo\nn = 5", width_px=720, size=11) == ["Median 7.0 mo", "n = 5"]
    assert wrap_caption("", width_px=720, size=11) == [""]


words = st.text(alphabet="abcdefghij0123456789%≥–—=", min_size=1, max_size=30)
items = st.lists(words, min_size=1, max_size=6).map(" ".join)
captions = st.lists(items, min_size=1, max_size=6).map(" · ".join)


@given(captions, st.sampled_from([120.0, 336.0, 720.0, 1200.0]), st.sampled_from([10.0, 11.0, 18.0]))
def test_lines_fit_and_keep_every_word_in_order(caption: str, width_px: float, size: float) -> None:
    lines = wrap_caption(caption, width_px=width_px, size=size)
    assert all(len(line) <= limit(width_px, size) for line in lines)
    assert "".join(lines).replace(" · ", "").replace(" ", "") == caption.replace(" · ", "").replace(" ", "")

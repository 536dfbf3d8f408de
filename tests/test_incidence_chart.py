"""The cumulative-incidence chart: both event kinds per group, the method named, the table of patients
free of every event under the axis, an axis that ends where the curves stop moving, escaped labels."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from core.charts.incidence import METHOD_NOTE, incidence_figure
from core.cumulative_incidence import estimate_cumulative_incidence

LABELS = {1: "Relapse", 2: "Non-relapse mortality"}


def _analysis(groups: dict[str, list[tuple[int, int]]], compare: bool = False):  # type: ignore[no-untyped-def]
    rows = [(g, d, c, 1) for g, pairs in groups.items() for d, c in pairs]
    counts = pd.DataFrame(rows, columns=["group", "duration_days", "cause", "n"])
    return estimate_cumulative_incidence(counts, cause_labels=LABELS, by="centre" if len(groups) > 1 else "all",
                                         title="Cumulative incidence of relapse", compare=compare)


def _traces(fig, role):  # type: ignore[no-untyped-def]
    return [t for t in fig.data if (t.meta or {}).get("role") == role]


def test_both_event_kinds_are_drawn_with_the_method_and_the_event_free_table() -> None:
    one = {"All": [(30, 1), (60, 2), (90, 0), (120, 1), (200, 0), (3000, 0)]}
    fig = incidence_figure(_analysis(one), caption="All patients · n = 6")
    curves = _traces(fig, "incidence")
    assert [c.name for c in curves] == ["Relapse", "Non-relapse mortality"]
    relapse = np.asarray(curves[0].y)
    assert relapse[-1] > 0 and np.all(np.diff(relapse) >= 0)          # a cumulative incidence never falls
    free = next(t for t in _traces(fig, "event_free_table") if t.meta["kind"] == "Free of events")
    assert free.text[0] == "6"                                          # everyone at time 0
    caption = next(a for a in fig.layout.annotations if a.name == "caption").text
    assert "Aalen–Johansen" in caption and METHOD_NOTE.split(";")[0] in caption
    # the last event is at 120 days (3.9 months); the axis stops at the next tick, not at 3000 days
    assert fig.layout.xaxis.range[1] == 6.0


def test_stacked_incidences_never_exceed_one() -> None:
    one = {"All": [(10, 1), (20, 2), (30, 1), (40, 2), (50, 0)]}
    fig = incidence_figure(_analysis(one), caption="c", stacked=True)
    top = np.asarray(_traces(fig, "incidence")[-1].y)
    assert np.all(top <= 1.0 + 1e-12) and abs(top[-1] - 0.8) < 1e-12   # 4 of 5 had an event, 1 censored last


def test_group_labels_from_a_file_are_text_not_markup() -> None:
    evil = '<a href="https://evil.example/login">Sign in again</a>'
    groups = {evil: [(10, 1), (20, 0), (30, 1), (40, 2), (60, 0)], "Centre B": [(15, 2), (25, 1), (35, 0),
                                                                              (45, 1), (55, 0)]}
    fig = incidence_figure(_analysis(groups), caption="Centre · n = 10")
    shown = fig.to_plotly_json()
    for trace in shown["data"]:
        trace.pop("meta", None)          # meta is data for the page, never drawn
    shown["layout"].pop("meta", None)
    text = json.dumps(shown, ensure_ascii=False)
    assert "<a href" not in text and "&lt;a href" in text

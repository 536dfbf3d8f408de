"""The patients and safety pages through AppTest: the swimmer's window, colour and page controls
(keys p_*), and the VOD-timing and causes-of-death charts with their tables."""

from __future__ import annotations

from pathlib import Path

from tests.test_app import assert_healthy, start, texts


def swimmer_title(at) -> str:  # type: ignore[no-untyped-def]
    import json

    (chart,) = [c for c in at.get("plotly_chart") if "Course of treatment" in c.proto.spec]
    return json.loads(chart.proto.spec)["layout"]["title"]["text"]


def test_swimmer_controls_window_colour_and_pages(default_cohort: Path, cohort_env) -> None:  # type: ignore[no-untyped-def]
    at = start(default_cohort, cohort_env, page="patients")
    assert_healthy(at)
    assert at.selectbox(key="p_window").value == "p90"
    assert at.selectbox(key="p_lanes").value == 60
    assert not [w for w in at.number_input if w.key == "p_page"]           # 32 patients: one page
    at.selectbox(key="p_window").set_value("12").run()
    at.selectbox(key="p_colour").set_value("salvage_line").run()
    at.checkbox(key="p_group").check().run()
    assert_healthy(at)
    at.selectbox(key="p_lanes").set_value(15).run()
    assert_healthy(at)
    assert at.number_input(key="p_page").max == 3
    assert swimmer_title(at).endswith("patients 1–15 of 32")
    at.number_input(key="p_page").set_value(3).run()
    assert_healthy(at)
    assert swimmer_title(at).endswith("patients 31–32 of 32")
    at.selectbox(key="p_lanes").set_value(30).run()                        # now 2 pages: page 3 is gone
    assert_healthy(at)
    assert at.number_input(key="p_page").value == 2


def test_presenter_mode_pages_the_swimmer_for_the_screen(default_cohort: Path, cohort_env) -> None:  # type: ignore[no-untyped-def]
    at = start(default_cohort, cohort_env, {"presenter": "1"}, page="patients")
    assert_healthy(at)
    assert at.selectbox(key="p_lanes").value == 15


def test_safety_shows_vod_timing_and_causes_of_death(default_cohort: Path, cohort_env) -> None:  # type: ignore[no-untyped-def]
    at = start(default_cohort, cohort_env, page="safety")
    assert_healthy(at)
    assert "VOD relative to HSCT" in [s.value for s in at.subheader]
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("Days from HSCT to VOD" in s for s in specs)
    assert any("Causes of death (n = 17 deaths)" in s for s in specs)
    assert any(t.startswith("Denominator: patients with VOD in the slice") for t in texts(at))

"""The server-side SVG charts: well-formed, escaped, and drawing what they are given."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from dashboard import charts
from dashboard.checks import timeline_chart
from tests.dashboard.factories import details

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def test_timeline_draws_one_point_per_scored_frame() -> None:
    scores = [0.1, None, 0.9, 0.5]
    chart = timeline_chart(
        {"frame_scores": scores, "frame_times": [0.0, 0.5, 1.0, 1.5], "face_scores": []}
    )
    assert chart is not None
    root = _parse(chart)
    points = root.findall(f".//{SVG}circle")
    assert len(points) == 3  # the frame without a face has no point
    ys = [float(c.get("cy", "0")) for c in points]
    assert ys[1] < ys[2] < ys[0]  # higher probability is drawn higher up
    assert len(root.findall(f".//{SVG}line[@class='threshold']")) == 1


def test_timeline_of_several_faces_has_a_line_per_face() -> None:
    d = details([0.2, 0.4, 0.6])
    d["face_scores"].append({**d["face_scores"][0], "track": 1, "frame_scores": [0.1, 0.1, 0.1]})
    root = _parse(timeline_chart(d) or "")
    assert len(root.findall(f".//{SVG}polyline")) == 3
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert "face 0" in titles and "face 1" in titles


def test_timeline_without_scores_is_none() -> None:
    assert timeline_chart(None) is None
    assert timeline_chart({"frame_scores": [None, None]}) is None


def test_chat_titles_are_escaped() -> None:
    evil = '<script>alert("x")</script>'
    markup = str(charts.per_chat([charts.Bar(evil, 3, 1, 3)]))
    assert "<script>" not in markup
    root = _parse(markup)
    assert any(evil in (t.text or "") for t in root.iter(f"{SVG}text"))


def test_daily_bars_scale_to_the_busiest_day() -> None:
    bars = [charts.Bar("2026-11-01", 10, 5, 10), charts.Bar("2026-11-02", 5, 0, 5)]
    root = _parse(charts.daily(bars))
    heights = [float(r.get("height", "0")) for r in root.findall(f".//{SVG}rect[@class='bar']")]
    assert heights[0] == 2 * heights[1]
    fakes = root.findall(f".//{SVG}rect[@class='bar-fake']")
    assert len(fakes) == 1 and float(fakes[0].get("height", "0")) == heights[1]
    assert root.find(f".//{SVG}polyline[@class='rate']") is not None

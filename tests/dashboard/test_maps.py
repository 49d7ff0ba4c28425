"""The manipulation map on a check's page: over the kept face, or alone when nothing is kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench import samples
from dashboard.maps import map_view, svg_grid
from tests.dashboard.factories import make_checks
from tests.dashboard.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, server  # noqa: F401


def blob_map(cx: float, cy: float, n: int = 14) -> list[list[float]]:
    """A map hot around (cx, cy) in cell units: what a blended nose or eye looks like."""
    yy, xx = np.mgrid[0:n, 0:n]
    heat = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 6.0)
    return [[round(float(v), 3) for v in row] for row in heat]


def _explanation(box: list[float], frame: int = 0) -> dict[str, Any]:
    return {"track": 0, "frame": frame, "box": box, "map": blob_map(7.0, 8.0)}


ASTRONAUT_FACE = [170.0, 60.0, 270.0, 180.0]


@pytest.fixture
def kept_photo(tmp_path: Path) -> Path:
    path = tmp_path / "kept.png"
    path.write_bytes(samples.encode_image(samples.astronaut(), "PNG"))
    return path


def test_a_kept_image_gets_the_map_over_its_face(kept_photo: Path) -> None:
    view = map_view(str(kept_photo), {"explanation": _explanation(ASTRONAUT_FACE)})
    assert view is not None and view.overlay_url is not None
    assert view.overlay_url.startswith("data:image/png;base64,")
    assert 0.99 <= view.peak <= 1.0
    assert str(view.grid).count("<rect") == 14 * 14 + 1


def test_without_kept_media_the_map_is_shown_alone() -> None:
    view = map_view(None, {"explanation": _explanation(ASTRONAUT_FACE)})
    assert view is not None and view.overlay_url is None
    assert map_view(None, {"face_scores": []}) is None
    assert map_view(None, {"explanation": {"map": "nonsense"}}) is None


def test_the_grid_goes_from_white_to_red() -> None:
    svg = str(svg_grid([[0.0, 1.0]]))
    assert 'fill="rgb(255,255,255)"' in svg and 'fill="rgb(255,0,0)"' in svg


@pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"no Chromium at {CHROMIUM}")
def test_check_pages_show_the_map_for_an_image_and_a_video_in_chromium(
    server: str,  # noqa: F811
    settings: Any,
    kept_photo: Path,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    from tests.dashboard.conftest import MODERATOR, PASSWORD

    image, video = make_checks(
        str(settings.database_url),
        {
            "label": "fake",
            "p": 0.93,
            "scores": [0.93],
            "media_kind": "image",
            "media_path": str(kept_photo),
            "explanation": _explanation(ASTRONAUT_FACE),
        },
        {
            "label": "inconclusive",
            "p": 0.64,
            "scores": [0.3, 0.4, 0.64, 0.5, 0.35, 0.3, 0.2, 0.25],
            "explanation": _explanation([40.0, 30.0, 120.0, 130.0], frame=2),
        },
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(30_000)
            page.goto(f"{server}/checks")
            page.fill("#name", MODERATOR)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.goto(f"{server}/checks/{image}")
            expect(page.locator("#map img")).to_have_count(1)
            expect(page.locator("#map svg rect")).to_have_count(14 * 14 + 1)
            page.locator("#map").screenshot(path=str(ARTIFACTS / "map-image.png"))
            page.screenshot(path=str(ARTIFACTS / "check-map-image.png"), full_page=True)
            page.goto(f"{server}/checks/{video}")
            expect(page.locator("#map img")).to_have_count(0)
            expect(page.locator("#map")).to_contain_text("sampled frame 2")
            expect(page.locator("#timeline svg circle.point")).to_have_count(8)
            page.screenshot(path=str(ARTIFACTS / "check-map-video.png"), full_page=True)
        finally:
            browser.close()

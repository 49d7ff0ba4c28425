"""The manipulation map on a check's page: where the model saw blending on the deciding face.

The worker stores the model's own low-resolution map (``details["explanation"]``:
the deciding face's frame, its box and a grid of 0-1 values). The map holds no
picture of anyone, so it is always shown, as an inline SVG grid. Over the face
itself only when the chat's retention kept the image: then the face is cut from the
kept file and the map laid over it in red. A video's frame cannot be decoded here
(the dashboard has no video decoder), so a video shows the map alone.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

log = logging.getLogger(__name__)
SIZE = 224
MARGIN = 0.3  # the classifier's crop margin: the map covers this region
CELL = 12  # px per map cell in the SVG


@dataclass(frozen=True)
class MapView:
    """What the page shows: the grid as SVG, the overlay picture when the face was kept."""

    frame: int
    grid: Markup
    overlay_url: str | None
    peak: float


def _grid(details: Mapping[str, Any] | None) -> tuple[list[list[float]], int, list[float]] | None:
    explanation = (details or {}).get("explanation")
    if not isinstance(explanation, Mapping):
        return None
    try:
        rows = [[min(1.0, max(0.0, float(v))) for v in row] for row in explanation["map"]]
        frame = int(explanation["frame"])
        box = [float(v) for v in explanation["box"]]
    except (KeyError, TypeError, ValueError):
        return None
    if not rows or not rows[0] or len(box) != 4:
        return None
    return rows, frame, box


def svg_grid(rows: Sequence[Sequence[float]]) -> Markup:
    """The map as an SVG of cells, white (nothing seen) to red (blending seen)."""
    h, w = len(rows), len(rows[0])
    cells = []
    for y, row in enumerate(rows):
        for x, v in enumerate(row):
            g = round(255 * (1 - v))
            cells.append(
                f'<rect x="{x * CELL}" y="{y * CELL}" width="{CELL}" height="{CELL}" '
                f'fill="rgb(255,{g},{g})"><title>{v:.2f}</title></rect>'
            )
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w * CELL}" height="{h * CELL}" '
        f'viewBox="0 0 {w * CELL} {h * CELL}" role="img" aria-label="manipulation map">'
        + "".join(cells)
        + f'<rect width="{w * CELL}" height="{h * CELL}" fill="none" stroke="#999"/></svg>'
    )


def _overlay(media_path: str | None, rows: list[list[float]], box: list[float]) -> str | None:
    """A ``data:`` URL of the kept image's face with the map over it; None when not kept."""
    if not media_path or not Path(media_path).is_file():
        return None
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        return None
    try:
        with Image.open(media_path) as img:
            if getattr(img, "is_animated", False):
                return None  # the map's frame is one of the animation's: not named here
            frame = img.convert("RGB")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as e:
        log.info("cannot open kept media %s: %s", media_path, e)
        return None
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1) * (1 + 2 * MARGIN)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    region = (
        round(cx - side / 2),
        round(cy - side / 2),
        round(cx + side / 2),
        round(cy + side / 2),
    )
    face = frame.crop(region).resize((SIZE, SIZE), Image.Resampling.BILINEAR)
    heat = Image.frombytes(
        "L", (len(rows[0]), len(rows)), bytes(round(255 * v) for row in rows for v in row)
    ).resize((SIZE, SIZE), Image.Resampling.BICUBIC)
    alpha = heat.point(lambda v: round(v * 0.65))
    red = Image.new("RGB", (SIZE, SIZE), (255, 60, 0))
    face.paste(red, (0, 0), alpha)
    out = io.BytesIO()
    face.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def map_view(media_path: str | None, details: Mapping[str, Any] | None) -> MapView | None:
    """The map of a check, over its kept face where there is one; None without a map."""
    found = _grid(details)
    if found is None:
        return None
    rows, frame, box = found
    return MapView(
        frame=frame,
        grid=svg_grid(rows),
        overlay_url=_overlay(media_path, rows, box),
        peak=max(max(r) for r in rows),
    )

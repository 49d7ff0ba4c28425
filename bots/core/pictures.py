"""The small pictures a verdict reply carries: the per-frame timeline and the manipulation map.

Drawn here, in the bot, with Pillow from numbers stored with the check (the worker's
``details``: per-frame scores and the deciding face's 14x14 map), so a bot needs no torch
and no video decoder, and a restarted bot draws the same picture for a check it recovers.
Neither picture shows anyone: the map is drawn alone, as the grid the model output, with
the detected face's outline for orientation; no picture of a face is ever kept for it
(the chat's retention setting governs only the media itself).

:func:`reply_picture` decides what a reply carries:

- a ``fake`` or ``inconclusive`` verdict of a **video** with at least two scored frames:
  the timeline;
- any judged verdict whose check asked for it (``/check explain``): the map;
- both: one picture, the timeline above the map, so a busy chat gets one message.

Anything else (images without ``explain``, ``real``, ``no_face``, failures, quiet
reactions, deletions) keeps the text reply. Drawing never fails a reply: without
Pillow, or with scores it cannot draw, there is no picture and the text goes alone.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from base.scores import Details
from base.vocabulary import JUDGED, Label
from bots.core.flow import Reply

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

log = logging.getLogger(__name__)

# Well under what either platform takes (Telegram photos 10 MB, Discord attachments 10 MiB):
# a picture over this is not sent. Ours are 20-60 KB.
MAX_BYTES = 2 * 1024 * 1024
WIDTH = 800
TIMELINE_HEIGHT = 300
MAP_CELL = 18  # pixels per map cell
MARGIN = 0.3  # the classifier's crop margin around the face box: what the map covers
TIMELINED = frozenset({Label.FAKE, Label.INCONCLUSIVE})
_INK, _GRID, _LINE, _HOT = (40, 40, 40), (225, 225, 225), (192, 57, 43), (255, 60, 0)


@dataclass(frozen=True, kw_only=True)
class Picture:
    """A PNG to attach to a reply.

    Attributes:
        name: The file name to upload it as.
        data: The PNG bytes.
        description: What it shows, in words (alt text).
    """

    name: str
    data: bytes
    description: str


def timeline_points(details: Details) -> tuple[list[tuple[float, float]], bool]:
    """The (x, fake probability) points of the most suspicious face per sampled frame.

    Returns:
        The points (frames without a face left out) and whether x is in seconds (else
        the sampled frame's number).
    """
    scores, times = details.frame_scores, details.frame_times
    seconds = len(times) == len(scores)
    points = []
    for i, p in enumerate(scores):
        if p is not None:
            x = times[i] if seconds else float(i)
            points.append((x, min(1.0, max(0.0, p))))
    return points, seconds


def map_grid(details: Details) -> tuple[list[list[float]], int, list[float]] | None:
    """The stored manipulation map: rows of 0-1 values, its frame and the face box."""
    explanation = details.explanation
    if explanation is None:
        return None
    rows = [[min(1.0, max(0.0, v)) for v in row] for row in explanation.map]
    frame, box = explanation.frame, list(explanation.box)
    if not rows or not rows[0] or any(len(r) != len(rows[0]) for r in rows) or len(box) != 4:
        return None
    return rows, frame, box


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def draw_timeline(points: Sequence[tuple[float, float]], *, seconds: bool) -> Any:
    """The timeline as a Pillow image: fake probability (0-100%) over the clip."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (WIDTH, TIMELINE_HEIGHT), "white")
    draw = ImageDraw.Draw(img)
    font, small = _font(18), _font(14)
    left, right, top, bottom = 58, 22, 40, 44
    pw, ph = WIDTH - left - right, TIMELINE_HEIGHT - top - bottom
    lo, hi = min(0.0, *(x for x, _ in points)), max(x for x, _ in points)  # from the start
    span = (hi - lo) or 1.0

    def at(x: float, y: float) -> tuple[float, float]:
        return left + (x - lo) / span * pw, top + (1 - y) * ph

    draw.text((left, 8), "Fake probability per frame (most suspicious face)", fill=_INK, font=font)
    draw.rectangle((left, top, left + pw, top + ph), fill=(250, 250, 250), outline=_GRID)
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top + (1 - tick) * ph
        draw.line((left, y, left + pw, y), fill=_GRID)
        draw.text((left - 8, y), f"{tick:.0%}", fill=_INK, font=small, anchor="rm")
    for i in range(5):
        x = lo + span * i / 4
        draw.text((at(x, 0)[0], top + ph + 6), f"{x:.3g}", fill=_INK, font=small, anchor="ma")
    unit = "seconds" if seconds else "sampled frame"
    draw.text((left + pw / 2, TIMELINE_HEIGHT - 4), unit, fill=_INK, font=small, anchor="md")
    xy = [at(x, y) for x, y in points]
    draw.line(xy, fill=_LINE, width=4, joint="curve")
    for cx, cy in xy:
        draw.ellipse((cx - 5, cy - 5, cx + 5, cy + 5), fill=_LINE)
    peak_x, peak_y = max(points, key=lambda p: p[1])
    cx, cy = at(peak_x, peak_y)
    where = f"{peak_x:.3g} s" if seconds else f"frame {peak_x:.0f}"
    # Beside the peak, inside the plot: left of it near the right edge, below it near the top.
    below = cy < top + 30
    anchor = ("r" if cx > left + pw * 0.7 else "l") + ("t" if below else "b")
    label_y = cy + 10 if below else cy - 10
    draw.text((cx, label_y), f"peak {peak_y:.0%} at {where}", fill=_LINE, font=small, anchor=anchor)
    return img


def _dashed_box(draw: ImageDraw.ImageDraw, box: Sequence[float], *, dash: int = 8) -> None:
    x1, y1, x2, y2 = box
    for a, b, horizontal, fixed in (
        (x1, x2, True, y1),
        (x1, x2, True, y2),
        (y1, y2, False, x1),
        (y1, y2, False, x2),
    ):
        start = a
        while start < b:
            end = min(start + dash, b)
            line = (start, fixed, end, fixed) if horizontal else (fixed, start, fixed, end)
            draw.line(line, fill=_INK, width=2)
            start += dash * 2


def draw_map(rows: Sequence[Sequence[float]], box: Sequence[float], *, when: str) -> Any:
    """The map as a Pillow image: its cells white to red, the detected face dashed."""
    from PIL import Image, ImageDraw

    h, w = len(rows), len(rows[0])
    grid = Image.new("RGB", (w, h))
    grid.putdata([(255, round(255 * (1 - v)), round(255 * (1 - v))) for r in rows for v in r])
    side_px = MAP_CELL * max(w, h)
    grid = grid.resize((MAP_CELL * w, MAP_CELL * h), Image.Resampling.NEAREST)
    img = Image.new("RGB", (WIDTH, side_px + 60), "white")
    draw = ImageDraw.Draw(img)
    font, small = _font(18), _font(14)
    left, top = 58, 40
    draw.text((left, 8), f"Manipulation map of the deciding face ({when})", fill=_INK, font=font)
    img.paste(grid, (left, top))
    draw.rectangle((left, top, left + grid.width, top + grid.height), outline=(150, 150, 150))
    # The map covers the face box grown by the crop margin, as a square.
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1, 1e-6) * (1 + 2 * MARGIN)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2

    def px(v: float, centre: float, size: int, origin: int) -> float:
        return origin + ((v - centre) / side + 0.5) * size

    face = (
        px(x1, cx, grid.width, left),
        px(y1, cy, grid.height, top),
        px(x2, cx, grid.width, left),
        px(y2, cy, grid.height, top),
    )
    _dashed_box(draw, face)
    legend_x = left + grid.width + 30
    peak = max(max(r) for r in rows)
    lines = [
        ("The model's own blend-map output:", _INK),
        ("red where it sees a pasted or", _HOT),
        ("blended region, white where not.", _INK),
        ("Dashed: the detected face.", _INK),
        (f"Hottest cell: {peak:.0%}.", _INK),
        ("It shows where, not whether:", _INK),
        ("the verdict's probability decides.", _INK),
    ]
    for i, (text, colour) in enumerate(lines):
        draw.text((legend_x, top + 4 + i * 26), text, fill=colour, font=small)
    return img


def _png(image: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _stack(images: Sequence[Any]) -> Any:
    from PIL import Image

    canvas = Image.new("RGB", (WIDTH, sum(i.height for i in images)), "white")
    y = 0
    for image in images:
        canvas.paste(image, (0, y))
        y += image.height
    return canvas


def reply_picture(reply: Reply) -> Picture | None:
    """The picture this verdict reply carries, or ``None`` for a text-only reply."""
    outcome = reply.outcome
    if not reply.final or outcome is None or outcome.status != "done" or reply.mode == "react":
        return None
    if reply.action == "delete_and_report":
        return None  # the post is gone: a short removal note, no picture
    details = outcome.details
    points, seconds = timeline_points(details)
    want_timeline = reply.label in TIMELINED and outcome.media_kind == "video" and len(points) >= 2
    grid = map_grid(details) if reply.reply_to.get("explain") and reply.label in JUDGED else None
    if not want_timeline and grid is None:
        return None
    try:
        images, shown = [], []
        if want_timeline:
            images.append(draw_timeline(points, seconds=seconds))
            shown.append("the fake probability of each sampled frame")
        if grid is not None:
            rows, frame, box = grid
            times = details.frame_times
            when = "the photo"
            if outcome.media_kind == "video":
                in_range = 0 <= frame < len(times)
                when = f"at {float(times[frame]):.3g} s" if in_range else f"sampled frame {frame}"
            images.append(draw_map(rows, box, when=when))
            shown.append("where on the face the model sees blending")
        data = _png(images[0] if len(images) == 1 else _stack(images))
    except (ImportError, OSError, ValueError, TypeError) as e:
        log.warning("check %s: no picture, the text goes alone: %s", reply.check_id, e)
        return None
    if len(data) > MAX_BYTES:
        log.warning("check %s: the picture has %d bytes; sending text", reply.check_id, len(data))
        return None
    return Picture(
        name=f"fakewatch-check-{outcome.check_id}.png",
        data=data,
        description="FakeWatch: " + " and ".join(shown),
    )

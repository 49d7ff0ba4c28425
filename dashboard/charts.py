"""Charts as inline SVG, drawn on the server: no JavaScript, nothing to build.

Each function returns ``Markup`` ready to drop into a template. Every piece of text
that comes from a chat (titles, names) goes through ``escape``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 760
FAKE = "#c0392b"
OTHER = "#95a5a6"
LINE = "#2c3e50"
FACE_COLOURS = ("#2980b9", "#8e44ad", "#16a085", "#d35400", "#7f8c8d")


@dataclass(frozen=True)
class Point:
    """One sample of a timeline: a time (or frame number) and a fake probability."""

    x: float
    y: float


@dataclass(frozen=True)
class Series:
    """A named line of points."""

    name: str
    points: tuple[Point, ...]
    colour: str = LINE
    width: float = 2.0


@dataclass(frozen=True)
class Bar:
    """One bar: a label, a total and its fake part."""

    label: str
    total: int
    fake: int
    finished: int | None = None  # what the share is of (default: the total)

    @property
    def rate(self) -> float | None:
        """The fake share, ``None`` when nothing is finished."""
        base = self.total if self.finished is None else self.finished
        return self.fake / base if base else None


def _svg(height: int, body: list[str], title: str) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="chart">'
        f"<title>{escape(title)}</title>"
    )
    return Markup(head + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, *, anchor: str = "middle", size: int = 11) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="#555">{escape(text)}</text>'
    )


def timeline(
    series: Sequence[Series], *, x_label: str, threshold: float | None = 0.5, height: int = 260
) -> Markup:
    """Fake probability (0 to 1) over time: one line per series, points marked.

    Args:
        series: the lines; their x values share one axis.
        x_label: what x is (``"seconds"`` or ``"frame"``).
        threshold: a dashed reference line at this probability, or none.
    """
    left, right, top, bottom = 48, 16, 16, 40
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    xs = [p.x for s in series for p in s.points]
    lo, hi = (min(xs), max(xs)) if xs else (0.0, 1.0)
    span = (hi - lo) or 1.0

    def sx(x: float) -> float:
        # A single sample (a photo) sits in the middle rather than on the axis.
        return left + (plot_w / 2 if hi == lo else (x - lo) / span * plot_w)

    def sy(y: float) -> float:
        return top + (1 - max(0.0, min(1.0, y))) * plot_h

    body = [f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa"/>']
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = sy(tick)
        body.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e3e3"/>'
        )
        body.append(_text(left - 6, y + 4, f"{tick:.0%}", anchor="end"))
    if threshold is not None:
        y = sy(threshold)
        body.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{FAKE}" stroke-dasharray="5 4" class="threshold"/>'
        )
    for i in range(5):
        x = lo + span * i / 4 if hi != lo else lo
        body.append(_text(sx(x), top + plot_h + 16, f"{x:.3g}"))
        if hi == lo:
            break
    body.append(_text(left + plot_w / 2, height - 6, x_label))
    for s in series:
        if len(s.points) > 1:
            path = " ".join(f"{sx(p.x):.1f},{sy(p.y):.1f}" for p in s.points)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{s.colour}" '
                f'stroke-width="{s.width}" class="series"><title>{escape(s.name)}</title>'
                "</polyline>"
            )
        for p in s.points:
            body.append(
                f'<circle cx="{sx(p.x):.1f}" cy="{sy(p.y):.1f}" r="3" fill="{s.colour}" '
                f'class="point"><title>{escape(s.name)}: {p.x:.3g} → {p.y:.1%}</title></circle>'
            )
    return _svg(height, body, "fake probability per frame")


def daily(bars: Sequence[Bar], *, height: int = 260) -> Markup:
    """Checks per day as bars (fake part in red) and the fake share as a line (right axis)."""
    left, right, top, bottom = 48, 48, 16, 48
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    peak = max((b.total for b in bars), default=0) or 1
    step = plot_w / max(1, len(bars))
    body = [f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa"/>']
    for tick in (0.0, 0.5, 1.0):
        y = top + (1 - tick) * plot_h
        body.append(_text(left - 6, y + 4, f"{peak * tick:g}", anchor="end"))
        body.append(_text(left + plot_w + 6, y + 4, f"{tick:.0%}", anchor="start"))
    rate_points: list[str] = []
    label_every = max(1, len(bars) // 10)
    for i, b in enumerate(bars):
        x = left + i * step + step * 0.15
        w = step * 0.7
        h_total = b.total / peak * plot_h
        h_fake = b.fake / peak * plot_h
        tip = f"{b.label}: {b.total} checks, {b.fake} fake"
        body.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h_total:.1f}" width="{w:.1f}" '
            f'height="{h_total:.1f}" fill="{OTHER}" class="bar"><title>{escape(tip)}</title></rect>'
        )
        if b.fake:
            body.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h_fake:.1f}" width="{w:.1f}" '
                f'height="{h_fake:.1f}" fill="{FAKE}" class="bar-fake"/>'
            )
        if b.rate is not None:
            rate_points.append(f"{x + w / 2:.1f},{top + (1 - b.rate) * plot_h:.1f}")
        if i % label_every == 0:
            body.append(_text(x + w / 2, top + plot_h + 16, b.label[5:] or b.label, size=10))
    if len(rate_points) > 1:
        body.append(
            f'<polyline points="{" ".join(rate_points)}" fill="none" stroke="{LINE}" '
            'stroke-width="2" class="rate"/>'
        )
    body.append(_text(left, height - 8, "checks per day (red: fake)", anchor="start"))
    body.append(_text(left + plot_w, height - 8, "line: fake share", anchor="end"))
    return _svg(height, body, "checks and fake share per day")


def per_chat(bars: Sequence[Bar]) -> Markup:
    """One horizontal bar per chat: checks (grey) and fakes (red), with the fake share."""
    row, label_w, top = 24, 220, 8
    height = top * 2 + row * max(1, len(bars))
    plot_w = WIDTH - label_w - 90
    peak = max((b.total for b in bars), default=0) or 1
    body: list[str] = []
    for i, b in enumerate(bars):
        y = top + i * row
        w_total = b.total / peak * plot_w
        w_fake = b.fake / peak * plot_w
        name = b.label if len(b.label) <= 32 else b.label[:31] + "…"
        body.append(_text(label_w - 8, y + 15, name, anchor="end"))
        body.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{w_total:.1f}" height="{row - 8}" '
            f'fill="{OTHER}" class="bar"/>'
        )
        if b.fake:
            body.append(
                f'<rect x="{label_w}" y="{y + 4}" width="{w_fake:.1f}" height="{row - 8}" '
                f'fill="{FAKE}" class="bar-fake"/>'
            )
        share = f"{b.total} · {b.rate:.0%} fake" if b.rate is not None else "0"
        body.append(_text(label_w + w_total + 6, y + 15, share, anchor="start"))
    return _svg(height, body, "checks and fakes per chat")

"""Rendering helpers: Jinja filters and the one function every page renders through."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from base.vocabulary import Label
from dashboard.sessions import CSRF_FIELD, current_session

# Label -> CSS class of its badge.
BADGES = {
    Label.FAKE: "bad",
    Label.REAL: "good",
    Label.INCONCLUSIVE: "warn",
    Label.NO_FACE: "muted",
    Label.UNSUPPORTED: "muted",
    Label.ERROR: "bad",
}


CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def when(value: datetime | None) -> str:
    """A UTC time as ``2026-11-21 20:45:03``."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "—"


def percent(value: float | None, digits: int = 1) -> str:
    """``0.734`` as ``73.4%``."""
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def size(value: int | None) -> str:
    """A byte count for people."""
    if value is None:
        return "—"
    amount = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{value} B"


def register_filters(env: Environment) -> None:
    """Add the dashboard's filters to a Jinja environment."""
    env.filters["when"] = when
    env.filters["percent"] = percent
    env.filters["size"] = size
    env.globals["badges"] = BADGES
    env.globals["csrf_field"] = CSRF_FIELD


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    user: Any = None,
) -> HTMLResponse:
    """Render a template with what every page needs (the user, the CSRF token)."""
    templates = request.app.state.services.templates
    data = {"user": user, "csrf_token": current_session(request).csrf, **(context or {})}
    response: HTMLResponse = templates.TemplateResponse(
        request, name, data, status_code=status_code
    )
    # Pages show moderation data: never cached by the browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    # The pages run no script at all: a policy that allows none makes injected markup inert.
    response.headers["Content-Security-Policy"] = CSP
    return response

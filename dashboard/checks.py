"""The checks table (filters, pages, CSV export), a check's page, and the override form."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from base.vocabulary import DECISIONS, PLATFORMS, STATUSES
from dashboard import charts
from dashboard.auth import Protected, SignedIn
from dashboard.crops import face_crops
from dashboard.filters import LABELS, PAGE_SIZE, PERIODS, TableQuery
from dashboard.maps import map_view
from dashboard.services import Services, services
from dashboard.view import render
from db.audit import query_checks
from db.checks import get_check
from db.columns import utcnow
from db.errors import InvalidValue
from db.export import export_checks
from db.reviews import add_review, latest_decisions, reviews_of

router = APIRouter()
EXPORT_LIMIT = 100_000
# While a check is queued or running its page reloads itself this often (seconds).
REFRESH_S = 2
Svc = Annotated[Services, Depends(services)]


@router.get("/checks", response_class=HTMLResponse)
async def table(request: Request, user: SignedIn, svc: Svc) -> Response:
    """The filterable, paged table of checks, newest first."""
    query = TableQuery.from_params(dict(request.query_params))
    try:
        filters = query.audit_filter()
    except InvalidValue as e:
        return _table_page(request, user, query, None, {}, error=str(e), status_code=400)
    async with svc.sessions() as session:
        page = await query_checks(
            session, filters=filters, limit=PAGE_SIZE, offset=(query.page - 1) * PAGE_SIZE
        )
        decisions = await latest_decisions(session, check_ids=[c.id for c in page.checks])
    return _table_page(request, user, query, page, decisions)


def _table_page(
    request: Request,
    user: Any,
    query: TableQuery,
    page: Any,
    decisions: Mapping[int, str],
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    pages = max(1, -(-page.total // PAGE_SIZE)) if page else 1
    return render(
        request,
        "checks.html",
        {
            "q": query,
            "page": page,
            "pages": pages,
            "decisions": decisions,
            "error": error,
            "platforms": PLATFORMS,
            "labels": LABELS,
            "statuses": STATUSES,
            "periods": PERIODS,
        },
        status_code=status_code,
        user=user,
    )


@router.get("/checks.csv")
async def export_csv(request: Request, user: SignedIn, svc: Svc) -> Response:
    """The table's checks (all pages, at most 100,000) as CSV."""
    query = TableQuery.from_params(dict(request.query_params))
    try:
        filters = query.audit_filter()
    except InvalidValue as e:
        return Response(str(e), status_code=400, media_type="text/plain")
    out = io.StringIO()
    async with svc.sessions() as session:
        await export_checks(session, out=out, fmt="csv", filters=filters, limit=EXPORT_LIMIT)
    name = f"fakewatch-checks-{utcnow():%Y%m%d-%H%M%S}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def timeline_chart(details: Mapping[str, Any] | None) -> Markup | None:
    """The per-frame fake-probability chart of a verdict's details; ``None`` without scores.

    The thick line is the most suspicious face in each sampled frame; thin ones are
    the separate faces (tracks) when there are several.
    """
    details = details or {}
    scores = details.get("frame_scores") or []
    times = details.get("frame_times") or []
    use_time = len(times) == len(scores) and len(scores) > 0
    x_of = (lambda i: float(times[i])) if use_time else float
    overall = tuple(charts.Point(x_of(i), float(p)) for i, p in enumerate(scores) if p is not None)
    if not overall:
        return None
    series = [charts.Series("most suspicious face", overall, width=3.0)]
    faces = details.get("face_scores") or []
    if len(faces) > 1:
        for n, face in enumerate(faces[: len(charts.FACE_COLOURS)]):
            frames, values = face.get("frames") or [], face.get("frame_scores") or []
            points = tuple(
                charts.Point(x_of(f), float(v))
                for f, v in zip(frames, values, strict=False)
                if isinstance(f, int) and 0 <= f < len(scores)
            )
            colour = charts.FACE_COLOURS[n]
            series.append(charts.Series(f"face {face.get('track', n)}", points, colour, 1.5))
    return charts.timeline(series, x_label="seconds" if use_time else "sampled frame")


@router.get("/checks/{check_id}", response_class=HTMLResponse, name="check_page")
async def check_page(request: Request, check_id: int, user: SignedIn, svc: Svc) -> Response:
    """One check: verdict, timeline, face crops, reviews and the override form."""
    async with svc.sessions() as session:
        check = await get_check(session, check_id=check_id)
        if check is None:
            return render(
                request, "missing.html", {"check_id": check_id}, status_code=404, user=user
            )
        reviews = await reviews_of(session, check_id=check_id)
    crops = await asyncio.to_thread(face_crops, check.media_path, check.details)
    blend_map = await asyncio.to_thread(map_view, check.media_path, check.details)
    return render(
        request,
        "check.html",
        {
            "check": check,
            "reviews": reviews,
            "chart": timeline_chart(check.details),
            "crops": crops,
            "blend_map": blend_map,
            "decisions": DECISIONS,
            "refresh": None if check.finished else REFRESH_S,
        },
        user=user,
    )


@router.post("/checks/{check_id}/review", dependencies=[Protected])
async def review(
    request: Request,
    check_id: int,
    user: SignedIn,
    svc: Svc,
    decision: Annotated[str, Form()],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Store a moderator's override as a review, then show the check again."""
    if decision not in DECISIONS:
        return Response(f"unknown decision {decision!r}", status_code=400, media_type="text/plain")
    async with svc.sessions() as session:
        if await get_check(session, check_id=check_id) is None:
            return render(
                request, "missing.html", {"check_id": check_id}, status_code=404, user=user
            )
        await add_review(
            session,
            check_id=check_id,
            moderator_id=f"dashboard:{user.id}",
            moderator_name=user.name,
            decision=decision,
            note=note.strip() or None,
        )
    url = request.url_for("check_page", check_id=check_id)
    return RedirectResponse(f"{url}#reviews", status_code=303)

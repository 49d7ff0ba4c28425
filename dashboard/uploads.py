"""The upload form: check a file directly, through the queue like any other check.

The file becomes a ``web`` check, ``upload`` request, authored by the signed-in
moderator; the browser goes to the check's page, which reloads until the verdict is in.
A body over ``FAKEWATCH_MAX_MEDIA_BYTES`` (and the form around it) is refused before it
is read (:mod:`dashboard.bodies`), and each moderator may upload
``FAKEWATCH_USER_CHECKS_PER_MINUTE`` files a minute, like a chat user of the bots (the
same Redis token buckets, shared by every dashboard replica).
"""

from __future__ import annotations

import logging
import math
import mimetypes
from typing import Annotated

from fastapi import APIRouter, Depends, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from redis.exceptions import RedisError

from base.errors import MediaError, QueueFull, QueueUnavailable
from base.vocabulary import RequestKind
from dashboard.auth import Protected, SignedIn
from dashboard.services import Services, services
from dashboard.view import render
from queue_worker.admission import Decision
from queue_worker.contracts import MediaContext

log = logging.getLogger(__name__)
router = APIRouter()
Svc = Annotated[Services, Depends(services)]
# Multipart framing around the file: a request this much over the media limit is refused
# before it is read.
_FORM_OVERHEAD = 64 * 1024
# After "too many checks waiting", try again in this long (seconds).
BUSY_RETRY_S = 60


def body_limit(max_media_bytes: int) -> tuple[int, str]:
    """The largest upload request accepted, and what to tell who sends more."""
    return (
        max_media_bytes + _FORM_OVERHEAD,
        f"The file is larger than the limit of {max_media_bytes:,} bytes.",
    )


def media_kind(mime_type: str | None) -> str | None:
    """``image``, ``animation`` (GIF) or ``video`` from a MIME type; ``None`` for others."""
    if not mime_type:
        return None
    if mime_type == "image/gif":
        return "animation"
    major = mime_type.split("/", 1)[0]
    return major if major in ("image", "video") else None


@router.get("/upload", response_class=HTMLResponse, name="upload_form")
async def upload_form(request: Request, user: SignedIn, svc: Svc) -> Response:
    """The form."""
    return render(
        request, "upload.html", {"limit": svc.settings.max_media_bytes, "error": None}, user=user
    )


@router.post("/upload", dependencies=[Protected])
async def upload(request: Request, user: SignedIn, svc: Svc, file: UploadFile) -> Response:
    """Queue the file's check and go to its page."""
    limit = svc.settings.max_media_bytes

    def refuse(message: str, status: int, retry_after: int | None = None) -> Response:
        response = render(
            request,
            "upload.html",
            {"limit": limit, "error": message},
            status_code=status,
            user=user,
        )
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    data = await file.read(limit + 1)
    if len(data) > limit:
        svc.metrics.uploads_refused.labels(reason="too_large").inc()
        return refuse(f"The file is larger than the limit of {limit:,} bytes.", 413)
    decision = await _take_allowance(svc, user.id)
    if not decision.allowed:
        svc.metrics.uploads_refused.labels(reason="rate").inc()
        wait = max(1, math.ceil(decision.retry_after_s))
        per_minute = decision.rate.per_minute if decision.rate else 0
        log.info("upload by %s refused: over %g a minute", user.name, per_minute)
        return refuse(
            f"You have uploaded too many files: at most {per_minute:g} a minute. "
            f"Try again in {wait} second{'s' if wait != 1 else ''}.",
            429,
            wait,
        )
    name = (file.filename or "upload")[-200:]
    mime = file.content_type
    if not mime or mime == "application/octet-stream":
        mime = mimetypes.guess_type(name)[0]
    context = MediaContext(
        platform="web",
        request_kind=RequestKind.UPLOAD,
        chat_id="dashboard",
        chat_title="Dashboard uploads",
        author_id=f"dashboard:{user.id}",
        author_name=user.name,
        requested_by=user.name,
        media_kind=media_kind(mime),
        file_name=name,
        mime_type=mime,
    )
    try:
        check_id = await svc.queue.submit(data, context)
    except MediaError as e:
        return refuse(str(e), 400)
    except QueueFull as e:
        log.warning("upload by %s refused: %s", user.name, e)
        svc.metrics.uploads_refused.labels(reason="queue_full").inc()
        return refuse(
            "Too many checks are waiting for the workers; please try again in a minute.",
            503,
            BUSY_RETRY_S,
        )
    except QueueUnavailable as e:
        log.error("upload by %s not queued: %s", user.name, e)
        return refuse("The queue cannot be reached right now; please try again.", 503)
    log.info("%s uploaded %s (%d bytes): check %d", user.name, name, len(data), check_id)
    return RedirectResponse(request.url_for("check_page", check_id=check_id), status_code=303)


async def _take_allowance(svc: Services, user_id: int) -> Decision:
    """Spend one of the moderator's uploads this minute; with Redis away, let it through
    (submitting will say so)."""
    bucket = svc.buckets.bucket("user", f"web:dashboard:{user_id}", svc.upload_rate)
    try:
        return await svc.buckets.take([bucket])
    except (RedisError, OSError):
        log.warning("cannot read the upload rate; letting the upload through", exc_info=True)
        return Decision(allowed=True)

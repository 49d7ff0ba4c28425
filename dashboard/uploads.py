"""The upload form: check a file directly, through the queue like any other check.

The file becomes a ``web`` check, ``upload`` request, authored by the signed-in
moderator; the browser goes to the check's page, which reloads until the verdict is in.
"""

from __future__ import annotations

import logging
import mimetypes
from typing import Annotated

from fastapi import APIRouter, Depends, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dashboard.auth import Protected, SignedIn
from dashboard.services import Services, services
from dashboard.view import render
from fakewatch.errors import MediaError
from queue_worker.contracts import MediaContext
from queue_worker.errors import QueueUnavailable

log = logging.getLogger(__name__)
router = APIRouter()
Svc = Annotated[Services, Depends(services)]
# Multipart framing around the file: a request this much over the media limit is refused
# before it is read.
_FORM_OVERHEAD = 64 * 1024


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

    def refuse(message: str, status: int) -> Response:
        return render(
            request,
            "upload.html",
            {"limit": limit, "error": message},
            status_code=status,
            user=user,
        )

    data = await file.read(limit + 1)
    if len(data) > limit:
        return refuse(f"The file is larger than the limit of {limit:,} bytes.", 413)
    name = (file.filename or "upload")[-200:]
    mime = file.content_type
    if not mime or mime == "application/octet-stream":
        mime = mimetypes.guess_type(name)[0]
    context = MediaContext(
        platform="web",
        request_kind="upload",
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
    except QueueUnavailable as e:
        log.error("upload by %s not queued: %s", user.name, e)
        return refuse("The queue cannot be reached right now; please try again.", 503)
    log.info("%s uploaded %s (%d bytes): check %d", user.name, name, len(data), check_id)
    return RedirectResponse(request.url_for("check_page", check_id=check_id), status_code=303)

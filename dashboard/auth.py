"""Signing in and out, and the two guards every other page uses.

``current_user`` is a FastAPI dependency: it refuses a request without a session
that names an existing account whose password has not changed since. ``csrf_protect``
refuses a form post that lacks the session's token or whose ``Origin`` is another site.
Sign-in attempts go through :mod:`dashboard.throttle` first: repeated failures are
answered 429 with ``Retry-After`` without checking the password.
"""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dashboard.errors import CsrfRejected, SignInRequired
from dashboard.passwords import fingerprint, verify_password_async
from dashboard.services import Services, services
from dashboard.sessions import CSRF_FIELD, current_session, set_session
from dashboard.throttle import Refusal
from dashboard.view import render
from db.users import User, get_user, get_user_by_name, record_login

log = logging.getLogger(__name__)
router = APIRouter()


async def current_user(request: Request, svc: Annotated[Services, Depends(services)]) -> User:
    """The signed-in account.

    Raises:
        SignInRequired: no session, a forged or expired one, a deleted account, or a
            password changed since the session began.
    """
    session = current_session(request)
    if session.user_id is None:
        raise SignInRequired("not signed in")
    async with svc.sessions() as db:
        user = await get_user(db, user_id=session.user_id)
    if user is None or session.password_fingerprint != fingerprint(user.password_hash):
        set_session(request, session.signed_out())
        raise SignInRequired("the session's account is gone or its password changed")
    return user


def _same_origin(request: Request) -> bool:
    # Browsers send Origin with every POST; when present it must be this site. SameSite=Lax
    # already keeps the cookie off cross-site posts: this is the second lock.
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    here = urlsplit(str(request.base_url))
    there = urlsplit(origin)
    return (there.scheme, there.netloc) == (here.scheme, here.netloc)


async def csrf_protect(request: Request) -> None:
    """Refuse a form post that did not come from one of this session's pages.

    Raises:
        CsrfRejected: a missing or wrong token, or another site's ``Origin``.
    """
    if not _same_origin(request):
        raise CsrfRejected(f"cross-site origin {request.headers.get('origin')!r}")
    form = await request.form()
    token = form.get(CSRF_FIELD)
    if not isinstance(token, str) or not current_session(request).csrf_matches(token):
        raise CsrfRejected("missing or wrong CSRF token")


SignedIn = Annotated[User, Depends(current_user)]
Protected = Depends(csrf_protect)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (no open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/checks"


@router.get("/login", response_class=HTMLResponse, name="login_form")
async def login_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form."""
    return render(request, "login.html", {"next": safe_next(next), "error": None})


@router.post("/login", dependencies=[Protected])
async def login(
    request: Request,
    svc: Annotated[Services, Depends(services)],
    name: Annotated[str, Form(max_length=256)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    """Check the name and password (unless there were too many failures); on success
    start a new session."""
    attempt = svc.throttle.admit(
        address=_client(request), account=name, device=svc.devices.device_of(request, name)
    )
    if isinstance(attempt, Refusal):
        return _refused(request, next, attempt)
    ok: bool | None = None  # no answer: the store failed, or the client went away
    try:
        async with svc.sessions() as db:
            user = await get_user_by_name(db, name=name)
            right = await verify_password_async(user.password_hash if user else None, password)
            ok = right and user is not None
            if ok and user is not None:
                await record_login(db, user_id=user.id)
    finally:
        svc.throttle.finish(attempt, ok=ok)
    if not ok or user is None:
        log.info("failed sign-in for %r from %s", name[:64], _client(request))
        return render(
            request,
            "login.html",
            {"next": safe_next(next), "error": "Wrong name or password."},
            status_code=401,
        )
    set_session(
        request, current_session(request).signed_in_as(user.id, fingerprint(user.password_hash))
    )
    log.info("%s signed in from %s", user.name, _client(request))
    response = RedirectResponse(safe_next(next), status_code=303)
    svc.devices.remember(request, response, name)
    return response


def wait_text(seconds: int) -> str:
    """``45 seconds``, ``1 second``, ``15 minutes``: a wait for people."""
    if seconds >= 120:
        minutes = -(-seconds // 60)
        return f"{minutes} minutes"
    return "1 second" if seconds == 1 else f"{seconds} seconds"


def _refused(request: Request, next: str | None, refusal: Refusal) -> Response:
    if refusal.reason == "busy":
        error, status = "The server is busy with other sign-ins. Try again in a moment.", 503
    else:
        error = f"Too many sign-in attempts. Try again in {wait_text(refusal.retry_after)}."
        status = 429
    response = render(
        request, "login.html", {"next": safe_next(next), "error": error}, status_code=status
    )
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response


@router.post("/logout", dependencies=[Protected])
async def logout(request: Request) -> Response:
    """End the session."""
    set_session(request, current_session(request).signed_out())
    return RedirectResponse(request.url_for("login_form"), status_code=303)


@router.get("/")
async def home(request: Request) -> Response:
    """The checks table is the home page."""
    return RedirectResponse("/checks", status_code=303)


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"

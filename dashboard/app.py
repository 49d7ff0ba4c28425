"""The dashboard application: :func:`create_app` wires the store, the queue and the pages.

Everything the pages share lives in one :class:`dashboard.services.Services` on ``app.state``,
made in the lifespan (so importing this module opens nothing)::

    app = create_app(load_settings())
    uvicorn.run(app, host="127.0.0.1", port=8080)
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import Scope

from base.settings import Settings
from dashboard import auth, checks, health, stats, uploads
from dashboard.bodies import BodyLimit
from dashboard.errors import CsrfRejected, SignInRequired
from dashboard.services import open_services
from dashboard.sessions import SessionCodec, dashboard_secret, session_middleware

log = logging.getLogger(__name__)
# The largest body of any other form (sign-in, review, sign-out): a few fields.
FORM_LIMIT = 64 * 1024


def create_app(settings: Settings, *, migrate: bool = True) -> FastAPI:
    """The dashboard, ready for an ASGI server.

    Args:
        migrate: bring the store's schema to the newest revision at start-up.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = await open_services(settings, migrate=migrate)
        try:
            yield
        finally:
            await app.state.services.queue.close()

    app = FastAPI(
        title="FakeWatch dashboard",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.middleware("http")(session_middleware(SessionCodec(dashboard_secret(settings))))

    def body_limit(path: str) -> tuple[int, str]:
        if path == "/upload":
            return uploads.body_limit(settings.max_media_bytes)
        return FORM_LIMIT, "The request is too large."

    def body_refused(scope: Scope) -> None:
        log.warning("refused a %s body over the limit", scope["path"])
        if scope["path"] == "/upload":
            app.state.services.metrics.uploads_refused.labels(reason="too_large").inc()

    # Added last, so outermost: a body over the limit is refused before anything reads it.
    app.add_middleware(BodyLimit, limit_of=body_limit, on_refused=body_refused)
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(CsrfRejected, _csrf_rejected)
    for module in (auth, checks, stats, uploads, health):
        app.include_router(module.router)
    return app


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    # Pages send the browser to the sign-in form; anything else (posts, downloads by
    # scripts) just gets 401 and learns nothing.
    if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(
            request.url_for("login_form").include_query_params(next=target), status_code=303
        )
    return PlainTextResponse("sign in first", status_code=401)


async def _csrf_rejected(request: Request, exc: Exception) -> Response:
    log.warning("refused a form post to %s: %s", request.url.path, exc)
    return PlainTextResponse(
        "This form is out of date or did not come from this site. Reload the page and try again.",
        status_code=403,
    )

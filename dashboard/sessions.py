"""Sessions in a signed cookie, and the CSRF token every form carries.

The cookie holds ``{"u": user id or null, "p": password fingerprint, "c": CSRF token}``,
signed and timestamped with itsdangerous (HMAC-SHA1 over a key derived from the
dashboard secret). A forged or expired cookie is treated as no cookie. It is
``HttpOnly`` (scripts cannot read it), ``SameSite=Lax`` (browsers do not send it with
cross-site form posts) and ``Secure`` whenever the request came over HTTPS.

Every visitor, signed in or not, gets a session with a CSRF token, so the sign-in
form is protected too; signing in or out issues a new token (no session fixation).
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from base.settings import Settings

log = logging.getLogger(__name__)

COOKIE = "fakewatch_session"
MAX_AGE_S = 12 * 3600  # a moderator signs in again after half a day
CSRF_FIELD = "csrf_token"
_SALT = "fakewatch.dashboard.session"


def _token() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class WebSession:
    """What the cookie says about this visitor."""

    user_id: int | None = None
    password_fingerprint: str | None = None
    csrf: str = field(default_factory=_token)

    @property
    def signed_in(self) -> bool:
        """Whether the cookie names an account (still to be checked against the store)."""
        return self.user_id is not None

    def signed_in_as(self, user_id: int, password_fingerprint: str) -> WebSession:
        """A new session for an account, with a fresh CSRF token."""
        return WebSession(user_id=user_id, password_fingerprint=password_fingerprint)

    def signed_out(self) -> WebSession:
        """A new anonymous session, with a fresh CSRF token."""
        return replace(WebSession(), csrf=_token())

    def csrf_matches(self, token: str | None) -> bool:
        """Whether a submitted form token is this session's (constant-time)."""
        return bool(token) and hmac.compare_digest(self.csrf.encode(), str(token).encode())


class SessionCodec:
    """Turns sessions into cookie values and back."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)

    def dumps(self, session: WebSession) -> str:
        """The cookie value."""
        return self._serializer.dumps(
            {"u": session.user_id, "p": session.password_fingerprint, "c": session.csrf}
        )

    def loads(self, value: str | None) -> WebSession | None:
        """The session in a cookie value; ``None`` when absent, forged, malformed or expired."""
        if not value:
            return None
        try:
            data = self._serializer.loads(value, max_age=MAX_AGE_S)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        user_id, fp, csrf = data.get("u"), data.get("p"), data.get("c")
        if not isinstance(csrf, str) or not csrf:
            return None
        if user_id is not None and not (isinstance(user_id, int) and isinstance(fp, str)):
            return None
        return WebSession(user_id=user_id, password_fingerprint=fp, csrf=csrf)


def dashboard_secret(settings: Settings) -> str:
    """``FAKEWATCH_DASHBOARD_SECRET``, else a random key kept in the data directory.

    The file is created once (mode 0600); every dashboard process on this data
    directory shares it, so sessions survive a restart.
    """
    if settings.dashboard_secret is not None:
        return settings.dashboard_secret.get_secret_value()
    path: Path = settings.data_dir / "dashboard.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
            log.info("made a new dashboard secret in %s", path)
    return path.read_text().strip()


def current_session(request: Request) -> WebSession:
    """The session the middleware attached to this request."""
    session: WebSession = request.state.session
    return session


def set_session(request: Request, session: WebSession) -> None:
    """Replace the request's session; the middleware writes the new cookie."""
    request.state.session = session


Handler = Callable[[Request], Awaitable[Response]]


def session_middleware(codec: SessionCodec) -> Callable[[Request, Handler], Awaitable[Response]]:
    """An HTTP middleware that reads the cookie before and writes it after each request."""

    async def middleware(request: Request, call_next: Handler) -> Response:
        found = codec.loads(request.cookies.get(COOKIE))
        session = found or WebSession()
        request.state.session = session
        response = await call_next(request)
        now: Any = request.state.session
        if found is None or now is not session:
            response.set_cookie(
                COOKIE,
                codec.dumps(now),
                max_age=MAX_AGE_S,
                path="/",
                httponly=True,
                samesite="lax",
                secure=request.url.scheme == "https",
            )
        return response

    return middleware

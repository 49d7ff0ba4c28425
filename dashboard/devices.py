"""Known devices: a signed cookie a browser gets when it signs in to an account.

Sign-in failures slow an account down wherever they come from (see
:mod:`dashboard.throttle`), which an attacker could use to keep the real moderator
waiting. A browser that has signed in to the account before shows it with this
cookie and is then judged by its own failures only (OWASP's "device cookies").

The cookie holds ``{"n": the folded account name, "d": a random device id}``, signed
with the dashboard secret (another salt than the session's), and is sent to
``/login`` only. It proves nothing on its own: the password is still checked.
"""

from __future__ import annotations

import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from dashboard.throttle import account_key

COOKIE = "fakewatch_device"
MAX_AGE_S = 90 * 24 * 3600
_SALT = "fakewatch.dashboard.device"
_PATH = "/login"


class DeviceCookies:
    """Reads and writes the known-device cookie."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)

    def _read(self, request: Request) -> tuple[str, str] | None:
        value = request.cookies.get(COOKIE)
        if not value:
            return None
        try:
            data = self._serializer.loads(value, max_age=MAX_AGE_S)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        name, device = data.get("n"), data.get("d")
        if not (isinstance(name, str) and isinstance(device, str) and device):
            return None
        return name, device

    def device_of(self, request: Request, account: str) -> str | None:
        """The device id when the browser has signed in to ``account`` before, else ``None``."""
        found = self._read(request)
        if found is None or found[0] != account_key(account):
            return None
        return found[1]

    def remember(self, request: Request, response: Response, account: str) -> None:
        """Give the browser (again) the cookie of a successful sign-in to ``account``."""
        device = self.device_of(request, account) or secrets.token_urlsafe(16)
        response.set_cookie(
            COOKIE,
            self._serializer.dumps({"n": account_key(account), "d": device}),
            max_age=MAX_AGE_S,
            path=_PATH,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )

"""A cap on request bodies, enforced as they arrive, before any form is parsed.

FastAPI parses a form (spooling its files to disk) before the route runs, so a
limit checked in the route comes after the whole body has been taken in. This ASGI
middleware refuses a body over its path's limit with 413 first: at once when the
``Content-Length`` says so, else as soon as the bytes received pass it (a chunked
upload), whatever the app was doing with them.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    """Raised into the app when the body passes its limit (the middleware answers 413)."""


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimit:
    """Refuse request bodies over their path's limit with 413.

    Args:
        limit_of: The largest body accepted on a path, and what to tell who sends more.
        on_refused: Told of each refused request (for metrics).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit_of: Callable[[str], tuple[int, str]],
        on_refused: Callable[[Scope], None] | None = None,
    ) -> None:
        self.app = app
        self.limit_of = limit_of
        self.on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, refusal = self.limit_of(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, send, refusal)
            return
        received = 0
        tripped = started = False

        async def limited() -> Message:
            nonlocal received, tripped
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    tripped = True
                    raise BodyTooLarge(f"the request body is over {limit} bytes")
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if tripped and not started:
                return  # whatever the app answers to a cut-off body, ours replaces it
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, guarded)
        except Exception:
            if not tripped:
                raise
        if tripped and not started:
            await self._refuse(scope, send, refusal)

    async def _refuse(self, scope: Scope, send: Send, message: str) -> None:
        if self.on_refused is not None:
            self.on_refused(scope)
        body = (message + "\n").encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

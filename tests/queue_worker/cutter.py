"""A TCP proxy in front of the real Redis that cuts a connection at a chosen command.

Redis restarting mid-transaction is a race a test cannot time; this makes it exact:
armed with a command name, the proxy closes the first client connection that sends
it, before Redis sees it, as a server going away at that moment would.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


@dataclass
class Cutter:
    """Forwards ``127.0.0.1:<port>`` to Redis at ``upstream_host:upstream_port``.

    Attributes:
        cuts: how many connections it has cut so far.
    """

    upstream_host: str
    upstream_port: int
    cuts: int = 0
    _armed: bytes | None = None
    _server: asyncio.Server | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        """The port clients connect to."""
        assert self._server is not None, "start() first"
        return int(self._server.sockets[0].getsockname()[1])

    def arm(self, command: str) -> None:
        """Cut the next connection that sends ``command`` (once)."""
        self._armed = f"\r\n{command.upper()}\r\n".encode()

    async def start(self) -> Cutter:
        """Listen on a free port."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def close(self) -> None:
        """Stop listening (connections under way end with their clients)."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        redis_r, redis_w = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        cut = asyncio.Event()

        async def upstream() -> None:
            tail = b""
            while not cut.is_set() and (data := await client_r.read(65536)):
                seen = tail + data
                tail = seen[-16:]
                if self._armed is not None and self._armed in seen:
                    self._armed = None
                    self.cuts += 1
                    cut.set()
                    return
                redis_w.write(data)
                await redis_w.drain()

        async def downstream() -> None:
            while not cut.is_set() and (data := await redis_r.read(65536)):
                client_w.write(data)
                await client_w.drain()

        pumps = [asyncio.ensure_future(upstream()), asyncio.ensure_future(downstream())]
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for pump in pumps:
            pump.cancel()
        for writer in (client_w, redis_w):
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

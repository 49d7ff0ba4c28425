"""A fake Discord for tests: the gateway (websocket), the REST API and the attachment CDN.

The real discord.py client talks to it as it would to Discord, pointed there by
``DISCORD_API_BASE`` (:attr:`FakeDiscord.api_base`) and ``DISCORD_GATEWAY_URL``
(:attr:`FakeDiscord.gateway_url`). The fake owns one guild with channels, roles and members
(owner, moderator, member), sends HELLO / READY / GUILD_CREATE, answers heartbeats and RESUME,
and then pushes MESSAGE_CREATE and INTERACTION_CREATE events the way Discord shapes them.
Everything the client sends (REST calls, gateway ops, attachment downloads) is recorded in
:attr:`FakeDiscord.log` so tests assert on it and print it as a transcript.

Run it alone to poke at it by hand: ``python -m tests.bots.discord_fake``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import WSMsgType, web

from tests.bots import discord_payloads as p
from tests.bots.discord_rest import RestHandlers
from tests.bots.discord_world import World

Payload = dict[str, Any]
API_PREFIX = "/api/v10"


@dataclass
class Received:
    """One thing the fake saw: a REST call, a gateway op, a download, or an event it pushed."""

    kind: str  # "rest", "gateway", "download" or "event" (pushed by the fake)
    method: str
    path: str
    body: Any = None
    query: dict[str, str] = field(default_factory=dict)
    files: list[tuple[str, str, bytes]] = field(default_factory=list)  # name, type, data

    def line(self) -> str:
        """One readable transcript line (``<-`` received by the fake, ``->`` pushed by it)."""
        if self.kind == "event":
            return f"-> gateway {self.method} {self.path}"
        if self.kind == "gateway":
            return f"<- gateway {self.method} {json.dumps(self.body, ensure_ascii=False)}"
        if self.kind == "download":
            return f"<- GET {self.path} (attachment download, {self.body} bytes)"
        query = "?" + "&".join(f"{k}={v}" for k, v in self.query.items()) if self.query else ""
        text = f"<- {self.method} {unquote(self.path)}{query}"
        if self.body is not None:
            text += " " + json.dumps(self.body, ensure_ascii=False, sort_keys=True)
        for name, ctype, data in self.files:
            text += f" +file {name} ({ctype}, {len(data)} bytes)"
        return text


class FakeDiscord(World):
    """One fake Discord with one guild; use as ``async with FakeDiscord() as discord:``.

    Args:
        token: the bot token the fake accepts.
        message_content_enabled: whether the application has the Message Content intent enabled
            in its (fake) Developer Portal; without it, asking for the intent closes the gateway
            with 4014, as Discord does.
    """

    def __init__(self, *, token: str = "fake-bot-token", message_content_enabled: bool = True):
        super().__init__(message_content_enabled=message_content_enabled)
        self.token = token
        self.log: list[Received] = []
        self.downloads: Counter[str] = Counter()
        self.messages: dict[str, Payload] = {}
        self.commands: dict[str | None, list[Payload]] = {}  # guild id (None: global) -> synced
        self.uploads: dict[str, tuple[bytes, str]] = {}  # attachment id -> data, content type
        self.dm_channels: dict[str, Payload] = {}  # user id -> the bot's DM channel with them
        self.attach_files = True  # False: the bot lacks Attach Files (uploads answer 403)
        self.identify: Payload | None = None
        self.connected = asyncio.Event()
        self._changed = asyncio.Event()
        self._ws: web.WebSocketResponse | None = None
        self._seq = 0
        self._history: list[Payload] = []
        self._session_id = "session-" + p.snowflake()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self.rest = RestHandlers(self)

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def root(self) -> str:
        """``http://127.0.0.1:PORT``: the host of everything the fake serves."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_base(self) -> str:
        """The value for ``DISCORD_API_BASE``: the REST root (``/api/v10`` is under it)."""
        return self.root

    @property
    def gateway_url(self) -> str:
        """The value for ``DISCORD_GATEWAY_URL``."""
        return f"ws://127.0.0.1:{self._port}/gateway"

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{channel}/{attachment}/{filename}", self._download)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def close(self) -> None:
        """Close the gateway connection and stop serving."""
        if self._ws is not None and not self._ws.closed:
            await self._ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- recording -------------------------------------------------------------------------

    def record(self, item: Received) -> None:
        """Add to the log and wake whoever waits on it."""
        self.log.append(item)
        self._changed.set()

    async def wait_for(
        self, match: Callable[[Received], bool], *, start: int = 0, timeout: float = 60.0
    ) -> Received:
        """The first logged item from index ``start`` on that ``match`` accepts, waiting for it."""
        async with asyncio.timeout(timeout):
            seen = start
            while True:
                for item in self.log[seen:]:
                    if match(item):
                        return item
                seen = len(self.log)
                self._changed.clear()
                await self._changed.wait()

    def requests(self, method: str, pattern: str, *, start: int = 0) -> list[Received]:
        """REST calls from index ``start`` whose method matches and path matches ``pattern``."""
        return [
            r
            for r in self.log[start:]
            if r.kind == "rest" and r.method == method and re.fullmatch(pattern, unquote(r.path))
        ]

    def transcript(self, start: int = 0, end: int | None = None) -> str:
        """The log as text; heartbeats left out."""
        items = self.log[start:end]
        return "\n".join(i.line() for i in items if i.method not in ("HEARTBEAT",))

    # --- REST and CDN ----------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        return await self.rest.handle(request)

    def upload(
        self,
        data: bytes,
        filename: str,
        content_type: str | None,
        *,
        channel: str = "general",
        size: int | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> Payload:
        """Store a file on the fake CDN; returns its attachment payload.

        ``size`` overrides the declared size (what Discord tells the bot before any download).
        """
        attachment_id = p.snowflake()
        self.uploads[attachment_id] = (data, content_type or "application/octet-stream")
        url = f"{self.root}/attachments/{self.channel_id(channel)}/{attachment_id}/{filename}"
        return p.attachment(
            attachment_id,
            filename,
            url=url,
            size=len(data) if size is None else size,
            content_type=content_type,
            width=width,
            height=height,
        )

    async def _download(self, request: web.Request) -> web.StreamResponse:
        attachment_id = request.match_info["attachment"]
        if attachment_id not in self.uploads:
            raise web.HTTPNotFound()
        data, content_type = self.uploads[attachment_id]
        self.downloads[attachment_id] += 1
        self.record(Received("download", "GET", request.path, body=len(data)))
        return web.Response(body=data, content_type=content_type)

    # --- gateway ---------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self._ws = ws
        await self._send({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            await self._on_op(ws, json.loads(msg.data))
        if self._ws is ws:
            self._ws = None
            self.connected.clear()
        return ws

    async def _on_op(self, ws: web.WebSocketResponse, frame: Payload) -> None:
        op, data = frame.get("op"), frame.get("d")
        names = {1: "HEARTBEAT", 2: "IDENTIFY", 3: "PRESENCE_UPDATE", 6: "RESUME", 8: "REQUEST"}
        shown = {**data, "token": "***"} if isinstance(data, dict) and "token" in data else data
        self.record(Received("gateway", names.get(op, f"OP{op}"), "", body=shown))
        if op == 1:
            await self._send({"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            await self._identify(ws, data)
        elif op == 6:
            await self._resume(ws, data)
        elif op == 8:
            chunk = {"guild_id": self.guild_id, "members": list(self.members.values())}
            await self.dispatch(
                "GUILD_MEMBERS_CHUNK", {**chunk, "chunk_index": 0, "chunk_count": 1}
            )

    async def _identify(self, ws: web.WebSocketResponse, data: Payload) -> None:
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        wants_content = bool(int(data.get("intents", 0)) & p.INTENT_MESSAGE_CONTENT)
        allowed = p.GATEWAY_MESSAGE_CONTENT | p.GATEWAY_MESSAGE_CONTENT_LIMITED
        if wants_content and not int(self.application["flags"]) & allowed:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        self.identify = data
        self._seq, self._history = 0, []
        ready = {
            "v": 10,
            "user": {**self.bot_user, "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": self.guild_id, "unavailable": True}],
            "session_id": self._session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "shard": [0, 1],
            "application": {"id": self.application_id, "flags": self.application["flags"]},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
        }
        await self.dispatch("READY", ready, note=f"session {self._session_id}")
        guild = dict(self.guild)
        if not int(data.get("intents", 0)) & p.INTENT_GUILD_MEMBERS:
            # Without the Server Members intent Discord sends only the bot's own member.
            guild["members"] = [self.members["bot"]]
        await self.dispatch("GUILD_CREATE", guild, note=f"guild {self.guild_id}")
        self.connected.set()

    async def _resume(self, ws: web.WebSocketResponse, data: Payload) -> None:
        if data.get("token") != self.token or data.get("session_id") != self._session_id:
            await self._send({"op": 9, "d": False, "s": None, "t": None})
            return
        for frame in self._history:
            if frame["s"] > int(data.get("seq") or 0):
                await self._send(frame)
        await self.dispatch("RESUMED", {}, note="replayed missed events")
        self.connected.set()

    async def _send(self, frame: Payload) -> None:
        if self._ws is not None and not self._ws.closed:
            with contextlib.suppress(ConnectionResetError):
                await self._ws.send_str(json.dumps(frame))

    async def dispatch(self, event: str, data: Payload, *, note: str = "") -> None:
        """Send a DISPATCH event (op 0) with the next sequence number, kept for RESUME."""
        self._seq += 1
        frame = {"op": 0, "t": event, "s": self._seq, "d": data}
        self._history.append(frame)
        self.record(Received("event", event, note))
        await self._send(frame)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: the client reconnects and RESUMEs, as after a Discord restart."""
        self.connected.clear()
        await self._send({"op": 7, "d": None, "s": None, "t": None})

    # --- pushing what users do ---------------------------------------------------------------

    def _sees_content(self, data: Payload) -> bool:
        intents = int((self.identify or {}).get("intents", 0))
        mentioned = any(u.get("id") == self.application_id for u in data.get("mentions", []))
        return bool(intents & p.INTENT_MESSAGE_CONTENT) or mentioned

    async def post_message(
        self,
        *,
        author: str = "member",
        channel: str = "general",
        content: str = "",
        attachments: list[Payload] | None = None,
    ) -> Payload:
        """``author`` posts a message in ``#channel``; the bot gets MESSAGE_CREATE."""
        data = p.message(
            message_id=p.snowflake(),
            channel_id=self.channel_id(channel),
            guild_id=self.guild_id,
            author=self.users[author],
            author_member=self.members[author],
            content=content,
            attachments=attachments,
        )
        self.messages[data["id"]] = data
        event = dict(data)
        if not self._sees_content(event):
            # Without the Message Content intent Discord blanks these fields.
            event.update(content="", attachments=[], embeds=[], components=[])
        files = ", ".join(
            f"{a['filename']} {a.get('content_type')} {a['size']} B" for a in data["attachments"]
        )
        note = f"message {data['id']} in #{channel} by {author}: {content!r} [{files}]"
        await self.dispatch("MESSAGE_CREATE", event, note=note)
        return data

    def _command_id(self, name: str, command_type: int) -> str:
        for guild in (self.guild_id, None):
            for command in self.commands.get(guild, []):
                if command["name"] == name and command.get("type", 1) == command_type:
                    return str(command["id"])
        raise LookupError(f"command {name!r} (type {command_type}) was never synced")

    def _invoker(self, user: str) -> Payload:
        return {**self.members[user], "permissions": str(self.permissions[user])}

    async def slash_command(
        self,
        name: str,
        *,
        user: str = "member",
        channel: str = "general",
        options: list[Payload] | None = None,
        attachments: list[Payload] | None = None,
        channels: list[str] | None = None,
    ) -> Payload:
        """``user`` runs ``/name`` (``"group sub"`` for a subcommand); returns the interaction.

        ``attachments`` (payloads) and ``channels`` (names) go to ``data.resolved``, where
        attachment and channel options find them by id.
        """
        top, *subs = name.split()
        options = list(options or [])
        for sub in reversed(subs):
            kind = 1 if sub == subs[-1] else 2
            options = [{"type": kind, "name": sub, "options": options}]
        data: Payload = {"id": self._command_id(top, 1), "name": top, "type": 1, "options": options}
        data["guild_id"] = self.guild_id
        resolved: Payload = {}
        if attachments:
            resolved["attachments"] = {a["id"]: a for a in attachments}
        if channels:
            resolved["channels"] = {
                self.channel_id(c): {**self.channels[c], "permissions": str(p.ALL_PERMISSIONS)}
                for c in channels
            }
        if resolved:
            data["resolved"] = resolved
        return await self._interact(data, user=user, channel=channel, note=f"/{name}")

    async def message_command(
        self, name: str, *, target: Payload, user: str = "member", channel: str = "general"
    ) -> Payload:
        """``user`` picks the message context-menu command ``name`` on ``target``."""
        data: Payload = {
            "id": self._command_id(name, 3),
            "name": name,
            "type": 3,
            "guild_id": self.guild_id,
            "target_id": target["id"],
            "resolved": {"messages": {target["id"]: target}},
        }
        return await self._interact(data, user=user, channel=channel, note=f"menu {name!r}")

    async def _interact(self, data: Payload, *, user: str, channel: str, note: str) -> Payload:
        payload = p.interaction(
            application_id=self.application_id,
            guild_id=self.guild_id,
            channel=self.channels[channel],
            invoker=self._invoker(user),
            data=data,
            app_permissions=self.permissions["bot"],
        )
        self.rest.interactions[payload["token"]] = {
            "id": payload["id"],
            "channel_id": payload["channel_id"],
            "user": self.users[user],
            "original": None,
        }
        note = f"interaction {payload['id']} {note} by {user} in #{channel}"
        await self.dispatch("INTERACTION_CREATE", payload, note=note)
        return payload


async def _main() -> None:  # pragma: no cover - manual use
    async with FakeDiscord() as fake:
        print(f"DISCORD_API_BASE={fake.api_base}\nDISCORD_GATEWAY_URL={fake.gateway_url}")
        print(f"DISCORD_TOKEN={fake.token}")
        await asyncio.Event().wait()


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(_main())

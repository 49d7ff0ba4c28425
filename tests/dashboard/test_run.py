"""``fakewatch run`` (what ``make run`` starts) and ``fakewatch user``, as real processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from base.settings import load_settings
from queue_worker.broker import EmbeddedRedis

STARTUP_TIMEOUT_S = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FAKEWATCH_", "DISCORD_", "TELEGRAM_"))
        and k not in ("REDIS_URL", "DATABASE_URL")
    }
    env["FAKEWATCH_DATA_DIR"] = str(data_dir)
    return env


def test_run_starts_everything_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    data = tmp_path / "d"  # short: the embedded Redis socket lives in it
    port = _free_port()
    # A folder of its own as the working directory: the checkout's .env stays out of it.
    process = subprocess.Popen(
        [sys.executable, "-m", "fakewatch", "run", "--port", str(port)],
        cwd=tmp_path,
        env=_env(data),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True)
    reader.start()  # everything it prints, as it prints it
    try:
        # Ready is what the user is told: the banner (printed once the dashboard answers).
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            if any("Dashboard: " in line for line in list(lines)):
                break
            time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            assert r.status == 200, "the dashboard does not answer /healthz"
        redis = EmbeddedRedis.for_settings(load_settings(data_dir=data))
        assert redis.running()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        reader.join(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = "".join(lines)
    assert process.returncode == 0, output
    assert f"Dashboard: http://127.0.0.1:{port}/" in output
    assert "Sign in as 'admin' with the password " in output
    assert "worker" in output
    assert "fakewatch run: stopped" in output
    assert not redis.running(), "the embedded Redis it started is still running"
    assert (data / "fakewatch.sqlite3").is_file()


def _user(data: Path, tmp_path: Path, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fakewatch", "user", *args],
        cwd=tmp_path,
        env=_env(data),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_user_add_reads_the_password_from_stdin(tmp_path: Path) -> None:
    import asyncio

    from dashboard.passwords import verify_password
    from db.engine import create_engine, session_factory
    from db.users import get_user_by_name

    data = tmp_path / "d"
    made = _user(data, tmp_path, "add", "Alice", stdin="s3cret-enough\n")
    assert made.returncode == 0, made.stderr
    again = _user(data, tmp_path, "add", "alice", stdin="another-one\n")
    assert again.returncode == 2 and "already exists" in again.stderr
    short = _user(data, tmp_path, "add", "bob", stdin="short\n")
    assert short.returncode == 2 and "at least" in short.stderr
    nothing = _user(data, tmp_path, "add", "carol", stdin="")
    assert nothing.returncode == 2

    async def stored_hash() -> str | None:
        engine = create_engine(f"sqlite:///{data / 'fakewatch.sqlite3'}")
        async with session_factory(engine)() as session:
            user = await get_user_by_name(session, name="ALICE")
        await engine.dispose()
        return user.password_hash if user else None

    password_hash = asyncio.run(stored_hash())
    assert password_hash is not None and password_hash.startswith("$argon2id$")
    assert "s3cret-enough" not in password_hash
    assert verify_password(password_hash, "s3cret-enough")
    assert not verify_password(password_hash, "s3cret-enougH")
    changed = _user(data, tmp_path, "passwd", "alice", stdin="a-new-password\n")
    assert changed.returncode == 0, changed.stderr
    assert verify_password(asyncio.run(stored_hash()), "a-new-password")

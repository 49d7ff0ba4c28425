"""``fakewatch submit``, ``worker``, ``audit``, ``db`` and ``redis`` as an operator runs them:
real processes, the embedded Redis (no REDIS_URL) and the SQLite store in the data directory."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import samples


def _env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("FAKEWATCH_") and k not in ("REDIS_URL", "DATABASE_URL")
    }
    env |= {
        "FAKEWATCH_DATA_DIR": str(data_dir),
        "FAKEWATCH_WEIGHTS": "random",
        "FAKEWATCH_FRAMES": "4",
        "FAKEWATCH_DEVICE": os.environ.get("FAKEWATCH_TEST_DEVICE", "cpu"),
        "FAKEWATCH_QUEUE": "cli-test",
    }
    return env


def fakewatch(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fakewatch", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=env,
    )


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    env = _env(tmp_path / "data")
    yield env, tmp_path
    fakewatch("redis", "stop", env=env, cwd=tmp_path)


def test_submit_worker_audit_with_the_embedded_defaults(
    service: tuple[dict[str, str], Path],
) -> None:
    env, tmp = service
    photo = tmp / "photo.jpg"
    photo.write_bytes(samples.encode_image(samples.astronaut(), "JPEG"))
    bad = tmp / "bad.mp4"
    bad.write_bytes(b"meeting notes, not a video\n" * 4)

    queued = fakewatch("submit", str(photo), str(bad), "--chat", "ops", env=env, cwd=tmp)
    assert queued.returncode == 0, queued.stderr
    assert "queued as check 1" in queued.stdout and "queued as check 2" in queued.stdout
    assert fakewatch("redis", "status", env=env, cwd=tmp).returncode == 0  # started for us

    log = (tmp / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "fakewatch", "worker"],
        env=env,
        cwd=tmp,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        waited = fakewatch("submit", "--wait", "--json", str(photo), env=env, cwd=tmp)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        log.close()
    assert waited.returncode == 0, waited.stderr + (tmp / "worker.log").read_text()
    result = json.loads(waited.stdout)
    assert result["file"] == str(photo) and result["check_id"] == 3
    assert result["status"] == "done" and result["deduplicated"] is True  # check 1 judged it

    deadline = time.monotonic() + 60
    while True:  # the worker judged 1 and 2 before 3, but be sure they are all in
        counts = fakewatch("audit", "--counts", "--format", "json", env=env, cwd=tmp)
        if "pending" not in json.loads(counts.stdout) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert counts.returncode == 0, counts.stderr
    by_label = json.loads(counts.stdout)
    assert by_label["unsupported"] == 1 and sum(by_label.values()) == 3

    rows = json.loads(fakewatch("audit", "--format", "json", env=env, cwd=tmp).stdout)
    assert [r["id"] for r in rows] == [3, 2, 1]
    assert rows[1]["reason_code"] == "unsupported_format" and rows[1]["status"] == "failed"
    assert rows[2]["chat_id"] == "ops" and rows[2]["platform"] == "cli"
    assert rows[2]["details"]["frame_scores"] and rows[0]["deduplicated_from"] == 1

    table = fakewatch("audit", "--chat", "ops", "--since", "1h", env=env, cwd=tmp).stdout
    assert "2 of 2 matching checks" in table and "unsupported" in table
    out = fakewatch("audit", "--label", "unsupported", "--format", "csv", env=env, cwd=tmp)
    assert [r["file_name"] for r in csv.DictReader(io.StringIO(out.stdout))] == ["bad.mp4"]
    assert "0 of 0" in fakewatch("audit", "--platform", "discord", env=env, cwd=tmp).stdout
    bad_since = fakewatch("audit", "--since", "yesterday-ish", env=env, cwd=tmp)
    assert bad_since.returncode == 2 and "neither a span" in bad_since.stderr


def test_db_upgrade_downgrade_current(service: tuple[dict[str, str], Path]) -> None:
    env, tmp = service
    up = fakewatch("db", "upgrade", env=env, cwd=tmp)
    assert up.returncode == 0, up.stderr
    head = up.stdout.split()[0]
    assert up.stdout.startswith(f"{head} (newest: {head})")
    down = fakewatch("db", "downgrade", "base", env=env, cwd=tmp)
    assert down.returncode == 0 and down.stdout.startswith("base (empty)"), down.stderr
    assert fakewatch("db", "current", env=env, cwd=tmp).stdout.startswith("base (empty)")
    assert fakewatch("db", "upgrade", "0001", env=env, cwd=tmp).stdout.startswith("0001 ")
    bad = fakewatch("db", "downgrade", "nowhere", env=env, cwd=tmp)
    assert bad.returncode == 2 and "nowhere" in bad.stderr

"""End to end in headless Chromium (Debian's package, driven by Playwright): sign in,
filter the table, open a check, override it, upload a file and watch its verdict arrive
from a real worker (random weights) through the real Redis.

Screenshots go to ``artifacts/dashboard/`` (git-ignored) for people to look at.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from base.settings import Settings
from bench import samples
from dashboard.app import create_app
from tests.dashboard.conftest import MODERATOR, PASSWORD
from tests.dashboard.factories import make_checks

CHROMIUM = Path(os.environ.get("FAKEWATCH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "dashboard"
VERDICT_TIMEOUT_S = 180

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def worker(settings: Settings, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real ``fakewatch worker`` process with small random weights, on this test's queue."""
    env = dict(
        os.environ,
        FAKEWATCH_WEIGHTS="random",
        FAKEWATCH_DEVICE="cpu",
        FAKEWATCH_FRAMES="4",
        DATABASE_URL=str(settings.database_url),
        REDIS_URL=str(settings.redis_url),
        FAKEWATCH_QUEUE=settings.queue_name,
        FAKEWATCH_DATA_DIR=str(settings.data_dir),
    )
    log = (tmp_path / "worker.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "fakewatch", "worker"], env=env, stdout=log, stderr=log
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


@pytest.fixture
def server(settings: Settings, moderator: str) -> Iterator[str]:
    """The dashboard served by uvicorn on a free port; yields its base URL."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, migrate=False), host="127.0.0.1", port=port, log_level="warning"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the dashboard did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=15)


def test_moderator_journey_in_chromium(
    server: str,
    worker: subprocess.Popen[bytes],
    settings: Settings,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    fake, real = make_checks(
        str(settings.database_url),
        {
            "label": "fake",
            "p": 0.91,
            "chat_id": "-1001",
            "chat_title": "Town square",
            "author_name": "Mallory",
            "scores": [0.2, 0.5, 0.85, 0.97, 0.9, 0.7, 0.95, 0.88],
        },
        {
            "label": "real",
            "p": 0.05,
            "chat_id": "-1001",
            "chat_title": "Town square",
            "author_name": "Alice",
        },
    )
    photo = tmp_path / "astronaut.png"
    photo.write_bytes(samples.encode_image(samples.astronaut(), "PNG"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(30_000)
            # Signed out, the table sends the browser to the sign-in form.
            page.goto(f"{server}/checks")
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            page.fill("#name", MODERATOR)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            expect(page.get_by_role("heading", name="Checks")).to_be_visible()
            expect(page.locator("#checks tbody tr")).to_have_count(2)

            page.select_option("select[name=label]", "fake")
            page.click("#filters button[type=submit]")
            expect(page.locator("#checks tbody tr")).to_have_count(1)
            assert "label=fake" in page.url
            page.screenshot(path=str(ARTIFACTS / "checks-filtered.png"), full_page=True)

            page.click(f"#checks a[href='/checks/{fake}']")
            expect(page.locator("#verdict")).to_have_text("fake")
            expect(page.locator("#timeline svg circle.point")).to_have_count(8)
            page.select_option("#decision", "real")
            page.fill("#note", "satire account, known to the team")
            page.click("#review-form button[type=submit]")
            expect(page.locator("#reviews")).to_contain_text("satire account, known to the team")
            page.screenshot(path=str(ARTIFACTS / "check-reviewed.png"), full_page=True)

            page.goto(f"{server}/checks?reviewed=yes")
            expect(page.locator("#checks tbody tr")).to_have_count(1)

            page.goto(f"{server}/upload")
            page.set_input_files("#file", str(photo))
            page.click("form[action='/upload'] button[type=submit]")
            expect(page.locator("h1")).to_contain_text("Check")
            upload_url = page.url
            assert upload_url.rsplit("/", 1)[1].isdigit()
            # The page reloads itself until the worker has stored the verdict.
            expect(page.locator("#verdict")).to_have_text(
                __import__("re").compile(r"^(fake|real|inconclusive|no_face)$"),
                timeout=VERDICT_TIMEOUT_S * 1000,
            )
            expect(page.locator("#waiting")).to_have_count(0)
            page.screenshot(path=str(ARTIFACTS / "upload-verdict.png"), full_page=True)

            page.goto(f"{server}/stats")
            expect(page.locator("#per-day svg")).to_be_visible()
            expect(page.locator("#per-chat")).to_contain_text("Town square")
            page.screenshot(path=str(ARTIFACTS / "statistics.png"), full_page=True)
        finally:
            browser.close()
    assert worker.poll() is None, "the worker died"
    assert real > fake

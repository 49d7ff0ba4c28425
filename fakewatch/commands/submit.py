"""``fakewatch submit FILE...``: send files through the queue like a bot would (platform cli)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import mimetypes
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from base.errors import FakeWatchError
from base.settings import Settings
from base.vocabulary import RequestKind, Status

if TYPE_CHECKING:
    from queue_worker.client import QueueClient
    from queue_worker.contracts import CheckResult


def register(sub: Any) -> None:
    """Add ``submit``."""
    p = sub.add_parser(
        "submit",
        help="queue files for checking (a worker judges them)",
        description="Queue image and video files for the worker, as a bot would "
        "(platform 'cli'); print each check id, or with --wait each verdict.",
    )
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--wait", action="store_true", help="wait for the verdicts and print them")
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="S",
        help="with --wait: seconds to wait in all (default: FAKEWATCH_JOB_TIMEOUT_S x tries)",
    )
    p.add_argument("--chat", default=None, help="a chat id to record (for the audit log)")
    p.add_argument("--json", action="store_true", help="one JSON object per file")
    p.set_defaults(handler=run)


def _media_kind(mime: str | None) -> str | None:
    if mime is None:
        return None
    major = mime.split("/", 1)[0]
    return major if major in ("image", "video") else None


def format_result(name: str, r: CheckResult) -> str:
    """One readable line per file."""
    if r.status == Status.FAILED:
        return f"{name}: {(r.label or 'error').upper()} - {r.reason} (check {r.check_id})"
    if not r.finished:
        return f"{name}: {r.status} (check {r.check_id})"
    prob = "" if r.fake_probability is None else f"  fake probability {r.fake_probability:.2f}"
    reused = ", reused verdict" if r.deduplicated else ""
    total = sum(r.timings.values())
    return (
        f"{name}: {(r.label or '').upper()}{prob}  ({r.faces} face(s) in {r.frames} frame(s), "
        f"model {r.model}, {total:.2f}s{reused}; check {r.check_id})"
    )


def _print(name: str, payload: dict[str, Any], text: str, as_json: bool) -> None:
    print(json.dumps({"file": name, **payload}) if as_json else text, flush=True)


async def _submit_all(args: argparse.Namespace, client: QueueClient) -> tuple[dict[str, int], int]:
    from queue_worker.contracts import MediaContext

    ids: dict[str, int] = {}
    errors = 0
    user = getpass.getuser()
    for path in args.files:
        name = str(path)
        mime = mimetypes.guess_type(path.name)[0]
        context = MediaContext(
            platform="cli",
            chat_id=args.chat,
            author_id=user,
            author_name=user,
            request_kind=RequestKind.CLI,
            requested_by=user,
            media_kind=_media_kind(mime),
            file_name=path.name,
            mime_type=mime,
        )
        try:
            check_id = await client.submit(path.read_bytes(), context)
        except (OSError, FakeWatchError) as e:
            code = getattr(e, "code", "io_error")
            _print(name, {"error": str(e), "code": code}, f"{name}: not queued - {e}", args.json)
            errors += 1
            continue
        ids[name] = check_id
        if not args.wait:
            _print(
                name,
                {"check_id": check_id, "status": Status.QUEUED},
                f"{name}: queued as check {check_id}",
                args.json,
            )
    return ids, errors


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from queue_worker.client import QueueClient
    from queue_worker.errors import CheckTimeout

    async with await QueueClient.connect(settings) as client:
        ids, errors = await _submit_all(args, client)
        if not args.wait:
            return 1 if errors else 0
        timeout = args.timeout or settings.job_timeout_s * settings.job_tries + 30
        waits = [client.wait(check_id, timeout) for check_id in ids.values()]
        outcomes = await asyncio.gather(*waits, return_exceptions=True)
        for name, outcome in zip(ids, outcomes, strict=True):
            if isinstance(outcome, CheckTimeout):
                result = await client.get(ids[name])
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                result = outcome
            errors += result.status != Status.DONE
            _print(name, result.to_dict(), format_result(name, result), args.json)
    return 1 if errors else 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Queue every file; exit 1 if any could not be queued (or, with --wait, judged)."""
    if not args.json:
        print(f"queue {settings.queue_name}", file=sys.stderr)
    return asyncio.run(_run(args, settings))

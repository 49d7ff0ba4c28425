"""Decoding hostile bytes in a child process, under a memory limit and a clock.

A decoder bug on hostile input may hang, crash the interpreter or eat the machine's
memory; none of that may take the test run down with it. :func:`decode_in_child`
runs :func:`inference.decoder.decode` in a process forked from a single-threaded fork
server (which has imported the decoders once, so each child starts in milliseconds),
with ``RLIMIT_AS`` a fixed budget above what the child had when it started, and kills
it when it runs out of time. It reports what happened, how long it took and how much
resident memory the decoding added.
"""

from __future__ import annotations

import multiprocessing
import resource
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Literal

Kind = Literal["ok", "media_error", "other_error", "crash", "timeout"]
MB = 1024 * 1024
# Address space a child may add on top of what it starts with. FFmpeg's frame threads
# reserve stacks and malloc arenas that count here without ever being touched.
ADDRESS_BUDGET = 3 * 1024 * MB

_context: Any = None


@dataclass(frozen=True)
class Outcome:
    """What decoding one file did.

    Attributes:
        kind: ``ok`` (frames came out), ``media_error`` (a ``MediaError``, the wanted
            failure), ``other_error`` (any other exception: a bug), ``crash`` (the child
            died, e.g. a segfault or the memory limit) or ``timeout``.
        code: The ``MediaError``'s stable code, or the exception's class name.
        message: Its message (``ok``: a summary of the frames).
        seconds: Wall time of the decode.
        added_mb: Peak resident memory of the child minus what it started with.
        frames: How many frames came out (``ok``).
        shapes_ok: Every frame was a non-empty ``uint8`` (H, W, 3) array within the pixel limit.
    """

    kind: Kind
    code: str
    message: str
    seconds: float
    added_mb: float = 0.0
    frames: int = 0
    shapes_ok: bool = True


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _child(conn: Connection, data: bytes, frames: int, max_pixels: int | None) -> None:
    from base.errors import MediaError
    from inference.decoder import decode
    from inference.media import MediaLimits

    start_rss = _status_kb("VmRSS")
    limit = _status_kb("VmSize") * 1024 + ADDRESS_BUDGET
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    limits = MediaLimits() if max_pixels is None else MediaLimits(max_pixels=max_pixels)
    started = time.perf_counter()
    result: dict[str, Any]
    try:
        media = decode(data, frames=frames, limits=limits)
    except MediaError as e:
        result = {"kind": "media_error", "code": e.code, "message": str(e)}
    except Exception as e:
        result = {"kind": "other_error", "code": type(e).__name__, "message": repr(e)[:500]}
    else:
        shapes_ok = bool(media.frames) and all(
            f.dtype.name == "uint8"
            and f.ndim == 3
            and f.shape[2] == 3
            and f.shape[0] > 0
            and f.shape[1] > 0
            and f.shape[0] * f.shape[1] <= limits.max_pixels
            for f in media.frames
        )
        result = {
            "kind": "ok",
            "code": media.kind,
            "message": f"{len(media.frames)} {media.kind} frame(s) {media.width}x{media.height}",
            "frames": len(media.frames),
            "shapes_ok": shapes_ok,
        }
    result["seconds"] = time.perf_counter() - started
    result["added_mb"] = max(0, _status_kb("VmHWM") - start_rss) / 1024
    conn.send(result)
    conn.close()


def _get_context() -> Any:
    global _context
    if _context is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["inference.decoder", "base.errors", "numpy", "av", "PIL"])
        _context = ctx
    return _context


def decode_in_child(
    data: bytes, *, timeout: float = 60.0, frames: int = 8, max_pixels: int | None = None
) -> Outcome:
    """Decode ``data`` in a sandboxed child; never raises for what the decoder does."""
    ctx = _get_context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, data, frames, max_pixels), daemon=True)
    started = time.perf_counter()
    proc.start()
    child.close()
    try:
        if parent.poll(timeout):
            try:
                got: dict[str, Any] = parent.recv()
            except EOFError:
                got = {}
            proc.join(10)
            if got:
                return Outcome(**got)
            return Outcome(
                "crash", f"exit {proc.exitcode}", "the child died", time.perf_counter() - started
            )
        return Outcome("timeout", "timeout", f"over {timeout:g}s", time.perf_counter() - started)
    finally:
        if proc.is_alive():
            proc.kill()
            proc.join(10)
        parent.close()

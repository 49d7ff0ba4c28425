"""``fakewatch bench --queue``: the workload through Redis and a real worker process.

Each item is submitted with :class:`queue_worker.client.QueueClient` and waited
for, one at a time, like a bot does; the worker is ``fakewatch worker`` in its
own process, on the same weights (written to a temporary folder), a temporary
SQLite store and a private queue name, on ``REDIS_URL`` or an embedded Redis.
Per item:

* ``e2e``: from ``submit`` being called to ``wait`` returning the verdict;
* ``inference``: the pipeline's own stage times, as the worker stored them;
* ``overhead``: ``e2e - inference``: the queue's own cost (store writes, Redis,
  the worker picking the job up, hashing, the client noticing the result). It is
  split into ``worker_side`` (the check's ``created_at`` to ``finished_at``, less
  inference) and ``delivery`` (``finished_at`` until ``wait`` returned).

Identical bytes would be answered from the store without inference, so each
submission is made unique: a JPEG gets bytes after its end marker and an MP4 a
trailing ``free`` box, both ignored by every decoder. Other formats are sent as
they are, once each.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from base.settings import Settings
from base.vocabulary import RequestKind

if TYPE_CHECKING:
    from bench.workload import Workload
    from inference.pipeline import Pipeline

WORKER_START_TIMEOUT_S = 600.0
JOB_TIMEOUT_S = 600.0


def unique_bytes(data: bytes, nonce: int) -> bytes:
    """``data`` made unique by ``nonce`` without changing what it decodes to (JPEG, MP4)."""
    tag = struct.pack(">Q", nonce)
    if data[:3] == b"\xff\xd8\xff":
        return data + b"FWBENCH" + tag  # after the end-of-image marker: never read
    if data[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"):
        return data + struct.pack(">I", 8 + len(tag)) + b"free" + tag  # a box readers skip
    return data


def _iso(text: str | None) -> float | None:
    return None if text is None else datetime.fromisoformat(text).timestamp()


def _p(values: list[float], q: float) -> float | None:
    from bench.runs import percentile

    return percentile(values, q)


class _Worker:
    """``fakewatch worker`` in a child process, with its log in a file."""

    def __init__(self, env: dict[str, str], args: list[str], log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fakewatch", "worker", *args],
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()

    def rss_mb(self, key: str = "VmRSS") -> float | None:
        """The worker process's resident set (or, with ``VmHWM``, its peak) in MiB."""
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        return float(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]


async def _measure(
    settings: Settings,
    items: list[tuple[str, Path]],
    worker: _Worker,
    say: Callable[[str], None],
) -> list[dict[str, Any]]:
    from queue_worker.client import QueueClient
    from queue_worker.contracts import MediaContext

    client = await QueueClient.connect(settings)
    rows: list[dict[str, Any]] = []
    try:
        nonce = int(time.time() * 1000)
        warm = {kind: path for kind, path in items}
        for i, (kind, path) in enumerate([*warm.items(), *items]):
            measured = i >= len(warm)
            data = unique_bytes(path.read_bytes(), nonce + i)
            ctx = MediaContext(platform="cli", request_kind=RequestKind.CLI, file_name=path.name)
            start = time.perf_counter()
            check_id = await client.submit(data, ctx)
            timeout = WORKER_START_TIMEOUT_S if not measured else JOB_TIMEOUT_S
            result = await client.wait(check_id, timeout=timeout)
            e2e = time.perf_counter() - start
            done_wall = time.time()
            if worker.proc.poll() is not None:
                raise RuntimeError(f"the worker exited:\n{worker.tail()}")
            if not measured:
                say(f"queue warm-up: {kind} {path.name} {e2e:.2f} s ({result.label})")
                continue
            inference = sum(result.timings.values())
            created, finished = _iso(result.created_at), _iso(result.finished_at)
            stored = (finished - created) if created and finished else None
            rows.append(
                {
                    "kind": kind,
                    "name": path.name,
                    "label": result.label,
                    "deduplicated": result.deduplicated,
                    "e2e_s": e2e,
                    "inference_s": inference,
                    "overhead_s": e2e - inference,
                    "worker_side_s": None if stored is None else stored - inference,
                    "delivery_s": None if finished is None else done_wall - finished,
                    "worker_rss_mb": worker.rss_mb(),
                }
            )
            say(
                f"queue [{len(rows)}/{len(items)}] {kind} {path.name}: e2e {e2e:.3f} s, "
                f"inference {inference:.3f} s, overhead {e2e - inference:.3f} s"
            )
    finally:
        await client.close()
    return rows


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(rows)}
    for key in ("e2e_s", "inference_s", "overhead_s", "worker_side_s", "delivery_s"):
        values = [r[key] for r in rows if r[key] is not None]
        out[key[:-2] + "_p50_s"] = _p(values, 50)
        out[key[:-2] + "_p95_s"] = _p(values, 95)
    return out


def queue_bench(
    settings: Settings,
    workload: Workload,
    pipeline: Pipeline,
    *,
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the workload through the queue and a worker process; returns the numbers.

    Args:
        jobs: run this many jobs, cycling through the workload (a soak of the worker's
            memory); default: each item once.
    """
    from inference.weights import save_weights
    from queue_worker.broker import EmbeddedRedis

    say = progress or (lambda _msg: None)
    tmp = Path(tempfile.mkdtemp(prefix="fakewatch-bench-queue-"))
    peak: list[float | None] = [None]
    queue = f"fakewatch:bench:{uuid.uuid4().hex[:12]}"
    overrides: dict[str, Any] = {
        "data_dir": tmp / "data",
        "database_url": f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}",
        "queue_name": queue,
    }
    qsettings = settings.model_copy(update=overrides)
    embedded = None if settings.redis_url else EmbeddedRedis.for_settings(qsettings)
    say("queue: writing the weights for the worker...")
    saved = {
        id(w): save_weights(w.model, w.manifest, tmp / "weights") for w in pipeline.weights.distinct
    }
    image, video = (saved[id(w)].name for w in (pipeline.weights.image, pipeline.weights.video))
    folder = tmp / "weights"
    spec = (
        str(folder / f"{video}.json")
        if image == video
        else f"image={folder / f'{image}.json'},video={folder / f'{video}.json'}"
    )
    env = {
        **os.environ,
        "FAKEWATCH_DATA_DIR": str(qsettings.data_dir),
        "DATABASE_URL": str(qsettings.database_url),
        "FAKEWATCH_QUEUE": queue,
        "FAKEWATCH_WEIGHTS": spec,
        "FAKEWATCH_FRAMES": str(pipeline.frames),
        "FAKEWATCH_DEVICE": pipeline.device.type,
    }
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    say(f"queue: starting a worker (queue {queue})...")
    worker = _Worker(env, [], tmp / "worker.log")
    try:
        items = workload.items()
        if jobs:
            items = [items[k % len(items)] for k in range(jobs)]
        rows = asyncio.run(_measure(qsettings, items, worker, say))
        peak[0] = worker.rss_mb("VmHWM")
    finally:
        worker.stop()
        if embedded is not None:
            embedded.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    result: dict[str, Any] = {
        "redis": "REDIS_URL" if settings.redis_url else "embedded",
        "store": "temporary SQLite",
        "items": rows,
        "all": _summary(rows),
    }
    for kind in ("image", "video"):
        mine = [r for r in rows if r["kind"] == kind]
        if mine:
            result[kind] = _summary(mine)
    rss = [r["worker_rss_mb"] for r in rows if r["worker_rss_mb"] is not None]
    result["worker_rss_mb"] = rss[-1] if rss else None
    result["worker_peak_rss_mb"] = peak[0]
    if rss:
        # Growth is judged after the first tenth: allocator pools and caches fill up first.
        settled = rss[len(rss) // 10 :]
        result["worker_rss_first_mb"] = rss[0]
        result["worker_rss_max_mb"] = max(rss)
        result["worker_growth_after_warmup_mb"] = settled[-1] - settled[0]
        step = max(1, len(rss) // 20)
        result["worker_rss_by_job"] = [(i + 1, rss[i]) for i in range(0, len(rss), step)] + [
            (len(rss), rss[-1])
        ]
    result["overhead_p50_s"] = result["all"]["overhead_p50_s"]
    result["e2e_p50_s"] = result["all"]["e2e_p50_s"]
    return result


def _f(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def queue_text(result: dict[str, Any]) -> str:
    """The queue numbers as a table."""
    cols = ("e2e", "inference", "overhead", "worker_side", "delivery")
    lines = [
        "",
        f"through the queue (Redis: {result['redis']}, store: {result['store']}), "
        "p50 / p95 seconds:",
        f"{'':8}{'n':>3}" + "".join(f" {c:>15}" for c in cols),
    ]
    for kind in ("image", "video", "all"):
        s = result.get(kind)
        if not s:
            continue
        row = f"{kind:8}{s['n']:>3}"
        row += "".join(f" {_f(s[c + '_p50_s']):>7}/{_f(s[c + '_p95_s']):<7}" for c in cols)
        lines.append(row)
    med = statistics.median([r["overhead_s"] for r in result["items"]] or [0.0])
    lines.append(f"queue overhead (end-to-end minus inference), median: {med * 1000:.0f} ms")
    lines.append(
        f"worker memory: RSS {_f(result['worker_rss_mb'])} MiB, "
        f"peak {_f(result['worker_peak_rss_mb'])} MiB"
    )
    if result.get("worker_rss_by_job") and result["all"]["n"] >= 100:
        by_job = " ".join(f"{i}:{mb:.0f}" for i, mb in result["worker_rss_by_job"])
        lines.append(f"worker RSS MiB after job: {by_job}")
        lines.append(
            f"worker RSS first {result['worker_rss_first_mb']:.0f} MiB, max "
            f"{result['worker_rss_max_mb']:.0f} MiB, growth after the first tenth "
            f"{result['worker_growth_after_warmup_mb']:+.0f} MiB"
        )
    return "\n".join(lines)

"""The benchmark behind ``fakewatch bench``: latency, throughput, memory, and the naive baseline.

One run measures, on one warm pipeline:

* **latency**: each item alone, one after the other (the time from a post to its
  verdict when the worker is idle), with per-stage means; with a baseline, each
  item also goes through :class:`bench.baseline.NaiveBaseline` right after,
  so both see the same machine load, and the speed-up is the median of the
  per-item ratios;
* **throughput**: items per second one after the other (from the latency pass),
  and all images, then all videos, through ``Pipeline.analyze_many`` (the next
  item decodes while the current one is inferred; with ``batch`` > 1, items are
  inferred together). ``images_per_s``/``videos_per_s`` are the better of the two,
  and the report says which;
* **memory**: this process's resident set (``VmRSS``) and its peak (``VmHWM``),
  read from ``/proc``, with the peak reset after the workload is generated.

The load average and the process's CPU time are recorded too: on a shared
machine they say how much of the CPU the numbers had.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from bench.baseline import NaiveBaseline
from bench.workload import Workload
from inference.pipeline import Pipeline, resolve_precision
from inference.verdict import STAGES

Progress = Callable[[str], None]


def _status_kb(key: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


def rss_mb() -> float | None:
    """This process's resident set size now, in MiB (None where /proc is absent)."""
    kb = _status_kb("VmRSS")
    return None if kb is None else kb / 1024


def peak_rss_mb() -> float | None:
    """This process's peak resident set size since start (or the last reset), in MiB."""
    kb = _status_kb("VmHWM")
    return None if kb is None else kb / 1024


def reset_peak_rss() -> bool:
    """Reset the peak RSS counter (Linux ``clear_refs``); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100), linear between ranks; None for no values."""
    data = sorted(values)
    if not data:
        return None
    pos = (len(data) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


@dataclass(frozen=True)
class ItemRun:
    """One item through one path."""

    kind: str
    name: str
    seconds: float
    timings: dict[str, float]
    label: str
    faces: int


@dataclass
class Runs:
    """Every measured run of a bench, by path."""

    fast: list[ItemRun] = field(default_factory=list)
    baseline: list[ItemRun] = field(default_factory=list)
    throughput: dict[str, float] = field(default_factory=dict)  # kind -> items/s


def _fast(pipeline: Pipeline, kind: str, path: Path) -> ItemRun:
    start = time.perf_counter()
    v = pipeline.analyze(path)
    return ItemRun(kind, path.name, time.perf_counter() - start, dict(v.timings), v.label, v.faces)


def _naive(baseline: NaiveBaseline, kind: str, path: Path) -> ItemRun:
    start = time.perf_counter()
    r = baseline.analyze(path)
    return ItemRun(kind, path.name, time.perf_counter() - start, r.timings, "n/a", r.faces_found)


def _summary(runs: list[ItemRun], kind: str) -> dict[str, Any]:
    mine = [r for r in runs if r.kind == kind]
    secs = [r.seconds for r in mine]
    stages = {
        s: statistics.fmean(r.timings.get(s, 0.0) for r in mine)
        for s in STAGES
        if any(s in r.timings for r in mine)
    }
    return {
        "n": len(mine),
        "p50_s": percentile(secs, 50),
        "p95_s": percentile(secs, 95),
        "mean_s": statistics.fmean(secs) if secs else None,
        "stages_s": stages,
        "labels": dict(Counter(r.label for r in mine)),
    }


def _speedup(fast: list[ItemRun], naive: list[ItemRun], kind: str) -> float | None:
    """Median over items of baseline time / fast time; both ran back to back on each item."""
    pairs = [
        (b.seconds / f.seconds)
        for f, b in zip(fast, naive, strict=True)
        if f.kind == kind and f.seconds > 0
    ]
    return statistics.median(pairs) if pairs else None


def measure(
    pipeline: Pipeline,
    workload: Workload,
    *,
    baseline: bool = False,
    repeat: int = 1,
    batch: int = 1,
    progress: Progress | None = None,
) -> Runs:
    """Warm up, then run the latency passes (and the baseline) and the throughput pass.

    Args:
        batch: items per inference batch in the throughput pass (``analyze_many``).
    """
    say = progress or (lambda _msg: None)
    naive = NaiveBaseline(pipeline) if baseline else None
    items = workload.items()
    for kind, path in {k: p for k, p in items}.items():  # one warm-up item of each kind
        say(f"warm-up: {kind} {path.name}")
        _fast(pipeline, kind, path)
        if naive is not None:
            _naive(naive, kind, path)
    runs = Runs()
    total = len(items) * repeat
    for i, (kind, path) in enumerate(items * repeat, start=1):
        run = _fast(pipeline, kind, path)
        runs.fast.append(run)
        line = f"[{i}/{total}] {kind} {path.name}: {run.seconds:.3f} s"
        if naive is not None:
            b = _naive(naive, kind, path)
            runs.baseline.append(b)
            line += f" (baseline {b.seconds:.3f} s)"
        say(line)
    for kind, paths in (("image", workload.images), ("video", workload.videos)):
        if not paths:
            continue
        items_of_kind = list(paths) * repeat
        start = time.perf_counter()
        for _ in pipeline.analyze_many(items_of_kind, batch=batch):
            pass
        runs.throughput[kind] = len(items_of_kind) / (time.perf_counter() - start)
        say(f"throughput: {runs.throughput[kind]:.2f} {kind}s/s")
    return runs


def report(pipeline: Pipeline, workload: Workload, runs: Runs, **context: Any) -> dict[str, Any]:
    """The bench's JSON object: the keys ``fakewatch bench --json`` promises, and more."""
    image, video = _summary(runs.fast, "image"), _summary(runs.fast, "video")
    rates: dict[str, dict[str, float]] = {}
    for kind in ("image", "video"):
        secs = [r.seconds for r in runs.fast if r.kind == kind]
        if secs:
            rates[kind] = {"sequential": len(secs) / sum(secs)}
            if kind in runs.throughput:
                rates[kind]["analyze_many"] = runs.throughput[kind]
    best = {k: max(v, key=lambda mode: v[mode]) for k, v in rates.items()}
    if pipeline.device.type == "cuda":
        # What share of an item's time is spent in the stages that run on the GPU.
        for s in (image, video):
            total = sum(s["stages_s"].values())
            gpu = s["stages_s"].get("detect", 0.0) + s["stages_s"].get("classify", 0.0)
            s["gpu_stage_share"] = gpu / total if total else None
    out: dict[str, Any] = {
        "image_p50_s": image["p50_s"],
        "image_p95_s": image["p95_s"],
        "video_p50_s": video["p50_s"],
        "video_p95_s": video["p95_s"],
        "images_per_s": rates["image"][best["image"]] if "image" in rates else None,
        "videos_per_s": rates["video"][best["video"]] if "video" in rates else None,
        "throughput": rates,
        "throughput_mode": best,
        "image": image,
        "video": video,
        "peak_rss_mb": peak_rss_mb(),
        "rss_mb": rss_mb(),
        "device": str(pipeline.device),
        "precision": resolve_precision(pipeline.device, pipeline.precision),
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "cpu": cpu_name(),
        "torch": torch.__version__,
        "model": pipeline.model_id,
        "model_parameters": sum(
            p.numel() for w in pipeline.weights.distinct for p in w.model.parameters()
        ),
        "frames": pipeline.frames,
        "detect_max_side": pipeline.detector.config.detect_max_side,
        "video_detect_max_side": pipeline.detector.config.video_max_side,
        "workload": workload.description,
    }
    if runs.baseline:
        b_image, b_video = _summary(runs.baseline, "image"), _summary(runs.baseline, "video")
        out["baseline"] = {
            "image_p50_s": b_image["p50_s"],
            "video_p50_s": b_video["p50_s"],
            "image": b_image,
            "video": b_video,
        }
        out["speedup_vs_baseline"] = _speedup(runs.fast, runs.baseline, "video") or _speedup(
            runs.fast, runs.baseline, "image"
        )
        out["speedup_image_vs_baseline"] = _speedup(runs.fast, runs.baseline, "image")
        out["speedup_video_vs_baseline"] = _speedup(runs.fast, runs.baseline, "video")
    return out | context


def soak(
    pipeline: Pipeline,
    workload: Workload,
    n: int,
    *,
    every: int = 50,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run ``n`` items (cycling through the workload) and sample RSS every ``every`` items."""
    say = progress or (lambda _msg: None)
    items = [p for _, p in workload.items()]
    if not items:
        raise ValueError("the soak needs at least one item")
    samples: list[tuple[int, float | None]] = [(0, rss_mb())]
    start = time.perf_counter()
    for i, _v in enumerate(pipeline.analyze_many(items[k % len(items)] for k in range(n)), 1):
        if i % every == 0 or i == n:
            samples.append((i, rss_mb()))
            say(f"soak {i}/{n}: RSS {samples[-1][1]:.0f} MiB")
    values = [mb for _, mb in samples if mb is not None]
    # Growth is judged after the first tenth: allocator pools and caches fill up first.
    settled = [mb for i, mb in samples if mb is not None and i >= n // 10]
    return {
        "items": n,
        "seconds": time.perf_counter() - start,
        "rss_mb": samples,
        "rss_start_mb": values[0] if values else None,
        "rss_max_mb": max(values) if values else None,
        "rss_end_mb": values[-1] if values else None,
        "growth_after_warmup_mb": (settled[-1] - settled[0]) if len(settled) > 1 else None,
        "peak_rss_mb": peak_rss_mb(),
    }


def soak_text(result: dict[str, Any]) -> str:
    """A :func:`soak` result as readable text."""
    rows = " ".join(f"{i}:{mb:.0f}" for i, mb in result["rss_mb"] if mb is not None)
    growth = result["growth_after_warmup_mb"]
    return (
        f"soak: {result['items']} items in {result['seconds']:.0f} s\n"
        f"RSS MiB by item: {rows}\n"
        f"start {result['rss_start_mb']:.0f} MiB, max {result['rss_max_mb']:.0f} MiB, "
        f"end {result['rss_end_mb']:.0f} MiB, growth after the first tenth "
        f"{'-' if growth is None else f'{growth:+.0f}'} MiB"
    )


def _fmt(v: float | None, unit: str = "") -> str:
    return "-" if v is None else f"{v:.3f}{unit}"


def table(result: dict[str, Any]) -> str:
    """The report as readable text."""
    lines = [
        f"device {result['device']} · {result['torch_threads']} torch threads · "
        f"{result['cpu_count']} CPUs ({result['cpu']}) · torch {result['torch']}",
        f"model {result['model']} ({result['model_parameters'] / 1e6:.1f} M parameters) · "
        f"{result['frames']} frames per video · detection on <= {result['detect_max_side']} px "
        f"(photos), <= {result['video_detect_max_side']} px (video frames)"
        f" · classifier {result['precision']}",
        f"workload: {result['workload']}",
    ]
    if "load_before" in result:
        lines.append(
            f"load average (1 min) before {result['load_before']:.2f}, "
            f"after {result['load_after']:.2f}; CPU-seconds per second {result['cpu_share']:.2f}"
        )
    head = f"{'':18}{'n':>3} {'p50 s':>7} {'p95 s':>7} {'items/s':>8}"
    head += "".join(f" {s:>8}" for s in STAGES)
    lines += ["", head]
    rows = [("fast", result, result.get("images_per_s"), result.get("videos_per_s"))]
    if "baseline" in result:
        b = result["baseline"]
        rates = [1 / b[k]["mean_s"] if b[k]["mean_s"] else None for k in ("image", "video")]
        rows.append(("baseline", b, rates[0], rates[1]))
    for name, res, ips, vps in rows:
        for kind, rate in (("image", ips), ("video", vps)):
            s = res[kind]
            if not s["n"]:
                continue
            row = f"{name + ' ' + kind:18}{s['n']:>3} {_fmt(s['p50_s']):>7} {_fmt(s['p95_s']):>7}"
            row += f" {_fmt(rate) if rate is not None else '-':>8}"
            row += "".join(f" {_fmt(s['stages_s'].get(st)):>8}" for st in STAGES)
            lines.append(row)
    lines.append("")
    for kind, rates in result.get("throughput", {}).items():
        modes = ", ".join(f"{mode} {rate:.3f}/s" for mode, rate in rates.items())
        lines.append(f"{kind} throughput: {modes}")
    if "speedup_vs_baseline" in result:
        lines.append(
            "speed-up vs the naive baseline (median of per-item ratios): "
            f"videos {_fmt(result['speedup_video_vs_baseline'], 'x')}, "
            f"images {_fmt(result['speedup_image_vs_baseline'], 'x')}"
        )
    lines.append("")
    lines.append(
        f"memory: RSS {_fmt(result['rss_mb'], ' MiB')}, peak {_fmt(result['peak_rss_mb'], ' MiB')}"
    )
    return "\n".join(lines)

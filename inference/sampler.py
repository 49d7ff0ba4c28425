"""Which frames of a video: ``n`` times spread over the clip, walked to with few seeks.

``n`` frames are sampled evenly over the whole clip by seeking, and decoding runs
forward instead of seeking when the next sample lies in the keyframe interval already
being decoded; frames far ahead of the target are fast-forwarded with the decoder
skipping non-reference frames. H.264 and VP9 clips are cut into segments that start at
different keyframes and decode side by side. Rotation metadata is applied; every frame
decoded counts against the limits' pixel budget.
"""

from __future__ import annotations

import bisect
import contextlib
import math
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import av
import av.error
import numpy as np

from base.errors import TooLong
from inference.media import MediaLimits, even_indices


def _keyframe_times(stream: Any) -> list[float]:
    """Keyframe times from the container's index, when it has one (mp4, mkv with cues)."""
    try:
        entries = stream.index_entries
        base = stream.time_base
        return sorted(float(e.timestamp * base) for e in entries if e.is_keyframe)
    except (AttributeError, TypeError, av.error.FFmpegError):
        return []


def _upright(frame: Any, max_pixels: int | None = None) -> np.ndarray:
    w, h = int(frame.width), int(frame.height)
    if max_pixels is not None and w * h > max_pixels:
        scale = math.sqrt(max_pixels / (w * h))
        size = {"width": max(2, int(w * scale)), "height": max(2, int(h * scale))}
        rgb = frame.to_ndarray(format="rgb24", **size)
    else:
        rgb = frame.to_ndarray(format="rgb24")
    turns = round((frame.rotation or 0) / 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, k=turns)) if turns else rgb


class _Budget:
    """The pixels one video may decode in all, across seeks."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit
        self._lock = threading.Lock()  # segments of one video decode in parallel threads

    def frames(self, decoded: Iterator[Any]) -> Iterator[Any]:
        """``decoded``, raising :class:`TooLong` once the frames add up to more than the limit."""
        for frame in decoded:
            with self._lock:
                self.left -= int(frame.width) * int(frame.height)
                left = self.left
            if left < 0:
                raise TooLong(f"sampling this video needs more than {self.limit:,} pixels decoded")
            yield frame


class _Sampler:
    """Walks one video stream to a list of target times, seeking only when it pays."""

    def __init__(
        self, container: Any, stream: Any, keyframes: list[float], budget: _Budget | None = None
    ) -> None:
        self.container = container
        self.stream = stream
        self.keyframes = keyframes
        self.budget = budget
        self.frames: Iterator[Any] | None = None
        self.position = -math.inf  # time of the last decoded frame
        # Frames more than this ahead of the position are fast-forwarded over with the
        # decoder skipping non-reference frames (B-frames nothing refers to): nothing
        # depends on them, and they are up to half of an H.264 stream. Decoding goes
        # back to every frame well before the target, so the frame picked is the same.
        # The margin covers the frames in flight in the decoder's frame threads and
        # its reordering delay (both counted in frames).
        ctx = stream.codec_context
        threads = int(getattr(ctx, "thread_count", 0) or 0) or (os.cpu_count() or 1) + 1
        rate = float(stream.average_rate or stream.guessed_rate or 25)
        self.skip_margin = max(0.2, (threads + 4) / max(rate, 1.0))
        self.skipping = False
        self.start_estimate: float | None = None
        # Frame times are absolute: a stream may start at any time (MPEG-TS often
        # hours in), and targets are counted from there.
        st = stream.start_time
        self.origin = float(st * stream.time_base) if st else 0.0
        # False once a seek found nothing to decode (an unindexed MPEG-TS can land
        # mid-GOP or past the end): from then on decoding only walks forward.
        self.seekable = True
        self.seeked = False

    def _skip_nonref(self, skip: bool) -> None:
        if skip != self.skipping:
            with contextlib.suppress(AttributeError, ValueError, TypeError):
                self.stream.codec_context.skip_frame = "NONREF" if skip else "DEFAULT"
                self.skipping = skip

    def _should_seek(self, target: float) -> bool:
        if target <= self.position:
            return True  # would need to go back
        if not self.seekable:
            return False
        if self.keyframes:
            # A seek lands on the last keyframe at or before the target: it only helps
            # when that keyframe lies ahead of where decoding already is.
            i = bisect.bisect_right(self.keyframes, target) - 1
            return i >= 0 and self.keyframes[i] > self.position + 1e-3
        return target - self.position > 2.0  # no index: seek for long jumps only

    def _restart(self, target: float | None) -> None:
        """Start decoding afresh: from the keyframe before ``target``, or from the start."""
        if target is not None:
            pts = int(target / self.stream.time_base)  # target is absolute, like the pts
            self.container.seek(pts, stream=self.stream, backward=True, any_frame=False)
        elif self.frames is not None:
            self.container.seek(0)
        self.seeked = target is not None
        self.frames = self.container.decode(self.stream)
        if self.budget is not None:
            self.frames = self.budget.frames(self.frames)
        self.position = -math.inf
        # Where decoding starts: the clip's start, or the keyframe the seek lands on
        # when the index says which (None: unknown until the first frame comes out).
        self.start_estimate = None
        if target is None:
            st = self.stream.start_time
            self.start_estimate = float(st * self.stream.time_base) if st else 0.0
        elif self.keyframes:
            i = bisect.bisect_right(self.keyframes, target) - 1
            self.start_estimate = self.keyframes[i] if i >= 0 else None

    def frame_at(self, target: float) -> Any | None:
        """The first frame whose time is at or after ``target`` (or the last one)."""
        if self.frames is None and target - self.origin < 0.5:
            self._restart(None)
        elif self.frames is None or self._should_seek(target):
            try:
                self._restart(target if self.seekable else None)
            except av.error.FFmpegError:
                self._restart(None)  # unseekable: decode from the start
        frame = self._walk(target)
        if frame is None and self.seeked:
            # The seek gave nothing decodable: walk from the start, and stop seeking.
            self.seekable = False
            self._restart(None)
            frame = self._walk(target)
        return frame

    def _walk(self, target: float) -> Any | None:
        """Decode forward to the first frame at or after ``target`` (or the last one)."""
        assert self.frames is not None
        known = self.position if self.position > -math.inf else self.start_estimate
        self._skip_nonref(known is not None and target - known > self.skip_margin)
        last = None
        for frame in self.frames:
            if frame.time is None:
                continue
            self.position = float(frame.time)
            last = frame
            if self.position >= target - 1e-4:
                return frame
            self._skip_nonref(target - self.position > self.skip_margin)
        return last


def sample(
    container: Any,
    stream: Any,
    duration: float | None,
    n: int,
    limits: MediaLimits,
    reopen: Callable[[], Any] | None = None,
) -> tuple[list[np.ndarray], list[float], int]:
    """The upright frames at ``n`` evenly spread times, their times, and the rotation.

    Args:
        reopen: opens the same file again, for segments decoded side by side; without
            it, one pass.
    """
    start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    budget = _Budget(limits.max_decoded_pixels)
    if duration is None or duration <= 0:
        return _sample_sequential(container, stream, n, budget, limits.max_kept_pixels)
    targets = [start + (i + 0.5) * duration / n for i in range(n)]
    keyframes = _keyframe_times(stream)
    parallel = reopen is not None and _codec(stream) in PARALLEL_CODECS
    groups = _segments(targets, keyframes, SEGMENT_WORKERS) if parallel else [targets]
    if len(groups) == 1:
        found = _sample_targets(_Sampler(container, stream, keyframes, budget), targets, limits)
    else:
        assert reopen is not None

        def segment(group: list[float]) -> list[tuple[float, int, np.ndarray]]:
            # A container of its own per further segment: one decoder state per thread.
            with reopen() as c:
                s = c.streams.video[0]
                s.thread_type = "AUTO"
                return _sample_targets(_Sampler(c, s, keyframes, budget), group, limits)

        sampler = _Sampler(container, stream, keyframes, budget)
        first = _segment_pool().submit(_sample_targets, sampler, groups[0], limits)
        rest = [segment(g) for g in groups[1:]]
        found = [f for part in [first.result(), *rest] for f in part]
    out: list[np.ndarray] = []
    times: list[float] = []
    rotation = 0
    seen: set[float] = set()
    for t, rot, rgb in found:
        if t in seen:
            continue  # short clip: several targets fall on one frame
        seen.add(t)
        rotation = rot
        out.append(rgb)
        times.append(t - start)
    return out, times, rotation


def _sample_targets(
    sampler: _Sampler, targets: list[float], limits: MediaLimits
) -> list[tuple[float, int, np.ndarray]]:
    """``(time, rotation, upright RGB)`` of the frame at or after each target, in order."""
    found: list[tuple[float, int, np.ndarray]] = []
    last = None
    for target in targets:
        frame = sampler.frame_at(target)
        if frame is None:
            break
        t = float(frame.time)
        if t == last:
            continue
        last = t
        found.append((t, int(frame.rotation or 0), _upright(frame, limits.max_kept_pixels)))
    return found


# Segments of one video decoded at the same time, each from its own keyframe.
SEGMENT_WORKERS = min(4, os.cpu_count() or 1)
# The decoders whose segments run side by side: those the Hypothesis runs of mutated files
# exercised that way without a crash (tests/inference/test_hostile_media.py). FFmpeg's
# MPEG-4 Part 2 decoder crashed the process (SIGSEGV) on a mutated AVI in about one decode
# in ten when two of its decoders ran at once, and never when they ran one after the
# other. Every other codec decodes in one pass until it is tested the same way.
PARALLEL_CODECS = frozenset({"h264", "vp9"})


def _codec(stream: Any) -> str:
    try:
        return str(stream.codec_context.name)
    except (AttributeError, av.error.FFmpegError):
        return ""


_SEGMENT_POOL: ThreadPoolExecutor | None = None


def _segment_pool() -> ThreadPoolExecutor:
    global _SEGMENT_POOL
    if _SEGMENT_POOL is None:
        _SEGMENT_POOL = ThreadPoolExecutor(SEGMENT_WORKERS, thread_name_prefix="fw-segment")
    return _SEGMENT_POOL


def _segments(targets: list[float], keyframes: list[float], k: int) -> list[list[float]]:
    """Split sorted ``targets`` into up to ``k`` runs that start in different keyframe intervals.

    A run starts where decoding would seek anyway (its first target's keyframe lies
    after the previous run's last target's keyframe), so no frame is decoded twice
    and each run finds exactly the frames sequential decoding finds.
    """
    if k < 2 or len(keyframes) < 2 or len(targets) < 2 * k:
        return [targets]

    def gop(t: float) -> int:
        return bisect.bisect_right(keyframes, t) - 1

    runs: list[list[float]] = []
    start = 0
    for part in range(1, k):
        cut = max(start + 1, round(part * len(targets) / k))
        while cut < len(targets) and gop(targets[cut]) <= gop(targets[cut - 1]):
            cut += 1  # move the cut to the next keyframe interval
        if cut >= len(targets):
            break
        runs.append(targets[start:cut])
        start = cut
    runs.append(targets[start:])
    return [r for r in runs if r]


def _sample_sequential(
    container: Any,
    stream: Any,
    n: int,
    budget: _Budget,
    max_pixels: int | None = None,
    cap: int = 3000,
) -> tuple[list[np.ndarray], list[float], int]:
    """Decode up to ``cap`` frames when the duration is unknown, keeping an even spread."""
    kept: list[Any] = []
    for i, frame in enumerate(budget.frames(container.decode(stream))):
        if i >= cap:
            break
        kept.append(frame)
        if len(kept) > 2 * n:
            kept = kept[::2]  # thin out, keeps the spread even as the clip goes on
    picks = [kept[i] for i in even_indices(len(kept), n)]
    frames = [_upright(f, max_pixels) for f in picks]
    times = [float(f.time or 0.0) for f in picks]
    rotation = int(picks[0].rotation or 0) if picks else 0
    return frames, times, rotation

"""Fast-forwarding over non-reference frames picks exactly the frames full decoding picks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import workload
from inference import sampler
from inference.decoder import decode


@pytest.mark.parametrize(("frames", "gop_s"), [(16, 2.0), (5, 10.0), (40, 1.0)])
def test_same_frames_with_and_without_skipping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, frames: int, gop_s: float
) -> None:
    clip = workload.write_clip(
        tmp_path / "b.mp4", width=192, height=108, seconds=6.0, fps=25, gop_s=gop_s, seed=2
    )
    calls: list[bool] = []
    original = sampler._Sampler._skip_nonref

    def spy(self: sampler._Sampler, skip: bool) -> None:
        calls.append(skip)
        original(self, skip)

    monkeypatch.setattr(sampler._Sampler, "_skip_nonref", spy)
    fast = decode(clip, frames=frames)
    assert True in calls  # it did fast-forward somewhere
    monkeypatch.setattr(sampler._Sampler, "_skip_nonref", lambda self, skip: None)
    full = decode(clip, frames=frames)
    assert fast.times_s == full.times_s
    assert all(np.array_equal(a, b) for a, b in zip(fast.frames, full.frames, strict=True))


def test_segments_start_in_later_keyframe_intervals() -> None:
    keyframes = [0.0, 2.0, 4.0, 6.0, 8.0]
    targets = [0.3 + 0.625 * i for i in range(16)]
    runs = sampler._segments(targets, keyframes, 2)
    assert len(runs) == 2 and [t for r in runs for t in r] == targets
    gop = [max(i for i, k in enumerate(keyframes) if k <= r[0]) for r in runs]
    last = max(i for i, k in enumerate(keyframes) if k <= runs[0][-1])
    assert gop[1] > last  # the second run starts where decoding would seek anyway
    assert sampler._segments(targets, [0.0], 2) == [targets]  # one keyframe: nothing to split
    assert sampler._segments(targets[:3], keyframes, 2) == [targets[:3]]


@pytest.mark.parametrize("gop_s", [1.0, 3.0])
def test_segmented_decoding_finds_the_same_frames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gop_s: float
) -> None:
    clip = workload.write_clip(
        tmp_path / "s.mp4", width=160, height=96, seconds=8.0, fps=20, gop_s=gop_s, seed=4
    )
    runs: list[int] = []
    original = sampler._segments

    def spy(targets: list[float], keyframes: list[float], k: int) -> list[list[float]]:
        out = original(targets, keyframes, k)
        runs.append(len(out))
        return out

    monkeypatch.setattr(sampler, "_segments", spy)
    monkeypatch.setattr(sampler, "SEGMENT_WORKERS", 3)
    split = decode(clip, frames=16)
    assert runs == [3]  # it did decode in parallel segments
    monkeypatch.setattr(sampler, "SEGMENT_WORKERS", 1)
    whole = decode(clip, frames=16)
    assert split.times_s == whole.times_s and len(split.frames) == 16
    assert all(np.array_equal(a, b) for a, b in zip(split.frames, whole.frames, strict=True))

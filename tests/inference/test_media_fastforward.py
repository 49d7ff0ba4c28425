"""Fast-forwarding over non-reference frames picks exactly the frames full decoding picks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inference import media, workload


@pytest.mark.parametrize(("frames", "gop_s"), [(16, 2.0), (5, 10.0), (40, 1.0)])
def test_same_frames_with_and_without_skipping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, frames: int, gop_s: float
) -> None:
    clip = workload.write_clip(
        tmp_path / "b.mp4", width=192, height=108, seconds=6.0, fps=25, gop_s=gop_s, seed=2
    )
    calls: list[bool] = []
    original = media._Sampler._skip_nonref

    def spy(self: media._Sampler, skip: bool) -> None:
        calls.append(skip)
        original(self, skip)

    monkeypatch.setattr(media._Sampler, "_skip_nonref", spy)
    fast = media.decode(clip, frames=frames)
    assert True in calls  # it did fast-forward somewhere
    monkeypatch.setattr(media._Sampler, "_skip_nonref", lambda self, skip: None)
    full = media.decode(clip, frames=frames)
    assert fast.times_s == full.times_s
    assert all(np.array_equal(a, b) for a, b in zip(fast.frames, full.frames, strict=True))

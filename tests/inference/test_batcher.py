"""Requests from several threads are answered from shared batches, with the same verdicts."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from inference import samples
from inference.batcher import Batcher
from inference.pipeline import Pipeline


def test_concurrent_requests_share_a_batch(
    pipeline: Pipeline, face_video: Callable[..., Path]
) -> None:
    photo = samples.encode_image(samples.astronaut(), "JPEG")
    sources: list[Path | bytes] = [
        photo,
        face_video(),
        b"garbage" * 9,
        face_video("two.mp4", faces=2),
    ]
    alone = [pipeline.analyze(s) for s in sources]
    batcher = Batcher(pipeline, max_items=8, max_wait_s=2.0)
    try:
        futures = [batcher.submit(s) for s in sources]
        got = [f.result(timeout=120) for f in futures]
        assert batcher.batches == 1
        with ThreadPoolExecutor(4) as pool:
            threaded = list(pool.map(batcher.analyze, sources))
    finally:
        batcher.close()
    for a, b, c in zip(alone, got, threaded, strict=True):
        assert a.label == b.label == c.label and a.faces == b.faces == c.faces
        if a.fake_probability is not None:
            assert b.fake_probability == pytest.approx(a.fake_probability, abs=1e-4)
    with pytest.raises(RuntimeError):
        batcher.submit(photo)

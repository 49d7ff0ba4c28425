"""The batched and bf16 paths the benchmark relies on give the verdicts ``analyze`` gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import workload
from inference.pipeline import Pipeline
from inference.weights import random_weights


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> workload.Workload:
    folder = tmp_path_factory.mktemp("bench")
    return workload.make_workload(
        folder, images=2, videos=2, resolution=(320, 240), seconds=1.0, fps=12, gop_s=0.5
    )


def test_analyze_many_and_batch_agree_with_analyze(
    tiny: workload.Workload, pipeline: Pipeline
) -> None:
    sources: list[Path | bytes] = [*tiny.images, b"not media at all" * 4, *tiny.videos]
    one = [pipeline.analyze(s) for s in sources]
    many = list(pipeline.analyze_many(sources, prefetch=2))
    batch = pipeline.analyze_batch(sources)
    streamed = list(pipeline.analyze_many(sources, batch=2))
    for a, b, c, d in zip(one, many, batch, streamed, strict=True):
        assert a.label == b.label == c.label == d.label
        assert set(c.timings) == set(d.timings) == set(a.timings) and d.faces == a.faces
        assert a.faces == b.faces == c.faces and a.frames == b.frames == c.frames
        assert [f.frames for f in a.face_scores] == [f.frames for f in c.face_scores]
        if a.fake_probability is not None:
            assert b.fake_probability == pytest.approx(a.fake_probability, abs=1e-6)
            assert c.fake_probability == pytest.approx(a.fake_probability, abs=1e-4)
            assert d.fake_probability == pytest.approx(a.fake_probability, abs=1e-4)
    assert one[2].label == "unsupported" and batch[2].reason_code == one[2].reason_code


def test_bf16_autocast_path_stays_close(tiny: workload.Workload) -> None:
    """The GPU precision path, exercised on the CPU: bf16 trunk, fp32 head."""
    fp32 = Pipeline(random_weights(), device="cpu", frames=4, precision="fp32")
    bf16 = Pipeline(random_weights(), device="cpu", frames=4, precision="bf16")
    for path in tiny.videos:
        a, b = fp32.analyze(path), bf16.analyze(path)
        assert a.faces == b.faces
        assert a.fake_probability is not None and b.fake_probability is not None
        assert b.fake_probability == pytest.approx(a.fake_probability, abs=0.05)

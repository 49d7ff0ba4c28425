"""The benchmark's code path on a tiny workload, and the batched paths it relies on.

No timing is asserted anywhere: speed is what ``fakewatch bench`` prints.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inference import bench, workload
from inference.baseline import NaiveBaseline, first_frames
from inference.pipeline import Pipeline
from inference.weights import random_weights


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> workload.Workload:
    folder = tmp_path_factory.mktemp("bench")
    return workload.make_workload(
        folder, images=2, videos=2, resolution=(320, 240), seconds=1.0, fps=12, gop_s=0.5
    )


def test_workload_is_cached_and_has_faces(
    tiny: workload.Workload, pipeline: Pipeline, tmp_path: Path
) -> None:
    again = workload.make_workload(
        tiny.videos[0].parent,
        images=2,
        videos=2,
        resolution=(320, 240),
        seconds=1.0,
        fps=12,
        gop_s=0.5,
    )
    assert again.images == tiny.images and again.videos == tiny.videos
    assert [p.stat().st_mtime for p in again.videos] == [p.stat().st_mtime for p in tiny.videos]
    for path in tiny.images + tiny.videos:
        v = pipeline.analyze(path)
        assert v.faces >= 1, (path.name, v)
    found = workload.folder_workload(tiny.videos[0].parent)
    assert found.images == sorted(tiny.images) and found.videos == sorted(tiny.videos)


def test_baseline_reads_the_first_frames(tiny: workload.Workload, pipeline: Pipeline) -> None:
    frames = first_frames(tiny.videos[0], 5)
    assert len(frames) == 5 and frames[0].shape == (240, 320, 3)
    r = NaiveBaseline(pipeline, frames=5).analyze(tiny.videos[0])
    assert r.frames == 5 and 1 <= r.faces_found <= 5
    assert 0.0 <= r.fake_probability <= 1.0
    assert set(r.timings) == {"decode", "detect", "classify"}
    assert NaiveBaseline(pipeline).analyze(tiny.images[0]).frames == 1


def test_bench_report_has_the_promised_keys(tiny: workload.Workload, pipeline: Pipeline) -> None:
    runs = bench.measure(pipeline, tiny, baseline=True)
    assert len(runs.fast) == len(runs.baseline) == 4
    result = bench.report(pipeline, tiny, runs)
    for key in (
        "image_p50_s",
        "video_p50_s",
        "images_per_s",
        "videos_per_s",
        "speedup_vs_baseline",
        "peak_rss_mb",
    ):
        assert isinstance(result[key], float) and result[key] > 0, key
    assert result["image"]["n"] == 2 and result["video"]["n"] == 2
    assert set(result["video"]["stages_s"]) == {"decode", "detect", "track", "classify", "decide"}
    assert result["baseline"]["video"]["n"] == 2
    text = bench.table(result)
    assert "fast video" in text and "baseline video" in text and "speed-up" in text


def test_soak_samples_rss(tiny: workload.Workload, pipeline: Pipeline) -> None:
    result = bench.soak(pipeline, tiny, 5, every=2)
    assert [i for i, _ in result["rss_mb"]] == [0, 2, 4, 5]
    assert all(mb is not None and mb > 0 for _, mb in result["rss_mb"])


def test_percentile() -> None:
    assert bench.percentile([], 50) is None
    assert bench.percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert bench.percentile([1.0, 2.0], 95) == pytest.approx(1.95)


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

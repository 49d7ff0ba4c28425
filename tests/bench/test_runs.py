"""The benchmark's code path on a tiny workload.

The batched paths it relies on are tested in tests/inference/test_batches.py.

No timing is asserted anywhere: speed is what ``fakewatch bench`` prints.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import runs, workload
from bench.baseline import NaiveBaseline, first_frames
from inference.pipeline import Pipeline


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
    measured = runs.measure(pipeline, tiny, baseline=True)
    assert len(measured.fast) == len(measured.baseline) == 4
    result = runs.report(pipeline, tiny, measured)
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
    text = runs.table(result)
    assert "fast video" in text and "baseline video" in text and "speed-up" in text


def test_soak_samples_rss(tiny: workload.Workload, pipeline: Pipeline) -> None:
    result = runs.soak(pipeline, tiny, 5, every=2)
    assert [i for i, _ in result["rss_mb"]] == [0, 2, 4, 5]
    assert all(mb is not None and mb > 0 for _, mb in result["rss_mb"])


def test_percentile() -> None:
    assert runs.percentile([], 50) is None
    assert runs.percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert runs.percentile([1.0, 2.0], 95) == pytest.approx(1.95)

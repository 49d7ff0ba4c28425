"""``fakewatch bench`` as a user runs it, on a tiny workload (no timing is asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import samples

TINY = ["--images", "1", "--videos", "1", "--resolution", "320x240", "--seconds", "1"]


def bench(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fakewatch", "bench", "--weights", "random", "--frames", "4", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "FAKEWATCH_DATA_DIR": str(cwd / "data")},
    )


def bench_through_queue(*args: str, cwd: Path) -> dict[str, Any]:
    """``bench ARGS`` with the Redis of this machine (a private queue name); its "queue" part."""
    out = subprocess.run(
        [sys.executable, "-m", "fakewatch", "bench", "--weights", "random", "--frames", "4", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        env={
            **os.environ,
            "FAKEWATCH_DATA_DIR": str(cwd / "data"),
            "REDIS_URL": "redis://127.0.0.1:6379/13",
        },
    )
    assert out.returncode == 0, out.stderr[-3000:]
    queue: dict[str, Any] = json.loads(out.stdout)["queue"]
    return queue


def test_bench_json_with_baseline(tmp_path: Path) -> None:
    out = bench(*TINY, "--baseline", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    for key in ("image_p50_s", "video_p50_s", "images_per_s", "videos_per_s"):
        assert isinstance(result[key], float) and result[key] > 0, key
    assert isinstance(result["speedup_vs_baseline"], float)
    assert result["frames"] == 4 and result["device"] == "cpu"
    assert result["model"].startswith("random-untrained")
    assert sorted(p.suffix for p in (tmp_path / "data" / "bench").iterdir()) == [".jpg", ".mp4"]


def test_bench_table_and_soak(tmp_path: Path) -> None:
    out = bench(*TINY, "--cache", str(tmp_path / "media"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "fast image" in out.stdout and "fast video" in out.stdout
    assert "baseline" not in out.stdout
    out = bench(*TINY, "--cache", str(tmp_path / "media"), "--soak", "4", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "soak: 4 items" in out.stdout


def test_bench_refuses_a_bad_resolution(tmp_path: Path) -> None:
    out = bench("--resolution", "wide", cwd=tmp_path)
    assert out.returncode == 2 and "--resolution" in out.stderr


def test_bench_through_the_queue(tmp_path: Path) -> None:
    """A real worker process and the Redis of this machine (a private queue name)."""
    queue = bench_through_queue(*TINY, "--queue", "--json", cwd=tmp_path)
    assert queue["redis"] == "REDIS_URL" and queue["all"]["n"] == 2
    assert [r["kind"] for r in queue["items"]] == ["image", "video"]
    for row in queue["items"]:
        assert row["label"] not in (None, "error", "unsupported") and not row["deduplicated"]
        assert row["e2e_s"] >= row["inference_s"] > 0
        assert row["worker_side_s"] is not None and row["delivery_s"] is not None
    assert isinstance(queue["overhead_p50_s"], float)
    assert queue["worker_peak_rss_mb"] > 100  # the worker loaded the model


def test_unique_bytes_still_decode(tmp_path: Path) -> None:
    from bench.queue import unique_bytes
    from inference.decoder import decode

    photo = samples.encode_image(samples.astronaut(), "JPEG")
    clip = samples.write_face_video(tmp_path / "c.mp4", seconds=1.0, width=160, height=120)
    for data in (photo, clip.read_bytes()):
        a, b = unique_bytes(data, 1), unique_bytes(data, 2)
        assert a != b and a.startswith(data)
        ref, got = decode(data, frames=3), decode(b, frames=3)
        assert len(got.frames) == len(ref.frames)
        assert all((x == y).all() for x, y in zip(ref.frames, got.frames, strict=True))
    assert unique_bytes(b"GIF89a...", 3) == b"GIF89a..."


def test_bench_detect_sizes(tmp_path: Path) -> None:
    (tmp_path / "media").mkdir()
    photo = samples.encode_image(samples.astronaut(), "JPEG")
    (tmp_path / "media" / "a.jpg").write_bytes(photo)
    out = bench("--detect-sizes", "320,160", "--folder", str(tmp_path / "media"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "1 images, 0 videos" in out.stdout and "verdicts compared with 320" in out.stdout
    refused = bench("--detect-sizes", "320,160", cwd=tmp_path)
    assert refused.returncode == 2 and "--folder" in refused.stderr
    refused = bench("--detect-sizes", "wide", "--folder", str(tmp_path), cwd=tmp_path)
    assert refused.returncode == 2 and "--detect-sizes" in refused.stderr


def test_bench_soak_through_the_queue(tmp_path: Path) -> None:
    """N jobs through a real worker process; the worker's RSS after each."""
    soak = [*TINY, "--images", "2", "--videos", "0", "--soak", "5", "--queue", "--json"]
    queue = bench_through_queue(*soak, cwd=tmp_path)
    assert queue["all"]["n"] == 5 and len(queue["items"]) == 5
    assert [i for i, _ in queue["worker_rss_by_job"]][-1] == 5
    assert queue["worker_rss_max_mb"] >= queue["worker_rss_first_mb"] > 100
    assert isinstance(queue["worker_growth_after_warmup_mb"], float)

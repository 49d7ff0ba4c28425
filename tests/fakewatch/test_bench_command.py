"""``fakewatch bench`` as a user runs it, on a tiny workload (no timing is asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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

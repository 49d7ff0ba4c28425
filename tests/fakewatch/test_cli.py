"""``fakewatch check`` as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench import samples


def fakewatch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fakewatch", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def test_check_json_lines_and_a_bad_file(tmp_path: Path) -> None:
    photo = tmp_path / "astronaut.jpg"
    photo.write_bytes(samples.encode_image(samples.astronaut(), "JPEG"))
    clip = samples.write_face_video(tmp_path / "clip.mp4", seconds=1.0, width=320, height=240)
    bad = tmp_path / "notes.mp4"
    bad.write_text("meeting notes, not a video\n" * 5)
    out = fakewatch(
        "check",
        str(photo),
        str(clip),
        str(bad),
        "--json",
        "--weights",
        "random",
        "--frames",
        "4",
        cwd=tmp_path,
    )
    assert out.returncode == 1, out.stderr  # one file could not be judged
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["file"] for r in rows] == [str(photo), str(clip), str(bad)]
    for r in rows:
        assert {"file", "label", "fake_probability", "faces", "frames", "model", "timings"} <= set(
            r
        )
    assert rows[0]["faces"] == 1 and rows[0]["frames"] == 1
    assert rows[1]["faces"] == 1 and rows[1]["frames"] == 4
    assert set(rows[1]["timings"]) == {"decode", "detect", "track", "classify", "decide"}
    assert rows[2]["label"] == "unsupported" and rows[2]["reason"]
    assert "UNTRAINED" in out.stderr


def test_check_text_output_and_exit_code(tmp_path: Path) -> None:
    photo = tmp_path / "astronaut.png"
    photo.write_bytes(samples.encode_image(samples.astronaut(), "PNG"))
    out = fakewatch("check", str(photo), "--weights", "random", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "1 face in 1 frame" in out.stdout
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    out = fakewatch("check", str(empty), "--weights", "random", cwd=tmp_path)
    assert out.returncode == 1
    assert out.stdout.strip() == f"{empty}: UNSUPPORTED - the file is empty"


def test_missing_weights_are_a_clear_error(tmp_path: Path) -> None:
    photo = tmp_path / "a.png"
    photo.write_bytes(samples.encode_image(samples.astronaut(), "PNG"))
    out = fakewatch("check", str(photo), "--weights", str(tmp_path / "nope.pt"), cwd=tmp_path)
    assert out.returncode == 2
    assert "no weights file" in out.stderr

"""``fakewatch eval --normalise``: every clip re-encoded to one size, frame rate and bitrate."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from base.errors import MediaError
from bench import samples
from training.normalise import BITRATE, normalise_video, normalised, normalised_size


def _clip_with_audio(path: Path, *, fps: int, width: int, height: int, seconds: float) -> Path:
    frames = samples.moving_face_frames(round(fps * seconds), width, height)
    with av.open(str(path), "w") as out:
        video: Any = out.add_stream("libx264", rate=Fraction(fps))
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio: Any = out.add_stream("aac", rate=16000)
        for rgb in frames:
            for packet in video.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        tone = np.zeros((1, 16000), np.float32)
        frame = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
        frame.sample_rate = 16000
        for packet in audio.encode(frame):
            out.mux(packet)
        for packet in audio.encode():
            out.mux(packet)
    return path


def test_sizes_keep_the_aspect_with_the_shorter_side_at_size() -> None:
    assert normalised_size(1280, 720, 256) == (456, 256)
    assert normalised_size(256, 256, 256) == (256, 256)
    assert normalised_size(720, 1280, 256) == (256, 456)


def test_a_clip_comes_out_at_one_size_rate_and_bitrate_without_audio(tmp_path: Path) -> None:
    src = _clip_with_audio(tmp_path / "in.mp4", fps=30, width=640, height=360, seconds=2.0)
    with av.open(str(src)) as c:
        assert c.streams.audio  # the input has sound
    dst = normalise_video(src, tmp_path / "out.mp4", 256)
    with av.open(str(dst)) as c:
        assert not c.streams.audio
        v = c.streams.video[0]
        assert (v.width, v.height) == (456, 256)
        assert v.average_rate == 25
        frames = sum(1 for _ in c.decode(v))
    assert 48 <= frames <= 52  # 2 s at 25 fps
    assert dst.stat().st_size * 8 / 2.0 < BITRATE * 1.6


def test_images_pass_through_and_broken_videos_fail_cleanly(tmp_path: Path) -> None:
    photo = tmp_path / "p.jpg"
    photo.write_bytes(samples.encode_image(samples.astronaut()))
    with normalised(photo, 256, is_video=False) as path:
        assert path == photo
    broken = tmp_path / "b.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200)
    with pytest.raises(MediaError), normalised(broken, 256, is_video=True):
        pass

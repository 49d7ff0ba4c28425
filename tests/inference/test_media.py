"""Decoding: formats, codecs, rotation, even sampling by seeking, limits and bad input."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from base.errors import (
    CorruptMedia,
    EmptyMedia,
    NoFrames,
    NoVideoStream,
    TooLong,
    TooManyBytes,
    TooManyPixels,
    UnsupportedMedia,
)
from bench import samples
from inference.decoder import decode
from inference.media import MediaLimits, even_indices
from inference.sniffing import sniff


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "GIF"])
def test_static_images_decode_to_one_rgb_frame(fmt: str) -> None:
    media = decode(samples.encode_image(samples.astronaut(), fmt))
    assert media.kind == "image"
    assert len(media.frames) == 1
    frame = media.frames[0]
    assert frame.shape == (512, 512, 3) and frame.dtype == np.uint8


def test_exif_orientation_is_applied() -> None:
    img = Image.fromarray(np.zeros((40, 100, 3), np.uint8))
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 CW to display
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    media = decode(buf.getvalue())
    assert (media.height, media.width) == (100, 40)


def test_animated_gif_is_a_video(tmp_path: Path) -> None:
    frames = samples.moving_face_frames(30, 160, 120)
    for i, f in enumerate(frames):
        f[:8, i * 5 : i * 5 + 5] = 255  # every frame distinct, so none is merged
    path = samples.write_gif(tmp_path / "a.gif", frames, frame_ms=50)
    media = decode(path, frames=8)
    assert media.kind == "video"
    assert len(media.frames) == 8
    assert media.total_frames == 30
    assert media.duration_s == pytest.approx(1.5)


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        ("h264.mp4", "libx264"),
        ("h265.mkv", "libx265"),
        ("vp8.webm", "libvpx"),
        ("vp9.webm", "libvpx-vp9"),
        ("av1.mp4", "libsvtav1"),
        ("h264.mov", "libx264"),
    ],
)
def test_codecs_and_containers(tmp_path: Path, name: str, codec: str) -> None:
    frames = samples.moving_face_frames(24, 320, 240)
    path = samples.write_video(tmp_path / name, frames, codec=codec, fps=12)
    media = decode(path, frames=6)
    assert media.kind == "video"
    assert len(media.frames) == 6
    assert media.frames[0].shape == (240, 320, 3)


def test_samples_spread_over_the_whole_clip(face_video: Callable[..., Path]) -> None:
    path = face_video("long.mp4", seconds=6.0, fps=10)
    media = decode(path, frames=6)
    assert len(media.times_s) == 6
    gaps = np.diff(media.times_s)
    assert np.all(gaps > 0.7) and np.all(gaps < 1.3)
    assert media.times_s[0] < 1.0 and media.times_s[-1] > 5.0


def test_sampling_seeks_in_a_clip_with_short_keyframe_interval(tmp_path: Path) -> None:
    frames = samples.moving_face_frames(100, 160, 120)
    path = samples.write_video(tmp_path / "gop.mp4", frames, fps=10, options={"g": "10"})
    media = decode(path, frames=4)
    assert [round(t, 1) for t in media.times_s] == [
        1.3,
        3.8,
        6.3,
        8.8,
    ]  # first frame at or after each target


def test_rotation_metadata_is_honoured(tmp_path: Path) -> None:
    frames = samples.moving_face_frames(10, 320, 160)
    path = samples.write_video(tmp_path / "rot.mp4", frames, rotation=90)
    media = decode(path, frames=2)
    assert media.rotation == 90
    assert media.frames[0].shape == (320, 160, 3)


def test_short_clip_gives_distinct_frames(tmp_path: Path) -> None:
    path = samples.write_video(tmp_path / "three.mp4", samples.moving_face_frames(3, 64, 64))
    media = decode(path, frames=16)
    assert 1 <= len(media.frames) <= 3
    assert len(set(media.times_s)) == len(media.times_s)


def test_even_indices() -> None:
    assert even_indices(3, 16) == [0, 1, 2]
    assert even_indices(100, 4) == [12, 37, 62, 87]


def test_sniff() -> None:
    assert sniff(b"\x89PNG\r\n\x1a\n....") == "png"
    assert sniff(b"\x00\x00\x00\x18ftypmp42") == "mp4"
    assert sniff(b"hello world") is None


# --- limits and bad input -------------------------------------------------------


def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares its size but carries (almost) no pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
    )


def _audio_only(path: Path) -> Path:
    with av.open(str(path), "w") as c:
        s = c.add_stream("aac", rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate = 8000
        for _ in range(4):
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def _zero_frame_video(path: Path) -> Path:
    """A Matroska file with a video track header and not one frame."""
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 64, 64, "yuv420p"
        c.start_encoding()
    return path


def test_bad_inputs_each_give_a_specific_error(
    tmp_path: Path, face_video: Callable[..., Path]
) -> None:
    good = face_video()
    data = good.read_bytes()
    cases: list[tuple[object, type[Exception]]] = [
        (b"", EmptyMedia),
        (data[: len(data) // 3], CorruptMedia),
        (b"this is a text file renamed to .mp4\n" * 20, UnsupportedMedia),
        (_png_header(40000, 40000), TooManyPixels),
        (_audio_only(tmp_path / "audio.mp4"), NoVideoStream),
        (_zero_frame_video(tmp_path / "zero.mkv"), NoFrames),
    ]
    for source, error in cases:
        with pytest.raises(error):
            decode(source)  # type: ignore[arg-type]
        # and the next call still works
        assert len(decode(good, frames=2).frames) == 2


def test_limits_each_have_their_error(face_video: Callable[..., Path]) -> None:
    path = face_video()
    with pytest.raises(TooManyBytes):
        decode(path, limits=MediaLimits(max_bytes=100))
    with pytest.raises(TooManyPixels):
        decode(path, limits=MediaLimits(max_pixels=1000))
    with pytest.raises(TooLong):
        decode(path, limits=MediaLimits(max_duration_s=0.5))


def test_truncated_image_is_corrupt() -> None:
    data = samples.encode_image(samples.astronaut(), "PNG")
    with pytest.raises(CorruptMedia):
        decode(data[: len(data) // 2])

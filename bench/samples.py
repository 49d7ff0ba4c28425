"""Sample media built from scikit-image's photos: for the demo, the tests and the benchmark.

Nothing is downloaded: scikit-image ships these photos in its wheel.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from PIL import Image


def astronaut() -> np.ndarray:
    """The astronaut photo (Eileen Collins): one real face, RGB 512x512."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


def no_face_images() -> dict[str, np.ndarray]:
    """scikit-image photos without a human face, as RGB arrays."""
    from skimage import data

    return {
        "coffee": data.coffee(),
        "chelsea": data.chelsea(),
        "rocket": data.rocket(),
        "coins": np.stack([data.coins()] * 3, axis=-1),
    }


def encode_image(rgb: np.ndarray, fmt: str = "JPEG", **options: object) -> bytes:
    """Encode an RGB array with Pillow (JPEG, PNG, WEBP, BMP, GIF)."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, fmt, **options)
    return buf.getvalue()


def face_patch(size: int) -> np.ndarray:
    """The astronaut's head and shoulders, square, resized to ``size``."""
    return cv2.resize(astronaut()[0:300, 100:400], (size, size), interpolation=cv2.INTER_AREA)


def moving_face_frames(
    n: int, width: int, height: int, *, faces: int = 1, face_size: int | None = None
) -> list[np.ndarray]:
    """Frames with ``faces`` astronaut heads (0, 1 or 2) drifting across a grey background."""
    face_size = face_size or max(64, min(width // (2 * max(faces, 1) + 1), height * 2 // 3))
    patch = face_patch(face_size)
    frames = []
    for i in range(n):
        img = np.full((height, width, 3), 96, np.uint8)
        img[:, :, 2] = (96 + 40 * np.sin(i / 7)).astype(np.uint8)  # some change every frame
        drift = int((width // (faces + 1) - face_size) * 0.4 * i / max(1, n - 1))
        for k in range(faces):
            x = max(
                0,
                min(
                    width - face_size,
                    (k * 2 + 1) * width // (2 * faces) - face_size // 2 + drift - face_size // 4,
                ),
            )
            y = (height - face_size) // 2
            img[y : y + face_size, x : x + face_size] = patch
        frames.append(img)
    return frames


def write_video(
    path: Path,
    frames: Sequence[np.ndarray],
    *,
    codec: str = "libx264",
    fps: int = 25,
    rotation: int = 0,
    options: dict[str, str] | None = None,
) -> Path:
    """Encode RGB frames with PyAV; the container follows the suffix (.mp4, .mkv, .webm...)."""
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream: Any = container.add_stream(codec, rate=Fraction(fps))
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuv420p"
        defaults = {
            "libx264": {"preset": "veryfast"},
            "libx265": {"preset": "ultrafast", "x265-params": "log-level=error"},
            "libsvtav1": {"preset": "12"},
        }
        stream.options = {**defaults.get(codec, {}), **(options or {})}
        if rotation:
            stream.set_display_rotation(rotation)
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_face_video(
    path: Path,
    *,
    seconds: float = 2.0,
    width: int = 640,
    height: int = 360,
    fps: int = 25,
    faces: int = 1,
    codec: str = "libx264",
) -> Path:
    """A clip of moving faces, ready for the pipeline."""
    frames = moving_face_frames(max(1, round(seconds * fps)), width, height, faces=faces)
    return write_video(path, frames, codec=codec, fps=fps)


def write_gif(path: Path, frames: Sequence[np.ndarray], *, frame_ms: int = 100) -> Path:
    """An animated GIF."""
    images = [Image.fromarray(f) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=frame_ms, loop=0)
    return path

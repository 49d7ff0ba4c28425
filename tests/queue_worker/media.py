"""Small real media for the queue tests: distinct bytes each, so nothing is reused by accident."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import cv2
import numpy as np

from bench import samples


@cache
def _base(size: int) -> np.ndarray:
    return cv2.resize(samples.astronaut(), (size, size), interpolation=cv2.INTER_AREA)


def face_jpeg(n: int, size: int = 224) -> bytes:
    """The astronaut, with a mark that makes image ``n`` unlike the others."""
    img = _base(size).copy()
    img[-4:, :, :] = np.uint8(n % 251)
    img[-8:-4, : (n % size) + 1, 0] = 255
    return samples.encode_image(img, "JPEG", quality=90)


def face_video(path: Path, n: int) -> bytes:
    """A one-second 320x240 H.264 clip of a moving face; ``n`` varies the first frame."""
    frames = samples.moving_face_frames(10, 320, 240, faces=1)
    frames[0][0:2, :, :] = np.uint8(n % 251)
    samples.write_video(path, frames, fps=10)
    return path.read_bytes()


def corrupt_mp4() -> bytes:
    """An MP4 that is cut off after its first bytes."""
    return (
        b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x01\x00mdat" + b"\x13" * 64
    )

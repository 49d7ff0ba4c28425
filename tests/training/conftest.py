"""A tiny labelled corpus generated from scikit-image's astronaut: no data set needed."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from bench import samples


def _variant(i: int) -> np.ndarray:
    """The astronaut photo, shifted, scaled, flipped and recoloured a little."""
    img = samples.astronaut()
    x, y, side = 20 + 15 * (i % 4), 10 + 10 * (i % 3), 420 - 20 * (i % 5)
    img = img[y : y + side, x : x + side]
    if i % 2:
        img = img[:, ::-1]
    img = np.clip(img.astype(np.int16) + (i * 7 % 30) - 15, 0, 255).astype(np.uint8)
    return cv2.resize(img, (256, 256), interpolation=cv2.INTER_AREA)


def _composite(i: int) -> np.ndarray:
    """A crude 'Photoshop' fake: the face's middle replaced by a recoloured, scaled copy."""
    img = _variant(i).copy()
    y1, y2, x1, x2 = 60, 130, 95, 165
    part = cv2.resize(img[y1 - 6 : y2 + 6, x1 - 6 : x2 + 6], (x2 - x1, y2 - y1))
    img[y1:y2, x1:x2] = np.clip(part.astype(np.int16) + 25, 0, 255).astype(np.uint8)
    return img


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """real/ (8 photos, 1 clip, 1 photo without a face) and fake/ (3 composites)."""
    root = tmp_path_factory.mktemp("corpus")
    photos = root / "real" / "images" / "astronaut"
    fakes = root / "fake" / "images" / "composites"
    clips = root / "real" / "videos" / "generated"
    empty = root / "real" / "images" / "no_face"
    for folder in (photos, fakes, clips, empty):
        folder.mkdir(parents=True)
    for i in range(8):
        (photos / f"person{i}.jpg").write_bytes(samples.encode_image(_variant(i), "JPEG"))
    for i in range(3):
        (fakes / f"paste{i}.jpg").write_bytes(samples.encode_image(_composite(i + 3), "JPEG"))
    samples.write_face_video(clips / "clip.mp4", seconds=1.0, width=480, height=360, fps=8)
    (empty / "coffee.png").write_bytes(
        samples.encode_image(samples.no_face_images()["coffee"], "PNG")
    )
    return root

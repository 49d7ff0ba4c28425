"""Fixtures for the inference tests: one small random-weights pipeline per session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from inference.pipeline import Pipeline
from inference.weights import random_weights


@pytest.fixture(scope="session")
def pipeline(test_device: str) -> Pipeline:
    """A pipeline with small random weights: real MTCNN, real classifier code."""
    return Pipeline(random_weights(), device=test_device, frames=8)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for media generated once per session."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def face_video(media_dir: Path) -> Callable[..., Path]:
    """Build (once per arguments) a clip of moving faces."""
    from bench import samples

    made: dict[tuple[object, ...], Path] = {}

    def make(
        name: str = "one.mp4",
        *,
        faces: int = 1,
        codec: str = "libx264",
        seconds: float = 2.0,
        width: int = 480,
        height: int = 270,
        fps: int = 15,
    ) -> Path:
        key = (name, faces, codec, seconds, width, height, fps)
        if key not in made:
            made[key] = samples.write_face_video(
                media_dir / name,
                seconds=seconds,
                width=width,
                height=height,
                fps=fps,
                faces=faces,
                codec=codec,
            )
        return made[key]

    return make

"""Benchmark media: face photos and H.264 clips built from scikit-image's photos, or a folder.

The clips are made to cost what real uploads cost, not what a flat test pattern
costs: a textured photo background that pans, a face that moves and changes
size, and a little sensor noise, encoded with x264 (CABAC, B-frames) with a
keyframe every ``gop_s`` seconds, as phone cameras and chat platforms do.
Files are cached by their parameters, so a second run reuses them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from bench import samples
from inference.sniffing import sniff

_BACKGROUNDS = ("coffee", "rocket", "chelsea", "astronaut")


@dataclass(frozen=True)
class Workload:
    """The files a benchmark runs, by kind."""

    images: list[Path] = field(default_factory=list)
    videos: list[Path] = field(default_factory=list)
    description: str = ""

    def items(self) -> list[tuple[str, Path]]:
        """``(kind, path)`` for every file, images first."""
        return [("image", p) for p in self.images] + [("video", p) for p in self.videos]


def _background(name: str) -> np.ndarray:
    from skimage import data

    img: np.ndarray = np.asarray(getattr(data, name)(), dtype=np.uint8)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    return img


def _feathered(patch: np.ndarray) -> np.ndarray:
    """An elliptical alpha mask (H, W, 1) in [0, 1] with soft edges, so no square seam shows."""
    h, w = patch.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot((xx - w / 2) / (w / 2), (yy - h / 2) / (h / 2))
    alpha: np.ndarray = np.clip((1.0 - r) / 0.15, 0.0, 1.0)[..., None].astype(np.float32)
    return alpha


def _paste(canvas: np.ndarray, patch: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    h, w = patch.shape[:2]
    region = canvas[y : y + h, x : x + w].astype(np.float32)
    canvas[y : y + h, x : x + w] = (region * (1 - alpha) + patch * alpha).astype(np.uint8)


def clip_frames(
    n: int, width: int, height: int, *, seed: int = 0, noise: int = 6
) -> Iterator[np.ndarray]:
    """``n`` RGB frames: a panning photo background with one moving, slowly zooming face.

    Args:
        n: number of frames.
        width: frame width in pixels.
        height: frame height in pixels.
        seed: picks the background, the face's size and path.
        noise: amplitude of the uniform per-pixel noise added to each frame.
    """
    rng = np.random.default_rng(seed)
    bg = _background(_BACKGROUNDS[seed % len(_BACKGROUNDS)])
    bw, bh = round(width * 1.3), round(height * 1.3)
    bg = cv2.resize(bg, (bw, bh), interpolation=cv2.INTER_LINEAR)
    base = int(height * rng.uniform(0.28, 0.45))
    x0, x1 = rng.uniform(0.05, 0.35), rng.uniform(0.4, 0.7)
    y0 = rng.uniform(0.1, 0.4)
    for i in range(n):
        t = i / max(1, n - 1)
        ox = int((bw - width) * (0.5 + 0.5 * math.sin(2 * math.pi * t + seed)))
        oy = int((bh - height) * (0.5 + 0.5 * math.cos(math.pi * t + seed)))
        frame = np.ascontiguousarray(bg[oy : oy + height, ox : ox + width])
        size = max(48, int(base * (1.0 + 0.2 * math.sin(3 * t + seed))))
        patch = samples.face_patch(size)
        x = int((width - size) * (x0 + (x1 - x0) * t))
        y = int((height - size) * (y0 + 0.1 * math.sin(5 * t)))
        _paste(frame, patch.astype(np.float32), _feathered(patch), x, y)
        if noise:
            jitter = rng.integers(-noise, noise + 1, size=frame.shape, dtype=np.int16)
            frame = np.clip(frame.astype(np.int16) + jitter, 0, 255).astype(np.uint8)
        yield frame


def write_clip(
    path: Path,
    *,
    width: int,
    height: int,
    seconds: float,
    fps: int = 25,
    gop_s: float = 2.0,
    seed: int = 0,
) -> Path:
    """Encode a :func:`clip_frames` clip as H.264 in mp4, frame by frame (constant memory)."""
    tmp = path.with_name(path.name + ".part.mp4")
    with av.open(str(tmp), "w") as container:
        stream: Any = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23", "g": str(max(1, round(gop_s * fps)))}
        for rgb in clip_frames(max(1, round(seconds * fps)), width, height, seed=seed):
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    tmp.replace(path)
    return path


def face_photo(size: int = 512, *, seed: int = 0) -> np.ndarray:
    """A ``size`` x ``size`` RGB photo with one face: the astronaut photo or a face on another."""
    rng = np.random.default_rng(seed)
    if seed % 2 == 0:
        img = samples.astronaut()
        if seed % 4 == 2:
            img = np.ascontiguousarray(img[:, ::-1])
        return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    bg = cv2.resize(_background(_BACKGROUNDS[(seed // 2) % 3]), (size, size))
    face = int(size * rng.uniform(0.3, 0.55))
    patch = samples.face_patch(face)
    x, y = (int(rng.uniform(0, size - face)) for _ in range(2))
    _paste(bg, patch.astype(np.float32), _feathered(patch), x, y)
    return bg


def make_workload(
    folder: Path,
    *,
    images: int,
    videos: int,
    resolution: tuple[int, int] = (1280, 720),
    seconds: float = 10.0,
    image_size: int = 512,
    fps: int = 25,
    gop_s: float = 2.0,
) -> Workload:
    """Build (or reuse from ``folder``) ``images`` face photos and ``videos`` clips."""
    folder.mkdir(parents=True, exist_ok=True)
    width, height = resolution
    photos: list[Path] = []
    for i in range(images):
        p = folder / f"photo_{image_size}_{i}.jpg"
        if not p.is_file():
            p.write_bytes(
                samples.encode_image(face_photo(image_size, seed=i), "JPEG", quality=88 + i % 8)
            )
        photos.append(p)
    clips: list[Path] = []
    for i in range(videos):
        p = folder / f"clip_{width}x{height}_{seconds:g}s_{fps}fps_gop{gop_s:g}_{i}.mp4"
        if not p.is_file():
            write_clip(p, width=width, height=height, seconds=seconds, fps=fps, gop_s=gop_s, seed=i)
        clips.append(p)
    return Workload(
        photos,
        clips,
        f"{images} JPEG face photos {image_size}x{image_size}; {videos} H.264 clips "
        f"{width}x{height}, {seconds:g} s, {fps} fps, keyframe every {gop_s:g} s",
    )


def folder_workload(folder: Path) -> Workload:
    """Every image and video under ``folder`` (by content, not by name), sorted by path."""
    images: list[Path] = []
    videos: list[Path] = []
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        with p.open("rb") as f:
            fmt = sniff(f.read(512))
        if fmt in ("jpeg", "png", "webp", "bmp"):
            images.append(p)
        elif fmt is not None:
            videos.append(p)
    return Workload(images, videos, f"{len(images)} images and {len(videos)} videos from {folder}")

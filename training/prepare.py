"""``fakewatch train prepare``: face crops and landmarks from folders of images and videos.

Faces are found with the pipeline's own decoder and MTCNN detector, so training
sees crops cut the way inference cuts them. Each crop keeps a wider margin than
the classifier needs (random crops and scales are taken from it during training)
and the 5 MTCNN landmarks, which place the self-blending mask. Photos give one
sequence per face, videos one sequence per face track.

The train / val split is by source and identity: a person is on one side only.
"""

from __future__ import annotations

import hashlib
import logging
import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from base.errors import MediaError
from inference.decoder import decode
from inference.faces import DetectorConfig, FaceBox, FaceDetector, crop_box, crop_face
from inference.media import DecodedMedia, MediaLimits
from inference.tracks import FaceTrack, TrackerConfig, track
from training.faceset import (
    CropGeometry,
    FaceSequence,
    FaceSetWriter,
    landmarks_in_crop,
    merge_counts,
)
from training.layout import MediaFile, walk

log = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class PrepareConfig:
    """What to keep from each file."""

    geometry: CropGeometry = field(default_factory=CropGeometry)
    video_frames: int = 24
    val_fraction: float = 0.1
    min_face_px: float = 40.0  # in the original frame
    min_score: float = 0.95
    max_faces: int = 3  # per real photo; a labelled fake keeps only its main face
    min_track: int = 4  # crops, for a video face track to be kept
    image_batch: int = 16
    limit: int | None = None  # files per source folder, for quick runs


def split_of(source: str, identity: str, val_fraction: float) -> str:
    """``val`` for a stable pseudo-random ``val_fraction`` of (source, identity) pairs."""
    digest = hashlib.sha1(f"{source}\x00{identity}".encode()).digest()
    return "val" if int.from_bytes(digest[:8], "big") / 2**64 < val_fraction else "train"


def _keep_faces(faces: Sequence[FaceBox], config: PrepareConfig, keep: int) -> list[FaceBox]:
    """The biggest confident faces, none much smaller than the biggest."""
    good = [f for f in faces if f.score >= config.min_score and f.size >= config.min_face_px]
    good.sort(key=lambda f: -f.size)
    if not good:
        return []
    return [f for f in good if f.size >= 0.5 * good[0].size][:keep]


def _crop(
    frame: np.ndarray, face: FaceBox, geometry: CropGeometry
) -> tuple[np.ndarray, tuple[tuple[float, float], ...]]:
    """The crop and its landmarks in crop pixels (same rounding as ``crop_face``)."""
    x1, y1, x2, y2 = crop_box(face.box, frame.shape, margin=geometry.margin, square=True)
    ix1, iy1 = math.floor(x1), math.floor(y1)
    ix2, iy2 = max(ix1 + 1, math.ceil(x2)), max(iy1 + 1, math.ceil(y2))
    crop = crop_face(frame, face.box, size=geometry.size, margin=geometry.margin, square=True)
    marks = landmarks_in_crop(face.landmarks, (ix1, iy1, ix2, iy2), geometry.size)
    return crop, marks


class Preparer:
    """Detects faces file by file and feeds a :class:`FaceSetWriter`."""

    def __init__(self, config: PrepareConfig, device: torch.device) -> None:
        self.config = config
        self.detector = FaceDetector(device, DetectorConfig(min_score=min(0.9, config.min_score)))
        self.writer = FaceSetWriter(config.geometry)
        self.limits = MediaLimits(max_duration_s=3600.0)
        self.skipped: dict[str, int] = {}

    def _skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def _sequence(self, item: MediaFile, kind: str, frames: list[Any]) -> FaceSequence:
        return FaceSequence(
            file=item.relative,
            source=item.source,
            identity=item.identity,
            is_fake=item.is_fake,
            labelled=item.labelled,
            split=split_of(item.source, item.identity, self.config.val_fraction),
            kind=kind,
            frames=tuple(frames),
        )

    def add_images(self, items: Sequence[tuple[MediaFile, DecodedMedia]]) -> None:
        """Photos, detected in one batch per size."""
        found = self.detector.detect([m.frames[0] for _, m in items])
        for (item, media), faces in zip(items, found, strict=True):
            keep = _keep_faces(faces, self.config, 1 if item.is_fake else self.config.max_faces)
            if not keep:
                self._skip("no_face")
            for face in keep:
                crop, marks = _crop(media.frames[0], face, self.config.geometry)
                frame = self.writer.add_crop(crop, marks)
                self.writer.add(self._sequence(item, "image", [frame]))

    def add_video(self, item: MediaFile, media: DecodedMedia) -> None:
        """A clip: one sequence per face track long enough to be a person."""
        found = self.detector.detect(media.frames)
        tracks = track(found, TrackerConfig(min_fraction=0.5))
        keep_tracks: list[FaceTrack] = []
        for t in tracks[: 1 if item.is_fake else self.config.max_faces]:
            faces = [f for f in t.faces if _keep_faces([f], self.config, 1)]
            if len(faces) >= min(self.config.min_track, len(media.frames)):
                keep_tracks.append(FaceTrack(t.id, tuple(faces)))
        if not keep_tracks:
            self._skip("no_face_track")
        for t in keep_tracks:
            frames = []
            for face in t.faces:
                crop, marks = _crop(media.frames[face.frame], face, self.config.geometry)
                frames.append(self.writer.add_crop(crop, marks))
            self.writer.add(self._sequence(item, "video", frames))

    def run(self, items: Sequence[MediaFile], progress: Progress | None = None) -> None:
        """Decode and detect every item, photos in batches."""
        pending: list[tuple[MediaFile, DecodedMedia]] = []
        for done, item in enumerate(items, 1):
            try:
                media = decode(item.path, frames=self.config.video_frames, limits=self.limits)
            except MediaError as e:
                log.warning("skipping %s: %s", item.relative, e)
                self._skip(e.code)
                continue
            if media.kind == "image":
                pending.append((item, media))
                if len(pending) >= self.config.image_batch:
                    self.add_images(pending)
                    pending = []
            else:
                self.add_video(item, media)
            if progress:
                progress(done, len(items), item.relative)
        if pending:
            self.add_images(pending)


def collect(roots: Iterable[Path], limit: int | None = None) -> list[MediaFile]:
    """Media files under every root; at most ``limit`` per source when given."""
    items: list[MediaFile] = []
    for root in roots:
        per_source: dict[tuple[bool, str], int] = {}
        for item in walk(root):
            key = (item.is_fake, item.source)
            if limit is not None and per_source.get(key, 0) >= limit:
                continue
            per_source[key] = per_source.get(key, 0) + 1
            items.append(item)
    return items


def stderr_progress(every: int = 50) -> Progress:
    """Print ``N/M files`` to stderr now and then."""
    start = time.monotonic()

    def report(done: int, total: int, name: str) -> None:
        if done == total or done % every == 0:
            rate = done / max(time.monotonic() - start, 1e-6)
            print(f"{done}/{total} files ({rate:.1f}/s) {name}", file=sys.stderr, flush=True)

    return report


def prepare(
    roots: Sequence[Path],
    out: Path,
    *,
    config: PrepareConfig | None = None,
    device: torch.device | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Build a face set in ``out`` from every media file under ``roots``.

    Returns:
        A summary: counts per split and label, per source, and skipped files by reason.
    """
    config = config or PrepareConfig()
    preparer = Preparer(config, device or torch.device("cpu"))
    items = collect(roots, config.limit)
    preparer.run(items, progress)
    sequences = preparer.writer.sequences
    summary: dict[str, Any] = {
        "roots": [str(r) for r in roots],
        "files": len(items),
        "counts": _counts(sequences),
        "sources": merge_counts(sequences),
        "skipped": preparer.skipped,
        "config": {
            "video_frames": config.video_frames,
            "val_fraction": config.val_fraction,
            "min_face_px": config.min_face_px,
            "min_score": config.min_score,
        },
    }
    preparer.writer.write(out, summary)
    return summary


def _counts(sequences: Sequence[FaceSequence]) -> dict[str, int]:
    out: dict[str, int] = {"crops": sum(s.length for s in sequences)}
    for s in sequences:
        key = f"{s.split}_{'fake' if s.is_fake else 'real'}"
        out[key] = out.get(key, 0) + 1
    return out

"""Face tracking: associate the faces of sampled frames into one sequence per person.

Sampled frames lie far apart in time (a 10 s clip sampled 16 times is 0.6 s
between frames), so association uses overlap *or* nearness relative to face
size, with a size-ratio check, matched greedily best-first. Short tracks that
are likely false detections are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from inference.faces import Box, FaceBox


@dataclass(frozen=True)
class FaceTrack:
    """One person's faces over the sampled frames, in frame order."""

    id: int
    faces: tuple[FaceBox, ...]

    @property
    def frames(self) -> tuple[int, ...]:
        """Indices of the sampled frames the face appears in."""
        return tuple(f.frame for f in self.faces)


@dataclass(frozen=True)
class TrackerConfig:
    """Association thresholds."""

    max_distance: float = 1.2  # centre distance, in face sizes
    max_size_ratio: float = 2.0
    min_fraction: float = 0.2  # of frames with any face, for a track to count
    max_tracks: int = 8


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two ``x1, y1, x2, y2`` boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _cost(last: FaceBox, face: FaceBox, config: TrackerConfig) -> float | None:
    """Lower is a better match; None when the two cannot be the same face."""
    ratio = max(last.size, face.size) / max(1.0, min(last.size, face.size))
    if ratio > config.max_size_ratio:
        return None
    overlap = iou(last.box, face.box)
    (ax, ay), (bx, by) = _centre(last.box), _centre(face.box)
    distance = math.hypot(ax - bx, ay - by) / max(1.0, (last.size + face.size) / 2)
    if overlap <= 0.0 and distance > config.max_distance:
        return None
    return distance - overlap


def _centre(box: Box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def track(
    detections: Sequence[Sequence[FaceBox]], config: TrackerConfig | None = None
) -> list[FaceTrack]:
    """Link per-frame detections into tracks.

    Args:
        detections: for each sampled frame, the faces found in it.
        config: association thresholds.

    Returns:
        Tracks, longest first; an item with no face gives an empty list.
    """
    config = config or TrackerConfig()
    tracks: list[list[FaceBox]] = []
    for faces in detections:
        pairs = []
        for ti, members in enumerate(tracks):
            for fi, face in enumerate(faces):
                cost = _cost(members[-1], face, config)
                if cost is not None:
                    pairs.append((cost, ti, fi))
        used_tracks: set[int] = set()
        used_faces: set[int] = set()
        for _, ti, fi in sorted(pairs):
            if ti in used_tracks or fi in used_faces:
                continue
            tracks[ti].append(faces[fi])
            used_tracks.add(ti)
            used_faces.add(fi)
        tracks.extend([face] for fi, face in enumerate(faces) if fi not in used_faces)
    return _keep(tracks, detections, config)


def _keep(
    tracks: list[list[FaceBox]], detections: Sequence[Sequence[FaceBox]], config: TrackerConfig
) -> list[FaceTrack]:
    if not tracks:
        return []
    frames_with_faces = sum(1 for faces in detections if faces)
    needed = max(1, math.ceil(config.min_fraction * frames_with_faces))
    ranked = sorted(tracks, key=lambda t: (-len(t), -max(f.score for f in t)))
    kept = [t for t in ranked if len(t) >= needed] or ranked[:1]
    return [FaceTrack(i, tuple(t)) for i, t in enumerate(kept[: config.max_tracks])]

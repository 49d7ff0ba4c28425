"""The prepared dataset: face crops with landmarks, as sequences, split into train and val.

On disk a face set is a folder with two files:

* ``crops.npy``: one uint8 array, the JPEG bytes of every crop one after another
  (a 128 px crop is ~6 kB as JPEG against 48 kB raw, which keeps ~15,000 faces
  in a few tens of MB);
* ``index.json``: the crop geometry and one record per face sequence (a photo's
  face is a sequence of one; a video's face track is a sequence of several), each
  frame pointing into ``crops.npy`` with its 5 landmarks in crop pixels.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from base.errors import FakeWatchError

INDEX = "index.json"
CROPS = "crops.npy"
FORMAT_VERSION = 1

Landmarks = tuple[tuple[float, float], ...]


class FaceSetError(FakeWatchError):
    """A prepared dataset is missing, malformed or unusable for what was asked."""

    code = "faceset"


@dataclass(frozen=True)
class FaceFrame:
    """One crop: where its JPEG bytes are, and the face's landmarks in crop pixels."""

    offset: int
    length: int
    landmarks: Landmarks


@dataclass(frozen=True)
class FaceSequence:
    """One face over one or more frames of one file."""

    file: str
    source: str
    identity: str
    is_fake: bool
    labelled: bool
    split: str  # "train" or "val"
    kind: str  # "image" or "video"
    frames: tuple[FaceFrame, ...]

    @property
    def length(self) -> int:
        """Number of crops."""
        return len(self.frames)


@dataclass(frozen=True)
class CropGeometry:
    """How crops were cut: ``margin`` grown on each side of the box, square, ``size`` px."""

    size: int = 128
    margin: float = 0.4
    jpeg_quality: int = 95


@dataclass
class FaceSet:
    """A loaded face set: the index in memory, the crops decoded on demand."""

    geometry: CropGeometry
    sequences: list[FaceSequence]
    blob: np.ndarray  # uint8, concatenated JPEG bytes
    info: dict[str, Any] = field(default_factory=dict)

    def crop(self, frame: FaceFrame) -> np.ndarray:
        """Decode one crop to an RGB uint8 array."""
        data = self.blob[frame.offset : frame.offset + frame.length]
        bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
        if bgr is None:
            raise FaceSetError(f"crop at offset {frame.offset} does not decode")
        return np.ascontiguousarray(bgr[:, :, ::-1])

    def select(
        self, *, split: str | None = None, is_fake: bool | None = None
    ) -> list[FaceSequence]:
        """Sequences of one split and/or label."""
        return [
            s
            for s in self.sequences
            if (split is None or s.split == split) and (is_fake is None or s.is_fake == is_fake)
        ]

    def summary(self) -> dict[str, int]:
        """Counts of sequences and crops per split and label."""
        out: dict[str, int] = {}
        for s in self.sequences:
            key = f"{s.split}_{'fake' if s.is_fake else 'real'}"
            out[key] = out.get(key, 0) + 1
            out["crops"] = out.get("crops", 0) + s.length
        return out


class FaceSetWriter:
    """Accumulates crops and sequences, then writes the two files."""

    def __init__(self, geometry: CropGeometry) -> None:
        self.geometry = geometry
        self.sequences: list[FaceSequence] = []
        self._chunks: list[bytes] = []
        self._size = 0

    def add_crop(self, rgb: np.ndarray, landmarks: Landmarks) -> FaceFrame:
        """JPEG-encode one crop and return where it went."""
        ok, buf = cv2.imencode(
            ".jpg",
            np.ascontiguousarray(rgb[:, :, ::-1]),
            [cv2.IMWRITE_JPEG_QUALITY, self.geometry.jpeg_quality],
        )
        if not ok:
            raise FaceSetError("JPEG encoding of a crop failed")
        data = buf.tobytes()
        frame = FaceFrame(self._size, len(data), landmarks)
        self._chunks.append(data)
        self._size += len(data)
        return frame

    def add(self, sequence: FaceSequence) -> None:
        """Record a sequence whose frames came from :meth:`add_crop`."""
        self.sequences.append(sequence)

    def write(self, folder: Path, info: dict[str, Any] | None = None) -> Path:
        """Write ``crops.npy`` and ``index.json`` into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        blob = np.frombuffer(b"".join(self._chunks), dtype=np.uint8)
        np.save(folder / CROPS, blob)
        index = {
            "version": FORMAT_VERSION,
            "geometry": asdict(self.geometry),
            "info": info or {},
            "sequences": [_sequence_to_dict(s) for s in self.sequences],
        }
        (folder / INDEX).write_text(json.dumps(index, separators=(",", ":")) + "\n")
        return folder


def _sequence_to_dict(s: FaceSequence) -> dict[str, Any]:
    data = asdict(s)
    data["frames"] = [
        [f.offset, f.length, [[round(x, 2), round(y, 2)] for x, y in f.landmarks]] for f in s.frames
    ]
    return data


def _sequence_from_dict(data: dict[str, Any]) -> FaceSequence:
    frames = tuple(
        FaceFrame(int(o), int(n), tuple((float(x), float(y)) for x, y in lm))
        for o, n, lm in data["frames"]
    )
    return FaceSequence(
        file=str(data["file"]),
        source=str(data["source"]),
        identity=str(data["identity"]),
        is_fake=bool(data["is_fake"]),
        labelled=bool(data["labelled"]),
        split=str(data["split"]),
        kind=str(data["kind"]),
        frames=frames,
    )


def load_faceset(folder: Path) -> FaceSet:
    """Read a face set written by :class:`FaceSetWriter`.

    Raises:
        FaceSetError: the folder has no face set, or a malformed one.
    """
    index_path, crops_path = folder / INDEX, folder / CROPS
    if not index_path.is_file() or not crops_path.is_file():
        raise FaceSetError(
            f"{folder} is not a prepared dataset (no {INDEX} / {CROPS}); "
            "run `fakewatch train prepare` first"
        )
    try:
        index = json.loads(index_path.read_text())
        geometry = CropGeometry(**index["geometry"])
        sequences = [_sequence_from_dict(d) for d in index["sequences"]]
        blob = np.load(crops_path, mmap_mode="r")
    except (OSError, KeyError, TypeError, ValueError) as e:
        raise FaceSetError(f"malformed dataset in {folder}: {e}") from e
    if index.get("version") != FORMAT_VERSION:
        raise FaceSetError(f"{folder}: dataset format {index.get('version')} is not supported")
    return FaceSet(geometry, sequences, blob, dict(index.get("info", {})))


def merge_counts(sequences: Iterable[FaceSequence]) -> dict[str, dict[str, int]]:
    """Sequences per source and label: for logs and the model card."""
    out: dict[str, dict[str, int]] = {}
    for s in sequences:
        row = out.setdefault(s.source, {})
        key = f"{s.split}_{'fake' if s.is_fake else 'real'}"
        row[key] = row.get(key, 0) + 1
    return out


def landmarks_in_crop(
    landmarks: Sequence[tuple[float, float]],
    region: tuple[float, float, float, float],
    size: int,
) -> Landmarks:
    """Map frame-pixel landmarks into a ``size`` px crop of ``region`` (x1, y1, x2, y2)."""
    x1, y1, x2, y2 = region
    sx, sy = size / max(x2 - x1, 1e-6), size / max(y2 - y1, 1e-6)
    return tuple(((x - x1) * sx, (y - y1) * sy) for x, y in landmarks)

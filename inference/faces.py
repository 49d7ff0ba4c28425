"""Face detection with facenet-pytorch's MTCNN, and face cropping.

Detection runs over all sampled frames of an item in batches (on the CPU one per
core, each in its own thread), on copies scaled down so the longer side is at
most ``detect_max_side``; boxes and
landmarks are mapped back to the full frame, and crops are cut from the
full-resolution frame with a margin. The three networks run in channels_last
memory format (PNet's pooling and convolutions are 2-4x faster that way on the
CPU). On the CPU the cascade is facenet-pytorch's own ``detect_face``; on CUDA it
is :mod:`inference.mtcnn`'s, which resamples the candidates of a stage together
instead of one small kernel launch per candidate. Both find the same faces.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from inference.mtcnn import detect_face, nets_channels_last
from inference.torchvision_compat import ensure_torchvision

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class FaceBox:
    """One face found in one sampled frame, in full-frame pixel coordinates."""

    frame: int
    box: Box  # x1, y1, x2, y2
    score: float
    landmarks: tuple[tuple[float, float], ...]  # eyes, nose, mouth corners

    @property
    def size(self) -> float:
        """Geometric mean of the box's width and height."""
        x1, y1, x2, y2 = self.box
        return float(np.sqrt(max(x2 - x1, 1.0) * max(y2 - y1, 1.0)))


@dataclass(frozen=True)
class DetectorConfig:
    """How faces are searched for."""

    # Photos: one frame, so a larger copy costs little and finds smaller faces.
    detect_max_side: int = 640
    # Each sampled video frame: 16 of them per clip, where the size adds up. Measured
    # (docs/performance.md): 480 finds every face of 5% of the frame's longer side or
    # more that full resolution finds, and takes a quarter less time on 720p clips.
    video_max_side: int = 480
    min_face_px: int = 20  # in the downscaled image
    min_score: float = 0.90
    thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7)
    max_batch: int = 32
    # Groups of frames detected at the same time in threads of one torch thread each;
    # 0: one group per core on the CPU (measured there: MTCNN's many small ops and its
    # Python loops spread over cores this way, and not through torch's own threads),
    # one on CUDA, where one big batch is what the GPU wants.
    workers: int = 0


class FaceDetector:
    """MTCNN over a batch of frames of one size; returns boxes per frame."""

    def __init__(self, device: torch.device, config: DetectorConfig | None = None) -> None:
        ensure_torchvision()
        from facenet_pytorch import MTCNN

        self.config = config or DetectorConfig()
        self.device = device
        self.mtcnn = MTCNN(
            keep_all=True,
            device=device,
            min_face_size=self.config.min_face_px,
            thresholds=list(self.config.thresholds),
            post_process=False,
            select_largest=False,
        )
        self.mtcnn.eval()
        nets_channels_last(self.mtcnn)
        # Measured on the CPU, facenet's per-candidate loop beats our batched resampling
        # once the nets are channels_last (docs/performance.md); on CUDA a kernel launch
        # per candidate is what batching removes.
        if device.type == "cuda":
            self._cascade: Callable[..., tuple[np.ndarray, np.ndarray]] = detect_face
        else:
            from facenet_pytorch.models.utils.detect_face import detect_face as facenet_cascade

            self._cascade = facenet_cascade
        auto = 1 if device.type == "cuda" else min(4, os.cpu_count() or 1)
        self.workers = max(1, self.config.workers or auto)
        self._pool: ThreadPoolExecutor | None = None

    def detect(
        self, frames: Sequence[np.ndarray], *, max_sides: Sequence[int] | None = None
    ) -> list[list[FaceBox]]:
        """Find faces in every frame.

        Args:
            frames: RGB uint8 arrays; frames of equal size are detected in batches,
                one per worker thread.
            max_sides: per frame, the longer side of the copy searched (default:
                ``config.detect_max_side`` for every frame).

        Returns:
            For each frame, its faces (possibly none), best score first.
        """
        results: list[list[FaceBox]] = [[] for _ in frames]
        sides = max_sides or [self.config.detect_max_side] * len(frames)
        by_shape: dict[tuple[tuple[int, ...], int], list[int]] = {}
        for i, (frame, side) in enumerate(zip(frames, sides, strict=True)):
            if self.can_hold_face(frame.shape, side):  # else MTCNN has no pyramid level
                by_shape.setdefault((frame.shape, side), []).append(i)
        jobs: list[tuple[list[int], float]] = []
        for (shape, side), indices in by_shape.items():
            scale = min(1.0, side / max(shape[0], shape[1]))
            groups = max(self.workers, -(-len(indices) // self.config.max_batch))
            size = -(-len(indices) // min(groups, len(indices)))
            jobs += [(indices[i : i + size], scale) for i in range(0, len(indices), size)]

        def run(job: tuple[list[int], float]) -> list[list[FaceBox]]:
            chunk, scale = job
            small = np.stack([_resize(frames[i], scale) for i in chunk])
            return self._detect_batch(small, scale)

        if len(jobs) > 1 and self.workers > 1:
            done = list(self._thread_pool().map(run, jobs))
        else:
            done = [run(job) for job in jobs]
        for (chunk, _), found in zip(jobs, done, strict=True):
            for i, faces in zip(chunk, found, strict=True):
                results[i] = [FaceBox(i, f.box, f.score, f.landmarks) for f in faces]
        return results

    def can_hold_face(self, shape: tuple[int, ...], side: int | None = None) -> bool:
        """Whether a frame of ``shape``, searched at ``side``, can show the smallest face.

        MTCNN's smallest window is ``min_face_px`` in the searched copy: a frame whose
        downscaled shorter side is below it has no pyramid level at all.
        """
        h, w = shape[0], shape[1]
        if h < 1 or w < 1:
            return False
        scale = min(1.0, (side or self.config.detect_max_side) / max(h, w))
        return min(round(h * scale), round(w * scale)) >= self.config.min_face_px

    def max_side(self, kind: str) -> int:
        """The detection size for the frames of an item of this kind."""
        return self.config.video_max_side if kind == "video" else self.config.detect_max_side

    def _thread_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                self.workers, thread_name_prefix="fw-detect", initializer=_one_torch_thread
            )
        return self._pool

    def _detect_batch(self, batch: np.ndarray, scale: float) -> list[list[FaceBox]]:
        m = self.mtcnn
        with torch.inference_mode():
            boxes, points = self._cascade(
                batch, m.min_face_size, m.pnet, m.rnet, m.onet, m.thresholds, m.factor, self.device
            )
        out: list[list[FaceBox]] = []
        for b, lm in zip(boxes, points, strict=True):
            faces: list[FaceBox] = []
            if len(b):
                for row, marks in zip(b, lm, strict=True):
                    score = float(row[4])
                    if score < self.config.min_score:
                        continue
                    x1, y1, x2, y2 = (float(v) / scale for v in row[:4])
                    if x2 - x1 < 2 or y2 - y1 < 2:
                        continue
                    landmarks = tuple((float(x) / scale, float(y) / scale) for x, y in marks)
                    faces.append(FaceBox(-1, (x1, y1, x2, y2), score, landmarks))
            faces.sort(key=lambda f: -f.score)
            out.append(faces)
        return out


def _one_torch_thread() -> None:
    # OpenMP's thread count is per calling thread: this sets it for the pool's
    # threads only, the caller's classifier keeps all of its threads.
    torch.set_num_threads(1)


def _resize(frame: np.ndarray, scale: float) -> np.ndarray:
    if scale >= 1.0:
        return frame
    h, w = frame.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def crop_box(box: Box, frame_shape: tuple[int, ...], *, margin: float, square: bool) -> Box:
    """The region to cut for a face: the box grown by ``margin`` on each side, made square."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    if square:
        w = h = max(w, h)
    w, h = w * (1 + 2 * margin), h * (1 + 2 * margin)
    del frame_shape  # the crop may extend past the frame; crop_face pads
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def crop_face(
    frame: np.ndarray, box: Box, *, size: int, margin: float = 0.3, square: bool = True
) -> np.ndarray:
    """Cut one face from a full-resolution frame and resize it to ``size`` x ``size``.

    Parts of the region outside the frame are filled by replicating the border.
    """
    fh, fw = frame.shape[:2]
    x1, y1, x2, y2 = crop_box(box, frame.shape, margin=margin, square=square)
    ix1, iy1 = int(np.floor(x1)), int(np.floor(y1))
    ix2, iy2 = max(ix1 + 1, int(np.ceil(x2))), max(iy1 + 1, int(np.ceil(y2)))
    pad = (max(0, -iy1), max(0, iy2 - fh), max(0, -ix1), max(0, ix2 - fw))
    region = frame[max(0, iy1) : min(fh, iy2), max(0, ix1) : min(fw, ix2)]
    if region.size == 0:
        region = np.zeros((1, 1, 3), dtype=frame.dtype)
    if any(pad):
        region = cv2.copyMakeBorder(region, *pad, borderType=cv2.BORDER_REPLICATE)
    interp = cv2.INTER_AREA if region.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(region, (size, size), interpolation=interp)

"""The inference pipeline: decode -> detect -> track -> classify -> decide.

Each stage is a public function that can be called and tested alone;
:class:`Pipeline` holds the expensive parts (MTCNN, the classifier) and runs the
stages for one item, timing each.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
import torch

from fakewatch.errors import ConfigurationError, MediaError
from inference.faces import DetectorConfig, FaceBox, FaceDetector, crop_face
from inference.media import DecodedMedia, MediaLimits, MediaSource, decode
from inference.model import Preprocessing, ResNeXtLSTM, fake_probability
from inference.tracks import FaceTrack, TrackerConfig, track
from inference.verdict import FaceScore, Verdict, decide
from inference.weights import LoadedWeights, load_weights

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["Pipeline", "classify", "decide", "decode", "detect", "pick_device", "track"]


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` is CUDA when there is one, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigurationError("CUDA was asked for, but this machine has no CUDA device")
    return torch.device(name)


def detect(media: DecodedMedia, detector: FaceDetector) -> list[list[FaceBox]]:
    """Faces in each sampled frame."""
    return detector.detect(media.frames)


def crops_tensor(crops: Sequence[np.ndarray], prep: Preprocessing) -> torch.Tensor:
    """RGB uint8 crops ``(H, W, 3)`` -> a normalised ``(N, 3, S, S)`` float tensor."""
    batch = torch.from_numpy(np.stack(crops))
    if prep.channel_order == "bgr":
        batch = batch.flip(-1)  # the public app fed OpenCV's BGR frames to the network
    x = batch.permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(prep.mean).view(1, 3, 1, 1)
    std = torch.tensor(prep.std).view(1, 3, 1, 1)
    return (x - mean) / std


def face_crops(media: DecodedMedia, face_track: FaceTrack, prep: Preprocessing) -> list[np.ndarray]:
    """The crops of one track, cut from the full-resolution frames."""
    return [
        crop_face(
            media.frames[f.frame],
            f.box,
            size=prep.input_size,
            margin=prep.margin,
            square=prep.square,
        )
        for f in face_track.faces
    ]


def classify(
    media: DecodedMedia,
    tracks: Sequence[FaceTrack],
    model: ResNeXtLSTM,
    prep: Preprocessing,
    device: torch.device,
) -> list[FaceScore]:
    """Score every face track: one trunk forward over all crops, then the LSTM per track."""
    if not tracks:
        return []
    per_track = [face_crops(media, t, prep) for t in tracks]
    x = crops_tensor([c for crops in per_track for c in crops], prep).to(device)
    scores: list[FaceScore] = []
    with torch.inference_mode():
        features = model.forward_features(x)
        start = 0
        for t, crops in zip(tracks, per_track, strict=True):
            seq = features[start : start + len(crops)].unsqueeze(0)
            start += len(crops)
            logits, frame_logits = model.forward_head(seq)
            p = float(fake_probability(logits)[0])
            frame_p = fake_probability(frame_logits)[0].tolist()
            scores.append(
                FaceScore(
                    track=t.id,
                    fake_probability=p,
                    frames=t.frames,
                    frame_scores=tuple(float(v) for v in frame_p),
                    box=t.faces[0].box,
                )
            )
    return scores


def frame_scores(scores: Sequence[FaceScore], n_frames: int) -> tuple[float | None, ...]:
    """Per sampled frame, the highest fake probability of any face in it."""
    out: list[float | None] = [None] * n_frames
    for s in scores:
        for frame, p in zip(s.frames, s.frame_scores, strict=True):
            current = out[frame]
            out[frame] = p if current is None else max(current, p)
    return tuple(out)


class Pipeline:
    """Loaded once (per worker), then ``analyze`` any number of items."""

    def __init__(
        self,
        weights: LoadedWeights | str = "default",
        *,
        device: str = "auto",
        frames: int | None = None,
        limits: MediaLimits | None = None,
        detector: DetectorConfig | None = None,
        tracker: TrackerConfig | None = None,
    ) -> None:
        self.device = pick_device(device)
        self.weights = load_weights(weights) if isinstance(weights, str) else weights
        self.manifest = self.weights.manifest
        self.model = self.weights.model.to(self.device).eval()
        self.frames = frames or self.manifest.preprocessing.sequence_length
        self.limits = limits or MediaLimits()
        self.detector = FaceDetector(self.device, detector)
        self.tracker = tracker or TrackerConfig()

    @property
    def model_id(self) -> str:
        """Identifies the weights in every verdict."""
        return self.manifest.model_id

    def analyze(self, source: MediaSource) -> Verdict:
        """Run every stage on one item. Never raises for bad input: the verdict says why."""
        timings: dict[str, float] = {}

        def timed(stage: str, fn: Callable[[], T]) -> T:
            start = time.perf_counter()
            try:
                return fn()
            finally:
                timings[stage] = time.perf_counter() - start

        try:
            media = timed("decode", lambda: decode(source, frames=self.frames, limits=self.limits))
        except MediaError as e:
            return Verdict(
                "unsupported",
                model=self.model_id,
                timings=timings,
                reason=str(e),
                reason_code=e.code,
            )
        try:
            found = timed("detect", lambda: detect(media, self.detector))
            tracks = timed("track", lambda: track(found, self.tracker))
            scores = timed(
                "classify",
                lambda: classify(
                    media, tracks, self.model, self.manifest.preprocessing, self.device
                ),
            )
            th = self.manifest.thresholds
            label, p = timed(
                "decide", lambda: decide(scores, fake_threshold=th.fake, real_threshold=th.real)
            )
        except (RuntimeError, ValueError, MemoryError) as e:
            log.exception("inference failed on a %s", media.kind)
            return Verdict(
                "error",
                model=self.model_id,
                timings=timings,
                frames=len(media.frames),
                media_kind=media.kind,
                reason=f"inference failed: {e}",
                reason_code="inference_error",
            )
        return Verdict(
            label=label,
            fake_probability=p,
            faces=len(tracks),
            frames=len(media.frames),
            model=self.model_id,
            timings=timings,
            face_scores=tuple(scores),
            frame_scores=frame_scores(scores, len(media.frames)),
            frame_times=tuple(media.times_s),
            media_kind=media.kind,
            reason=None if scores else "no face was found in the sampled frames",
            reason_code=None if scores else "no_face",
        )

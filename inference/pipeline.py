"""The inference pipeline: decode -> detect -> track -> classify -> decide.

Each stage is a public function that can be called and tested alone;
:class:`Pipeline` holds the expensive parts (MTCNN, the classifier) and runs the
stages for one item, timing each. ``analyze_many`` decodes the next item while
the current one is inferred; ``analyze_batch`` puts the frames and face crops of
several items through MTCNN and the classifier together (what a GPU wants).

The classifier's trunk runs in channels_last memory format, under bf16 autocast
where the hardware computes bf16 natively (CUDA; CPUs with AVX512-BF16 or AMX):
measured on such a CPU the trunk is 2.2x faster, its features within 0.4% of
fp32's. The LSTM head always runs in fp32. See docs/performance.md.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Literal, TypeVar

import cv2
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

__all__ = [
    "Pipeline",
    "classify",
    "configure_threads",
    "decide",
    "decode",
    "detect",
    "pick_device",
    "track",
]

Precision = Literal["auto", "fp32", "bf16"]
# Crops per classifier forward in analyze_batch: bounds activation memory on a big batch.
MAX_CROPS_PER_FORWARD = 256


def configure_threads(threads: int | None = None) -> int:
    """Set torch's and OpenCV's thread counts for this process; returns torch's.

    Args:
        threads: intra-op threads; None means ``FAKEWATCH_THREADS`` or one per core.
    """
    if threads is None:
        env = os.environ.get("FAKEWATCH_THREADS")
        threads = int(env) if env else os.cpu_count() or 1
    threads = max(1, threads)
    torch.set_num_threads(threads)
    with contextlib.suppress(RuntimeError):  # only settable before the first parallel op
        torch.set_num_interop_threads(1)  # the pipeline runs one op at a time
    cv2.setNumThreads(1)  # frames are resized one at a time; threads here only contend
    return threads


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


def crops_tensor(
    crops: Sequence[np.ndarray], prep: Preprocessing, device: torch.device | None = None
) -> torch.Tensor:
    """RGB uint8 crops ``(H, W, 3)`` -> a normalised ``(N, 3, S, S)`` float tensor.

    The crops travel to ``device`` as uint8 and are normalised there: a quarter of
    the bytes of a float copy cross the bus.
    """
    batch = torch.from_numpy(np.stack(crops))
    if device is not None and device.type != "cpu":
        batch = batch.pin_memory().to(device, non_blocking=True)
    if prep.channel_order == "bgr":
        batch = batch.flip(-1)  # the public app fed OpenCV's BGR frames to the network
    x = batch.permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(prep.mean, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(prep.std, device=x.device).view(1, 3, 1, 1)
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


def resolve_precision(device: torch.device, precision: Precision = "auto") -> str:
    """``fp32`` or ``bf16``: what ``precision`` means on ``device``.

    ``auto`` is bf16 where the device computes it natively, else fp32.
    """
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if device.type == "cpu":
        native = (
            torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
        )
        return "bf16" if native else "fp32"
    return "fp32"


def _autocast(
    device: torch.device, precision: Precision
) -> contextlib.AbstractContextManager[None]:
    if resolve_precision(device, precision) == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def crop_features(
    crops: Sequence[np.ndarray],
    model: ResNeXtLSTM,
    prep: Preprocessing,
    device: torch.device,
    *,
    precision: Precision = "auto",
    chunk: int = MAX_CROPS_PER_FORWARD,
) -> torch.Tensor:
    """The trunk's ``(N, 2048)`` fp32 features of face crops, ``chunk`` crops per forward."""
    parts: list[torch.Tensor] = []
    with torch.inference_mode():
        for start in range(0, len(crops), chunk):
            x = crops_tensor(crops[start : start + chunk], prep, device)
            x = x.contiguous(memory_format=torch.channels_last)
            with _autocast(device, precision):
                parts.append(model.forward_features(x).float())
    return parts[0] if len(parts) == 1 else torch.cat(parts)


def score_tracks(
    tracks: Sequence[FaceTrack], features: torch.Tensor, model: ResNeXtLSTM
) -> list[FaceScore]:
    """The LSTM head over each track's rows of ``features`` (in track order), in fp32."""
    scores: list[FaceScore] = []
    start = 0
    with torch.inference_mode():
        for t in tracks:
            seq = features[start : start + len(t.faces)].unsqueeze(0)
            start += len(t.faces)
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


def classify(
    media: DecodedMedia,
    tracks: Sequence[FaceTrack],
    model: ResNeXtLSTM,
    prep: Preprocessing,
    device: torch.device,
    *,
    precision: Precision = "auto",
) -> list[FaceScore]:
    """Score every face track: one trunk forward over all crops, then the LSTM per track."""
    if not tracks:
        return []
    crops = [c for t in tracks for c in face_crops(media, t, prep)]
    features = crop_features(crops, model, prep, device, precision=precision)
    return score_tracks(tracks, features, model)


def frame_scores(scores: Sequence[FaceScore], n_frames: int) -> tuple[float | None, ...]:
    """Per sampled frame, the highest fake probability of any face in it."""
    out: list[float | None] = [None] * n_frames
    for s in scores:
        for frame, p in zip(s.frames, s.frame_scores, strict=True):
            current = out[frame]
            out[frame] = p if current is None else max(current, p)
    return tuple(out)


@dataclasses.dataclass
class _Loaded:
    """One decoded item, or the verdict that says why it could not be decoded."""

    media: DecodedMedia | None
    failed: Verdict | None
    timings: dict[str, float]


_END = object()


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
        precision: Precision = "auto",
        decode_workers: int = 2,
    ) -> None:
        self.device = pick_device(device)
        self.weights = load_weights(weights) if isinstance(weights, str) else weights
        self.manifest = self.weights.manifest
        self.model = self.weights.model.to(self.device).eval()
        # channels_last: 10-15% faster convolutions on the CPU too (docs/performance.md)
        self.model = self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.precision: Precision = precision
        self.frames = frames or self.manifest.preprocessing.sequence_length
        self.limits = limits or MediaLimits()
        self.detector = FaceDetector(self.device, detector)
        self.tracker = tracker or TrackerConfig()
        self.decode_workers = max(1, decode_workers)
        self._pool: ThreadPoolExecutor | None = None

    @property
    def model_id(self) -> str:
        """Identifies the weights in every verdict."""
        return self.manifest.model_id

    def analyze(self, source: MediaSource) -> Verdict:
        """Run every stage on one item. Never raises for bad input: the verdict says why."""
        return self._finish(self._load(source))

    def analyze_many(
        self, sources: Iterable[MediaSource], *, prefetch: int = 1
    ) -> Iterator[Verdict]:
        """Verdicts for ``sources`` in order, decoding up to ``prefetch`` items ahead.

        Decoding (FFmpeg, Pillow) releases the GIL, so the next item is decoded on a
        pool thread while the current one is in MTCNN and the classifier.
        """
        pool = self._decode_pool()
        items = iter(sources)
        pending: deque[Future[_Loaded]] = deque()
        for _ in range(max(0, prefetch) + 1):
            nxt = next(items, _END)
            if nxt is _END:
                break
            pending.append(pool.submit(self._load, nxt))  # type: ignore[arg-type]
        while pending:
            loaded = pending.popleft().result()
            nxt = next(items, _END)
            if nxt is not _END:
                pending.append(pool.submit(self._load, nxt))  # type: ignore[arg-type]
            yield self._finish(loaded)

    def analyze_batch(self, sources: Sequence[MediaSource]) -> list[Verdict]:
        """Verdicts for several items, with their frames and crops batched together.

        Items are decoded on the pool; the frames of all items go through MTCNN in
        one call (grouped by frame size) and the crops of all items through the
        trunk in forwards of up to ``MAX_CROPS_PER_FORWARD``. Each verdict's
        detect/track/classify timings are those of the whole batch, the time the
        item waited for. Should a batched stage fail, every item is retried alone,
        so one bad item cannot cost the others their verdicts.
        """
        loaded = list(self._decode_pool().map(self._load, sources))
        ok = [x for x in loaded if x.media is not None]
        shared: dict[str, float] = {}
        try:
            scored = self._infer_together([x.media for x in ok if x.media is not None], shared)
        except (RuntimeError, ValueError, MemoryError):
            log.exception("batched inference failed; analysing the %d items one by one", len(ok))
            return [self._finish(x) for x in loaded]
        out: list[Verdict] = []
        results = iter(scored)
        for x in loaded:
            if x.media is None:
                assert x.failed is not None
                out.append(x.failed)
                continue
            tracks, scores = next(results)
            out.append(self._verdict(x.media, tracks, scores, {**x.timings, **shared}))
        return out

    def close(self) -> None:
        """Stop the decode pool (the pipeline stays usable; a new pool starts when needed)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # --- the stages ------------------------------------------------------------

    def _decode_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.decode_workers, thread_name_prefix="fw-decode")
        return self._pool

    def _load(self, source: MediaSource) -> _Loaded:
        timings: dict[str, float] = {}
        start = time.perf_counter()
        try:
            media = decode(source, frames=self.frames, limits=self.limits)
        except MediaError as e:
            timings["decode"] = time.perf_counter() - start
            failed = Verdict(
                "unsupported",
                model=self.model_id,
                timings=timings,
                reason=str(e),
                reason_code=e.code,
            )
            return _Loaded(None, failed, timings)
        timings["decode"] = time.perf_counter() - start
        return _Loaded(media, None, timings)

    def _finish(self, loaded: _Loaded) -> Verdict:
        """The verdict of a loaded item: its decode failure, or inference on it."""
        if loaded.media is None:
            assert loaded.failed is not None
            return loaded.failed
        return self._infer(loaded.media, dict(loaded.timings))

    def _infer(self, media: DecodedMedia, timings: dict[str, float]) -> Verdict:
        def timed(stage: str, fn: Callable[[], T]) -> T:
            start = time.perf_counter()
            try:
                return fn()
            finally:
                timings[stage] = time.perf_counter() - start

        try:
            found = timed("detect", lambda: detect(media, self.detector))
            tracks = timed("track", lambda: track(found, self.tracker))
            scores = timed(
                "classify",
                lambda: classify(
                    media,
                    tracks,
                    self.model,
                    self.manifest.preprocessing,
                    self.device,
                    precision=self.precision,
                ),
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
        return self._verdict(media, tracks, scores, timings)

    def _infer_together(
        self, medias: Sequence[DecodedMedia], timings: dict[str, float]
    ) -> list[tuple[list[FaceTrack], list[FaceScore]]]:
        """Detect, track and classify several items in shared batches."""
        prep = self.manifest.preprocessing
        start = time.perf_counter()
        found = self.detector.detect([f for m in medias for f in m.frames])
        timings["detect"] = time.perf_counter() - start

        start = time.perf_counter()
        per_item: list[list[FaceTrack]] = []
        offset = 0
        for m in medias:
            mine = [
                [dataclasses.replace(f, frame=f.frame - offset) for f in faces]
                for faces in found[offset : offset + len(m.frames)]
            ]
            offset += len(m.frames)
            per_item.append(track(mine, self.tracker))
        timings["track"] = time.perf_counter() - start

        start = time.perf_counter()
        crops = [
            c
            for m, ts in zip(medias, per_item, strict=True)
            for t in ts
            for c in face_crops(m, t, prep)
        ]
        features = (
            crop_features(crops, self.model, prep, self.device, precision=self.precision)
            if crops
            else torch.empty(0, 0)
        )
        scored: list[tuple[list[FaceTrack], list[FaceScore]]] = []
        row = 0
        for ts in per_item:
            n = sum(len(t.faces) for t in ts)
            scored.append((ts, score_tracks(ts, features[row : row + n], self.model) if ts else []))
            row += n
        timings["classify"] = time.perf_counter() - start

        return scored

    def _verdict(
        self,
        media: DecodedMedia,
        tracks: Sequence[FaceTrack],
        scores: list[FaceScore],
        timings: dict[str, float],
    ) -> Verdict:
        th = self.manifest.thresholds
        start = time.perf_counter()
        label, p = decide(scores, fake_threshold=th.fake, real_threshold=th.real)
        timings["decide"] = time.perf_counter() - start
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

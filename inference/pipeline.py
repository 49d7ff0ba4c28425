"""The inference pipeline: decode -> detect -> track -> classify -> decide.

Each stage is a public function that can be called and tested alone;
:class:`Pipeline` holds the expensive parts (MTCNN, the classifier) and runs the
stages for one item, timing each. ``analyze_many`` decodes the next item while
the current one is inferred; ``analyze_batch`` puts the frames and face crops of
several items through MTCNN and the classifier together (what a GPU wants).

The classifier's functions live in :mod:`inference.classifier` and are
re-exported here, where the other stages are.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import torch

from base.errors import MediaError
from base.settings import Settings
from base.vocabulary import Label, ReasonCode
from inference.classifier import (
    MAX_CROPS_PER_FORWARD,
    Precision,
    classify,
    crop_features,
    crops_tensor,
    face_crops,
    resolve_precision,
    score_tracks,
)
from inference.decoder import decode
from inference.device import configure_threads, pick_device
from inference.explain import deciding_crop, manipulation_map
from inference.faces import DetectorConfig, FaceBox, FaceDetector
from inference.media import DecodedMedia, MediaKind, MediaLimits, MediaSource
from inference.model import Classifier
from inference.tracks import FaceTrack, TrackerConfig, track
from inference.verdict import Explanation, FaceScore, Verdict, decide
from inference.weight_set import KINDS, WeightSet, load_weight_set
from inference.weights import LoadedWeights, Manifest

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = [
    "MAX_CROPS_PER_FORWARD",
    "Pipeline",
    "Precision",
    "classify",
    "configure_threads",
    "crop_features",
    "crops_tensor",
    "decide",
    "decode",
    "detect",
    "face_crops",
    "pick_device",
    "resolve_precision",
    "score_tracks",
    "track",
]


def detect(media: DecodedMedia, detector: FaceDetector) -> list[list[FaceBox]]:
    """Faces in each sampled frame."""
    return detector.detect(
        media.frames, max_sides=[detector.max_side(media.kind)] * len(media.frames)
    )


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
        weights: WeightSet | LoadedWeights | str = "default",
        *,
        device: str = "auto",
        frames: int | None = None,
        limits: MediaLimits | None = None,
        detector: DetectorConfig | None = None,
        tracker: TrackerConfig | None = None,
        precision: Precision = "auto",
        decode_workers: int | None = None,
    ) -> None:
        self.device = pick_device(device)
        self.weights = load_weight_set(weights)
        # One model per loaded file, on the device; channels_last: 10-15% faster
        # convolutions on the CPU too (docs/performance.md).
        placed = {
            id(w): w.model.to(self.device).eval().to(memory_format=torch.channels_last)  # type: ignore[call-overload]
            for w in self.weights.distinct
        }
        self._models: dict[MediaKind, Classifier] = {
            kind: placed[id(self.weights.for_kind(kind))] for kind in KINDS
        }
        self.precision: Precision = precision
        self.frames = frames or self.weights.video.manifest.preprocessing.sequence_length
        self.limits = limits or MediaLimits()
        self.detector = FaceDetector(self.device, detector)
        self.tracker = tracker or TrackerConfig()
        # Two decode threads keep a 2-core CPU pipeline fed; a GPU needs more of them.
        cores = os.cpu_count() or 2
        default_workers = 2 if self.device.type == "cpu" else min(8, cores)
        self.decode_workers = max(1, decode_workers or default_workers)
        self._pool: ThreadPoolExecutor | None = None

    @property
    def model_id(self) -> str:
        """Identifies the weight set (both files when photos and videos have their own)."""
        return self.weights.model_id

    def model_for(self, kind: MediaKind) -> Classifier:
        """The model, on this pipeline's device, that judges ``kind``."""
        return self._models[kind]

    def manifest_for(self, kind: MediaKind) -> Manifest:
        """The manifest of the weights that judge ``kind``: thresholds, preprocessing, id."""
        return self.weights.for_kind(kind).manifest

    def analyze(self, source: MediaSource) -> Verdict:
        """Run every stage on one item. Never raises for bad input: the verdict says why."""
        return self._finish(self._load(source))

    def judge(self, media: DecodedMedia) -> Verdict:
        """Detect, track, classify and decide on an item decoded already."""
        return self._infer(media, {})

    def analyze_many(
        self, sources: Iterable[MediaSource], *, prefetch: int = 1, batch: int = 1
    ) -> Iterator[Verdict]:
        """Verdicts for ``sources`` in order, decoding ahead on the pool.

        Decoding (FFmpeg, Pillow) releases the GIL, so the next items are decoded on
        pool threads while the current ones are in MTCNN and the classifier.

        Args:
            sources: paths or bytes.
            prefetch: how many batches to decode ahead of the one being inferred.
            batch: items inferred together (as :meth:`analyze_batch` does); 1 on a CPU.
        """
        pool = self._decode_pool()
        items = iter(sources)
        batch = max(1, batch)
        pending: deque[Future[_Loaded]] = deque()

        def fill() -> None:
            while len(pending) < batch * (max(0, prefetch) + 1):
                nxt = next(items, _END)
                if nxt is _END:
                    return
                pending.append(pool.submit(self._load, nxt))  # type: ignore[arg-type]

        fill()
        while pending:
            group = [pending.popleft().result() for _ in range(min(batch, len(pending)))]
            fill()
            if len(group) == 1:
                yield self._finish(group[0])
            else:
                yield from self._finish_together(group)

    def analyze_batch(self, sources: Sequence[MediaSource]) -> list[Verdict]:
        """Verdicts for several items, with their frames and crops batched together.

        Items are decoded on the pool; the frames of all items go through MTCNN in
        one call (grouped by frame size) and the crops of all items through the
        trunk in forwards of up to ``MAX_CROPS_PER_FORWARD``. Each verdict's
        detect/track/classify timings are those of the whole batch, the time the
        item waited for. Should a batched stage fail, every item is retried alone,
        so one bad item cannot cost the others their verdicts.
        """
        return self._finish_together(list(self._decode_pool().map(self._load, sources)))

    def _finish_together(self, loaded: list[_Loaded]) -> list[Verdict]:
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
                Label.UNSUPPORTED,
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
                    self.model_for(media.kind),
                    self.manifest_for(media.kind).preprocessing,
                    self.device,
                    precision=self.precision,
                ),
            )
        except (RuntimeError, ValueError, MemoryError) as e:
            log.exception("inference failed on a %s", media.kind)
            return Verdict(
                Label.ERROR,
                model=self.manifest_for(media.kind).model_id,
                timings=timings,
                frames=len(media.frames),
                media_kind=media.kind,
                reason=f"inference failed: {e}",
                reason_code=ReasonCode.INFERENCE_ERROR,
            )
        return self._verdict(media, tracks, scores, timings)

    def _infer_together(
        self, medias: Sequence[DecodedMedia], timings: dict[str, float]
    ) -> list[tuple[list[FaceTrack], list[FaceScore]]]:
        """Detect, track and classify several items in shared batches (one per model)."""
        start = time.perf_counter()
        found = self.detector.detect(
            [f for m in medias for f in m.frames],
            max_sides=[self.detector.max_side(m.kind) for m in medias for _ in m.frames],
        )
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
        scored: dict[int, tuple[list[FaceTrack], list[FaceScore]]] = {}
        for kind in dict.fromkeys(m.kind for m in medias):
            of_kind = [i for i, m in enumerate(medias) if m.kind == kind]
            model, prep = self.model_for(kind), self.manifest_for(kind).preprocessing
            crops = [
                c for i in of_kind for t in per_item[i] for c in face_crops(medias[i], t, prep)
            ]
            features = (
                crop_features(crops, model, prep, self.device, precision=self.precision)
                if crops
                else torch.empty(0, 0)
            )
            row = 0
            for i in of_kind:
                ts = per_item[i]
                n = sum(len(t.faces) for t in ts)
                scored[i] = (ts, score_tracks(ts, features[row : row + n], model) if ts else [])
                row += n
        timings["classify"] = time.perf_counter() - start

        return [scored[i] for i in range(len(medias))]

    def _verdict(
        self,
        media: DecodedMedia,
        tracks: Sequence[FaceTrack],
        scores: list[FaceScore],
        timings: dict[str, float],
    ) -> Verdict:
        start = time.perf_counter()
        manifest = self.manifest_for(media.kind)
        scores = [manifest.scale.face(s) for s in scores]  # raw scores -> fake probabilities
        label, p = decide(scores, manifest.thresholds)
        explanation = self._explain(media, tracks, scores)
        timings["decide"] = time.perf_counter() - start
        return Verdict(
            label=label,
            fake_probability=p,
            faces=len(tracks),
            frames=len(media.frames),
            model=manifest.model_id,
            timings=timings,
            face_scores=tuple(scores),
            frame_scores=frame_scores(scores, len(media.frames)),
            frame_times=tuple(media.times_s),
            media_kind=media.kind,
            reason=None if scores else self._no_face_reason(media),
            reason_code=None if scores else ReasonCode.NO_FACE,
            explanation=explanation,
        )

    def _explain(
        self, media: DecodedMedia, tracks: Sequence[FaceTrack], scores: Sequence[FaceScore]
    ) -> Explanation | None:
        """The deciding face's manipulation map; None without a face or a map head."""
        prep = self.manifest_for(media.kind).preprocessing
        target = deciding_crop(media, tracks, scores, prep)
        if target is None:
            return None
        try:
            return manipulation_map(target, self.model_for(media.kind), prep, self.device)
        except (RuntimeError, ValueError) as e:  # the verdict stands without its picture
            log.warning("no manipulation map: %s", e)
            return None

    def _no_face_reason(self, media: DecodedMedia) -> str:
        side = self.detector.max_side(media.kind)
        if media.frames and not any(
            self.detector.can_hold_face(f.shape, side) for f in media.frames
        ):
            h, w = media.frames[0].shape[:2]
            return (
                f"the {'picture' if media.kind == 'image' else 'video'} ({w}x{h} px) is too "
                "small or too narrow to contain a face"
            )
        return "no face was found in the sampled frames"


def build_pipeline(
    settings: Settings,
    *,
    weights: str | None = None,
    device: str | None = None,
    frames: int | None = None,
) -> Pipeline:
    """The pipeline the settings describe (blocking: loads the weights): what a worker and
    ``fakewatch check`` run. ``weights``, ``device`` and ``frames`` override the settings.

    Untrained weights load too; ``manifest.trained`` says so, for the caller to warn.
    """
    return Pipeline(
        weights or settings.weights,
        device=device or settings.device,
        frames=frames or settings.frames,
        limits=MediaLimits(
            max_bytes=settings.max_media_bytes,
            max_pixels=settings.max_pixels,
            max_duration_s=settings.max_duration_s,
        ),
        detector=DetectorConfig(
            detect_max_side=settings.detect_max_side,
            video_max_side=settings.video_detect_max_side,
        ),
    )

"""What the detection size costs and buys: faces found, verdicts changed, time spent.

MTCNN runs on a copy of each frame scaled down to ``detect_max_side``; the smaller
the copy, the faster detection, and the larger the smallest face it can find
(MTCNN's 20 px minimum is in the copy). :func:`study` measures that trade-off on
real files: for each file (frames sampled as the pipeline samples them), faces are
found once at full resolution (the reference) and again at each size studied.

* **Found**: a reference face counts as found at a size when a box there overlaps
  it (IoU >= 0.4), per band of face size relative to the frame's longer side.
* **Verdicts**: each size's pipeline judges the item; its fake probability and
  label are compared with the first size's (the current default, say).
* **Time**: detection wall time per video frame at each size.

``fakewatch bench --detect-sizes 480,640 --folder DIR`` prints the table.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from base.errors import MediaError
from inference.decoder import decode
from inference.faces import DetectorConfig, FaceBox, FaceDetector
from inference.media import DecodedMedia, MediaLimits
from inference.pipeline import Pipeline
from inference.weight_set import WeightSet
from inference.weights import LoadedWeights

# Face size (geometric mean of the box's sides) over the frame's longer side.
BANDS: tuple[tuple[float, float], ...] = (
    (0.0, 0.03),
    (0.03, 0.05),
    (0.05, 0.08),
    (0.08, 0.12),
    (0.12, 10.0),
)
MATCH_IOU = 0.4
# Scale 1 for any frame the decoder accepts: the reference looks at every pixel.
FULL_RESOLUTION = 1_000_000


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two ``(x1, y1, x2, y2)`` boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def band_of(relative: float) -> int:
    """The index of the band a relative face size falls in."""
    for i, (lo, hi) in enumerate(BANDS):
        if lo <= relative < hi:
            return i
    return len(BANDS) - 1


@dataclass
class SizeStats:
    """What one detection size found and decided over the whole folder."""

    size: int
    found: list[int] = field(default_factory=lambda: [0] * len(BANDS))
    extra: int = 0  # boxes that match no reference face
    video_detect_s: list[float] = field(default_factory=list)  # per frame
    probability_change: list[float] = field(default_factory=list)
    labels_changed: int = 0
    no_face_changed: int = 0  # judged at one size, "no face" at the other


def _matches(reference: list[FaceBox], found: list[FaceBox]) -> tuple[list[bool], int]:
    """Which reference faces a box of ``found`` overlaps, and how many boxes overlap none."""
    hit = [any(iou(r.box, f.box) >= MATCH_IOU for f in found) for r in reference]
    extra = sum(1 for f in found if not any(iou(r.box, f.box) >= MATCH_IOU for r in reference))
    return hit, extra


def study(
    paths: Sequence[Path],
    sizes: Sequence[int],
    *,
    weights: WeightSet | LoadedWeights,
    device: str = "auto",
    frames: int = 16,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Measure each detection size against full resolution on ``paths``.

    Returns:
        A JSON-able dict: per size, faces found per band, extra boxes, detection time
        per video frame, and verdict changes against ``sizes[0]``.
    """
    say = progress or (lambda _msg: None)
    pipelines = {
        s: Pipeline(
            weights,
            device=device,
            frames=frames,
            detector=DetectorConfig(detect_max_side=s, video_max_side=s),
        )
        for s in sizes
    }
    reference = FaceDetector(
        pipelines[sizes[0]].device,
        DetectorConfig(detect_max_side=FULL_RESOLUTION, video_max_side=FULL_RESOLUTION),
    )
    stats = {s: SizeStats(s) for s in sizes}
    totals = [0] * len(BANDS)
    counts = {"image": 0, "video": 0, "undecodable": 0}
    for n, path in enumerate(paths, 1):
        try:
            media = decode(path.read_bytes(), frames=frames, limits=MediaLimits())
        except MediaError:
            counts["undecodable"] += 1
            continue
        counts["video" if media.kind == "video" else "image"] += 1
        _study_item(media, reference, pipelines, stats, totals)
        if n % 10 == 0 or n == len(paths):
            say(f"detect sizes: {n}/{len(paths)} files")
    return _report(sizes, stats, totals, counts)


def _study_item(
    media: DecodedMedia,
    reference: FaceDetector,
    pipelines: dict[int, Pipeline],
    stats: dict[int, SizeStats],
    totals: list[int],
) -> None:
    ref = reference.detect(media.frames)
    bands = [
        [band_of(face.size / max(frame.shape[:2])) for face in faces]
        for frame, faces in zip(media.frames, ref, strict=True)
    ]
    for frame_bands in bands:
        for b in frame_bands:
            totals[b] += 1
    verdicts = {}
    for size, pipeline in pipelines.items():
        start = time.perf_counter()
        found = pipeline.detector.detect(media.frames)
        elapsed = time.perf_counter() - start
        st = stats[size]
        if media.kind == "video":
            st.video_detect_s.append(elapsed / max(1, len(media.frames)))
        for r, f, frame_bands in zip(ref, found, bands, strict=True):
            hit, extra = _matches(r, f)
            st.extra += extra
            for h, b in zip(hit, frame_bands, strict=True):
                st.found[b] += int(h)
        verdicts[size] = pipeline.judge(media)
    first = verdicts[next(iter(pipelines))]
    for size, v in verdicts.items():
        st = stats[size]
        if (v.fake_probability is None) != (first.fake_probability is None):
            st.no_face_changed += 1
        elif v.fake_probability is not None and first.fake_probability is not None:
            st.probability_change.append(abs(v.fake_probability - first.fake_probability))
        st.labels_changed += int(v.label != first.label)


def _report(
    sizes: Sequence[int], stats: dict[int, SizeStats], totals: list[int], counts: dict[str, int]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "files": counts,
        "bands": [f"{lo:.0%}-{hi:.0%}" if hi < 1 else f">={lo:.0%}" for lo, hi in BANDS],
        "reference_faces": totals,
        "compared_with": sizes[0],
        "sizes": [],
    }
    for s in sizes:
        st = stats[s]
        changes = st.probability_change
        out["sizes"].append(
            {
                "detect_max_side": s,
                "found": st.found,
                "recall": [f / t if t else None for f, t in zip(st.found, totals, strict=True)],
                "extra_boxes": st.extra,
                "video_detect_ms_per_frame": (
                    1000 * statistics.median(st.video_detect_s) if st.video_detect_s else None
                ),
                "probability_change_median": statistics.median(changes) if changes else None,
                "probability_change_max": max(changes) if changes else None,
                "labels_changed": st.labels_changed,
                "no_face_changed": st.no_face_changed,
            }
        )
    return out


def table(result: dict[str, Any]) -> str:
    """The study as a text table."""
    files = result["files"]
    head = ["max side", *result["bands"], "extra", "ms/frame", "dp med", "dp max", "labels"]
    lines = [
        f"{files['image']} images, {files['video']} videos ({files['undecodable']} undecodable); "
        f"{sum(result['reference_faces'])} faces at full resolution "
        f"({' / '.join(str(t) for t in result['reference_faces'])} per band of face size "
        "relative to the frame's longer side); verdicts compared with "
        f"{result['compared_with']}",
        "  ".join(f"{h:>9}" for h in head),
    ]

    def cell(v: float | None, fmt: str) -> str:
        return "-" if v is None else format(v, fmt)

    for row in result["sizes"]:
        values = [
            str(row["detect_max_side"]),
            *(cell(r, ".1%") for r in row["recall"]),
            str(row["extra_boxes"]),
            cell(row["video_detect_ms_per_frame"], ".1f"),
            cell(row["probability_change_median"], ".4f"),
            cell(row["probability_change_max"], ".3f"),
            f"{row['labels_changed']}+{row['no_face_changed']}",
        ]
        lines.append("  ".join(f"{v:>9}" for v in values))
    lines.append(
        "recall per band; extra: boxes with no full-resolution face; ms/frame: detection per "
        "video frame (median); dp: change of the fake probability; labels: verdict labels "
        "changed + items that found a face at one size only"
    )
    return "\n".join(lines)


def media_files(folder: Path) -> list[Path]:
    """Every file under ``folder``, sorted (the decoder decides what is media)."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))

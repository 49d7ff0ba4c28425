"""The naive path, for the benchmark to measure the fast path against, side by side.

It does what the public *Deepfake_detection_using_deep_learning* app does at
prediction time: read the video from its first frame and keep the first ``n``
consecutive frames (every frame decoded and converted), detect faces on each
frame at full resolution, one frame at a time, crop the first face found (the
whole frame when there is none, as the app's ``except: pass`` does), and make
one model call over the sequence. It uses the same weights as a
:class:`inference.pipeline.Pipeline` the way they come, as the app would: the
MTCNN that facenet-pytorch builds with its defaults, and a copy of the model in
fp32 and the default memory format (the fast path's channels_last nets and bf16
are part of what is measured). So only the way the work is done differs. Its
output is a probability only; it is not a verdict and never used for one.
"""

from __future__ import annotations

import copy
import io
import time
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
import torch
from PIL import Image

from inference.faces import crop_face
from inference.media import MediaSource
from inference.model import fake_probability
from inference.pipeline import Pipeline, crops_tensor
from inference.sniffing import sniff


@dataclass(frozen=True)
class BaselineResult:
    """What the naive path found, and how long each stage took (seconds)."""

    fake_probability: float
    frames: int
    faces_found: int  # frames in which a face was found
    timings: dict[str, float]


def first_frames(source: MediaSource, n: int) -> list[np.ndarray]:
    """The first ``n`` frames, decoding every frame from the start; one frame for an image."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if sniff(data[:512]) in ("jpeg", "png", "webp", "bmp"):
        with Image.open(io.BytesIO(data)) as img:
            return [np.asarray(img.convert("RGB"))]
    out: list[np.ndarray] = []
    with av.open(io.BytesIO(data), mode="r") as container:
        for frame in container.decode(video=0):
            out.append(frame.to_ndarray(format="rgb24"))
            if len(out) == n:
                break
    return out


class NaiveBaseline:
    """The public app's prediction loop, on a pipeline's model and face detector."""

    def __init__(self, pipeline: Pipeline, *, frames: int | None = None) -> None:
        from facenet_pytorch import MTCNN

        self.pipeline = pipeline
        self.frames = frames or pipeline.frames
        self.mtcnn = MTCNN(device=pipeline.device).eval()  # the library's defaults
        self.model = copy.deepcopy(pipeline.model_for("video")).float()
        self.model = self.model.to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]

    def analyze(self, source: MediaSource) -> BaselineResult:
        """Run the naive path on one item."""
        prep = self.pipeline.manifest_for("video").preprocessing
        timings: dict[str, float] = {}
        start = time.perf_counter()
        frames = first_frames(source, self.frames)
        timings["decode"] = time.perf_counter() - start

        start = time.perf_counter()
        crops: list[np.ndarray] = []
        found = 0
        for frame in frames:  # one full-resolution detection per frame
            boxes, _ = self.mtcnn.detect(frame)
            if boxes is not None and len(boxes):
                found += 1
                x1, y1, x2, y2 = (float(v) for v in boxes[0][:4])
                crops.append(
                    crop_face(
                        frame,
                        (x1, y1, x2, y2),
                        size=prep.input_size,
                        margin=prep.margin,
                        square=prep.square,
                    )
                )
            else:
                crops.append(cv2.resize(frame, (prep.input_size, prep.input_size)))
        timings["detect"] = time.perf_counter() - start

        start = time.perf_counter()
        x = crops_tensor(crops, prep).to(self.pipeline.device).unsqueeze(0)
        with torch.no_grad():
            logits = self.model(x)
        p = float(fake_probability(logits)[0])
        timings["classify"] = time.perf_counter() - start
        return BaselineResult(p, len(frames), found, timings)

"""Where the model sees blending: the manipulation map of the deciding face, and its picture.

The Lite0 model has a blend-map head (:class:`inference.lite.LiteLSTM`): a 1x1
convolution on its stride-16 stage, trained on the masks of self-blended faces to
light up where a face was pasted (Face X-ray style). The map is the model's own
output, not a saliency picture computed after the fact. For a verdict we take the
deciding face (the most suspicious track) at its most suspicious sampled frame,
run that one crop through the model again and keep the map (14x14 at 224 px).

:func:`explanation_png` draws the crop with the map over it (red = blending seen),
for ``fakewatch check --explain`` and the dashboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from inference.classifier import crops_tensor
from inference.faces import crop_face
from inference.media import DecodedMedia
from inference.model import Classifier, Preprocessing
from inference.tracks import FaceTrack
from inference.verdict import Explanation, FaceScore


@dataclass(frozen=True)
class MapInput:
    """The crop the map is computed on, with where it came from."""

    track: int
    frame: int  # index into the sampled frames
    box: tuple[float, float, float, float]
    crop: np.ndarray  # RGB uint8, the model's input size


def deciding_crop(
    media: DecodedMedia,
    tracks: Sequence[FaceTrack],
    scores: Sequence[FaceScore],
    prep: Preprocessing,
) -> MapInput | None:
    """The most suspicious face at its most suspicious frame; None without faces."""
    if not scores:
        return None
    best = max(scores, key=lambda s: s.fake_probability)
    face_track = next((t for t in tracks if t.id == best.track), None)
    if face_track is None or not face_track.faces:
        return None
    i = int(np.argmax(best.frame_scores)) if best.frame_scores else 0
    i = min(i, len(face_track.faces) - 1)
    face = face_track.faces[i]
    crop = crop_face(
        media.frames[face.frame],
        face.box,
        size=prep.input_size,
        margin=prep.margin,
        square=prep.square,
    )
    return MapInput(track=best.track, frame=face.frame, box=face.box, crop=crop)


def manipulation_map(
    target: MapInput, model: Classifier, prep: Preprocessing, device: torch.device
) -> Explanation | None:
    """The model's blend map for one crop, values 0-1; None for a model without the head."""
    forward_maps = getattr(model, "forward_maps", None)
    if forward_maps is None:
        return None
    with torch.inference_mode():
        _, logits = forward_maps(crops_tensor([target.crop], prep, device))
    heat = torch.sigmoid(logits.float())[0, 0].cpu().numpy()
    return Explanation(
        track=target.track,
        frame=target.frame,
        box=target.box,
        map=tuple(tuple(round(float(v), 3) for v in row) for row in heat),
    )


def heat_array(explanation: Explanation) -> np.ndarray:
    """The map as a float32 array."""
    return np.asarray(explanation.map, np.float32)


def overlay(crop: np.ndarray, heat: np.ndarray, *, size: int = 224) -> np.ndarray:
    """The crop (RGB uint8) with the map over it: transparent where cool, red where hot."""
    face = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
    hot = cv2.resize(np.clip(heat, 0.0, 1.0), (size, size), interpolation=cv2.INTER_CUBIC)
    hot = np.clip(hot, 0.0, 1.0)[:, :, None]
    red = np.zeros_like(face, dtype=np.float32)
    red[:, :, 0] = 255.0
    red[:, :, 1] = 60.0
    alpha = 0.65 * hot
    mixed = face.astype(np.float32) * (1 - alpha) + red * alpha
    result: np.ndarray = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    return result


def explanation_crop(
    media: DecodedMedia, explanation: Explanation, prep: Preprocessing
) -> np.ndarray:
    """The crop the map was computed on, cut again from the decoded media."""
    return crop_face(
        media.frames[explanation.frame],
        explanation.box,
        size=prep.input_size,
        margin=prep.margin,
        square=prep.square,
    )


def explanation_png(crop: np.ndarray, explanation: Explanation, *, size: int = 224) -> bytes:
    """PNG bytes: the face crop and, beside it, the crop with the manipulation map over it."""
    face = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
    picture = np.concatenate([face, overlay(crop, heat_array(explanation), size=size)], axis=1)
    ok, buf = cv2.imencode(".png", picture[:, :, ::-1])
    if not ok:  # pragma: no cover - encoding a uint8 RGB array does not fail
        raise RuntimeError("could not encode the explanation picture")
    return bytes(buf)

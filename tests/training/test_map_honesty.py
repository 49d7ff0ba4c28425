"""The manipulation map is the model's own, and honest: hot where a face was blended, cool on a
real face.

A real face (scikit-image's astronaut, found by our MTCNN) is self-blended in the test with
a known mask (face parts and whole-face masks, the recipe's own blends); the shipped
weights' map of the blended face must overlap that mask far more than chance, and the
map of the real face must stay cool. The figures are printed (``-s``) for the model card.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from bench import samples
from inference.classifier import crops_tensor
from inference.faces import FaceDetector, crop_box, crop_face
from inference.weight_set import load_weight_set
from training.blend import sample_params, self_blend
from training.faceset import landmarks_in_crop

CASES = [
    ("nose+mouth", "parts", (False, False, True, True)),
    ("eyes", "parts", (True, True, False, False)),
    ("whole face (ellipse)", "ellipse", (True, True, True, True)),
    ("whole face (hull)", "hull", (True, True, True, True)),
]


@pytest.fixture(scope="module")
def shipped() -> object:
    weights = load_weight_set("default").image  # a photo of a face: the photo weights
    if not hasattr(weights.model, "forward_maps"):
        pytest.skip(f"{weights.manifest.model_id} has no manipulation-map head")
    return weights


def _heat(weights: object, crop: np.ndarray) -> np.ndarray:
    prep = weights.manifest.preprocessing  # type: ignore[attr-defined]
    with torch.inference_mode():
        _, logits = weights.model.forward_maps(crops_tensor([crop], prep))  # type: ignore[attr-defined]
    heat = torch.sigmoid(logits.float())[0, 0].numpy()
    import cv2

    return cv2.resize(heat, (crop.shape[1], crop.shape[0]), interpolation=cv2.INTER_LINEAR)


def test_the_map_finds_a_known_blend_and_stays_cool_on_the_real_face(shipped: object) -> None:
    prep = shipped.manifest.preprocessing  # type: ignore[attr-defined]
    frame = samples.astronaut()
    faces = FaceDetector(torch.device("cpu")).detect([frame])[0]
    assert faces, "MTCNN found no face in the astronaut"
    face = faces[0]
    region = crop_box(face.box, frame.shape, margin=prep.margin, square=True)
    x1, y1 = math.floor(region[0]), math.floor(region[1])
    x2, y2 = max(x1 + 1, math.ceil(region[2])), max(y1 + 1, math.ceil(region[3]))
    crop = crop_face(frame, face.box, size=prep.input_size, margin=prep.margin)
    marks = landmarks_in_crop(face.landmarks, (x1, y1, x2, y2), prep.input_size)

    real_heat = _heat(shipped, crop)
    ious, chances, inside, outside = [], [], [], []
    for n, (name, kind, parts) in enumerate(CASES):
        base = sample_params(np.random.default_rng(100 + n))
        params = replace(base, mask_kind=kind, parts=parts, ratio=1.0, donor=False)
        blended = self_blend(crop, marks, params)
        truth = blended.mask > 0.5
        heat = _heat(shipped, blended.fake)
        k = int(truth.sum())
        hottest = heat >= np.sort(heat.ravel())[-k]
        iou = float((hottest & truth).sum() / (hottest | truth).sum())
        share = k / truth.size
        chance = share / (2 - share)  # expected IoU of k random pixels with the mask
        ious.append(iou)
        chances.append(chance)
        inside.append(float(heat[truth].mean()))
        outside.append(float(heat[~truth].mean()))
        print(f"{name}: IoU {iou:.2f} (chance {chance:.2f}), "
              f"map inside {inside[-1]:.2f} / outside {outside[-1]:.2f}")  # fmt: skip
    print(f"mean IoU {np.mean(ious):.2f} vs chance {np.mean(chances):.2f}; "
          f"real face: mean {real_heat.mean():.3f}, max {real_heat.max():.2f}")  # fmt: skip
    assert np.mean(ious) >= 2.5 * np.mean(chances)
    assert all(i > o for i, o in zip(inside, outside, strict=True))
    assert real_heat.mean() < 0.5 * np.mean(inside)

"""Self-blended images: the mask, where the fake differs, and one manipulation per sequence."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from bench import samples
from training.blend import (
    blend_sequence,
    face_mask,
    parts_from_name,
    parts_mask,
    sample_params,
    self_blend,
)

SIZE = 128
# Eyes, nose, mouth corners of a face centred in a 128 px crop (MTCNN's order).
LANDMARKS = ((48.0, 52.0), (80.0, 52.0), (64.0, 68.0), (52.0, 84.0), (76.0, 84.0))


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    return cv2.resize(samples.face_patch(256), (SIZE, SIZE), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("seed", range(12))
def test_mask_in_unit_range_and_fake_differs_only_inside(face: np.ndarray, seed: int) -> None:
    params = sample_params(np.random.default_rng(seed))
    b = self_blend(face, LANDMARKS, params)
    assert b.mask.shape == (SIZE, SIZE) and b.mask.dtype == np.float32
    assert float(b.mask.min()) >= 0.0 and float(b.mask.max()) <= 1.0
    assert float(b.mask.max()) == pytest.approx(params.ratio, abs=1e-3)
    changed = np.any(b.fake != b.real, axis=2)
    assert changed.any(), "a self-blend must change something"
    assert not np.any(changed & (b.mask <= 0)), "pixels outside the mask changed"
    if not params.jitter_target:
        assert np.array_equal(b.real, face), "the target is the input when it is not jittered"


def test_mask_covers_the_face_centre_not_the_corners(face: np.ndarray) -> None:
    for seed in range(8):
        params = sample_params(np.random.default_rng(seed))
        if params.mask_kind == "parts":  # a part mask need not cover the nose
            params = replace(params, parts=(False, False, True, False))
        hard = face_mask((SIZE, SIZE), LANDMARKS, params)
        assert hard[68, 64] == 1.0  # the nose
        assert hard[0, 0] == 0.0 and hard[-1, -1] == 0.0
        soft = self_blend(face, LANDMARKS, params).mask
        assert soft[68, 64] > 0.0


def test_part_masks_cover_their_parts_only(face: np.ndarray) -> None:
    eyes = parts_mask((SIZE, SIZE), LANDMARKS, (True, True, False, False))
    mouth = parts_mask((SIZE, SIZE), LANDMARKS, (False, False, False, True))
    (lx, ly), (rx, ry), _, (mlx, mly), (mrx, mry) = LANDMARKS
    assert eyes[round(ly), round(lx)] == 1.0 and eyes[round(ry), round(rx)] == 1.0
    assert eyes[round((mly + mry) / 2), round((mlx + mrx) / 2)] == 0.0
    assert mouth[round((mly + mry) / 2), round((mlx + mrx) / 2)] == 1.0
    assert mouth[round(ly), round(lx)] == 0.0
    assert parts_from_name("fake/mid_26_1101.jpg") == (True, True, False, True)
    assert parts_from_name("real_00001.jpg") is None


def test_same_params_same_blend_different_params_differ(face: np.ndarray) -> None:
    p1 = sample_params(np.random.default_rng(1))
    p2 = sample_params(np.random.default_rng(2))
    a, b = self_blend(face, LANDMARKS, p1), self_blend(face, LANDMARKS, p1)
    assert np.array_equal(a.fake, b.fake) and np.array_equal(a.mask, b.mask)
    assert not np.array_equal(a.fake, self_blend(face, LANDMARKS, p2).fake)


def test_a_sequence_gets_one_manipulation(face: np.ndarray) -> None:
    shifted = tuple((x + 3.0, y + 2.0) for x, y in LANDMARKS)
    moved = np.roll(face, (2, 3), axis=(0, 1))
    params = sample_params(np.random.default_rng(5))
    out = blend_sequence([face, moved, face], [LANDMARKS, shifted, LANDMARKS], params)
    assert len(out) == 3
    # Frames with the same face and landmarks get bit-identical fakes: nothing is redrawn.
    assert np.array_equal(out[0].fake, out[2].fake)
    assert np.array_equal(out[0].mask, out[2].mask)

    # The moved frame's mask follows its landmarks: about the same area, moved with them.
    def centre(mask: np.ndarray) -> np.ndarray:
        ys, xs = np.nonzero(mask > 0.5 * mask.max())
        return np.array([xs.mean(), ys.mean()])

    assert centre(out[1].mask) - centre(out[0].mask) == pytest.approx([3.0, 2.0], abs=1.0)
    area0, area1 = float(out[0].mask.sum()), float(out[1].mask.sum())
    assert abs(area1 - area0) < 0.1 * area0


def test_degenerate_landmarks_still_blend(face: np.ndarray) -> None:
    params = replace(sample_params(np.random.default_rng(3)), elastic_amount=0.0)
    b = self_blend(face, ((64.0, 64.0),) * 5, params)
    assert 0.0 < float(b.mask.max()) <= 1.0

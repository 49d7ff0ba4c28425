"""Our MTCNN cascade finds what facenet-pytorch's finds, and resamples crops as it does."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn.functional import interpolate

from bench import samples, workload
from inference import mtcnn
from inference.faces import DetectorConfig, FaceDetector


def test_crop_resample_is_area_interpolation() -> None:
    rng = np.random.default_rng(3)
    imgs = rng.integers(0, 256, size=(3, 90, 120, 3), dtype=np.uint8)
    k = 60
    x = rng.integers(-10, 110, k)
    y = rng.integers(-10, 80, k)
    side = rng.integers(3, 70, k)
    # as facenet's pad() leaves them: x, y clamped to >= 1, ends to <= the frame
    x1, y1 = np.maximum(x, 1), np.maximum(y, 1)
    ex, ey = np.minimum(x + side, 120), np.minimum(y + side, 90)
    inds = torch.as_tensor(rng.integers(0, 3, k))
    got = mtcnn.crop_resample(mtcnn.integral(imgs, torch.device("cpu")), inds, y1, ey, x1, ex, 24)
    frames = torch.as_tensor(imgs).permute(0, 3, 1, 2).float()
    for i in range(k):
        crop = frames[inds[i], :, y1[i] - 1 : ey[i], x1[i] - 1 : ex[i]].unsqueeze(0)
        want = interpolate(crop, size=(24, 24), mode="area")[0]
        torch.testing.assert_close(got[i], want, atol=1e-3, rtol=0)


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector(torch.device("cpu"))


def test_same_faces_as_facenet_pytorch(detector: FaceDetector) -> None:
    from facenet_pytorch.models.utils.detect_face import detect_face as reference

    clip = list(workload.clip_frames(4, 320, 180, seed=1))
    photo = workload.face_photo(256, seed=3)
    m = detector.mtcnn
    for batch in (np.stack(clip), samples.astronaut()[None], photo[None]):
        args = (m.min_face_size, m.pnet, m.rnet, m.onet, m.thresholds, m.factor, m.device)
        with torch.inference_mode():
            want_boxes, want_points = reference(batch.copy(), *args)
        got_boxes, got_points = mtcnn.detect_face(batch, *args)
        assert len(got_boxes) == len(batch)
        for gb, wb, gp, wp in zip(got_boxes, want_boxes, got_points, want_points, strict=True):
            assert gb.shape == wb.shape
            np.testing.assert_allclose(gb, np.asarray(wb, dtype=np.float32), atol=1e-2)
            np.testing.assert_allclose(gp, np.asarray(wp, dtype=np.float32), atol=1e-2)
        assert sum(len(b) for b in got_boxes) >= len(batch)  # each of these has a face


def test_frames_detected_in_parallel_groups_give_the_same_faces() -> None:
    frames = [*workload.clip_frames(7, 320, 180, seed=2), samples.astronaut()]
    one = FaceDetector(torch.device("cpu"), DetectorConfig(workers=1)).detect(frames)
    three = FaceDetector(torch.device("cpu"), DetectorConfig(workers=3)).detect(frames)
    assert [len(f) for f in one] == [len(f) for f in three]
    assert all(len(f) >= 1 for f in one)
    for a, b in zip(one, three, strict=True):
        for fa, fb in zip(a, b, strict=True):
            assert fa.frame == fb.frame
            np.testing.assert_allclose(fa.box, fb.box, atol=1e-3)


def test_each_frame_is_searched_at_its_own_size() -> None:
    photo = samples.astronaut()  # 512 px, the face about a third of it
    detector = FaceDetector(torch.device("cpu"), DetectorConfig(video_max_side=40))
    assert detector.max_side("image") == 640 and detector.max_side("video") == 40
    # At 40 px the face is about 13 px, under MTCNN's 20 px minimum; at 640 it is found.
    big, small = detector.detect([photo, photo], max_sides=[640, 40])
    assert len(big) == 1 and small == []
    (default,) = detector.detect([photo])
    np.testing.assert_allclose(default[0].box, big[0].box, atol=1e-3)

"""The detection-size study on real photos and clips (no timing is asserted)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import detect_sizes, samples
from bench.detect_sizes import band_of, iou, study
from inference.weights import random_weights


def test_iou_and_bands() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert [band_of(r) for r in (0.01, 0.03, 0.06, 0.1, 0.5)] == [0, 1, 2, 3, 4]


def test_study_finds_the_reference_faces_and_compares_verdicts(tmp_path: Path) -> None:
    face = samples.astronaut()  # 512x512, one face of about a third of the frame
    (tmp_path / "astronaut.jpg").write_bytes(samples.encode_image(face, "JPEG"))
    samples.write_face_video(tmp_path / "clip.mp4", seconds=1.0, width=320, height=240)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    (tmp_path / "blank.png").write_bytes(
        samples.encode_image(np.zeros((64, 64, 3), "uint8"), "PNG")
    )
    result = study(
        detect_sizes.media_files(tmp_path),
        [256, 128],
        weights=random_weights(),
        device="cpu",
        frames=4,
    )
    assert result["files"] == {"image": 2, "video": 1, "undecodable": 1}
    assert sum(result["reference_faces"]) >= 5  # the astronaut, and the clip's face in 4 frames
    first, second = result["sizes"]
    assert first["detect_max_side"] == 256 and second["detect_max_side"] == 128
    # Large faces are found at both sizes; the verdicts are compared with the first size.
    assert first["found"][-1] == result["reference_faces"][-1] == second["found"][-1]
    assert first["labels_changed"] == 0 and first["probability_change_max"] == 0.0
    assert first["video_detect_ms_per_frame"] > 0
    text = detect_sizes.table(result)
    assert "2 images, 1 videos (1 undecodable)" in text and "verdicts compared with 256" in text

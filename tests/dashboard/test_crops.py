"""Face crops from media kept under a chat's retention setting."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image

from dashboard.crops import face_crops


def _image(path: Path) -> Path:
    img = Image.new("RGB", (200, 100), "white")
    img.paste((255, 0, 0), (120, 20, 160, 70))  # the "face": a red block
    img.save(path)
    return path


def test_crops_cut_the_boxes_of_a_kept_image(tmp_path: Path) -> None:
    path = _image(tmp_path / "kept.png")
    details = {
        "face_scores": [
            {"track": 0, "fake_probability": 0.9, "box": [120, 20, 160, 70], "frames": [0]},
            {"track": 1, "fake_probability": 0.1, "box": [500, 500, 600, 600], "frames": [0]},
        ]
    }
    (crop,) = face_crops(str(path), details)  # the box outside the image is skipped
    assert crop.track == 0 and crop.fake_probability == 0.9
    png = base64.b64decode(crop.data_url.removeprefix("data:image/png;base64,"))
    face = Image.open(io.BytesIO(png)).convert("RGB")
    # The crop is the red block with a 20% margin of white around it.
    assert face.getpixel((face.width // 2, face.height // 2)) == (255, 0, 0)
    assert face.getpixel((0, 0)) == (255, 255, 255)


def test_no_crops_without_kept_media(tmp_path: Path) -> None:
    details = {"face_scores": [{"track": 0, "fake_probability": 0.9, "box": [0, 0, 5, 5]}]}
    assert face_crops(None, details) == []
    assert face_crops(str(tmp_path / "gone.png"), details) == []
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    assert face_crops(str(broken), details) == []

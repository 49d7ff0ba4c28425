"""Face crops for a check's page, cut from the media kept under the chat's retention.

Only kept *images* are cropped: the boxes in ``Check.details["face_scores"]`` are in
the coordinates of the frame where each face first appears, and finding that frame
of a video would mean decoding it here, in a process that has no video decoder.
Without kept media (the default: retention 0 days) there are no crops.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
SIZE = 160
MARGIN = 0.2
MAX_FACES = 8


@dataclass(frozen=True)
class FaceCrop:
    """One face: its track number, its score and a ``data:`` URL of the PNG."""

    track: int
    fake_probability: float
    data_url: str


def face_crops(media_path: str | None, details: Mapping[str, Any] | None) -> list[FaceCrop]:
    """Crops of the faces of a kept image; empty when there is nothing to crop from."""
    faces: Sequence[Mapping[str, Any]] = (details or {}).get("face_scores") or ()
    if not media_path or not faces or not Path(media_path).is_file():
        return []
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        return []
    try:
        with Image.open(media_path) as img:
            if getattr(img, "is_animated", False):
                return []  # an animation's boxes belong to a frame we cannot name here
            frame = img.convert("RGB")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as e:
        log.info("cannot open kept media %s: %s", media_path, e)
        return []
    crops: list[FaceCrop] = []
    for face in list(faces)[:MAX_FACES]:
        try:
            x1, y1, x2, y2 = (float(v) for v in face["box"])
            track, p = int(face["track"]), float(face["fake_probability"])
        except (KeyError, TypeError, ValueError):
            continue
        mx, my = (x2 - x1) * MARGIN, (y2 - y1) * MARGIN
        box = (
            max(0, int(x1 - mx)),
            max(0, int(y1 - my)),
            min(frame.width, int(x2 + mx)),
            min(frame.height, int(y2 + my)),
        )
        if box[2] <= box[0] or box[3] <= box[1]:
            continue
        crop = frame.crop(box)
        crop.thumbnail((SIZE, SIZE))
        out = io.BytesIO()
        crop.save(out, "PNG")
        url = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
        crops.append(FaceCrop(track=track, fake_probability=p, data_url=url))
    return crops

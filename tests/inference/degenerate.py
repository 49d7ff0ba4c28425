"""Media of degenerate shapes: smaller than a face, one pixel wide, one frame long.

Each of these once reached MTCNN with no pyramid level to search and crashed it
(``torch.cat(): expected a non-empty list of Tensors``); the pipeline must answer
``no_face`` with a reason instead.
"""

from __future__ import annotations

import io
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
from PIL import Image

from bench import samples


def _png(width: int, height: int) -> bytes:
    rng = np.random.default_rng(width * 7 + height)
    return samples.encode_image(rng.integers(0, 255, (height, width, 3), np.uint8), "PNG")


def _video(width: int, height: int, frames: int) -> bytes:
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "v.mp4"
        rng = np.random.default_rng(width + height + frames)
        clip = [rng.integers(0, 255, (height, width, 3), np.uint8) for _ in range(frames)]
        samples.write_video(path, clip, fps=12)
        return path.read_bytes()


def _gif(width: int, height: int, frames: int) -> bytes:
    rng = np.random.default_rng(frames)
    images = [
        Image.fromarray(rng.integers(0, 255, (height, width, 3), np.uint8)) for _ in range(frames)
    ]
    buf = io.BytesIO()
    images[0].save(buf, "GIF", save_all=True, append_images=images[1:], duration=20, loop=0)
    return buf.getvalue()


def degenerate_files() -> dict[str, bytes]:
    """Name -> bytes of every degenerate case; each must come back ``no_face``."""
    return {
        "1x1.png": _png(1, 1),
        "16x16.png": _png(16, 16),
        "1x30000.png": _png(1, 30000),
        "30000x1.png": _png(30000, 1),
        "4000x12.png": _png(4000, 12),
        "12x4000.png": _png(12, 4000),
        "16x16.mp4": _video(16, 16, 12),
        "2000x16.mp4": _video(2000, 16, 6),
        "one-frame-16x16.mp4": _video(16, 16, 1),
        "tiny-frames.gif": _gif(4, 4, 2000),
        "single-frame.gif": _gif(8, 8, 1),
    }

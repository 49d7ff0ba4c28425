"""Re-encode a video to one common form, so an evaluation cannot be won by reading the container.

Sources differ in resolution, frame rate, bitrate and audio; a detector can learn
those instead of faces. ``fakewatch eval --normalise SIZE`` first re-encodes every
video with :func:`normalise_video`: the shorter side scaled to ``SIZE`` px (even
dimensions), a constant ``FPS`` frames per second (frames picked by timestamp),
H.264 at one bitrate, and no audio track. A detector whose video AUC collapses under
it was reading the file, not the face.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from base.errors import MediaError

FPS = 25
BITRATE = 600_000  # bits per second, for every clip whatever its size was
MAX_SECONDS = 20.0


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def normalised_size(width: int, height: int, size: int) -> tuple[int, int]:
    """Width and height with the shorter side at ``size`` px, both even."""
    scale = size / min(width, height)
    return _even(width * scale), _even(height * scale)


def normalise_video(src: Path, dst: Path, size: int, *, fps: int = FPS) -> Path:
    """Write ``src`` to ``dst`` (.mp4) as ``size``-px, ``fps``-fps, fixed-bitrate H.264, no audio.

    Raises:
        MediaError: ``src`` has no video stream or cannot be decoded.
    """
    try:
        with av.open(str(src)) as source, av.open(str(dst), "w") as out:
            if not source.streams.video:
                raise MediaError(f"{src.name} has no video stream")
            stream_in: Any = source.streams.video[0]
            stream_in.thread_type = "AUTO"
            w, h = normalised_size(stream_in.width, stream_in.height, size)
            stream: Any = out.add_stream("libx264", rate=Fraction(fps))
            stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
            stream.bit_rate = BITRATE
            stream.options = {"preset": "veryfast", "maxrate": str(BITRATE), "bufsize": "1M"}
            next_t, count = 0.0, 0
            for frame in source.decode(stream_in):
                t = float(frame.time) if frame.time is not None else next_t
                if t > MAX_SECONDS:
                    break
                while t + 1e-6 >= next_t:  # repeat or drop frames to reach a constant rate
                    img = frame.reformat(width=w, height=h, format="yuv420p")
                    img.pts, img.time_base = count, Fraction(1, fps)
                    count += 1
                    for packet in stream.encode(img):
                        out.mux(packet)
                    next_t += 1.0 / fps
            for packet in stream.encode():
                out.mux(packet)
    except av.FFmpegError as e:
        raise MediaError(f"cannot re-encode {src.name}: {e}") from e
    return dst


@contextmanager
def normalised(path: Path, size: int | None, *, is_video: bool) -> Iterator[Path]:
    """``path`` itself, or (``size`` given and a video) a normalised temporary copy of it."""
    if size is None or not is_video:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="fakewatch-norm-") as tmp:
        yield normalise_video(path, Path(tmp) / f"{path.stem}.mp4", size)

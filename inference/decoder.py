"""Media decoding: bytes or a path in, a few RGB frames out.

Images (JPEG, PNG, WebP, BMP, static GIF) give one frame; animated GIF and WebP
are treated as video. Videos (mp4, mov, mkv, webm, avi...; H.264, H.265, VP8,
VP9, AV1) are decoded with PyAV, whose FFmpeg has an AV1 decoder, ``n`` frames
sampled evenly over the whole clip. Rotation metadata (display matrix, EXIF
orientation) is applied.

Every way a file can fail raises a specific :class:`base.errors.MediaError`.
"""

from __future__ import annotations

from pathlib import Path

from base.errors import EmptyMedia, MediaError, TooManyBytes, UnsupportedMedia
from inference.images import decode_image
from inference.media import DecodedMedia, MediaLimits, MediaSource
from inference.sniffing import DEMUXERS, PILLOW_FORMATS, sniff
from inference.video import decode_video


def _read_source(source: MediaSource, limits: MediaLimits) -> tuple[bytes | str, int, bytes]:
    """Return (bytes or path, size, first bytes), enforcing the byte limit before reading."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        size = len(data)
        if size > limits.max_bytes:
            raise TooManyBytes(f"file is {size:,} bytes; the limit is {limits.max_bytes:,}")
        return data, size, data[:512]
    path = Path(source)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise UnsupportedMedia(f"{path} is not a regular file")
        if size > limits.max_bytes:
            raise TooManyBytes(f"file is {size:,} bytes; the limit is {limits.max_bytes:,}")
        with path.open("rb") as f:
            head = f.read(512)
    except FileNotFoundError as e:
        raise MediaError(f"no such file: {path}") from e
    except PermissionError as e:
        raise MediaError(f"cannot read {path}: permission denied") from e
    return str(path), size, head


def decode(
    source: MediaSource, *, frames: int = 16, limits: MediaLimits | None = None
) -> DecodedMedia:
    """Decode a media item into at most ``frames`` evenly spread, upright RGB frames.

    Args:
        source: a path or the file's bytes.
        frames: how many frames to sample from a video or animation.
        limits: size limits; the defaults when None.

    Raises:
        MediaError: a subclass naming exactly what is wrong with the file.
    """
    if frames < 1:
        raise ValueError("frames must be at least 1")
    limits = limits or MediaLimits()
    data, size, head = _read_source(source, limits)
    if size == 0:
        raise EmptyMedia("the file is empty")
    fmt = sniff(head)
    if fmt in PILLOW_FORMATS:
        return decode_image(data, size, fmt, frames, limits, head)
    if fmt not in DEMUXERS:
        raise UnsupportedMedia("not a recognised image or video format")
    return decode_video(data, size, fmt, frames, limits)

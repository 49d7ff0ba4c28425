"""Video files with PyAV: the container opened with its one demuxer, checked, then sampled.

PyAV's FFmpeg decodes H.264, H.265, VP8, VP9 and AV1 in mp4, mov, mkv, webm, avi and
more. An MP4's sample tables are counted before FFmpeg indexes them, the duration and
the frame size are checked against the limits, and :func:`inference.sampler.sample`
picks the frames.
"""

from __future__ import annotations

import io
from typing import Any

import av
import av.error

from base.errors import CorruptMedia, NoFrames, NoVideoStream, TooLong, UnsupportedMedia
from inference.boxes import claimed_samples
from inference.media import DecodedMedia, MediaLimits, check_pixels
from inference.sampler import sample
from inference.sniffing import DEMUXERS

# Container formats we accept from FFmpeg's probe (its names are comma lists).
VIDEO_FORMATS = frozenset(
    {
        "mov",
        "mp4",
        "m4a",
        "3gp",
        "3g2",
        "mj2",
        "matroska",
        "webm",
        "avi",
        "flv",
        "mpegts",
        "mpeg",
        "ogg",
        "ivf",
        "asf",
        "obu",
    }
)


def open_container(data: bytes | str, fmt: str | None) -> Any:
    """The container opened with the one demuxer its sniffed format ``fmt`` allows."""
    try:
        return av.open(
            io.BytesIO(data) if isinstance(data, bytes) else data,
            mode="r",
            format=DEMUXERS.get(fmt or ""),
            metadata_errors="ignore",
        )
    except av.error.EOFError as e:
        if fmt is None:
            raise UnsupportedMedia("not a recognised image or video format") from e
        raise NoFrames(f"the {fmt} file ends before its first frame") from e
    except av.error.FFmpegError as e:
        if fmt is None:
            raise UnsupportedMedia("not a recognised image or video format") from e
        raise CorruptMedia(f"the {fmt} container is damaged or truncated ({e.strerror})") from e


def _check_claimed_frames(data: bytes | str, size: int, limits: MediaLimits) -> None:
    """Refuse an MP4 whose sample tables claim absurdly many frames, before FFmpeg indexes them."""
    with io.BytesIO(data) if isinstance(data, bytes) else open(data, "rb") as f:
        claimed = claimed_samples(f, size)
    if claimed > limits.max_claimed_frames:
        raise TooLong(
            f"the file claims {claimed:,} frames; the limit is {limits.max_claimed_frames:,}"
        )


def _stream_duration(container: Any, stream: Any) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return float(container.duration) / av.time_base
    if stream.frames and stream.average_rate:
        return float(stream.frames / stream.average_rate)
    return None


def decode_video(
    data: bytes | str, size: int, fmt: str | None, n: int, limits: MediaLimits
) -> DecodedMedia:
    """Sample ``n`` upright frames of a video file spread over its whole length."""
    if fmt == "mp4":
        _check_claimed_frames(data, size, limits)
    container = open_container(data, fmt)
    with container:
        names = set((container.format.name or "").split(","))
        if not names & VIDEO_FORMATS:
            raise UnsupportedMedia(f"the {container.format.name} format is not a supported video")
        if not container.streams.video:
            raise NoVideoStream("the file has no video stream")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        if ctx is None:
            raise UnsupportedMedia("the video codec cannot be decoded here")
        stream.thread_type = "AUTO"
        check_pixels(ctx.width, ctx.height, limits)
        duration = _stream_duration(container, stream)
        if duration is not None and duration > limits.max_duration_s:
            raise TooLong(
                f"video lasts {duration:.0f} s; the limit is {limits.max_duration_s:.0f} s"
            )
        try:
            frames, times, rotation = sample(
                container, stream, duration, n, limits, lambda: open_container(data, fmt)
            )
        except av.error.InvalidDataError as e:
            raise CorruptMedia(f"the video stream is damaged ({e.strerror})") from e
        except av.error.DecoderNotFoundError as e:
            raise UnsupportedMedia(f"no decoder for the {ctx.name} codec") from e
        except av.error.FFmpegError as e:
            raise CorruptMedia(f"the video cannot be decoded ({e.strerror})") from e
        if not frames:
            raise NoFrames("the video has no decodable frame")
        h, w = frames[0].shape[:2]
        return DecodedMedia(
            kind="video",
            container=(fmt or container.format.name),
            codec=ctx.name,
            frames=frames,
            times_s=times,
            width=w,
            height=h,
            duration_s=duration,
            total_frames=int(stream.frames) or None,
            rotation=rotation,
            byte_size=size,
        )

"""Media decoding: bytes or a path in, a few RGB frames out.

Images (JPEG, PNG, WebP, BMP, static GIF) give one frame; animated GIF and WebP
are treated as video. Videos (mp4, mov, mkv, webm, avi...; H.264, H.265, VP8,
VP9, AV1) are decoded with PyAV, whose FFmpeg has an AV1 decoder. ``n`` frames
are sampled evenly over the whole clip by seeking, and decoding runs forward
instead of seeking when the next sample lies in the keyframe interval already
being decoded. Rotation metadata (display matrix, EXIF orientation) is applied.

Every way a file can fail raises a specific :class:`base.errors.MediaError`.
"""

from __future__ import annotations

import bisect
import contextlib
import io
import math
import os
import struct
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import av
import av.error
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from base.errors import (
    CorruptMedia,
    EmptyMedia,
    MediaError,
    NoFrames,
    NoVideoStream,
    TooLong,
    TooManyBytes,
    TooManyPixels,
    UnsupportedMedia,
)
from inference.boxes import claimed_samples

MediaSource = str | os.PathLike[str] | bytes
MediaKind = Literal["image", "video"]

# Container formats we accept from FFmpeg's probe (its names are comma lists).
_VIDEO_FORMATS = frozenset(
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
_IMAGE_FORMATS = {
    "JPEG": "jpeg",
    "PNG": "png",
    "GIF": "gif",
    "WEBP": "webp",
    "BMP": "bmp",
    "MPO": "jpeg",
}


@dataclass(frozen=True)
class MediaLimits:
    """What the decoder refuses to touch. Each limit has its own error."""

    max_bytes: int = 100 * 1024 * 1024
    max_pixels: int = 50_000_000
    max_duration_s: float = 600.0
    max_animation_frames: int = 20_000
    # A container may not claim more frames than this (an MP4 index of millions of
    # constant-size samples costs gigabytes in FFmpeg while the file has kilobytes).
    max_claimed_frames: int = 1_000_000
    # Decoding work, in pixels: an animation redraws its whole canvas for every frame,
    # a video decodes every frame between keyframe and sample. Both are bounded, so
    # a small file cannot keep a worker busy for hours.
    max_animation_pixels: int = 4_000_000_000
    max_decoded_pixels: int = 20_000_000_000
    # Sampled video frames larger than this are scaled down as they are kept (8K
    # video at 16 frames would otherwise hold gigabytes); 4K UHD passes untouched.
    max_kept_pixels: int = 3840 * 2160


@dataclass(frozen=True)
class DecodedMedia:
    """Frames sampled from one media item, upright, as RGB ``uint8`` arrays (H, W, 3)."""

    kind: MediaKind
    container: str
    codec: str | None
    frames: list[np.ndarray] = field(repr=False)
    times_s: list[float]
    width: int
    height: int
    duration_s: float | None
    total_frames: int | None
    rotation: int
    byte_size: int


_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "png"),
    (0, b"GIF87a", "gif"),
    (0, b"GIF89a", "gif"),
    (0, b"\x1a\x45\xdf\xa3", "matroska"),
    (0, b"FLV", "flv"),
    (0, b"DKIF", "ivf"),
    (0, b"OggS", "ogg"),
    (4, b"ftyp", "mp4"),
    (4, b"moov", "mp4"),
    (4, b"mdat", "mp4"),
    (4, b"free", "mp4"),
    (4, b"wide", "mp4"),
    (4, b"skip", "mp4"),
)
_BMP_HEADER_SIZES = (12, 40, 52, 56, 64, 108, 124)
_ASF_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
# The only FFmpeg demuxer each sniffed container may be opened with. FFmpeg never
# probes: an unknown file is refused before it sees it, so none of its other
# demuxers (playlists, concat lists, image pipes, hundreds more) reads hostile bytes.
_DEMUXERS = {
    "mp4": "mov",
    "matroska": "matroska",
    "avi": "avi",
    "flv": "flv",
    "ivf": "ivf",
    "ogg": "ogg",
    "mpegts": "mpegts",
    "mpeg": "mpeg",
    "asf": "asf",
}
# What Pillow raises on damaged data (its plugins index and unpack short reads too).
_PILLOW_ERRORS = (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error)
# The Pillow plugins each sniffed image format may be read with.
_PILLOW_FORMATS = {
    "jpeg": ("JPEG",),  # its factory turns multi-picture files into MPO itself
    "png": ("PNG",),
    "gif": ("GIF",),
    "webp": ("WEBP",),
    "bmp": ("BMP",),
}


def sniff(head: bytes) -> str | None:
    """Name the format from the first bytes of a file, or None if unknown.

    Returns:
        One of ``jpeg png gif webp bmp mp4 matroska avi flv mpegts mpeg asf ivf ogg``
        or None.
    """
    for offset, magic, name in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return name
    if head[:4] == b"RIFF":
        return {b"WEBP": "webp", b"AVI ": "avi"}.get(head[8:12])
    if head[:2] == b"BM" and len(head) >= 26:
        return "bmp" if int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES else None
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return "mpegts"
    if len(head) > 196 and head[4] == 0x47 and head[196] == 0x47:
        return "mpegts"  # M2TS: 192-byte packets
    if head[:4] == b"\x00\x00\x01\xba":
        return "mpeg"
    if head[:16] == _ASF_GUID:
        return "asf"
    return None


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
    if fmt in _PILLOW_FORMATS:
        return _decode_image(data, size, fmt, frames, limits, head)
    if fmt not in _DEMUXERS:
        raise UnsupportedMedia("not a recognised image or video format")
    if fmt == "mp4":
        _check_claimed_frames(data, size, limits)
    return _decode_video(data, size, fmt, frames, limits)


def _check_claimed_frames(data: bytes | str, size: int, limits: MediaLimits) -> None:
    """Refuse an MP4 whose sample tables claim absurdly many frames, before FFmpeg indexes them."""
    with io.BytesIO(data) if isinstance(data, bytes) else open(data, "rb") as f:
        claimed = claimed_samples(f, size)
    if claimed > limits.max_claimed_frames:
        raise TooLong(
            f"the file claims {claimed:,} frames; the limit is {limits.max_claimed_frames:,}"
        )


# --- images ------------------------------------------------------------------


def _check_pixels(width: int, height: int, limits: MediaLimits) -> None:
    if width <= 0 or height <= 0:
        raise CorruptMedia(f"invalid dimensions {width}x{height}")
    if width * height > limits.max_pixels:
        raise TooManyPixels(
            f"{width}x{height} is {width * height:,} pixels; the limit is {limits.max_pixels:,}"
        )


def _open_image(data: bytes | str, fmt: str) -> Image.Image:
    stream: Any = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        return Image.open(stream, formats=_PILLOW_FORMATS[fmt])
    except Image.DecompressionBombError as e:
        raise TooManyPixels(f"image dimensions are too large ({e})") from e
    except UnidentifiedImageError as e:
        raise CorruptMedia("the image header is damaged or not an image") from e
    except _PILLOW_ERRORS as e:
        raise CorruptMedia(f"the image cannot be read: {e}") from e


def _to_rgb(img: Image.Image) -> np.ndarray:
    if img.mode not in ("RGB", "L"):
        img = (
            img.convert("RGBA").convert("RGB")
            if "A" in img.mode or img.mode == "P"
            else (img.convert("RGB"))
        )
    elif img.mode == "L":
        img = img.convert("RGB")
    return np.ascontiguousarray(np.asarray(img, dtype=np.uint8))


def declared_size(head: bytes, fmt: str) -> tuple[int, int] | None:
    """Width and height as the header of a PNG, GIF or BMP declares them, before any decoding."""
    if fmt == "png" and len(head) >= 24 and head[12:16] == b"IHDR":
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if fmt == "gif" and len(head) >= 10:
        return int.from_bytes(head[6:8], "little"), int.from_bytes(head[8:10], "little")
    if fmt == "bmp" and len(head) >= 26 and int.from_bytes(head[14:18], "little") >= 40:
        width = int.from_bytes(head[18:22], "little", signed=True)
        height = int.from_bytes(head[22:26], "little", signed=True)
        return width, abs(height)  # a negative width is invalid: _check_pixels says so
    return None


def _decode_image(
    data: bytes | str, size: int, fmt: str, n: int, limits: MediaLimits, head: bytes = b""
) -> DecodedMedia:
    declared = declared_size(head, fmt)
    if declared is not None:
        _check_pixels(*declared, limits)  # refuse a decompression bomb before Pillow sees it
    img = _open_image(data, fmt)
    with img:
        _check_pixels(img.width, img.height, limits)
        try:
            # Counting frames reads the whole file: a truncated one fails here.
            n_frames = int(getattr(img, "n_frames", 1) or 1)
            if n_frames > 1 and getattr(img, "is_animated", False):
                return _decode_animation(img, size, fmt, n, n_frames, limits)
            upright = ImageOps.exif_transpose(img)
            rgb = _to_rgb(upright)
        except Image.DecompressionBombError as e:
            raise TooManyPixels(f"a frame is too large ({e})") from e
        except _PILLOW_ERRORS as e:
            raise CorruptMedia(f"the image data is damaged or truncated: {e}") from e
    h, w = rgb.shape[:2]
    return DecodedMedia(
        kind="image",
        container=fmt,
        codec=fmt,
        frames=[rgb],
        times_s=[0.0],
        width=w,
        height=h,
        duration_s=None,
        total_frames=1,
        rotation=0,
        byte_size=size,
    )


def _decode_animation(
    img: Image.Image, size: int, fmt: str, n: int, n_frames: int, limits: MediaLimits
) -> DecodedMedia:
    if n_frames > limits.max_animation_frames:
        raise TooLong(
            f"animation has {n_frames:,} frames; the limit is {limits.max_animation_frames:,}"
        )
    work = n_frames * img.width * img.height
    if work > limits.max_animation_pixels:
        raise TooManyPixels(
            f"animation of {n_frames:,} frames at {img.width}x{img.height} needs {work:,} "
            f"pixels decoded; the limit is {limits.max_animation_pixels:,}"
        )
    frame_ms = float(img.info.get("duration") or 100) or 100.0
    duration = n_frames * frame_ms / 1000.0
    if duration > limits.max_duration_s:
        raise TooLong(
            f"animation lasts {duration:.0f} s; the limit is {limits.max_duration_s:.0f} s"
        )
    picks = even_indices(n_frames, n)
    out: list[np.ndarray] = []
    for index in picks:
        img.seek(index)
        out.append(_to_rgb(img))
    h, w = out[0].shape[:2]
    return DecodedMedia(
        kind="video",
        container=fmt,
        codec=fmt,
        frames=out,
        times_s=[i * frame_ms / 1000.0 for i in picks],
        width=w,
        height=h,
        duration_s=duration,
        total_frames=n_frames,
        rotation=0,
        byte_size=size,
    )


def even_indices(total: int, n: int) -> list[int]:
    """``min(n, total)`` distinct indices spread evenly over ``range(total)``: bin centres."""
    if total <= n:
        return list(range(total))
    return sorted({min(total - 1, int((i + 0.5) * total / n)) for i in range(n)})


# --- video -------------------------------------------------------------------


def _open_container(data: bytes | str, fmt: str | None) -> Any:
    try:
        return av.open(
            io.BytesIO(data) if isinstance(data, bytes) else data,
            mode="r",
            format=_DEMUXERS.get(fmt or ""),
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


def _stream_duration(container: Any, stream: Any) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return float(container.duration) / av.time_base
    if stream.frames and stream.average_rate:
        return float(stream.frames / stream.average_rate)
    return None


def _keyframe_times(stream: Any) -> list[float]:
    """Keyframe times from the container's index, when it has one (mp4, mkv with cues)."""
    try:
        entries = stream.index_entries
        base = stream.time_base
        return sorted(float(e.timestamp * base) for e in entries if e.is_keyframe)
    except (AttributeError, TypeError, av.error.FFmpegError):
        return []


def _upright(frame: Any, max_pixels: int | None = None) -> np.ndarray:
    w, h = int(frame.width), int(frame.height)
    if max_pixels is not None and w * h > max_pixels:
        scale = math.sqrt(max_pixels / (w * h))
        size = {"width": max(2, int(w * scale)), "height": max(2, int(h * scale))}
        rgb = frame.to_ndarray(format="rgb24", **size)
    else:
        rgb = frame.to_ndarray(format="rgb24")
    turns = round((frame.rotation or 0) / 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, k=turns)) if turns else rgb


class _Budget:
    """The pixels one video may decode in all, across seeks."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit
        self._lock = threading.Lock()  # segments of one video decode in parallel threads

    def frames(self, decoded: Iterator[Any]) -> Iterator[Any]:
        """``decoded``, raising :class:`TooLong` once the frames add up to more than the limit."""
        for frame in decoded:
            with self._lock:
                self.left -= int(frame.width) * int(frame.height)
                left = self.left
            if left < 0:
                raise TooLong(f"sampling this video needs more than {self.limit:,} pixels decoded")
            yield frame


class _Sampler:
    """Walks one video stream to a list of target times, seeking only when it pays."""

    def __init__(
        self, container: Any, stream: Any, keyframes: list[float], budget: _Budget | None = None
    ) -> None:
        self.container = container
        self.stream = stream
        self.keyframes = keyframes
        self.budget = budget
        self.frames: Iterator[Any] | None = None
        self.position = -math.inf  # time of the last decoded frame
        # Frames more than this ahead of the position are fast-forwarded over with the
        # decoder skipping non-reference frames (B-frames nothing refers to): nothing
        # depends on them, and they are up to half of an H.264 stream. Decoding goes
        # back to every frame well before the target, so the frame picked is the same.
        # The margin covers the frames in flight in the decoder's frame threads and
        # its reordering delay (both counted in frames).
        ctx = stream.codec_context
        threads = int(getattr(ctx, "thread_count", 0) or 0) or (os.cpu_count() or 1) + 1
        rate = float(stream.average_rate or stream.guessed_rate or 25)
        self.skip_margin = max(0.2, (threads + 4) / max(rate, 1.0))
        self.skipping = False
        self.start_estimate: float | None = None
        # Frame times are absolute: a stream may start at any time (MPEG-TS often
        # hours in), and targets are counted from there.
        st = stream.start_time
        self.origin = float(st * stream.time_base) if st else 0.0
        # False once a seek found nothing to decode (an unindexed MPEG-TS can land
        # mid-GOP or past the end): from then on decoding only walks forward.
        self.seekable = True
        self.seeked = False

    def _skip_nonref(self, skip: bool) -> None:
        if skip != self.skipping:
            with contextlib.suppress(AttributeError, ValueError, TypeError):
                self.stream.codec_context.skip_frame = "NONREF" if skip else "DEFAULT"
                self.skipping = skip

    def _should_seek(self, target: float) -> bool:
        if target <= self.position:
            return True  # would need to go back
        if not self.seekable:
            return False
        if self.keyframes:
            # A seek lands on the last keyframe at or before the target: it only helps
            # when that keyframe lies ahead of where decoding already is.
            i = bisect.bisect_right(self.keyframes, target) - 1
            return i >= 0 and self.keyframes[i] > self.position + 1e-3
        return target - self.position > 2.0  # no index: seek for long jumps only

    def _restart(self, target: float | None) -> None:
        """Start decoding afresh: from the keyframe before ``target``, or from the start."""
        if target is not None:
            pts = int(target / self.stream.time_base)  # target is absolute, like the pts
            self.container.seek(pts, stream=self.stream, backward=True, any_frame=False)
        elif self.frames is not None:
            self.container.seek(0)
        self.seeked = target is not None
        self.frames = self.container.decode(self.stream)
        if self.budget is not None:
            self.frames = self.budget.frames(self.frames)
        self.position = -math.inf
        # Where decoding starts: the clip's start, or the keyframe the seek lands on
        # when the index says which (None: unknown until the first frame comes out).
        self.start_estimate = None
        if target is None:
            st = self.stream.start_time
            self.start_estimate = float(st * self.stream.time_base) if st else 0.0
        elif self.keyframes:
            i = bisect.bisect_right(self.keyframes, target) - 1
            self.start_estimate = self.keyframes[i] if i >= 0 else None

    def frame_at(self, target: float) -> Any | None:
        """The first frame whose time is at or after ``target`` (or the last one)."""
        if self.frames is None and target - self.origin < 0.5:
            self._restart(None)
        elif self.frames is None or self._should_seek(target):
            try:
                self._restart(target if self.seekable else None)
            except av.error.FFmpegError:
                self._restart(None)  # unseekable: decode from the start
        frame = self._walk(target)
        if frame is None and self.seeked:
            # The seek gave nothing decodable: walk from the start, and stop seeking.
            self.seekable = False
            self._restart(None)
            frame = self._walk(target)
        return frame

    def _walk(self, target: float) -> Any | None:
        """Decode forward to the first frame at or after ``target`` (or the last one)."""
        assert self.frames is not None
        known = self.position if self.position > -math.inf else self.start_estimate
        self._skip_nonref(known is not None and target - known > self.skip_margin)
        last = None
        for frame in self.frames:
            if frame.time is None:
                continue
            self.position = float(frame.time)
            last = frame
            if self.position >= target - 1e-4:
                return frame
            self._skip_nonref(target - self.position > self.skip_margin)
        return last


def _decode_video(
    data: bytes | str, size: int, fmt: str | None, n: int, limits: MediaLimits
) -> DecodedMedia:
    container = _open_container(data, fmt)
    with container:
        names = set((container.format.name or "").split(","))
        if not names & _VIDEO_FORMATS:
            raise UnsupportedMedia(f"the {container.format.name} format is not a supported video")
        if not container.streams.video:
            raise NoVideoStream("the file has no video stream")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        if ctx is None:
            raise UnsupportedMedia("the video codec cannot be decoded here")
        stream.thread_type = "AUTO"
        _check_pixels(ctx.width, ctx.height, limits)
        duration = _stream_duration(container, stream)
        if duration is not None and duration > limits.max_duration_s:
            raise TooLong(
                f"video lasts {duration:.0f} s; the limit is {limits.max_duration_s:.0f} s"
            )
        try:
            frames, times, rotation = _sample(container, stream, duration, n, limits, (data, fmt))
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


def _sample(
    container: Any,
    stream: Any,
    duration: float | None,
    n: int,
    limits: MediaLimits,
    reopen: tuple[bytes | str, str | None] | None = None,
) -> tuple[list[np.ndarray], list[float], int]:
    start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    budget = _Budget(limits.max_decoded_pixels)
    if duration is None or duration <= 0:
        return _sample_sequential(container, stream, n, budget, limits.max_kept_pixels)
    targets = [start + (i + 0.5) * duration / n for i in range(n)]
    keyframes = _keyframe_times(stream)
    parallel = reopen is not None and _codec(stream) in PARALLEL_CODECS
    groups = _segments(targets, keyframes, SEGMENT_WORKERS) if parallel else [targets]
    if len(groups) == 1:
        found = _sample_targets(_Sampler(container, stream, keyframes, budget), targets, limits)
    else:
        assert reopen is not None

        def segment(group: list[float]) -> list[tuple[float, int, np.ndarray]]:
            # A container of its own per further segment: one decoder state per thread.
            with _open_container(*reopen) as c:
                s = c.streams.video[0]
                s.thread_type = "AUTO"
                return _sample_targets(_Sampler(c, s, keyframes, budget), group, limits)

        sampler = _Sampler(container, stream, keyframes, budget)
        first = _segment_pool().submit(_sample_targets, sampler, groups[0], limits)
        rest = [segment(g) for g in groups[1:]]
        found = [f for part in [first.result(), *rest] for f in part]
    out: list[np.ndarray] = []
    times: list[float] = []
    rotation = 0
    seen: set[float] = set()
    for t, rot, rgb in found:
        if t in seen:
            continue  # short clip: several targets fall on one frame
        seen.add(t)
        rotation = rot
        out.append(rgb)
        times.append(t - start)
    return out, times, rotation


def _sample_targets(
    sampler: _Sampler, targets: list[float], limits: MediaLimits
) -> list[tuple[float, int, np.ndarray]]:
    """``(time, rotation, upright RGB)`` of the frame at or after each target, in order."""
    found: list[tuple[float, int, np.ndarray]] = []
    last = None
    for target in targets:
        frame = sampler.frame_at(target)
        if frame is None:
            break
        t = float(frame.time)
        if t == last:
            continue
        last = t
        found.append((t, int(frame.rotation or 0), _upright(frame, limits.max_kept_pixels)))
    return found


# Segments of one video decoded at the same time, each from its own keyframe.
SEGMENT_WORKERS = min(4, os.cpu_count() or 1)
# The decoders whose segments run side by side: those the Hypothesis runs of mutated files
# exercised that way without a crash (tests/inference/test_hostile_media.py). FFmpeg's
# MPEG-4 Part 2 decoder crashed the process (SIGSEGV) on a mutated AVI in about one decode
# in ten when two of its decoders ran at once, and never when they ran one after the
# other. Every other codec decodes in one pass until it is tested the same way.
PARALLEL_CODECS = frozenset({"h264", "vp9"})


def _codec(stream: Any) -> str:
    try:
        return str(stream.codec_context.name)
    except (AttributeError, av.error.FFmpegError):
        return ""


_SEGMENT_POOL: ThreadPoolExecutor | None = None


def _segment_pool() -> ThreadPoolExecutor:
    global _SEGMENT_POOL
    if _SEGMENT_POOL is None:
        _SEGMENT_POOL = ThreadPoolExecutor(SEGMENT_WORKERS, thread_name_prefix="fw-segment")
    return _SEGMENT_POOL


def _segments(targets: list[float], keyframes: list[float], k: int) -> list[list[float]]:
    """Split sorted ``targets`` into up to ``k`` runs that start in different keyframe intervals.

    A run starts where decoding would seek anyway (its first target's keyframe lies
    after the previous run's last target's keyframe), so no frame is decoded twice
    and each run finds exactly the frames sequential decoding finds.
    """
    if k < 2 or len(keyframes) < 2 or len(targets) < 2 * k:
        return [targets]

    def gop(t: float) -> int:
        return bisect.bisect_right(keyframes, t) - 1

    runs: list[list[float]] = []
    start = 0
    for part in range(1, k):
        cut = max(start + 1, round(part * len(targets) / k))
        while cut < len(targets) and gop(targets[cut]) <= gop(targets[cut - 1]):
            cut += 1  # move the cut to the next keyframe interval
        if cut >= len(targets):
            break
        runs.append(targets[start:cut])
        start = cut
    runs.append(targets[start:])
    return [r for r in runs if r]


def _sample_sequential(
    container: Any,
    stream: Any,
    n: int,
    budget: _Budget,
    max_pixels: int | None = None,
    cap: int = 3000,
) -> tuple[list[np.ndarray], list[float], int]:
    """Decode up to ``cap`` frames when the duration is unknown, keeping an even spread."""
    kept: list[Any] = []
    for i, frame in enumerate(budget.frames(container.decode(stream))):
        if i >= cap:
            break
        kept.append(frame)
        if len(kept) > 2 * n:
            kept = kept[::2]  # thin out, keeps the spread even as the clip goes on
    picks = [kept[i] for i in even_indices(len(kept), n)]
    frames = [_upright(f, max_pixels) for f in picks]
    times = [float(f.time or 0.0) for f in picks]
    rotation = int(picks[0].rotation or 0) if picks else 0
    return frames, times, rotation

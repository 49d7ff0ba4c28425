"""Image decoding with Pillow: JPEG, PNG, WebP, BMP and GIF; animated GIF and WebP as video.

EXIF orientation is applied. The dimensions a PNG, GIF or BMP header declares are
checked against the limits before Pillow decodes anything (a decompression bomb is
refused from its header).
"""

from __future__ import annotations

import io
import struct
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from base.errors import CorruptMedia, TooLong, TooManyPixels
from inference.media import DecodedMedia, MediaLimits, check_pixels, even_indices
from inference.sniffing import PILLOW_FORMATS

# What Pillow raises on damaged data (its plugins index and unpack short reads too).
_PILLOW_ERRORS = (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error)


def _open_image(data: bytes | str, fmt: str) -> Image.Image:
    stream: Any = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        return Image.open(stream, formats=PILLOW_FORMATS[fmt])
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


def decode_image(
    data: bytes | str, size: int, fmt: str, n: int, limits: MediaLimits, head: bytes = b""
) -> DecodedMedia:
    declared = declared_size(head, fmt)
    if declared is not None:
        check_pixels(*declared, limits)  # refuse a decompression bomb before Pillow sees it
    img = _open_image(data, fmt)
    with img:
        check_pixels(img.width, img.height, limits)
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

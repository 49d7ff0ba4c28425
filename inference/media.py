"""What the decoders share: the media source, the limits they enforce, what they return.

:func:`inference.decoder.decode` is the entry point: bytes or a path in, a few
upright RGB frames out (:class:`DecodedMedia`). :mod:`inference.sniffing` names the
format, :mod:`inference.images` and :mod:`inference.video` decode it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from base.errors import CorruptMedia, TooManyPixels

MediaSource = str | os.PathLike[str] | bytes
MediaKind = Literal["image", "video"]


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


def check_pixels(width: int, height: int, limits: MediaLimits) -> None:
    """Refuse dimensions that are invalid or over ``limits.max_pixels``."""
    if width <= 0 or height <= 0:
        raise CorruptMedia(f"invalid dimensions {width}x{height}")
    if width * height > limits.max_pixels:
        raise TooManyPixels(
            f"{width}x{height} is {width * height:,} pixels; the limit is {limits.max_pixels:,}"
        )


def even_indices(total: int, n: int) -> list[int]:
    """``min(n, total)`` distinct indices spread evenly over ``range(total)``: bin centres."""
    if total <= n:
        return list(range(total))
    return sorted({min(total - 1, int((i + 0.5) * total / n)) for i in range(n)})

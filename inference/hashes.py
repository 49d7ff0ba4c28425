"""Perceptual hashes of images: near-identical pictures (re-encoded, resized) hash alike.

The 64-bit DCT hash ("pHash"): grey 32x32, 2-D DCT, the 8x8 lowest frequencies
compared with their median. Two images are near-duplicates when few of the 64 bits
differ (:func:`hamming`); the store keeps the hash as 16 hex digits. The worker
hashes each photo the pipeline judged; like the rest of ``inference``, it knows
nothing of the queue or the store.
"""

from __future__ import annotations

import io
from functools import cache

import numpy as np
from PIL import Image, UnidentifiedImageError

_SIZE = 32
_KEEP = 8


@cache
def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    m: np.ndarray = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m


def perceptual_hash(media: bytes) -> str | None:
    """The 64-bit pHash of an image as 16 hex digits; ``None`` if it is not a readable image.

    Only call it on media the pipeline already decoded as an image (its pixel limit applies).
    """
    try:
        with Image.open(io.BytesIO(media)) as img:
            img.draft("L", (_SIZE * 4, _SIZE * 4))  # JPEG: decode at a reduced scale
            grey = img.convert("L").resize((_SIZE, _SIZE), Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    a = np.asarray(grey, dtype=np.float64)
    m = _dct_matrix(_SIZE)
    low = (m @ a @ m.T)[:_KEEP, :_KEEP].flatten()
    bits = low > np.median(low[1:])  # the DC term would dominate the median
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return f"{value:016x}"


def hamming(a: str, b: str) -> int:
    """How many bits differ between two hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()

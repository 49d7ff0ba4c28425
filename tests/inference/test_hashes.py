"""Perceptual hashes: a re-encoded, resized photo hashes alike; another photo does not."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from bench import samples
from inference.hashes import hamming, perceptual_hash


def test_near_duplicates_hash_alike_and_others_do_not() -> None:
    photo = samples.astronaut()
    original = perceptual_hash(samples.encode_image(photo, "PNG"))
    assert original is not None and len(original) == 16
    small = Image.fromarray(photo).resize((photo.shape[1] // 2, photo.shape[0] // 2))
    out = io.BytesIO()
    small.save(out, "JPEG", quality=60)
    resaved = perceptual_hash(out.getvalue())
    assert resaved is not None and hamming(original, resaved) <= 6
    other = perceptual_hash(samples.encode_image(np.ascontiguousarray(photo[:, ::-1]), "PNG"))
    assert other is not None and hamming(original, other) > 12


def test_what_is_not_an_image_has_no_hash() -> None:
    assert perceptual_hash(b"") is None
    assert perceptual_hash(b"%PDF-1.4 not a picture") is None
    assert hamming("ff", "0f") == 4

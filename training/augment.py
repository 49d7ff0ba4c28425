"""Training-time augmentation: the classifier's crop cut from a wider stored crop, then damage.

The stored crops have a wider margin than the classifier uses; :func:`model_crop`
cuts the classifier's region (the pipeline's margin) with a little random scale
and shift, at the model's input size. :func:`degrade` then applies what chat
media goes through: colour changes, blur, noise and JPEG re-compression.

One :class:`AugmentParams` is drawn per sequence (and shared by a real face and
its self-blended fake), so the only difference the network can use is the blend.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class AugmentParams:
    """One draw of every augmentation; ``None`` means that step is off."""

    flip: bool
    scale: float  # of the crop region (1 = the pipeline's region)
    shift: tuple[float, float]  # of the crop region, fraction of its size
    brightness: float | None
    contrast: float | None
    saturation: float | None
    blur_sigma: float | None
    noise_std: float | None
    jpeg_quality: int | None
    # Shortcut guard: both classes are sometimes shrunk by this factor and scaled back, so
    # the sharpness a source's resolution gives cannot tell real from fake.
    rescale: float | None = None


NO_AUGMENT = AugmentParams(False, 1.0, (0.0, 0.0), None, None, None, None, None, None)


DAMAGE = ("full", "gentle", "none")


def sample_augment(rng: np.random.Generator, *, damage: str = "full") -> AugmentParams:
    """Draw augmentations with the probabilities used for training.

    ``damage`` says how often the image is degraded (blur, noise, re-compression,
    down-and-up rescale): ``full`` as the shortcut guards want, ``gentle`` (the
    curriculum's first epochs) less often and less hard so the blend's traces survive,
    ``none`` never (geometry, flips and colour only: for labelled photos whose real and
    fake files went through one pipeline, where the fine traces are the evidence).
    """
    if damage not in DAMAGE:
        raise ValueError(f"unknown damage level {damage!r} (known: {', '.join(DAMAGE)})")
    gentle = damage == "gentle"
    off = damage == "none"

    def maybe(p: float, low: float, high: float) -> float | None:
        return float(rng.uniform(low, high)) if not off and rng.random() < p else None

    colour = rng.random() < 0.5
    return AugmentParams(
        flip=bool(rng.random() < 0.5),
        scale=float(rng.uniform(0.92, 1.08)),
        shift=(float(rng.uniform(-0.04, 0.04)), float(rng.uniform(-0.04, 0.04))),
        brightness=float(rng.uniform(-0.1, 0.1)) if colour else None,
        contrast=float(rng.uniform(0.8, 1.2)) if colour else None,
        saturation=float(rng.uniform(0.7, 1.3)) if colour else None,
        blur_sigma=maybe(0.05 if gentle else 0.15, 0.3, 1.2),
        noise_std=maybe(0.05 if gentle else 0.15, 1.0, 6.0),
        jpeg_quality=(
            int(rng.integers(70 if gentle else 40, 96))
            if not off and rng.random() < (0.25 if gentle else 0.5)
            else None
        ),
        rescale=maybe(0.15 if gentle else 0.35, 1.3, 3.0),
    )


def model_crop(
    image: np.ndarray, *, fraction: float, size: int, params: AugmentParams = NO_AUGMENT
) -> np.ndarray:
    """Cut the centred square of side ``fraction`` of the stored crop (jittered), at ``size``.

    ``fraction`` maps the stored margin to the pipeline's: ``(1 + 2 m_model) / (1 + 2 m_stored)``.
    """
    h, w = image.shape[:2]
    side = fraction * params.scale * w
    cx = w / 2 + params.shift[0] * side
    cy = h / 2 + params.shift[1] * side
    k = size / side
    m = np.array([[k, 0.0, size / 2 - k * cx], [0.0, k, size / 2 - k * cy]], np.float32)
    # A shrinking warp aliases; area-resize first when the region is much larger.
    interp = cv2.INTER_AREA if k < 0.8 else cv2.INTER_LINEAR
    if interp == cv2.INTER_AREA:
        x1, y1 = round(cx - side / 2), round(cy - side / 2)
        pad = max(0, -x1, -y1, x1 + round(side) - w, y1 + round(side) - h)
        src = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        region = src[y1 + pad : y1 + pad + round(side), x1 + pad : x1 + pad + round(side)]
        out = cv2.resize(region, (size, size), interpolation=cv2.INTER_AREA)
    else:
        out = cv2.warpAffine(
            image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
    return out[:, ::-1].copy() if params.flip else out


def degrade(image: np.ndarray, params: AugmentParams, rng: np.random.Generator) -> np.ndarray:
    """Down-and-up rescale, colour change, blur, noise and JPEG re-compression, as drawn."""
    x: np.ndarray = image.astype(np.float32)
    if params.rescale is not None:
        h, w = x.shape[:2]
        small = (max(8, round(w / params.rescale)), max(8, round(h / params.rescale)))
        x = cv2.resize(cv2.resize(x, small, interpolation=cv2.INTER_AREA), (w, h))
    if params.contrast is not None:
        mean = float(x.mean())
        x = (x - mean) * params.contrast + mean
    if params.brightness is not None:
        x = x + params.brightness * 255.0
    if params.saturation is not None:
        grey = x.mean(axis=2, keepdims=True)
        x = grey + (x - grey) * params.saturation
    if params.blur_sigma is not None:
        x = cv2.GaussianBlur(x, (0, 0), params.blur_sigma)
    if params.noise_std is not None:
        x = x + rng.normal(0.0, params.noise_std, size=x.shape).astype(np.float32)
    out: np.ndarray = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    if params.jpeg_quality is not None:
        ok, buf = cv2.imencode(
            ".jpg", out[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, params.jpeg_quality]
        )
        decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else None
        if decoded is not None:
            out = decoded[:, :, ::-1]
    return np.ascontiguousarray(out)

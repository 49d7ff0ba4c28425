"""Self-blended images (Shiohara & Yamasaki, CVPR 2022): pseudo-fakes made from one real face.

A face is blended with a slightly altered copy of itself: one copy gets a colour,
brightness and sharpness jitter, the *source* copy is also shifted and scaled a
little, and the source is pasted onto the *target* through a soft mask around the
face. What the network learns to see is what every face swap leaves behind: a
blending boundary, and statistics that differ inside and outside it.

We only have MTCNN's 5 landmarks (eyes, nose, mouth corners), not the 68/81 of
the paper, so the mask is an ellipse or a convex hull built around them (sized
from the eye distance and the eye-mouth distance), elastically deformed and
blurred twice as in the paper's ``dynamic_blend``, then scaled by a random blend
ratio.

Two additions make the fakes look more like what people post:

* **face parts**: the mask may cover only some of the left eye, right eye, nose and
  mouth (ellipses placed from the landmarks), the regions a Photoshop composite
  replaces; the labelled composites' file names say which parts were swapped
  (``mid_26_1101``), and :func:`parts_mask` gives their approximate mask too;
* **another identity**: the source may be a *different* person's face, aligned to the
  target by a similarity transform of the 5 landmarks and colour-matched to it inside
  the mask (per-channel mean and spread), which is what a face or part swap is.

Every random choice lives in :class:`BlendParams`, drawn once per sequence, so
all frames of one video face get the same manipulation (the LSTM sees a
temporally coherent fake); only the landmarks change from frame to frame.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

Point = tuple[float, float]
Parts = tuple[bool, bool, bool, bool]  # left eye, right eye, nose, mouth

_BLEND_RATIOS = (0.25, 0.5, 0.75, 1.0, 1.0, 1.0)  # the paper's list: mostly opaque
_STRONG_RATIOS = (0.75, 1.0, 1.0)


@dataclass(frozen=True)
class BlendParams:
    """All random choices of one self-blend; sizes are fractions of the crop size."""

    jitter_target: bool  # which copy gets the colour jitter (the paper picks either)
    rgb_shift: tuple[float, float, float]  # added per channel, 0-255 units
    brightness: float  # added, fraction of 255
    contrast: float  # factor around the mean
    saturation: float  # factor on the distance from grey
    degrade: str  # "downscale" or "sharpen"
    degrade_amount: float  # downscale factor (>1) or sharpening strength
    scale: float  # of the source copy, around the face centre
    shift: tuple[float, float]  # of the source copy
    mask_kind: str  # "ellipse", "hull" or "parts"
    mask_size: tuple[float, float]  # across and along the face, relative to the landmarks
    mask_centre: float  # 0 = at the eyes, 1 = at the mouth
    elastic_seed: int
    elastic_amount: float
    erode: float  # first blur's kernel (then everything below 1 is cut: an erosion)
    feather: float  # second blur's kernel
    ratio: float  # blend ratio: the mask's peak
    parts: Parts = (True, True, True, True)  # with mask_kind "parts": which parts
    donor: bool = False  # the source is another identity's face (given to self_blend)


def sample_params(rng: np.random.Generator, *, strong: bool = False) -> BlendParams:
    """Draw one manipulation, with ranges adapted from the paper's code to 5 landmarks.

    ``strong`` widens the jitter and keeps the blend mostly opaque: an easier task
    for the first epochs of a network trained from scratch (a curriculum).
    """
    k = 1.5 if strong else 1.0
    ratios = _STRONG_RATIOS if strong else _BLEND_RATIOS
    scale = 0.95 ** (1.6 if strong else 1.0)
    return BlendParams(
        jitter_target=bool(rng.random() < 0.5),
        rgb_shift=(
            float(rng.uniform(-20, 20) * k),
            float(rng.uniform(-20, 20) * k),
            float(rng.uniform(-20, 20) * k),
        ),
        brightness=float(rng.uniform(-0.1, 0.1) * k),
        contrast=float(1 + rng.uniform(-0.1, 0.1) * k),
        saturation=float(1 + rng.uniform(-0.15, 0.15) * k),
        degrade="downscale" if rng.random() < 0.5 else "sharpen",
        degrade_amount=float(rng.uniform(1.3, 2.5) * (1.2 if strong else 1.0)),
        scale=float(rng.uniform(scale, 1 / scale)),
        shift=(
            float(rng.uniform(-0.03, 0.03) * k),
            float(rng.uniform(-0.015, 0.015) * k),
        ),
        mask_kind=str(rng.choice(["ellipse", "hull", "parts"], p=[0.3, 0.3, 0.4])),
        mask_size=(float(rng.uniform(0.8, 1.25)), float(rng.uniform(0.85, 1.3))),
        mask_centre=float(rng.uniform(0.35, 0.65)),
        elastic_seed=int(rng.integers(0, 2**31 - 1)),
        elastic_amount=float(rng.uniform(0.0, 0.03)),
        erode=float(rng.uniform(0.02, 0.1)),
        feather=float(rng.uniform(0.02, 0.12)),
        ratio=float(ratios[int(rng.integers(0, len(ratios)))]),
        parts=_some_parts(rng),
        donor=bool(rng.random() < 0.4),
    )


def _some_parts(rng: np.random.Generator) -> Parts:
    """A non-empty random subset of the four parts."""
    while True:
        bits = tuple(bool(b) for b in rng.random(4) < 0.5)
        if any(bits):
            return bits[0], bits[1], bits[2], bits[3]


_PARTS_CODE = re.compile(r"(?:easy|mid|hard)_\d+_([01]{4})")


def parts_from_name(name: str) -> Parts | None:
    """The swapped parts a ciplab composite's file name records (``mid_26_1101``), if any."""
    match = _PARTS_CODE.search(name)
    if not match:
        return None
    b = [c == "1" for c in match[1]]
    return b[0], b[1], b[2], b[3]


@dataclass(frozen=True)
class Blended:
    """One blended frame: ``fake`` equals ``real`` wherever ``mask`` is 0."""

    real: np.ndarray  # the target, uint8 RGB (the input itself unless it got the jitter)
    fake: np.ndarray  # uint8 RGB
    mask: np.ndarray  # float32 (H, W) in [0, 1]


# --- the two copies ----------------------------------------------------------------------


def colour_jitter(image: np.ndarray, p: BlendParams) -> np.ndarray:
    """Colour, brightness, contrast and saturation change, then a blur or a sharpening."""
    x: np.ndarray = image.astype(np.float32) + np.asarray(p.rgb_shift, np.float32)
    mean = float(x.mean())
    x = (x - mean) * p.contrast + mean + p.brightness * 255.0
    grey = x.mean(axis=2, keepdims=True)
    x = grey + (x - grey) * p.saturation
    x = np.clip(x, 0, 255)
    h, w = x.shape[:2]
    if p.degrade == "downscale":
        small = cv2.resize(
            x,
            (max(1, round(w / p.degrade_amount)), max(1, round(h / p.degrade_amount))),
            interpolation=cv2.INTER_AREA,
        )
        x = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    else:
        soft = cv2.GaussianBlur(x, (0, 0), 1.0)
        x = x + (p.degrade_amount - 1.0) * 0.5 * (x - soft)
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def face_frame(landmarks: Sequence[Point]) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Eye centre, mouth centre, unit 'right' vector and eye distance from 5 landmarks."""
    pts = np.asarray(landmarks, np.float32)
    eyes, mouth = (pts[0] + pts[1]) / 2, (pts[3] + pts[4]) / 2
    across = pts[1] - pts[0]
    dist = float(np.hypot(*across))
    right = across / dist if dist > 1e-3 else np.array([1.0, 0.0], np.float32)
    return eyes, mouth, right, dist


def move_source(image: np.ndarray, landmarks: Sequence[Point], p: BlendParams) -> np.ndarray:
    """Scale the source copy around the face centre and shift it a little."""
    h, w = image.shape[:2]
    eyes, mouth, _, _ = face_frame(landmarks)
    cx, cy = (eyes + mouth) / 2
    m = np.array(
        [
            [p.scale, 0.0, (1 - p.scale) * cx + p.shift[0] * w],
            [0.0, p.scale, (1 - p.scale) * cy + p.shift[1] * h],
        ],
        np.float32,
    )
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


# --- the mask ----------------------------------------------------------------------------


def face_mask(shape: tuple[int, int], landmarks: Sequence[Point], p: BlendParams) -> np.ndarray:
    """The hard face region (0/1 float32) around the landmarks, before deformation."""
    h, w = shape
    eyes, mouth, right, dist = face_frame(landmarks)
    down = mouth - eyes
    height = float(np.hypot(*down))
    if dist < 2 or height < 2:  # degenerate landmarks: a central ellipse
        eyes = np.array([w * 0.5, h * 0.42], np.float32)
        mouth = np.array([w * 0.5, h * 0.62], np.float32)
        right, dist, height = np.array([1.0, 0.0], np.float32), w * 0.25, h * 0.2
        down = mouth - eyes
    if p.mask_kind == "parts":
        return parts_mask(shape, landmarks, p.parts)
    up = -down / height
    mask = np.zeros((h, w), np.uint8)
    centre = eyes + down * p.mask_centre
    if p.mask_kind == "ellipse":
        axes = (max(1, round(dist * p.mask_size[0])), max(1, round(height * 1.3 * p.mask_size[1])))
        angle = float(np.degrees(np.arctan2(right[1], right[0])))
        cv2.ellipse(mask, (round(centre[0]), round(centre[1])), axes, angle, 0, 360, 1, -1)
    else:
        pts = np.asarray(landmarks, np.float32)
        brow = up * height * 0.55
        chin = -up * height * 0.75
        extra = np.stack([pts[0] + brow, pts[1] + brow, mouth + chin])
        hull_pts = np.concatenate([pts, extra])
        mid = hull_pts.mean(axis=0)
        across = np.outer((hull_pts - mid) @ right, right) * p.mask_size[0] * 1.6
        along = np.outer((hull_pts - mid) @ up, up) * p.mask_size[1]
        hull = cv2.convexHull(np.rint(mid + across + along).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 1)
    return mask.astype(np.float32)


def parts_mask(shape: tuple[int, int], landmarks: Sequence[Point], parts: Parts) -> np.ndarray:
    """The hard region (0/1 float32) of the chosen parts: ellipses placed from the landmarks.

    Eyes include the brow, the nose runs from between the eyes to below its tip, the
    mouth spans the corners with some lip above and below.
    """
    h, w = shape
    mask = np.zeros((h, w), np.uint8)
    pts = np.asarray(landmarks, np.float32)
    eyes, mouth, right, dist = face_frame(landmarks)
    if dist < 2:
        return mask.astype(np.float32)
    down = np.array([-right[1], right[0]], np.float32)  # perpendicular to the eye line
    angle = float(np.degrees(np.arctan2(right[1], right[0])))
    nose = pts[2]
    regions: list[tuple[np.ndarray, tuple[float, float]]] = []
    if parts[0]:
        regions.append((pts[0] - down * 0.12 * dist, (0.42 * dist, 0.3 * dist)))
    if parts[1]:
        regions.append((pts[1] - down * 0.12 * dist, (0.42 * dist, 0.3 * dist)))
    if parts[2]:
        length = float(np.hypot(*(nose - eyes)))
        regions.append(
            ((eyes + nose) / 2 + down * 0.1 * dist, (0.28 * dist, 0.5 * length + 0.2 * dist))
        )
    if parts[3]:
        width = float(np.hypot(*(pts[4] - pts[3])))
        regions.append((mouth, (0.5 * width + 0.15 * dist, 0.28 * dist)))
    for centre, (a, b) in regions:
        axes = (max(1, round(a)), max(1, round(b)))
        cv2.ellipse(mask, (round(centre[0]), round(centre[1])), axes, angle, 0, 360, 1, -1)
    return mask.astype(np.float32)


def elastic(mask: np.ndarray, p: BlendParams) -> np.ndarray:
    """Deform the mask with a smooth random field (same field for every frame of a sequence)."""
    if p.elastic_amount <= 0:
        return mask
    h, w = mask.shape
    rng = np.random.default_rng(p.elastic_seed)
    coarse = rng.uniform(-1, 1, size=(2, 5, 5)).astype(np.float32)
    dx = cv2.resize(coarse[0], (w, h), interpolation=cv2.INTER_CUBIC) * p.elastic_amount * w
    dy = cv2.resize(coarse[1], (w, h), interpolation=cv2.INTER_CUBIC) * p.elastic_amount * h
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(mask, gx + dx, gy + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def _odd(size: float) -> int:
    k = max(3, round(size))
    return k if k % 2 else k + 1


def soften(mask: np.ndarray, p: BlendParams) -> np.ndarray:
    """The paper's blend mask: blur, cut below 1 (erode), blur again, normalise, times ratio."""
    h, w = mask.shape
    # Face parts are small: erode and feather them in proportion, or they vanish.
    side = float(max(h, w)) * (0.3 if p.mask_kind == "parts" else 1.0)
    k1 = _odd(p.erode * side)
    soft: np.ndarray = cv2.GaussianBlur(mask, (k1, k1), 0)
    peak = float(soft.max())
    if peak <= 0:
        return np.zeros_like(mask)
    soft = soft / peak
    eroded: np.ndarray = np.where(soft >= 1.0 - 1e-6, 1.0, 0.0).astype(np.float32)
    if not eroded.any():  # a mask thinner than the kernel: keep the first blur
        eroded = soft
    k2 = _odd(p.feather * side)
    soft = cv2.GaussianBlur(eroded, (k2, k2), k2 / 3)
    soft = soft / max(float(soft.max()), 1e-6)
    out: np.ndarray = np.clip(soft * p.ratio, 0.0, 1.0).astype(np.float32)
    return out


# --- blending ----------------------------------------------------------------------------


Donor = tuple[np.ndarray, Sequence[Point]]  # another face's crop and its landmarks


def align_donor(donor: Donor, landmarks: Sequence[Point], shape: tuple[int, int]) -> np.ndarray:
    """The donor face warped onto the target's landmarks (similarity transform)."""
    image, marks = donor
    src = np.asarray(marks, np.float32)
    dst = np.asarray(landmarks, np.float32)
    m, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
    if m is None:  # degenerate landmarks: scale the whole crop instead
        m = np.array(
            [[shape[1] / image.shape[1], 0, 0], [0, shape[0] / image.shape[0], 0]], np.float32
        )
    return cv2.warpAffine(
        image, m, (shape[1], shape[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )


def match_colour(source: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``source`` with the per-channel mean and spread of ``target`` inside ``mask``."""
    inside = mask > 0.5
    if int(inside.sum()) < 16:
        return source
    s = source.astype(np.float32)
    t = target.astype(np.float32)
    s_in, t_in = s[inside], t[inside]
    scale = (t_in.std(axis=0) + 1.0) / (s_in.std(axis=0) + 1.0)
    out = (s - s_in.mean(axis=0)) * np.clip(scale, 0.5, 2.0) + t_in.mean(axis=0)
    result: np.ndarray = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return result


def self_blend(
    image: np.ndarray,
    landmarks: Sequence[Point],
    params: BlendParams,
    donor: Donor | None = None,
) -> Blended:
    """Blend a face with an altered copy of itself, or with ``donor`` when given.

    Args:
        image: RGB uint8 crop (H, W, 3).
        landmarks: the 5 MTCNN landmarks in crop pixels.
        params: from :func:`sample_params`; the same for every frame of a sequence.
        donor: another identity's crop and landmarks (when ``params.donor``): it is aligned
            to this face and colour-matched to it inside the mask.

    Returns:
        The target (the real counterpart), the blended fake and the mask.
    """
    target = image
    mask = soften(elastic(face_mask(image.shape[:2], landmarks, params), params), params)
    if donor is not None:
        source = match_colour(align_donor(donor, landmarks, image.shape[:2]), image, mask)
    else:
        source = image.copy()
    if params.jitter_target:
        target = colour_jitter(image, params)
    elif donor is None or params.degrade == "downscale":
        source = colour_jitter(source, params)
    source = move_source(source, landmarks, params)
    m = mask[:, :, None]
    fake = m * source.astype(np.float32) + (1.0 - m) * target.astype(np.float32)
    fake_u8 = np.clip(np.rint(fake), 0, 255).astype(np.uint8)
    # Where the mask is exactly 0 the arithmetic gives the target back bit for bit.
    return Blended(real=target, fake=fake_u8, mask=mask)


def blend_sequence(
    frames: Sequence[np.ndarray],
    landmarks: Sequence[Sequence[Point]],
    params: BlendParams,
    donor: Donor | None = None,
) -> list[Blended]:
    """Blend every frame of one face sequence with the same parameters (and donor)."""
    return [self_blend(f, lm, params, donor) for f, lm in zip(frames, landmarks, strict=True)]


def composite_mask(shape: tuple[int, int], landmarks: Sequence[Point], parts: Parts) -> np.ndarray:
    """The approximate soft mask of a labelled composite whose swapped ``parts`` are known."""
    hard = parts_mask(shape, landmarks, parts)
    k = _odd(0.06 * max(shape))
    soft: np.ndarray = cv2.GaussianBlur(hard, (k, k), 0)
    return np.clip(soft / max(float(soft.max()), 1e-6), 0.0, 1.0).astype(np.float32)

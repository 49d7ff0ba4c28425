"""Make ``import torchvision`` work on a CPU-only torch with a CUDA torchvision wheel.

The torchvision wheel that matches torch 2.13 here is a CUDA build: on a CPU
torch its compiled ops (``torchvision._C``) cannot load, and importing
torchvision then fails with ``operator torchvision::nms does not exist``.
facenet-pytorch needs only ``batched_nms``, so when (and only when) the compiled
ops cannot load, :func:`ensure_torchvision` defines ``torchvision::nms`` (and
``qnms``, which torchvision's meta registrations also expect) with a pure-torch
CPU kernel. Where the compiled ops load (GPU machines, matching CPU wheels),
it changes nothing.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path
from typing import Any

import torch

log = logging.getLogger(__name__)

_fallback_library: torch.library.Library | None = None


def pure_torch_nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression, as torchvision's ``nms`` defines it.

    Args:
        boxes: ``(N, 4)`` boxes as ``x1, y1, x2, y2``.
        scores: ``(N,)`` scores.
        iou_threshold: boxes overlapping a kept box by more than this are dropped.

    Returns:
        int64 indices of the kept boxes, by decreasing score.
    """
    if boxes.numel() == 0:
        return torch.empty(0, dtype=torch.int64, device=boxes.device)
    boxes = boxes.float()
    x1, y1, x2, y2 = boxes.unbind(1)
    areas = (x2 - x1).clamp(min=0) * (y2 - y1).clamp(min=0)
    order = scores.argsort(descending=True, stable=True)
    # Pairwise IoU once, then one pass over the boxes in score order.
    xx1 = torch.maximum(x1[:, None], x1[None, :])
    yy1 = torch.maximum(y1[:, None], y1[None, :])
    xx2 = torch.minimum(x2[:, None], x2[None, :])
    yy2 = torch.minimum(y2[:, None], y2[None, :])
    inter = (xx2 - xx1).clamp(min=0) * (yy2 - yy1).clamp(min=0)
    iou = inter / (areas[:, None] + areas[None, :] - inter).clamp(min=1e-12)
    suppressed = torch.zeros(boxes.shape[0], dtype=torch.bool)
    over = (iou > iou_threshold).cpu()
    keep: list[int] = []
    for i in order.tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= over[i]
    return torch.tensor(keep, dtype=torch.int64, device=boxes.device)


def _compiled_ops_load() -> bool:
    spec = importlib.util.find_spec("torchvision")
    if spec is None or spec.origin is None:
        return True  # no torchvision at all: nothing to repair
    folder = Path(spec.origin).parent
    candidates = sorted(folder.glob("_C*.so")) + sorted(folder.glob("_C*.pyd"))
    if not candidates:
        return False
    try:
        torch.ops.load_library(str(candidates[0]))
    except (OSError, RuntimeError) as e:
        log.debug("torchvision compiled ops do not load here: %s", e)
        return False
    return True


def _register_fallback() -> None:
    global _fallback_library
    if _fallback_library is not None:
        return
    lib = torch.library.Library("torchvision", "DEF")
    lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.impl("nms", pure_torch_nms, "CPU")
    lib.impl("qnms", pure_torch_nms, "CPU")
    _fallback_library = lib


def fallback_active() -> bool:
    """Whether this process runs torchvision on the pure-torch ``nms``."""
    return _fallback_library is not None


def ensure_torchvision() -> Any:
    """Import torchvision, registering the pure-torch ops first if its own cannot load.

    Returns:
        The ``torchvision`` module.
    """
    if "torchvision" in sys.modules and (
        fallback_active() or getattr(sys.modules["torchvision"], "ops", None) is not None
    ):
        return sys.modules["torchvision"]
    if not _compiled_ops_load():
        _register_fallback()
    import torchvision
    import torchvision.ops.boxes as boxes

    if fallback_active():
        # torchvision refuses to call its ops when its own library did not load;
        # ours are registered under the same names, so let the call through.
        boxes._assert_has_ops = lambda: None  # type: ignore[attr-defined]
        log.info("torchvision compiled ops unavailable: using the pure-torch nms")
    return torchvision

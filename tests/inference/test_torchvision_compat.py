"""The pure-torch nms stand-in: correct, used only when torchvision's own ops cannot load."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import torch

from inference.torchvision_compat import ensure_torchvision, pure_torch_nms


def reference_nms(boxes: torch.Tensor, scores: torch.Tensor, thr: float) -> list[int]:
    """Textbook greedy NMS, one box at a time."""
    order = sorted(range(len(scores)), key=lambda i: -float(scores[i]))
    keep: list[int] = []
    for i in order:
        ok = True
        for j in keep:
            a, b = boxes[i], boxes[j]
            ix = max(0.0, float(min(a[2], b[2]) - max(a[0], b[0])))
            iy = max(0.0, float(min(a[3], b[3]) - max(a[1], b[1])))
            inter = ix * iy
            union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - inter
            if union > 0 and inter / union > thr:
                ok = False
                break
        if ok:
            keep.append(i)
    return keep


def test_pure_nms_matches_reference() -> None:
    gen = torch.Generator().manual_seed(0)
    for n in (0, 1, 5, 60):
        xy = torch.rand(n, 2, generator=gen) * 100
        wh = torch.rand(n, 2, generator=gen) * 40 + 1
        boxes = torch.cat([xy, xy + wh], dim=1)
        scores = torch.rand(n, generator=gen)
        for thr in (0.3, 0.5, 0.7):
            assert pure_torch_nms(boxes, scores, thr).tolist() == reference_nms(boxes, scores, thr)


def test_torchvision_imports_and_batched_nms_works() -> None:
    tv = ensure_torchvision()
    from torchvision.ops import batched_nms

    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60.0]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    assert batched_nms(boxes, scores, torch.tensor([0, 0, 0]), 0.5).tolist() == [0, 2]
    # different groups never suppress each other
    assert batched_nms(boxes, scores, torch.tensor([0, 1, 0]), 0.5).tolist() == [0, 1, 2]
    assert tv.__version__


def test_inert_when_compiled_ops_load() -> None:
    """Where torchvision's ops load, the step registers nothing and patches nothing."""
    script = textwrap.dedent("""
        import torch
        import inference.torchvision_compat as compat
        # Stand in for torchvision's compiled library having registered its ops.
        lib = torch.library.Library("torchvision", "DEF")
        lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        compat._compiled_ops_load = lambda: True
        compat.ensure_torchvision()
        import torchvision.ops.boxes as boxes
        assert not compat.fallback_active()
        assert boxes._assert_has_ops.__module__ == "torchvision.extension"
        print("inert")
    """)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "inert" in out.stdout

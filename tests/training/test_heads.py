"""The training-only blend-mask heads: see the trunk, skip unknown masks, stay out of export."""

from __future__ import annotations

import torch

from inference.model import build_model
from inference.weights import SMALL_CONFIG
from training.dataset import UNKNOWN_MASK
from training.heads import MaskHeads


def test_mask_loss_trains_the_trunk_and_skips_unknown_masks() -> None:
    torch.manual_seed(0)
    model = build_model(SMALL_CONFIG).train()
    heads = MaskHeads(model)
    x = torch.randn(3, 1, 3, 112, 112)
    masks = torch.zeros(3, 112, 112)
    masks[1, 30:80, 30:80] = 1.0
    masks[2] = UNKNOWN_MASK
    model(x)
    loss = heads.loss(masks)
    assert torch.isfinite(loss) and float(loss.detach()) > 0
    loss.backward()
    conv1 = model.model[0].weight.grad
    assert conv1 is not None and float(conv1.abs().sum()) > 0
    assert not heads.features  # consumed
    # Only unknown masks: no loss, no error.
    model(x[2:])
    assert float(heads.loss(masks[2:])) == 0.0
    # The exported state is the model's own: no head weights in it.
    assert not any(k.startswith("heads") for k in model.state_dict())


def test_no_features_kept_without_grad() -> None:
    model = build_model(SMALL_CONFIG).eval()
    heads = MaskHeads(model)
    with torch.inference_mode():
        model(torch.randn(1, 1, 3, 112, 112))
    assert not heads.features

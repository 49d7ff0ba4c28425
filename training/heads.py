"""Training-only dense supervision: where was the face blended?

A self-blended fake comes with its blending mask. Small 1x1-convolution heads on
two intermediate stages of the ResNeXt trunk predict that mask (zero for a real
face), as in Face X-ray (Li et al., CVPR 2020). The per-pixel targets give the
trunk far more signal per sample than one real/fake label, which matters when
training from scratch on a CPU budget. The heads are not part of the shipped
model: only the ResNeXt-LSTM's own state is exported.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from inference.model import ResNeXtLSTM
from training.dataset import UNKNOWN_MASK

# Trunk positions (conv1, bn1, relu, maxpool, layer1..4): layer2 and layer3.
STAGES = (5, 6)


class MaskHeads(nn.Module):
    """Hooks on trunk stages and one mask-logit head per stage."""

    def __init__(self, model: ResNeXtLSTM, stages: tuple[int, ...] = STAGES) -> None:
        super().__init__()
        self.stages = stages
        self.features: dict[int, torch.Tensor] = {}
        heads = {}
        for i in stages:
            stage: Any = model.model[i]
            channels = int(stage[-1].bn3.num_features)
            heads[str(i)] = nn.Conv2d(channels, 1, kernel_size=1)
            stage.register_forward_hook(self._keeper(i))
        self.heads = nn.ModuleDict(heads)

    def _keeper(self, index: int) -> Any:
        def keep(_module: nn.Module, _inputs: Any, output: torch.Tensor) -> None:
            if torch.is_grad_enabled():  # only while training: validation keeps nothing
                self.features[index] = output

        return keep

    def loss(self, masks: torch.Tensor) -> torch.Tensor:
        """Mean BCE of every head against ``masks`` ``(N, S, S)``; unknown masks are skipped.

        Call right after the model's forward pass on the same ``N`` crops.
        """
        known = masks.flatten(1)[:, 0] != UNKNOWN_MASK
        total = masks.new_zeros(())
        if not bool(known.any()):
            self.features.clear()
            return total
        target = masks[known].clamp(min=0.0).unsqueeze(1)
        for i in self.stages:
            feats = self.features.pop(i)[known]
            logits = self.heads[str(i)](feats).float()
            small = nn.functional.adaptive_avg_pool2d(target, logits.shape[-2:])
            total = total + nn.functional.binary_cross_entropy_with_logits(logits, small)
        return total / len(self.stages)


def mask_map_loss(logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """BCE of a model's own blend-map logits ``(N, 1, h, w)`` against ``masks`` ``(N, S, S)``.

    Masks are average-pooled to the map's size; unknown masks (:data:`UNKNOWN_MASK`) are
    skipped. Zero when no mask in the batch is known.
    """
    known = masks.flatten(1)[:, 0] != UNKNOWN_MASK
    if not bool(known.any()):
        return masks.new_zeros(())
    target = masks[known].clamp(min=0.0).unsqueeze(1)
    small = nn.functional.adaptive_avg_pool2d(target, (logits.shape[-2], logits.shape[-1]))
    return nn.functional.binary_cross_entropy_with_logits(logits[known].float(), small)

"""Several Lite models that see the same crops and answer as one.

Two members fine-tuned from the same ImageNet encoder by different recipes (one on
self-blended images with the shortcut guards, one on the labelled composites alone)
make different mistakes; the mean of their logits ranks photos better than either.
They ship as one weights file (keys ``members.<i>.…``) with one manifest, so the
pipeline, calibration and audit log see one model with one id.

The ensemble has the single model's interface: :meth:`forward_features` returns the
members' pooled features side by side, :meth:`forward_head` splits them again and
averages the members' logits, :meth:`forward_maps` averages their blend maps.
"""

from __future__ import annotations

from dataclasses import replace
from typing import cast

import torch
from torch import nn

from inference.lite import LiteLSTM, lite_spec
from inference.model import ModelConfig


class LiteEnsemble(nn.Module):
    """``config.members`` :class:`LiteLSTM` models of one backbone; logits averaged."""

    def __init__(self, config: ModelConfig, *, pretrained: bool = False) -> None:
        super().__init__()
        if config.members < 2:
            raise ValueError(f"an ensemble needs two members or more, not {config.members}")
        self.config = config
        self.width = lite_spec(config.backbone).features
        single = replace(config, members=1)
        self.members = nn.ModuleList(
            LiteLSTM(single, pretrained=pretrained) for _ in range(config.members)
        )

    def _models(self) -> list[LiteLSTM]:
        return [cast(LiteLSTM, m) for m in self.members]

    def forward_maps(self, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(N, 3, H, W)`` -> features ``(N, members x width)``, mean blend-map logits."""
        outs = [m.forward_maps(crops) for m in self._models()]
        features = torch.cat([f for f, _ in outs], dim=-1)
        return features, torch.stack([maps for _, maps in outs]).mean(dim=0)

    def forward_features(self, crops: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` normalised crops -> ``(N, members x width)`` pooled features."""
        return torch.cat([m.forward_features(crops) for m in self._models()], dim=-1)

    def forward_head(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, T, members x width)`` -> mean sequence logits ``(B, 2)``, frame logits."""
        parts = features.split(self.width, dim=-1)
        outs = [m.forward_head(part) for m, part in zip(self._models(), parts, strict=True)]
        logits = torch.stack([s for s, _ in outs]).mean(dim=0)
        return logits, torch.stack([f for _, f in outs]).mean(dim=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, 3, H, W)`` -> logits ``(B, 2)``; index 0 is FAKE."""
        b, t = x.shape[:2]
        features = self.forward_features(x.reshape(b * t, *x.shape[2:]))
        logits, _ = self.forward_head(features.reshape(b, t, -1))
        return logits


def combine(members: list[LiteLSTM]) -> LiteEnsemble:
    """One ensemble holding copies of ``members`` (one backbone, one head size)."""
    configs = {replace(m.config, drop_path=0.0, dropout=0.0) for m in members}
    if len(configs) != 1:
        raise ValueError("ensemble members must share one architecture (backbone, LSTM size)")
    config = replace(members[0].config, members=len(members))
    ensemble = LiteEnsemble(config)
    for target, source in zip(ensemble.members, members, strict=True):
        target.load_state_dict(source.state_dict())
    return ensemble.eval()

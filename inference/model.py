"""The ResNeXt-LSTM face-sequence classifier.

One module serves two configurations:

* **legacy** reproduces the public 'Deepfake_detection_using_deep_learning'
  checkpoints exactly: a ResNeXt-50 32x4d trunk as ``model``, ``nn.LSTM(2048,
  2048, 1, False)`` -- the fourth positional argument is ``bias``, so there is
  no bias and the LSTM is *not* batch-first -- ``Dropout(0.4)`` and ``linear1``.
  A ``(B, T, ...)`` input therefore reaches the LSTM as a length-B sequence of
  batch T, and ``[:, -1, :]`` makes the verdict depend on the last frame only.
  That quirk is kept on purpose: it is what those checkpoints were trained with.
* **ours** (``backbone="resnext"``): a ResNeXt of configurable depth, a batch-first
  LSTM with bias of configurable size, and a head over the time-averaged LSTM output.
* **lite** (``backbone="efficientnet_lite0"``, the default weights since
  fakewatch-lite0; or ``"efficientnet_lite1"``, ``"efficientnet_lite2"``): an ImageNet
  EfficientNet-Lite frame encoder with the same kind of LSTM head, plus a blend-map
  head (see :mod:`inference.lite`).

Both output two logits, index 0 = FAKE, index 1 = REAL (the public convention).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

import torch
from torch import nn

from base.errors import WeightsInvalid
from inference.lite import LITE_BACKBONES
from inference.torchvision_compat import ensure_torchvision

if TYPE_CHECKING:
    from inference.ensemble import LiteEnsemble
    from inference.lite import LiteLSTM

FAKE_INDEX = 0
FEATURES = 2048  # a ResNeXt trunk's output channels (bottleneck expansion 4 x 512)


@dataclass(frozen=True)
class ModelConfig:
    """The architecture; stored in every weights manifest."""

    legacy: bool = False
    backbone: str = "resnext"  # or "efficientnet_lite0" / "_lite1" / "_lite2" (inference.lite)
    layers: tuple[int, int, int, int] = (3, 4, 6, 3)  # ResNeXt-50
    groups: int = 32
    width_per_group: int = 4
    lstm_hidden: int = 2048
    lstm_layers: int = 1
    dropout: float = 0.4
    drop_path: float = 0.0  # stochastic depth in the Lite encoder while training
    members: int = 1  # Lite only: >1 is an ensemble of that many models (inference.ensemble)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Build from a manifest's ``architecture`` object, ignoring unknown keys."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "layers" in known:
            known["layers"] = tuple(known["layers"])
        return cls(**known)


LEGACY_CONFIG = ModelConfig(legacy=True)


@dataclass(frozen=True)
class Preprocessing:
    """How face crops become the model's input; stored next to the weights."""

    input_size: int = 112
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    channel_order: str = "rgb"  # the public app fed OpenCV's BGR frames unconverted
    margin: float = 0.3  # grown on each side of the detected box, as a fraction of it
    square: bool = True
    sequence_length: int = 16
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessing:
        """Build from a manifest's ``preprocessing`` object, ignoring unknown keys."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("mean", "std"):
            if key in known:
                known[key] = tuple(known[key])
        return cls(**known)


LEGACY_PREPROCESSING = Preprocessing(channel_order="bgr", margin=0.0, square=False)


def _trunk(config: ModelConfig) -> nn.Sequential:
    ensure_torchvision()
    from torchvision.models.resnet import Bottleneck, ResNet

    net = ResNet(
        Bottleneck,
        list(config.layers),
        groups=config.groups,
        width_per_group=config.width_per_group,
    )
    # conv1, bn1, relu, maxpool, layer1..4 -> keys model.0 ... model.7 as in the public app
    return nn.Sequential(*list(net.children())[:-2])


class ResNeXtLSTM(nn.Module):
    """Per-frame ResNeXt features, an LSTM over the frames, a 2-way linear head."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.model = _trunk(config)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        if config.legacy:
            self.lstm = nn.LSTM(FEATURES, FEATURES, 1, False)  # bias=False, sequence-first
            hidden = FEATURES
        else:
            self.lstm = nn.LSTM(
                FEATURES, config.lstm_hidden, config.lstm_layers, bias=True, batch_first=True
            )
            hidden = config.lstm_hidden
        self.dp = nn.Dropout(config.dropout)
        self.linear1 = nn.Linear(hidden, 2)

    def forward_features(self, crops: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` normalised crops -> ``(N, 2048)`` pooled features."""
        return torch.flatten(self.avgpool(self.model(crops)), 1)

    def forward_head(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, T, 2048)`` -> sequence logits ``(B, 2)`` and per-frame logits ``(B, T, 2)``.

        Per-frame logits are the head applied at each step of the LSTM's output.
        """
        out, _ = self.lstm(features, None)
        frame_logits = self.linear1(self.dp(out))
        pooled = out[:, -1, :] if self.config.legacy else out.mean(dim=1)
        return self.linear1(self.dp(pooled)), frame_logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, 3, H, W)`` -> logits ``(B, 2)``; index 0 is FAKE."""
        b, t = x.shape[:2]
        features = self.forward_features(x.reshape(b * t, *x.shape[2:]))
        logits, _ = self.forward_head(features.reshape(b, t, -1))
        return logits


# Every classifier has forward_features (crops -> pooled features) and forward_head.
Classifier: TypeAlias = "ResNeXtLSTM | LiteLSTM | LiteEnsemble"


BACKBONES = ("resnext", *LITE_BACKBONES)


def build_model(config: ModelConfig, *, pretrained: bool = False) -> Classifier:
    """A fresh model in eval mode: random weights, or (``pretrained``, Lite only) ImageNet's."""
    if config.backbone == "resnext":
        return ResNeXtLSTM(config).eval()
    if config.backbone in LITE_BACKBONES and config.members > 1:
        from inference.ensemble import LiteEnsemble

        return LiteEnsemble(config, pretrained=pretrained).eval()
    if config.backbone in LITE_BACKBONES:
        from inference.lite import LiteLSTM

        return LiteLSTM(config, pretrained=pretrained).eval()
    raise WeightsInvalid(f"unknown backbone {config.backbone!r} (known: {', '.join(BACKBONES)})")


def fake_probability(logits: torch.Tensor) -> torch.Tensor:
    """Softmax probability of the FAKE class, ``(..., 2)`` -> ``(...)``."""
    return torch.softmax(logits.float(), dim=-1)[..., FAKE_INDEX]


def count_parameters(model: nn.Module) -> int:
    """Number of parameters."""
    return sum(p.numel() for p in model.parameters())

"""The training recipe: its configuration, the epoch make-up and the learning-rate schedule.

Each epoch takes every labelled entry ``labelled_repeat`` times, each video track
``video_repeat`` times (a different random window or augmentation each time) and
fills up to ``samples_per_epoch`` with real photos, cycling through all of them over
the epochs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from base.errors import ConfigurationError
from inference.model import ModelConfig, Preprocessing
from training.dataset import Entry
from training.faceset import FaceSet


@dataclass(frozen=True)
class FitConfig:
    """Everything that decides a training run (recorded in the manifest)."""

    epochs: int = 6
    seed: int = 0
    backbone: str = "efficientnet_lite0"  # ImageNet-pretrained (inference.lite); or "resnext"
    init: str | None = None  # weights to start from (e.g. "default"); None: ImageNet's Lite0
    drop_path: float = 0.1
    freeze_stages: int = 2  # Lite0: stem and this many stages stay at ImageNet's weights
    layers: tuple[int, int, int, int] = (1, 1, 1, 1)
    groups: int = 32
    width_per_group: int = 4
    lstm_hidden: int = 256
    dropout: float = 0.4
    batch: int = 24  # crops per batch
    lr: float = 3e-4
    weight_decay: float = 0.02
    warmup_steps: int = 100
    seq_len: int = 4  # frames per training video sequence
    frame_loss: float = 0.5  # weight of the per-frame head's loss
    mask_loss: float = 1.0  # weight of the blend-mask heads' loss (training only); 0: off
    strong_epochs: int = 0  # curriculum: epochs (from the first) with strong blends
    samples_per_epoch: int | None = None  # entries; None: every entry once
    video_repeat: int = 4
    labelled_repeat: int = 1  # labelled entries (e.g. the Photoshop composites) per epoch
    self_blends: bool = True  # reals also make self-blended fakes; False: labelled fakes only
    damage: str = "full"  # training.augment.DAMAGE: how often crops are degraded
    max_val: int | None = 600  # val real sequences kept (each also gives a self-blend)
    model_margin: float = 0.3  # the pipeline's margin for these weights
    input_size: int = 224  # Lite0's native size
    threads: int | None = None
    workers: int = 0  # DataLoader processes; blends and augmentation run there
    max_minutes: float | None = None
    name: str = "fakewatch-lite0"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FitConfig:
        """A configuration as a checkpoint or a manifest recorded it (unknown keys dropped)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["layers"] = tuple(known.get("layers", (1, 1, 1, 1)))  # JSON makes it a list
        return cls(**known)


def model_config(config: FitConfig) -> ModelConfig:
    """The architecture trained."""
    return ModelConfig(
        legacy=False,
        backbone=config.backbone,
        drop_path=config.drop_path if config.backbone != "resnext" else 0.0,
        layers=config.layers,
        groups=config.groups,
        width_per_group=config.width_per_group,
        lstm_hidden=config.lstm_hidden,
        dropout=config.dropout,
    )


def preprocessing(config: FitConfig, faces: FaceSet) -> Preprocessing:
    """What the pipeline must do to match training (stored in the manifest)."""
    g = faces.geometry
    if config.model_margin > g.margin:
        raise ConfigurationError(
            f"the model margin {config.model_margin} is wider than the prepared crops' "
            f"margin {g.margin}: prepare the faces again with --margin {config.model_margin} "
            "or more"
        )
    return Preprocessing(
        input_size=config.input_size,
        channel_order="rgb",
        margin=config.model_margin,
        square=True,
        sequence_length=16,
        extra={
            "training_crops": (
                f"stored at {g.size} px with margin {g.margin}; the margin-{config.model_margin} "
                "region cut with random scale 0.92-1.08 and shift +-4%"
            )
        },
    )


def epoch_entries(
    train: list[Entry], config: FitConfig, epoch: int, rng: np.random.Generator
) -> list[Entry]:
    """The entries of one epoch (see the module docstring)."""
    fixed = [e for e in train if e.sequence.labelled]
    videos = [e for e in train if not e.sequence.labelled and e.sequence.kind == "video"]
    photos = [e for e in train if not e.sequence.labelled and e.sequence.kind != "video"]
    chosen = fixed * config.labelled_repeat + videos * config.video_repeat
    room = len(photos) if config.samples_per_epoch is None else config.samples_per_epoch
    room = max(0, min(len(photos), room - len(chosen)))
    if room and photos:
        # A fixed permutation walked epoch after epoch: every photo before any repeats.
        order = np.random.default_rng([config.seed, 99]).permutation(len(photos))
        start = (epoch * room) % len(photos)
        take = [(start + i) % len(photos) for i in range(room)]
        chosen += [photos[order[i]] for i in take]
    return [chosen[i] for i in rng.permutation(len(chosen))]


def lr_factor(step: int, total: int, warmup: int) -> float:
    """Linear warm-up, then cosine decay to 2% of the peak."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress))

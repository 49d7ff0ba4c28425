"""Scoring the val split during training, by group.

Every val sample belongs to one group: ``sbi`` (a real face and its fixed self-blend)
or ``labelled`` (a face from a real/ or fake/ folder). The selection metric is the
mean of the groups' AUCs, so a few hundred labelled composites weigh as much as the
thousands of self-blends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from inference.model import FAKE_INDEX, Classifier, fake_probability
from training.dataset import FaceSamples, LengthBatches, collate
from training.metrics import auc

GROUPS = ("sbi", "labelled")


@dataclass
class ValScores:
    """Fake probabilities, labels (True = fake) and groups of every val sample."""

    scores: list[float] = field(default_factory=list)
    labels: list[bool] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    loss: float | None = None

    def add(self, score: float, is_fake: bool, group: str) -> None:
        """Record one sample."""
        self.scores.append(score)
        self.labels.append(is_fake)
        self.groups.append(group)

    def auc(self, group: str | None = None) -> float | None:
        """AUC over one group, or over everything."""
        pairs = [
            (s, y)
            for s, y, g in zip(self.scores, self.labels, self.groups, strict=True)
            if group is None or g == group
        ]
        if not pairs:
            return None
        return auc([s for s, _ in pairs], [y for _, y in pairs])

    def selection_auc(self) -> float | None:
        """Mean AUC over the groups that have both classes."""
        values = [a for g in GROUPS if (a := self.auc(g)) is not None]
        return sum(values) / len(values) if values else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "scores": self.scores,
            "labels": self.labels,
            "groups": self.groups,
            "loss": self.loss,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValScores:
        """Inverse of :meth:`to_dict`."""
        return cls(
            [float(v) for v in data["scores"]],
            [bool(v) for v in data["labels"]],
            [str(v) for v in data["groups"]],
            data.get("loss"),
        )


def validate(
    model: Classifier, data: FaceSamples, device: torch.device, *, batch: int = 64
) -> ValScores:
    """Score every val entry with the model in eval mode (sequence logits, as the pipeline)."""
    model.eval()
    out = ValScores()
    batches = LengthBatches(data, batch, shuffle=False)
    loss_sum, count = 0.0, 0
    with torch.inference_mode():
        for indices in batches:
            x, y, _ = collate([data[i] for i in indices])
            logits = model(x.to(device)).float()
            loss_sum += float(nn.functional.cross_entropy(logits, y.to(device), reduction="sum"))
            count += len(y)
            probs = fake_probability(logits).cpu().tolist()
            labels = (y == FAKE_INDEX).tolist()
            pos = 0
            for i in indices:
                entry = data.entries[i]
                for p, is_fake in zip(
                    probs[pos : pos + entry.outputs], labels[pos : pos + entry.outputs], strict=True
                ):
                    out.add(p, is_fake, "sbi" if entry.pair else "labelled")
                    if entry.pair and entry.sequence.labelled and not is_fake:
                        # A labelled real photo is also a real of the labelled group.
                        out.add(p, is_fake, "labelled")
                pos += entry.outputs
    out.loss = loss_sum / max(count, 1)
    return out

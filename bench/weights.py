"""The weights a benchmark measures: the named ones, the installed ones, or random ones.

Light at import (``fakewatch --help`` reads :data:`RANDOM_RESNEXT50`); torch loads
when :func:`weights_to_measure` is called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from base.errors import WeightsMissing

if TYPE_CHECKING:
    from inference.weight_set import WeightSet

# The architecture of the public ResNeXt-50 checkpoints, with random weights: what the bench
# measures when no trained weights are installed (it costs what those checkpoints cost).
RANDOM_RESNEXT50 = "random-resnext50"


def weights_to_measure(
    name: str, *, asked: bool, say: Callable[[str], None] | None = None
) -> WeightSet:
    """Load ``name`` (or :data:`RANDOM_RESNEXT50`'s random weights) for both kinds.

    Args:
        name: weights as ``fakewatch check`` takes them, or :data:`RANDOM_RESNEXT50`.
        asked: the user named these weights; when they did not and the installed ones are
            missing, the public checkpoints' architecture is measured instead (and said).
        say: where that is said.
    """
    from inference.model import ModelConfig
    from inference.weight_set import WeightSet, load_weight_set
    from inference.weights import random_weights

    if name == RANDOM_RESNEXT50:
        return WeightSet.of(random_weights(ModelConfig()))
    try:
        return load_weight_set(name)
    except WeightsMissing:
        if asked:
            raise
        if say is not None:
            say(
                f"no trained weights installed: measuring {RANDOM_RESNEXT50} "
                "(random weights, the public checkpoints' architecture)"
            )
        return WeightSet.of(random_weights(ModelConfig()))

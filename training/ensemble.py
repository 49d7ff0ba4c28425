"""Ensemble weights from weights already trained: ``fakewatch train combine``.

The members must share one backbone, head size and preprocessing (the pipeline cuts
one crop for all of them). The result is one ``.pt`` + manifest whose provenance lists
each member (model id, recipe, fit) and keeps the first member's ``fit``, so
:func:`training.export.recalibrate` can rebuild that member's val split and fit the
ensemble's own score scale and thresholds on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from base.errors import ConfigurationError
from inference.ensemble import combine
from inference.lite import LiteLSTM
from inference.weights import LoadedWeights, Manifest, load_weights, save_weights


def _member(spec: str) -> LoadedWeights:
    loaded = load_weights(spec)
    if not isinstance(loaded.model, LiteLSTM):
        raise ConfigurationError(
            f"{spec} is a {loaded.manifest.architecture.backbone} model with "
            f"{loaded.manifest.architecture.members} member(s): only single EfficientNet-Lite "
            "models can be combined"
        )
    return loaded


def combine_weights(specs: list[str], name: str, dest: Path) -> dict[str, Any]:
    """Write the mean-of-logits ensemble of ``specs`` as ``dest/<name>.pt`` + ``.json``.

    Its score scale is the identity and its thresholds the first member's until it is
    calibrated (``fakewatch train calibrate``).
    """
    if len(specs) < 2:
        raise ConfigurationError("combine needs two weights or more")
    members = [_member(s) for s in specs]
    first = members[0].manifest
    for m in members[1:]:
        if m.manifest.preprocessing != first.preprocessing:
            raise ConfigurationError(
                f"{m.manifest.model_id} and {first.model_id} need different crops "
                f"({m.manifest.preprocessing} vs {first.preprocessing}): they cannot share one"
            )
    try:
        model = combine([m.model for m in members])  # type: ignore[misc]
    except ValueError as e:
        raise ConfigurationError(str(e)) from e
    manifest = Manifest(
        name=name,
        architecture=model.config,
        preprocessing=first.preprocessing,
        thresholds=first.thresholds,
        trained=True,
        provenance={
            "recipe": "mean of the logits of " + ", ".join(m.manifest.model_id for m in members),
            "members": [
                {
                    "model": m.manifest.model_id,
                    "recipe": m.manifest.provenance.get("recipe"),
                    "fit": m.manifest.provenance.get("fit"),
                    "val": m.manifest.provenance.get("val"),
                }
                for m in members
            ],
            "fit": first.provenance.get("fit", {}),
            "calibration": "not yet: the first member's thresholds, identity score scale",
        },
    )
    final = save_weights(model, manifest, dest, half=True)
    return {
        "weights": str(dest / f"{final.name}.pt"),
        "manifest": str(dest / f"{final.name}.json"),
        "model": final.model_id,
        "members": [m.manifest.model_id for m in members],
    }

"""PNG plots: the training curve and ROC curves (matplotlib, Agg backend, no display needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from training.metrics import Roc


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as e:
        from base.errors import ConfigurationError

        raise ConfigurationError(
            "plots need matplotlib: pip install -e '.[train]' (the `train` extra)"
        ) from e
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def training_curve(history: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """Loss and validation AUC per epoch."""
    plt = _pyplot()
    epochs = [int(row["epoch"]) for row in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(
        epochs, [float(r["train_loss"]) for r in history], "o-", label="train (with aux terms)"
    )
    ax1.plot(epochs, [float(r["val_loss"]) for r in history], "o-", label="val (sequence CE)")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("loss")
    ax1.legend()
    for key, label in (
        ("val_auc", "val (selection)"),
        ("val_auc_sbi", "val self-blended"),
        ("val_auc_labelled", "val labelled"),
    ):
        values = [(e, r.get(key)) for e, r in zip(epochs, history, strict=True)]
        points = [(e, float(v)) for e, v in values if v not in (None, "")]
        if points:
            ax2.plot(*zip(*points, strict=True), "o-", label=label)
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("AUC")
    ax2.set_ylim(0.4, 1.0)
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def roc_curves(curves: Mapping[str, tuple[Roc, float | None]], path: Path, title: str) -> Path:
    """One ROC line per named curve, with its AUC in the legend."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    ax.plot([0, 1], [0, 1], ":", color="grey")
    for name, (curve, area) in curves.items():
        label = f"{name} (AUC {area:.3f})" if area is not None else name
        ax.plot(curve.fpr, curve.tpr, label=label)
    ax.set_xlabel("false positive rate (reals called fake)")
    ax.set_ylabel("true positive rate (fakes caught)")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

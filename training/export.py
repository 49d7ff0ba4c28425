"""Weights out of a training run: calibrated, with a manifest that says how they were made.

``finish`` writes the best epoch (or a chosen one) of a run as ``<name>.pt`` + ``<name>.json``;
``export`` does it for a run folder, finished or still going; ``recalibrate`` fits the score
scale and thresholds of existing weights again on a face set's val split (for weights made
before manifests carried a score scale).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch

from base.errors import ConfigurationError, WeightsError
from inference.calibration import ScoreScale, fit_platt
from inference.lite import LITES
from inference.weights import Manifest, Thresholds, load_weights, save_weights
from training.faceset import load_faceset, merge_counts
from training.fit import BEST, LAST, Say, Trainer, epoch_file
from training.metrics import calibrate
from training.recipe import FitConfig
from training.validate import ValScores, validate


def scaled_calibration(scores: ValScores) -> tuple[ScoreScale, Thresholds, str]:
    """Platt-scale the raw val scores, then choose the thresholds on that scale; with the
    rule that chose them, for the manifest."""
    scale = fit_platt(
        scores.scores, scores.labels, fitted_on=f"val split ({len(scores.scores)} samples)"
    )
    cal = calibrate([scale(v) for v in scores.scores], scores.labels)
    thresholds = Thresholds(fake=round(cal.fake, 4), real=round(cal.real, 4))
    return scale, thresholds, f"scores Platt-scaled on val; {cal.rule}"


def finish(
    trainer: Trainer, dest: Path | None = None, *, epoch: int | None = None
) -> dict[str, Any]:
    """Load the best epoch (or ``epoch``), calibrate on val, write weights + manifest.

    They go to the run folder, or to ``dest`` (``fakewatch train export``: a run still
    going can be exported at its best epoch so far, or at any epoch it kept). Returns a
    summary.
    """
    chosen = BEST if epoch is None else epoch_file(epoch)
    if not (trainer.out / chosen).is_file():
        kept = sorted(p.name for p in trainer.out.glob("epoch-*.ckpt"))
        raise ConfigurationError(
            f"{trainer.out} has no weights for epoch {epoch} (kept: {', '.join(kept) or 'none'})"
        )
    best = torch.load(trainer.out / chosen, map_location="cpu", weights_only=False)
    model = trainer.model.cpu()
    model.load_state_dict(best["model"])
    scores = ValScores.from_dict(best["val"])
    scale, thresholds, rule = scaled_calibration(scores)
    config, faces = trainer.config, trainer.faces
    manifest = Manifest(
        name=config.name,
        architecture=model.config,
        preprocessing=trainer.prep,
        thresholds=thresholds,
        scale=scale,
        trained=True,
        provenance={
            "recipe": "self-blended images (Shiohara & Yamasaki, CVPR 2022) from 5 MTCNN "
            "landmarks, whole-face and face-part masks, some from another identity, plus "
            "labelled fakes; "
            + (
                f"fine-tuned from {trainer.init_id or config.init}"
                if config.init
                else (
                    f"from ImageNet {lite.title} ({lite.package.replace('==', ' ')})"
                    if (lite := LITES.get(config.backbone)) is not None
                    else "trained from scratch (no pretrained backbone)"
                )
            ),
            "fit": {k: v for k, v in asdict(config).items() if k not in ("threads", "workers")},
            "best_epoch": int(best["epoch"]),
            "selection": "best val AUC" if epoch is None else f"epoch {epoch}, chosen by hand",
            "epochs_run": trainer.epoch,
            "val": {
                "auc": scores.selection_auc(),
                "auc_sbi": scores.auc("sbi"),
                "auc_labelled": scores.auc("labelled"),
                "samples": len(scores.scores),
            },
            "calibration": rule,
            "data": {
                "info": faces.info.get("counts", {}),
                "roots": faces.info.get("roots", []),
                "sources": sorted(merge_counts(faces.sequences)),
            },
        },
    )
    folder = dest or trainer.out
    final = save_weights(model, manifest, folder, half=True)
    summary = {
        "weights": str(folder / f"{final.name}.pt"),
        "manifest": str(folder / f"{final.name}.json"),
        "sha256": final.sha256,
        "best_epoch": int(best["epoch"]),
        "val_auc": scores.selection_auc(),
        "thresholds": {"fake": final.thresholds.fake, "real": final.thresholds.real},
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _init_id(init: str | None) -> str | None:
    """The model id of ``--init`` weights, for checkpoints that did not record it."""
    if init is None:
        return None
    try:
        return load_weights(init).manifest.model_id
    except WeightsError:
        return init  # gone or ambiguous now: the name as it was given


def export(
    data: Path, run: Path, dest: Path, *, epoch: int | None = None, say: Say | None = None
) -> dict[str, Any]:
    """The best epoch so far of the run in ``run`` (or ``epoch``), calibrated, in ``dest``."""
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    if not (run / LAST).is_file() or not (run / BEST).is_file():
        raise ConfigurationError(f"{run} has no {LAST} and {BEST}: not a training run folder")
    state = torch.load(run / LAST, map_location="cpu", weights_only=False)
    config = FitConfig.from_dict(state["config"])
    # The checkpoint replaces the model: the --init weights need not load (nor still exist).
    trainer = Trainer(load_faceset(data), run, replace(config, init=None), torch.device("cpu"), say)
    trainer.config, trainer.init_id = config, state.get("init_id") or _init_id(config.init)
    trainer.epoch = int(state["epoch"])
    dest.mkdir(parents=True, exist_ok=True)
    return finish(trainer, dest, epoch=epoch)


def recalibrate(
    data: Path, weights: str, dest: Path, *, threads: int | None = None, say: Say | None = None
) -> dict[str, Any]:
    """Score ``weights`` on the val split of the face set in ``data`` (built as their run
    built it, from the manifest's ``provenance.fit``), fit their score scale and thresholds
    on it, and write the same weights with the new manifest into ``dest``."""
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    if threads:
        torch.set_num_threads(threads)
    loaded = load_weights(weights)
    fit_args = dict(loaded.manifest.provenance.get("fit", {}))
    if not fit_args:
        raise ConfigurationError(f"{weights}: the manifest does not say how they were trained")
    config = replace(FitConfig.from_dict(fit_args), init=None)
    # The trainer only builds the val split; the weights are scored as loaded (an
    # ensemble's manifest keeps its first member's fit, which builds a single model).
    trainer = Trainer(load_faceset(data), dest, config, torch.device("cpu"), say)
    say(f"scoring {loaded.manifest.model_id} on {len(trainer.val)} val entries...")
    scores = validate(loaded.model, trainer.val, torch.device("cpu"), batch=config.batch * 2)
    scale, thresholds, rule = scaled_calibration(scores)
    manifest = replace(
        loaded.manifest,
        thresholds=thresholds,
        scale=scale,
        provenance=loaded.manifest.provenance
        | {
            "calibration": rule,
            "recalibrated": {
                "val_auc": scores.selection_auc(),
                "samples": len(scores.scores),
                "previous_thresholds": asdict(loaded.manifest.thresholds),
            },
        },
    )
    dest.mkdir(parents=True, exist_ok=True)
    final = save_weights(loaded.model, manifest, dest, half=True)
    if final.sha256 != loaded.manifest.sha256:
        raise WeightsError(f"re-saving {weights} changed its bytes; nothing written is usable")
    return {
        "manifest": str(dest / f"{final.name}.json"),
        "model": final.model_id,
        "val_auc": scores.selection_auc(),
        "scale": scale.to_dict(),
        "thresholds": {"fake": final.thresholds.fake, "real": final.thresholds.real},
    }

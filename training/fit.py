"""``fakewatch train fit``: train the ResNeXt-LSTM on real faces and their self-blends.

The recipe (configuration, epoch make-up, schedule) is in :mod:`training.recipe`.
After each epoch the model is scored on the val split, ``last.ckpt`` is written
(resume from it with ``--resume``) and the best epoch by val AUC is kept. At the
end the best weights are calibrated on the val split and written with their manifest.
"""

from __future__ import annotations

import csv
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from base.errors import ConfigurationError
from inference.lite import LiteLSTM
from inference.model import Classifier, ResNeXtLSTM, build_model
from inference.weights import load_weights
from training.dataset import FaceSamples, LengthBatches, collate, entries_for
from training.faceset import FaceSet, load_faceset
from training.heads import MaskHeads, mask_map_loss
from training.plots import training_curve
from training.recipe import FitConfig, epoch_entries, lr_factor, model_config, preprocessing
from training.validate import ValScores, validate

log = logging.getLogger(__name__)
Say = Callable[[str], None]

HISTORY = "history.csv"
CURVE = "history.png"
LAST = "last.ckpt"
BEST = "best.ckpt"


def epoch_file(epoch: int) -> str:
    """The name of the file that keeps one epoch's weights and val scores."""
    return f"epoch-{epoch:03d}.ckpt"


FIELDS = (
    "epoch",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_auc",
    "val_auc_sbi",
    "val_auc_labelled",
    "lr",
    "seconds",
    "samples",
)


def _loss(
    model: Classifier,
    heads: MaskHeads | None,
    batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    config: FitConfig,
) -> Any:
    x, y, masks = batch
    b, t = x.shape[:2]
    crops = x.reshape(b * t, *x.shape[2:])
    map_loss = None
    if isinstance(model, LiteLSTM):
        flat, map_logits = model.forward_maps(crops)
        if config.mask_loss:
            map_loss = mask_map_loss(map_logits, masks.reshape(b * t, *masks.shape[2:]))
    else:
        flat = model.forward_features(crops)
    features = flat.reshape(b, t, -1)
    logits, frame_logits = model.forward_head(features)
    loss = nn.functional.cross_entropy(logits, y)
    if config.frame_loss:
        frame_loss = nn.functional.cross_entropy(
            frame_logits.reshape(b * t, -1), y.repeat_interleave(t)
        )
        loss = loss + config.frame_loss * frame_loss
    if heads is not None:
        loss = loss + config.mask_loss * heads.loss(masks.reshape(b * t, *masks.shape[2:]))
    if map_loss is not None:
        loss = loss + config.mask_loss * map_loss
    return loss, logits


def initial_model(config: FitConfig, say: Say) -> tuple[Classifier, str | None]:
    """ImageNet's Lite0 (the default), random ResNeXt, or the weights named by ``config.init``
    (then also their model id: ``default`` names different files over time)."""
    if config.init is None:
        return build_model(model_config(config), pretrained=True), None
    loaded = load_weights(config.init)
    if loaded.manifest.architecture.backbone != config.backbone:
        raise ConfigurationError(
            f"--init {config.init} is a {loaded.manifest.architecture.backbone} model, "
            f"this run trains {config.backbone}"
        )
    say(f"starting from {loaded.manifest.model_id}")
    model = build_model(model_config(config))
    model.load_state_dict(loaded.model.state_dict())
    return model, loaded.manifest.model_id


def _save(state: dict[str, Any], path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)  # atomic: a crash mid-write never leaves a broken checkpoint


class Trainer:
    """The state of one run: model, optimiser, schedule, history."""

    def __init__(
        self, faces: FaceSet, out: Path, config: FitConfig, device: torch.device, say: Say
    ) -> None:
        self.faces, self.out, self.config, self.device, self.say = faces, out, config, device, say
        torch.manual_seed(config.seed)
        self.prep = preprocessing(config, faces)
        model, self.init_id = initial_model(config, say)
        self.model = model.to(device)
        if isinstance(self.model, LiteLSTM) and config.freeze_stages:
            self.model.freeze_early(config.freeze_stages)
        self.heads = (
            MaskHeads(self.model).to(device)
            if config.mask_loss and isinstance(self.model, ResNeXtLSTM)
            else None
        )
        self.train_entries = entries_for(faces.select(split="train"), sbi=config.self_blends)
        val_seqs = faces.select(split="val")
        if not config.self_blends:
            # Without self-blends an unlabelled real has no fake to be told from: it would
            # only pad the labelled group with reals of other sources.
            val_seqs = [s for s in val_seqs if s.labelled or s.is_fake]
        plain = [s for s in val_seqs if not s.labelled and not s.is_fake]
        if config.max_val is not None and len(plain) > config.max_val:
            keep = np.random.default_rng([config.seed, 5]).choice(
                len(plain), config.max_val, replace=False
            )
            kept = {id(plain[i]) for i in keep}
            val_seqs = [s for s in val_seqs if s.labelled or s.is_fake or id(s) in kept]
        self.val = FaceSamples(
            faces,
            entries_for(val_seqs, sbi=config.self_blends),
            self.prep,
            seq_len=config.seq_len,
            train=False,
        )
        params = list(self.model.parameters())
        if self.heads is not None:
            params += list(self.heads.parameters())
        self.opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
        # Every epoch has the same make-up, so the first one tells the schedule's length.
        first = epoch_entries(self.train_entries, config, 0, np.random.default_rng(0))
        probe = FaceSamples(faces, first, self.prep, seq_len=config.seq_len, train=True)
        self.steps_per_epoch = max(1, len(LengthBatches(probe, config.batch, shuffle=False)))
        self.planned_epochs = config.epochs
        self.total_steps = config.epochs * self.steps_per_epoch
        self.step = 0
        self.epoch = 0
        self.best: float | None = None
        self.history: list[dict[str, Any]] = []
        self.scaler = torch.amp.GradScaler("cuda", enabled=device.type == "cuda")

    # -- checkpoints ---------------------------------------------------------------------

    def resume(self) -> bool:
        """Load ``last.ckpt`` if there is one."""
        path = self.out / LAST
        if not path.is_file():
            return False
        state = torch.load(path, map_location=self.device, weights_only=False)
        self.model.load_state_dict(state["model"])
        if self.heads is not None:
            self.heads.load_state_dict(state["heads"])
        self.opt.load_state_dict(state["optimizer"])
        self.step, self.epoch = int(state["step"]), int(state["epoch"])
        self.best, self.history = state["best"], list(state["history"])
        self.total_steps = int(state["total_steps"])
        self.planned_epochs = int(state.get("planned_epochs", self.config.epochs))
        if self.config.epochs > self.planned_epochs:  # asked for more epochs than planned
            self.planned_epochs = self.config.epochs
            self.total_steps = self.config.epochs * self.steps_per_epoch
        self.say(f"resumed after epoch {self.epoch} (step {self.step}, best {self.best})")
        return True

    def checkpoint(self, scores: ValScores, is_best: bool) -> None:
        """Write ``last.ckpt`` (everything to resume) and ``best.ckpt`` when it improved."""
        state = {
            "model": self.model.state_dict(),
            "heads": self.heads.state_dict() if self.heads is not None else {},
            "optimizer": self.opt.state_dict(),
            "step": self.step,
            "epoch": self.epoch,
            "best": self.best,
            "history": self.history,
            "total_steps": self.total_steps,
            "planned_epochs": self.planned_epochs,
            "config": asdict(self.config),
            "init_id": self.init_id,
        }
        _save(state, self.out / LAST)
        weights = {"model": self.model.state_dict(), "epoch": self.epoch, "val": scores.to_dict()}
        _save(weights, self.out / epoch_file(self.epoch))  # any epoch can be exported later
        if is_best:
            _save(weights, self.out / BEST)

    # -- one epoch -------------------------------------------------------------------------

    def train_epoch(self) -> dict[str, Any]:
        """One pass over this epoch's entries."""
        config = self.config
        rng = np.random.default_rng([config.seed, self.epoch, 3])
        entries = epoch_entries(self.train_entries, config, self.epoch, rng)
        data = FaceSamples(
            self.faces,
            entries,
            self.prep,
            seq_len=config.seq_len,
            train=True,
            seed=config.seed,
            damage=config.damage,
        )
        data.epoch = self.epoch
        data.strong = self.epoch < config.strong_epochs
        batches = LengthBatches(
            data, config.batch, shuffle=True, seed=config.seed, epoch=self.epoch
        )
        loader = torch.utils.data.DataLoader(
            data,
            batch_sampler=batches,
            collate_fn=collate,
            num_workers=config.workers,
            pin_memory=self.device.type == "cuda",
        )
        self.model.train()
        if self.heads is not None:
            self.heads.train()
        total, crops, correct, loss_sum, start = 0, 0, 0, 0.0, time.monotonic()
        n_batches = len(batches)
        for i, (x, y, masks) in enumerate(loader, 1):
            x, y = x.to(self.device, non_blocking=True), y.to(self.device)
            masks = masks.to(self.device, non_blocking=True)
            for group in self.opt.param_groups:
                group["lr"] = config.lr * lr_factor(
                    self.step, self.total_steps, config.warmup_steps
                )
            with torch.autocast(self.device.type, enabled=self.device.type == "cuda"):
                loss, logits = _loss(self.model, self.heads, (x, y, masks), config)
            self.opt.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.opt)
            nn.utils.clip_grad_norm_(self.model.parameters(), 5.0)
            self.scaler.step(self.opt)
            self.scaler.update()
            self.step += 1
            total += len(y)
            crops += x.shape[0] * x.shape[1]
            correct += int((logits.argmax(1) == y).sum())
            loss_sum += float(loss.detach()) * len(y)
            if i % 20 == 0 or i == n_batches:
                rate = crops / max(time.monotonic() - start, 1e-6)
                self.say(
                    f"epoch {self.epoch + 1} batch {i}/{n_batches} loss {loss_sum / total:.4f} "
                    f"acc {correct / total:.3f} lr {self.opt.param_groups[0]['lr']:.2e} "
                    f"{rate:.1f} crops/s"
                )
        return {
            "train_loss": loss_sum / max(total, 1),
            "train_acc": correct / max(total, 1),
            "samples": total,
        }

    def run(self) -> None:
        """Epochs until done or out of time."""
        config = self.config
        started = time.monotonic()
        while self.epoch < self.planned_epochs:
            epoch_start = time.monotonic()
            row = self.train_epoch()
            scores = validate(self.model, self.val, self.device, batch=config.batch * 2)
            self.epoch += 1
            metric = scores.selection_auc()
            is_best = metric is not None and (self.best is None or metric > self.best)
            if is_best:
                self.best = metric
            row |= {
                "epoch": self.epoch,
                "val_loss": scores.loss,
                "val_auc": metric,
                "val_auc_sbi": scores.auc("sbi"),
                "val_auc_labelled": scores.auc("labelled"),
                "lr": self.opt.param_groups[0]["lr"],
                "seconds": round(time.monotonic() - epoch_start, 1),
            }
            self.history.append(row)
            self.checkpoint(scores, is_best)
            self._write_history()
            self.say(
                f"epoch {self.epoch}: "
                + ", ".join(f"{k} {_fmt(row[k])}" for k in FIELDS[1:])
                + (" (best)" if is_best else "")
            )
            if config.max_minutes is not None:
                self._fit_to_time(time.monotonic() - started, float(row["seconds"]))

    def _fit_to_time(self, spent: float, epoch_seconds: float) -> None:
        """Shorten the plan (and its cosine schedule) to the epochs that fit ``max_minutes``."""
        assert self.config.max_minutes is not None
        left = self.config.max_minutes * 60 - spent
        fits = self.epoch + max(0, int(left // max(epoch_seconds, 1.0)))
        if fits < self.planned_epochs:
            self.planned_epochs = max(self.epoch, fits)
            # The schedule ends with the last epoch that fits, so the run still anneals.
            self.total_steps = max(self.step, self.planned_epochs * self.steps_per_epoch)
            self.say(
                f"--max-minutes {self.config.max_minutes}: planning {self.planned_epochs} "
                f"epochs of ~{epoch_seconds / 60:.1f} min"
            )

    def _write_history(self) -> None:
        with (self.out / HISTORY).open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=FIELDS, extrasaction="ignore")
            writer.writeheader()
            for row in self.history:
                writer.writerow({k: _fmt(row.get(k)) for k in FIELDS})
        try:
            training_curve(self.history, self.out / CURVE)
        except Exception as e:  # the plot is a convenience; training must not die for it
            log.warning("could not draw %s: %s", CURVE, e)


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(value)


def fit(
    data: Path,
    out: Path,
    *,
    config: FitConfig,
    device: torch.device,
    resume: bool = False,
    say: Say | None = None,
) -> dict[str, Any]:
    """Train on the face set in ``data``; checkpoints, log, plot and weights go to ``out``."""
    import cv2

    if config.threads:
        torch.set_num_threads(config.threads)
        cv2.setNumThreads(config.threads)
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    faces = load_faceset(data)
    out.mkdir(parents=True, exist_ok=True)
    trainer = Trainer(faces, out, config, device, say)
    if resume:
        trainer.resume()
    elif (out / LAST).exists():
        say(f"note: {out / LAST} exists; starting over (pass --resume to continue it)")
    say(f"data: {faces.summary()}; val samples: {len(trainer.val)} entries")
    trainer.run()
    from training.export import finish  # it builds on the Trainer defined here

    return finish(trainer)

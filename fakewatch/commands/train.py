"""``fakewatch train prepare`` and ``fakewatch train fit``: build our own weights."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from base.errors import ConfigurationError
from base.settings import Settings


def register(sub: Any) -> None:
    """Add ``train`` with its two steps."""
    p = sub.add_parser(
        "train",
        help="prepare face data and train weights (self-blended images)",
        description="Train FakeWatch's classifier: `prepare` cuts faces, `fit` trains.",
    )
    steps = p.add_subparsers(dest="step", metavar="STEP", required=True)

    prep = steps.add_parser(
        "prepare",
        help="detect faces in folders of images/videos and write a compact dataset",
        description="Detect faces (our MTCNN), keep crops with margin and landmarks, split "
        "train/val by source and identity. Folders named real/ and fake/ (or the "
        "FaceForensics++ / Celeb-DF conventions) label what is below them; anything else "
        "is taken as real.",
    )
    prep.add_argument("sources", nargs="+", type=Path, metavar="SRC")
    prep.add_argument("--out", type=Path, required=True, metavar="DIR")
    prep.add_argument("--crop-size", type=int, default=128, help="stored crop size (px)")
    prep.add_argument(
        "--margin",
        type=float,
        default=0.4,
        help="margin grown on each side of the face box, as a fraction of it (default 0.4)",
    )
    prep.add_argument("--video-frames", type=int, default=24, help="frames sampled per video")
    prep.add_argument("--val-fraction", type=float, default=0.1)
    prep.add_argument("--limit", type=int, default=None, help="files per source (quick runs)")
    prep.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None)
    prep.set_defaults(handler=run_prepare)

    fit = steps.add_parser(
        "fit",
        help="train the ResNeXt-LSTM on a prepared dataset",
        description="Train on real faces with self-blended pseudo-fakes made on the fly, plus "
        "any labelled fakes; checkpoint each epoch, keep the best by val AUC, calibrate the "
        "thresholds on the val split and write weights + manifest.",
    )
    fit.add_argument("data", type=Path, metavar="DATA")
    fit.add_argument("--out", type=Path, required=True, metavar="DIR")
    fit.add_argument(
        "--name", default="fakewatch-lite0", help="weights name (default: %(default)s)"
    )
    fit.add_argument("--epochs", type=int, default=6)
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--resume", action="store_true", help="continue from DIR/last.ckpt")
    fit.add_argument(
        "--backbone",
        choices=("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2", "resnext"),
        default="efficientnet_lite0",
        help="frame encoder: ImageNet-pretrained EfficientNet-Lite0 (default), Lite1 or Lite2, "
        "or a ResNeXt from scratch",
    )
    fit.add_argument(
        "--init",
        default=None,
        metavar="WEIGHTS",
        help="start from these weights (e.g. default: the shipped ones) instead of ImageNet's",
    )
    fit.add_argument(
        "--input-size",
        type=int,
        default=224,
        help="crop size the model sees (default 224; the Lite encoders' native sizes: "
        "Lite0 224, Lite1 240, Lite2 260)",
    )
    fit.add_argument(
        "--freeze-stages",
        type=int,
        default=2,
        help="Lite: keep the stem and the first N stages at ImageNet's weights (default 2)",
    )
    fit.add_argument("--layers", default="1,1,1,1", help="ResNeXt blocks per stage")
    fit.add_argument("--lstm-hidden", type=int, default=256)
    fit.add_argument("--batch", type=int, default=24, help="crops per batch")
    fit.add_argument("--lr", type=float, default=3e-4)
    fit.add_argument("--seq-len", type=int, default=4, help="frames per video sequence")
    fit.add_argument(
        "--strong-epochs",
        type=int,
        default=0,
        help="curriculum: the first N epochs use stronger blends and gentler damage",
    )
    fit.add_argument(
        "--mask-loss",
        type=float,
        default=1.0,
        help="weight of the training-only blend-mask heads (0: off)",
    )
    fit.add_argument(
        "--no-self-blends",
        dest="self_blends",
        action="store_false",
        help="no self-blended fakes: learn from the labelled fakes alone (and validate on them)",
    )
    fit.add_argument(
        "--damage",
        choices=("full", "gentle", "none"),
        default="full",
        help="how often crops are blurred, noised, re-compressed and rescaled (default full, "
        "the shortcut guards; none: flips, crop jitter and colour only)",
    )
    fit.add_argument(
        "--model-margin",
        type=float,
        default=0.3,
        help="margin of the face box the model sees, as the pipeline cuts it (default 0.3; "
        "at most the prepared crops' margin)",
    )
    fit.add_argument("--samples-per-epoch", type=int, default=None, metavar="N")
    fit.add_argument(
        "--labelled-repeat",
        type=int,
        default=1,
        metavar="N",
        help="each labelled face (real or fake) N times per epoch (default 1)",
    )
    fit.add_argument(
        "--video-repeat",
        type=int,
        default=4,
        metavar="N",
        help="each unlabelled real video track N times per epoch (default 4; 0: photos only)",
    )
    fit.add_argument(
        "--max-val", type=int, default=600, metavar="N", help="unlabelled val reals kept"
    )
    fit.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    fit.add_argument(
        "--workers", type=int, default=0, help="data-loading processes (0: in the training one)"
    )
    fit.add_argument(
        "--max-minutes", type=float, default=None, help="stop after the epoch that passes this"
    )
    fit.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None)
    fit.set_defaults(handler=run_fit)
    _register_export(steps)


def _register_export(steps: Any) -> None:
    ex = steps.add_parser(
        "export",
        help="write the best epoch so far of a run as weights + manifest",
        description="Calibrate the best epoch of a training run (finished or still going) on "
        "its val split and write <name>.pt + <name>.json into --out.",
    )
    ex.add_argument("data", type=Path, metavar="DATA", help="the run's prepared face set")
    ex.add_argument("run", type=Path, metavar="RUN", help="the run folder (fit --out)")
    ex.add_argument("--out", type=Path, required=True, metavar="DIR")
    ex.add_argument(
        "--epoch",
        type=int,
        default=None,
        metavar="N",
        help="export this epoch instead of the best by val AUC (every epoch is kept)",
    )
    ex.set_defaults(handler=run_export)
    cal = steps.add_parser(
        "calibrate",
        help="fit the score scale and thresholds of weights again on a face set's val split",
        description="Score existing weights on the val split of DATA (built as their run "
        "built it) and write them with a new manifest (Platt score scale, thresholds) "
        "into --out. The weights file itself is unchanged.",
    )
    cal.add_argument("data", type=Path, metavar="DATA", help="a prepared face set")
    cal.add_argument("--weights", required=True, metavar="NAME|PATH")
    cal.add_argument("--out", type=Path, required=True, metavar="DIR")
    cal.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    cal.set_defaults(handler=run_calibrate)
    com = steps.add_parser(
        "combine",
        help="write an ensemble of trained weights as one weights file",
        description="Combine two or more EfficientNet-Lite weights of one backbone and "
        "preprocessing into one model that averages their logits; calibrate it afterwards "
        "with 'fakewatch train calibrate DATA --weights <name>'.",
    )
    com.add_argument("weights", nargs="+", metavar="NAME|PATH", help="the members")
    com.add_argument("--name", required=True, help="the ensemble's weights name")
    com.add_argument("--out", type=Path, required=True, metavar="DIR")
    com.set_defaults(handler=run_combine)


def run_export(args: argparse.Namespace, settings: Settings) -> int:
    """Export a run's best epoch."""
    from training.export import export

    del settings
    print(json.dumps(export(args.data, args.run, args.out, epoch=args.epoch), indent=2))
    return 0


def run_calibrate(args: argparse.Namespace, settings: Settings) -> int:
    """Recalibrate weights on a face set's val split."""
    from training.export import recalibrate

    del settings
    result = recalibrate(args.data, args.weights, args.out, threads=args.threads)
    print(json.dumps(result, indent=2))
    return 0


def run_combine(args: argparse.Namespace, settings: Settings) -> int:
    """Combine weights into an ensemble."""
    from training.ensemble import combine_weights

    del settings
    print(json.dumps(combine_weights(args.weights, args.name, args.out), indent=2))
    return 0


def _device(args: argparse.Namespace, settings: Settings) -> Any:
    from inference.pipeline import pick_device

    return pick_device(args.device or settings.device)


def run_prepare(args: argparse.Namespace, settings: Settings) -> int:
    """Cut faces from every source folder into one dataset."""
    from training.faceset import CropGeometry
    from training.prepare import PrepareConfig, prepare, stderr_progress

    for src in args.sources:
        if not src.is_dir():
            raise ConfigurationError(f"{src} is not a folder")
    config = PrepareConfig(
        geometry=CropGeometry(size=args.crop_size, margin=args.margin),
        video_frames=args.video_frames,
        val_fraction=args.val_fraction,
        limit=args.limit,
    )
    summary = prepare(
        args.sources,
        args.out,
        config=config,
        device=_device(args, settings),
        progress=stderr_progress(),
    )
    print(json.dumps({k: summary[k] for k in ("files", "counts", "skipped")}, indent=2))
    return 0


def _layers(text: str) -> tuple[int, int, int, int]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError as e:
        raise ConfigurationError(f"--layers wants four integers like 1,1,1,1, got {text}") from e
    if len(values) != 4 or min(values) < 1:
        raise ConfigurationError(f"--layers wants four positive integers, got {text}")
    return values[0], values[1], values[2], values[3]


def run_fit(args: argparse.Namespace, settings: Settings) -> int:
    """Train, then write weights and manifest into ``--out``."""
    from training.fit import fit
    from training.recipe import FitConfig

    config = FitConfig(
        epochs=args.epochs,
        seed=args.seed,
        backbone=args.backbone,
        init=args.init,
        input_size=args.input_size,
        freeze_stages=args.freeze_stages,
        layers=_layers(args.layers),
        lstm_hidden=args.lstm_hidden,
        batch=args.batch,
        lr=args.lr,
        seq_len=args.seq_len,
        mask_loss=args.mask_loss,
        strong_epochs=args.strong_epochs,
        samples_per_epoch=args.samples_per_epoch,
        labelled_repeat=args.labelled_repeat,
        self_blends=args.self_blends,
        damage=args.damage,
        model_margin=args.model_margin,
        video_repeat=args.video_repeat,
        max_val=args.max_val,
        threads=args.threads,
        max_minutes=args.max_minutes,
        name=args.name,
        workers=args.workers,
    )
    result = fit(
        args.data, args.out, config=config, device=_device(args, settings), resume=args.resume
    )
    print(json.dumps(result, indent=2), file=sys.stdout)
    return 0

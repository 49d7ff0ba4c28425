"""``fakewatch eval DIR``: AUC and friends of a set of weights on a labelled folder."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from base.errors import ConfigurationError
from base.settings import Settings
from fakewatch.commands.check import add_model_options, load_pipeline


def register(sub: Any) -> None:
    """Add ``eval``."""
    p = sub.add_parser(
        "eval",
        help="measure weights on a folder of labelled media (real/ and fake/)",
        description="Run every image and video below real/ and fake/ folders in DIR (any "
        "depth) through the pipeline; print AUC, EER, accuracy/precision/recall at the "
        "weights' fake threshold, per kind and per source (the folder below real/ or fake/). "
        "Files without a face are counted apart.",
    )
    p.add_argument("root", type=Path, metavar="DIR")
    add_model_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--roc", type=Path, default=None, metavar="PNG", help="write ROC curves")
    p.add_argument(
        "--save", type=Path, default=None, metavar="JSON", help="also write the JSON report here"
    )
    p.add_argument("--limit", type=int, default=None, help="files per label and source")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument(
        "--normalise",
        type=int,
        default=None,
        metavar="SIZE",
        help="first re-encode every video to SIZE px (shorter side), 25 fps, one bitrate, "
        "no audio: a detector that reads the container instead of the face fails here",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Evaluate; exit 1 when nothing could be judged."""
    from training.evaluate import evaluate, format_report, labelled_files
    from training.prepare import stderr_progress

    if not args.root.is_dir():
        raise ConfigurationError(f"{args.root} is not a folder")
    files, unlabelled = labelled_files(args.root, args.limit)
    if not files:
        raise ConfigurationError(f"no media below real/ or fake/ folders in {args.root}")
    if unlabelled:
        print(f"note: {unlabelled} files outside real/ and fake/ are left out", file=sys.stderr)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    pipeline = load_pipeline(args, settings)
    if args.normalise is not None and not 64 <= args.normalise <= 2160:
        raise ConfigurationError(f"--normalise wants a size of 64-2160 px, got {args.normalise}")
    report = evaluate(
        args.root,
        pipeline,
        limit=args.limit,
        progress=stderr_progress(every=10),
        normalise=args.normalise,
    )
    if args.roc:
        from training.plots import roc_curves

        roc_curves(report.curves(), args.roc, f"{report.model} on {args.root.name}")
        print(f"ROC curves written to {args.roc}", file=sys.stderr)
    if args.save:
        args.save.write_text(json.dumps(report.to_dict(), indent=1) + "\n")
    if args.json:
        print(json.dumps(report.to_dict()))
    else:
        print(format_report(report))
    return 0 if any(i.judged for i in report.items) else 1

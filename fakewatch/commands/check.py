"""``fakewatch check FILE...``: judge files locally, without the queue."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from base.settings import Settings
from base.vocabulary import FAILED_LABELS, Label

if TYPE_CHECKING:
    from inference.pipeline import Pipeline
    from inference.verdict import Verdict


def register(sub: Any) -> None:
    """Add ``check``."""
    p = sub.add_parser(
        "check",
        help="judge image and video files on this machine",
        description="Judge image and video files with the local model.",
    )
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    add_model_options(p)
    p.add_argument("--json", action="store_true", help="one JSON object per file (JSON lines)")
    p.add_argument(
        "--explain",
        type=Path,
        default=None,
        metavar="DIR",
        help="write <file>.explain.png into DIR: the deciding face and, beside it, where the "
        "model sees blending (its manipulation map)",
    )
    p.set_defaults(handler=run)


def add_model_options(p: argparse.ArgumentParser) -> None:
    """``--weights``, ``--device``, ``--frames``: shared by the commands that run the model."""
    p.add_argument(
        "--weights",
        default=None,
        metavar="NAME|PATH",
        help="weights name in weights/, a .pt or manifest path, 'random', or one per kind: "
        "image=NAME,video=NAME (default: FAKEWATCH_WEIGHTS, else the shipped default)",
    )
    p.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default=None,
        help="where to run the model (default: FAKEWATCH_DEVICE, else auto)",
    )
    p.add_argument(
        "--frames",
        type=int,
        default=None,
        metavar="N",
        help="frames sampled per video (default: FAKEWATCH_FRAMES, else 16)",
    )


def load_pipeline(args: argparse.Namespace, settings: Settings) -> Pipeline:
    """:func:`inference.pipeline.build_pipeline` with the command-line options, telling
    the user on stderr what it does."""
    from inference.pipeline import build_pipeline

    print("loading the model...", file=sys.stderr, flush=True)
    pipeline = build_pipeline(
        settings, weights=args.weights, device=args.device, frames=args.frames
    )
    if not pipeline.weights.trained:
        print(
            "warning: these weights are UNTRAINED (random); the verdicts mean nothing.",
            file=sys.stderr,
        )
    return pipeline


def format_verdict(name: str, v: Verdict) -> str:
    """A readable verdict of two lines."""
    if not v.judged and v.label != Label.NO_FACE:
        return f"{name}: {v.label.upper()} - {v.reason}"
    prob = "" if v.fake_probability is None else f"  fake probability {v.fake_probability:.2f}"
    faces = f"{v.faces} face{'s' if v.faces != 1 else ''}"
    frames = f"{v.frames} frame{'s' if v.frames != 1 else ''}"
    times = " · ".join(f"{k} {s:.3f}s" for k, s in v.timings.items())
    total = sum(v.timings.values())
    return (
        f"{name}: {v.label.upper()}{prob}  ({faces} in {frames}, model {v.model})\n"
        f"    {times} · total {total:.2f}s"
    )


def verdict_json(name: str, v: Verdict) -> str:
    """One JSON line for a file."""
    data = {"file": name, **v.to_dict()}
    return json.dumps(data, separators=(",", ":"))


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Check each file; exit 1 if any could not be judged."""
    pipeline = load_pipeline(args, settings)
    if args.explain is not None:
        args.explain.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in args.files:
        verdict = pipeline.analyze(path)
        failed += verdict.label in FAILED_LABELS
        print(
            verdict_json(str(path), verdict) if args.json else format_verdict(str(path), verdict),
            flush=True,
        )
        if args.explain is not None:
            _write_explanation(pipeline, path, verdict, args.explain)
    return 1 if failed else 0


def _write_explanation(pipeline: Pipeline, path: Path, verdict: Verdict, out: Path) -> None:
    from inference.decoder import decode
    from inference.explain import explanation_crop, explanation_png

    if verdict.explanation is None:
        why = "no face was judged" if not verdict.judged else "these weights make no map"
        print(f"    no explanation for {path.name}: {why}", file=sys.stderr)
        return
    media = decode(path, frames=pipeline.frames, limits=pipeline.limits)
    prep = pipeline.manifest_for(media.kind).preprocessing
    crop = explanation_crop(media, verdict.explanation, prep)
    target = out / f"{path.name}.explain.png"
    target.write_bytes(explanation_png(crop, verdict.explanation))
    print(f"    explanation written to {target}", file=sys.stderr)

"""``fakewatch demo``: check a sample face photo and a generated video (what ``make run`` did
before the service existed)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from base.errors import WeightsMissing
from base.settings import Settings
from fakewatch.commands.check import add_model_options, format_verdict, load_pipeline


def register(sub: Any) -> None:
    """Add ``demo``."""
    p = sub.add_parser("demo", help="check a sample photo and a generated video")
    add_model_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Write the samples to a temporary folder and check them."""
    from bench import samples

    try:
        pipeline = load_pipeline(args, settings)
    except WeightsMissing as e:
        print(f"{e}\nFalling back to untrained weights for the demo.", file=sys.stderr)
        args.weights = "random"
        pipeline = load_pipeline(args, settings)
    with tempfile.TemporaryDirectory(prefix="fakewatch-demo-") as tmp:
        photo = Path(tmp) / "astronaut.png"
        photo.write_bytes(samples.encode_image(samples.astronaut(), "PNG"))
        print("generating a 4 s 720p H.264 clip with two faces...", file=sys.stderr, flush=True)
        video = samples.write_face_video(
            Path(tmp) / "two_faces.mp4", seconds=4, width=1280, height=720, faces=2
        )
        for path in (photo, video):
            print(format_verdict(path.name, pipeline.analyze(path)), flush=True)
    return 0

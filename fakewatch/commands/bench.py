"""``fakewatch bench``: how fast the pipeline is here, measured against the naive path.

Generates its own workload (face photos and H.264 clips, cached in the data
directory) or takes a folder, runs it through a warm pipeline and prints a table
(``--json``: one JSON object). ``--baseline`` runs the public app's naive path on
the same items in the same run; ``--queue`` runs the items through Redis and a
real worker; ``--soak N`` runs N items and prints the RSS as it goes (with
``--queue``, N jobs through a real worker process and the worker's RSS).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from base.errors import ConfigurationError
from base.settings import Settings
from bench.weights import RANDOM_RESNEXT50

if TYPE_CHECKING:
    from bench.workload import Workload
    from inference.pipeline import Pipeline
    from inference.weight_set import WeightSet


def register(sub: Any) -> None:
    """Add ``bench``."""
    p = sub.add_parser(
        "bench",
        help="measure the pipeline's speed and memory on this machine",
        description="Measure latency, throughput and memory of the pipeline, optionally side "
        "by side with the naive baseline, through the queue, or over a long soak.",
    )
    p.add_argument("--quick", action="store_true", help="a short run (about a minute on CPU)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--baseline", action="store_true", help="also run the naive path, side by side")
    p.add_argument("--images", type=int, default=None, metavar="N", help="face photos (20)")
    p.add_argument("--videos", type=int, default=None, metavar="N", help="video clips (10)")
    p.add_argument("--resolution", default="1280x720", metavar="WxH", help="clip size (1280x720)")
    p.add_argument("--seconds", type=float, default=10.0, help="clip length in seconds (10)")
    p.add_argument("--image-size", type=int, default=512, metavar="PX", help="photo side (512)")
    p.add_argument("--gop", type=float, default=2.0, metavar="S", help="keyframe interval (2 s)")
    p.add_argument("--folder", type=Path, default=None, help="benchmark these files instead")
    p.add_argument("--repeat", type=int, default=1, metavar="N", help="passes over the workload")
    p.add_argument("--queue", action="store_true", help="also run the workload through the queue")
    p.add_argument(
        "--soak",
        type=int,
        default=0,
        metavar="N",
        help="run N items and print the RSS as it goes (with --queue: N jobs through a "
        "real worker process, the worker's RSS)",
    )
    p.add_argument("--threads", type=int, default=None, metavar="N", help="torch threads")
    p.add_argument(
        "--batch",
        type=int,
        default=None,
        metavar="N",
        help="items per batch in the throughput pass (default: 8 on CUDA, 1 on the CPU)",
    )
    p.add_argument(
        "--weights",
        default=None,
        metavar="NAME|PATH",
        help=f"weights as for `check`; '{RANDOM_RESNEXT50}' for the public checkpoints' size "
        "(default: the installed weights, else that)",
    )
    p.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default=None,
        help="where to run the model (default: FAKEWATCH_DEVICE, else auto)",
    )
    p.add_argument("--frames", type=int, default=None, metavar="N", help="frames per video")
    p.add_argument("--cache", type=Path, default=None, help="where generated media is kept")
    p.add_argument(
        "--detect-max-side",
        type=int,
        default=None,
        metavar="PX",
        help="face detection on photos and video frames downscaled to this longer side "
        "(default: FAKEWATCH_DETECT_MAX_SIDE for photos, else 640, and "
        "FAKEWATCH_VIDEO_DETECT_MAX_SIDE for video frames, else 480)",
    )
    p.add_argument(
        "--detect-sizes",
        default=None,
        metavar="PX,PX,...",
        help="instead of timing the pipeline, compare these detection sizes with full "
        "resolution on --folder: faces found, verdicts changed (against the first size), "
        "detection time",
    )
    p.set_defaults(handler=run)


def _resolution(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError as e:
        raise ConfigurationError(f"--resolution must look like 1280x720, not {text!r}") from e
    if w < 16 or h < 16:
        raise ConfigurationError(f"--resolution {text} is too small")
    return w, h


def workload_for(args: argparse.Namespace, settings: Settings) -> Workload:
    """The files to run: the folder, or generated (and cached) media."""
    from bench.workload import folder_workload, make_workload

    if args.folder is not None:
        if not args.folder.is_dir():
            raise ConfigurationError(f"--folder {args.folder} is not a folder")
        return folder_workload(args.folder)
    images = args.images if args.images is not None else (6 if args.quick else 20)
    videos = args.videos if args.videos is not None else (3 if args.quick else 10)
    return make_workload(
        args.cache or settings.data_dir / "bench",
        images=images,
        videos=videos,
        resolution=_resolution(args.resolution),
        seconds=args.seconds,
        image_size=args.image_size,
        gop_s=args.gop,
    )


def weights_for(args: argparse.Namespace, settings: Settings) -> WeightSet:
    """The named weights, the installed ones, or random ones of ResNeXt-50's size."""
    from bench.weights import weights_to_measure

    def say(msg: str) -> None:
        print(msg, file=sys.stderr)

    return weights_to_measure(args.weights or settings.weights, asked=bool(args.weights), say=say)


def pipeline_for(args: argparse.Namespace, settings: Settings) -> Pipeline:
    """A warm-able pipeline on :func:`weights_for`'s weights."""
    from inference.faces import DetectorConfig
    from inference.pipeline import Pipeline

    detector = DetectorConfig(
        detect_max_side=args.detect_max_side or settings.detect_max_side,
        video_max_side=args.detect_max_side or settings.video_detect_max_side,
    )
    return Pipeline(
        weights_for(args, settings),
        device=args.device or settings.device,
        frames=args.frames or settings.frames,
        detector=detector,
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Generate or find the workload, measure, print."""

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    _resolution(args.resolution)  # a usage error should not wait for torch to load
    if args.detect_sizes:
        return _detect_sizes(args, settings, say)
    from bench import runs
    from bench.queue import queue_text
    from inference.pipeline import configure_threads

    configure_threads(args.threads)
    say("preparing the workload...")
    workload = workload_for(args, settings)
    if not workload.images and not workload.videos:
        raise ConfigurationError("the workload is empty: no images or videos to run")
    runs.reset_peak_rss()
    say("loading the model...")
    pipeline = pipeline_for(args, settings)
    load_before = os.getloadavg()[0]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if args.soak and args.queue:
        # The soak through the queue: N jobs in a real worker process, its RSS sampled.
        soaked = _queue(settings, workload, pipeline, say, jobs=args.soak)
        pipeline.close()
        print(json.dumps({"queue": soaked}, default=str) if args.json else queue_text(soaked))
        return 0
    if args.soak:
        result: dict[str, Any] = runs.soak(pipeline, workload, args.soak, progress=say)
    else:
        batch = args.batch or (8 if pipeline.device.type == "cuda" else 1)
        measured = runs.measure(
            pipeline,
            workload,
            baseline=args.baseline,
            repeat=max(1, args.repeat),
            batch=batch,
            progress=say,
        )
        result = runs.report(pipeline, workload, measured, throughput_batch=batch)
    result |= {
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "cpu_share": (time.process_time() - cpu0) / max(1e-9, time.perf_counter() - wall0),
    }
    if args.queue:
        result["queue"] = _queue(settings, workload, pipeline, say)
    pipeline.close()
    if args.json:
        print(json.dumps(result, indent=None, default=str))
    elif args.soak:
        print(runs.soak_text(result))
    else:
        print(runs.table(result))
        if "queue" in result:
            print(queue_text(result["queue"]))
    return 0


def _detect_sizes(args: argparse.Namespace, settings: Settings, say: Any) -> int:
    try:
        sizes = [int(v) for v in args.detect_sizes.split(",") if v.strip()]
    except ValueError as e:
        raise ConfigurationError(f"--detect-sizes takes sizes like 480,640: {e}") from e
    if not sizes or min(sizes) < 64:
        raise ConfigurationError("--detect-sizes takes sizes of at least 64 px, like 480,640")
    if args.folder is None or not args.folder.is_dir():
        raise ConfigurationError("--detect-sizes needs --folder with media files to study")
    from bench import detect_sizes

    paths = detect_sizes.media_files(args.folder)
    say(f"{len(paths)} files; loading the model...")
    result = detect_sizes.study(
        paths,
        sizes,
        weights=weights_for(args, settings),
        device=args.device or settings.device,
        frames=args.frames or settings.frames,
        progress=say,
    )
    print(json.dumps(result) if args.json else detect_sizes.table(result))
    return 0


def _queue(
    settings: Settings, workload: Workload, pipeline: Pipeline, say: Any, *, jobs: int | None = None
) -> dict[str, Any]:
    import importlib.util

    if importlib.util.find_spec("queue_worker.client") is None:
        raise ConfigurationError("--queue needs the queue worker (queue_worker.client)")
    from bench.queue import queue_bench

    result: dict[str, Any] = queue_bench(settings, workload, pipeline, jobs=jobs, progress=say)
    return result

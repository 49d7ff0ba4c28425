"""``fakewatch worker``: run the queue worker (loads the model once, then judges jobs)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from base.settings import Settings


def register(sub: Any) -> None:
    """Add ``worker``."""
    p = sub.add_parser(
        "worker",
        help="run the queue worker",
        description="Take checks off the queue, judge them with the model, store the verdicts. "
        "Redis is REDIS_URL, else the embedded server in the data directory.",
    )
    p.add_argument("--burst", action="store_true", help="exit once the queue is empty")
    p.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="jobs at a time (default: FAKEWATCH_WORKER_JOBS, else 1)",
    )
    p.add_argument("--weights", default=None, metavar="NAME|PATH", help="as for 'check'")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None)
    p.add_argument("--frames", type=int, default=None, metavar="N")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run until SIGINT/SIGTERM (or the queue is empty with ``--burst``)."""
    from queue_worker.worker import run_worker

    overrides = {
        "worker_jobs": args.jobs,
        "weights": args.weights,
        "device": args.device,
        "frames": args.frames,
    }
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    if args.verbose == 0:
        # A worker's job log is its heartbeat: show it unless asked for more.
        logging.getLogger().setLevel(logging.INFO)
    failed = run_worker(settings, burst=args.burst)
    return 1 if args.burst and failed else 0

"""Where the model runs: the device, and the CPU threads it may use."""

from __future__ import annotations

import contextlib
import os

import cv2
import torch

from base.errors import ConfigurationError


def configure_threads(threads: int | None = None) -> int:
    """Set torch's and OpenCV's thread counts for this process; returns torch's.

    Args:
        threads: intra-op threads; None means ``FAKEWATCH_THREADS`` or one per core.
    """
    if threads is None:
        env = os.environ.get("FAKEWATCH_THREADS")
        threads = int(env) if env else os.cpu_count() or 1
    threads = max(1, threads)
    torch.set_num_threads(threads)
    with contextlib.suppress(RuntimeError):  # only settable before the first parallel op
        torch.set_num_interop_threads(1)  # the pipeline runs one op at a time
    cv2.setNumThreads(1)  # frames are resized one at a time; threads here only contend
    return threads


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` is CUDA when there is one, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigurationError("CUDA was asked for, but this machine has no CUDA device")
    return torch.device(name)

"""Shared fixtures. Tests are offline: no network but this machine's own services."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `gpu` tests without CUDA and `corpus` tests without ../shared/data."""
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:
        has_cuda = False
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    skip_corpus = pytest.mark.skip(reason=f"needs the face corpus at {SHARED_DATA}")
    for item in items:
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(skip_gpu)
        if "corpus" in item.keywords and not SHARED_DATA.is_dir():
            item.add_marker(skip_corpus)


@pytest.fixture(scope="session")
def test_device() -> str:
    """The device model tests run on: FAKEWATCH_TEST_DEVICE, else cpu."""
    return os.environ.get("FAKEWATCH_TEST_DEVICE", "cpu")


@pytest.fixture(autouse=True)
def normal_scheduling_for_each_test() -> None:
    """Keep this process off real-time scheduling (see base.scheduling).

    On the development machine the test process was seen to come under SCHED_FIFO 99
    partway through a run (nothing in this repository asks for it); torch's threads in
    this process, or a service it starts, then starve everything else.
    """
    from base.scheduling import normal_scheduling

    normal_scheduling()

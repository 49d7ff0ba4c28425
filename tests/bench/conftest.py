"""Fixtures for the benchmark tests: one small random-weights pipeline per session."""

from __future__ import annotations

import pytest

from inference.pipeline import Pipeline
from inference.weights import random_weights


@pytest.fixture(scope="session")
def pipeline(test_device: str) -> Pipeline:
    """A pipeline with small random weights: real MTCNN, real classifier code."""
    return Pipeline(random_weights(), device=test_device, frames=8)

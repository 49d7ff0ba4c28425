"""The epoch make-up: labelled entries repeated, video tracks repeated, photos cycled."""

from __future__ import annotations

from collections import Counter

import numpy as np

from training.dataset import Entry
from training.faceset import FaceSequence
from training.recipe import FitConfig, epoch_entries


def _entry(name: str, *, labelled: bool, kind: str = "image", fake: bool = False) -> Entry:
    seq = FaceSequence(
        file=name,
        source="s",
        identity=name,
        is_fake=fake,
        labelled=labelled,
        split="train",
        kind=kind,
        frames=(),
    )
    return Entry(seq, pair=not fake)


def _train() -> list[Entry]:
    labelled = [_entry(f"l{i}", labelled=True, fake=i % 2 == 0) for i in range(4)]
    videos = [_entry(f"v{i}", labelled=False, kind="video") for i in range(2)]
    photos = [_entry(f"p{i}", labelled=False) for i in range(30)]
    return labelled + videos + photos


def _counts(config: FitConfig, epoch: int = 0) -> Counter[str]:
    chosen = epoch_entries(_train(), config, epoch, np.random.default_rng(0))
    return Counter(e.sequence.file for e in chosen)


def test_labelled_entries_repeat_as_asked_and_photos_fill_the_rest() -> None:
    counts = _counts(FitConfig(labelled_repeat=3, video_repeat=2, samples_per_epoch=26))
    assert all(counts[f"l{i}"] == 3 for i in range(4))
    assert all(counts[f"v{i}"] == 2 for i in range(2))
    photos = [name for name in counts if name.startswith("p")]
    assert len(photos) == 26 - 12 - 4
    assert all(counts[p] == 1 for p in photos)


def test_one_labelled_pass_by_default() -> None:
    counts = _counts(FitConfig(samples_per_epoch=20))
    assert all(counts[f"l{i}"] == 1 for i in range(4))
    assert sum(counts.values()) == 20


def test_photos_cycle_across_epochs_before_any_repeats() -> None:
    config = FitConfig(samples_per_epoch=27)  # room for 15 photos an epoch, 30 photos in all
    first = {n for n in _counts(config, 0) if n.startswith("p")}
    second = {n for n in _counts(config, 1) if n.startswith("p")}
    assert len(first) == len(second) == 15
    assert not first & second


def test_no_unlabelled_video_tracks_when_video_repeat_is_zero() -> None:
    counts = _counts(FitConfig(video_repeat=0, samples_per_epoch=20))
    assert not [name for name in counts if name.startswith("v")]
    assert all(counts[f"l{i}"] == 1 for i in range(4)) and sum(counts.values()) == 20

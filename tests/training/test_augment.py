"""How often training crops are damaged, by damage level."""

from __future__ import annotations

import numpy as np
import pytest

from training.augment import DAMAGE, sample_augment


def _draws(damage: str, n: int = 400) -> list:
    rng = np.random.default_rng(7)
    return [sample_augment(rng, damage=damage) for _ in range(n)]


def _damaged(p) -> bool:
    return any(x is not None for x in (p.blur_sigma, p.noise_std, p.jpeg_quality, p.rescale))


def test_no_damage_keeps_geometry_and_colour_but_never_degrades() -> None:
    draws = _draws("none")
    assert not any(_damaged(p) for p in draws)
    assert any(p.flip for p in draws) and any(not p.flip for p in draws)
    assert len({p.scale for p in draws}) > 100  # crop jitter still on
    assert any(p.brightness is not None for p in draws)


def test_gentle_damages_less_often_than_full() -> None:
    full = sum(_damaged(p) for p in _draws("full"))
    gentle = sum(_damaged(p) for p in _draws("gentle"))
    assert 0 < gentle < full
    assert all(p.jpeg_quality is None or p.jpeg_quality >= 70 for p in _draws("gentle"))


def test_unknown_damage_level_is_refused_by_name() -> None:
    known = r"\(known: full, gentle, none\)"
    with pytest.raises(ValueError, match=rf"unknown damage level 'heavy' {known}"):
        sample_augment(np.random.default_rng(0), damage="heavy")
    assert DAMAGE == ("full", "gentle", "none")

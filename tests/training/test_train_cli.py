"""prepare -> fit -> eval on a tiny generated corpus, through the command line (in process)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from fakewatch.cli import main
from inference.weights import load_weights
from training.faceset import load_faceset


@pytest.fixture(scope="module")
def prepared(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("faceset")
    code = main(
        ["train", "prepare", str(tiny_corpus), "--out", str(out), "--val-fraction", "0.5",
         "--video-frames", "6", "--device", "cpu"]
    )  # fmt: skip
    assert code == 0
    return out


@pytest.fixture(scope="module")
def trained(prepared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    args = ["train", "fit", str(prepared), "--out", str(out), "--name", "tiny", "--batch", "8",
            "--lstm-hidden", "32", "--seq-len", "3", "--samples-per-epoch", "6",
            "--threads", "1", "--device", "cpu"]  # fmt: skip
    assert main([*args, "--epochs", "1"]) == 0
    assert main([*args, "--epochs", "2", "--resume"]) == 0  # one more epoch, resumed
    return out


def test_prepare_keeps_faces_with_landmarks_and_splits(prepared: Path) -> None:
    faces = load_faceset(prepared)
    counts = faces.summary()
    assert counts.get("train_real", 0) + counts.get("val_real", 0) == 9  # 8 photos + 1 track
    assert counts.get("train_fake", 0) + counts.get("val_fake", 0) == 3
    assert counts.get("val_real", 0) >= 1 and counts.get("train_real", 0) >= 1
    video = [s for s in faces.sequences if s.kind == "video"]
    assert len(video) == 1 and video[0].length >= 4
    for s in faces.sequences:
        assert s.source in {"images/astronaut", "images/composites", "videos/generated"}
        crop = faces.crop(s.frames[0])
        assert crop.shape == (128, 128, 3)
        (lx, ly), (rx, _) = s.frames[0].landmarks[:2]
        assert 20 < lx < rx < 108 and 20 < ly < 100  # both eyes inside the crop, left of right
    assert faces.info["skipped"].get("no_face") == 1  # the coffee cup


def test_fit_writes_weights_log_plot_and_resumes(trained: Path) -> None:
    with (trained / "history.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert all(r["train_loss"] and r["val_auc"] for r in rows)
    assert (trained / "history.png").stat().st_size > 1000
    weights = load_weights(trained / "tiny.json")
    m = weights.manifest
    assert m.trained and m.name == "tiny"
    assert m.architecture.lstm_hidden == 32 and not m.architecture.legacy
    assert m.architecture.backbone == "efficientnet_lite0"
    assert m.preprocessing.channel_order == "rgb" and m.preprocessing.input_size == 224
    assert m.preprocessing.margin == 0.3 and m.preprocessing.square
    assert 0.0 <= m.thresholds.real <= m.thresholds.fake <= 1.0
    assert m.provenance["epochs_run"] == 2
    # fp16 storage
    import torch

    state = torch.load(trained / "tiny.pt", map_location="cpu", weights_only=True)
    assert {v.dtype for v in state.values() if v.is_floating_point()} == {torch.float16}


def test_eval_json_counts_and_roc(
    tiny_corpus: Path, trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roc_png = tmp_path / "roc.png"
    code = main(
        ["eval", str(tiny_corpus), "--weights", str(trained / "tiny.json"), "--json",
         "--roc", str(roc_png), "--frames", "4", "--device", "cpu"]
    )  # fmt: skip
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_real"] == 10 and report["n_fake"] == 3
    assert report["n_unjudged"] == 1 and report["unjudged"] == {"no_face": 1}
    assert 0.0 <= report["auc"] <= 1.0
    assert set(report["by_kind"]) == {"image", "video"}
    assert report["by_source"]["images/composites"]["n_fake"] == 3
    assert report["model"].startswith("tiny@")
    assert roc_png.stat().st_size > 1000
    assert len(report["items"]) == 13


def test_eval_with_weights_per_kind_names_both(
    tiny_corpus: Path, trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = f"image={trained / 'tiny.json'},video=random"
    assert main(["eval", str(tiny_corpus), "--weights", spec, "--json", "--frames", "4"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["models"]["image"].startswith("tiny@")
    assert report["models"]["video"].startswith("random-untrained")
    assert report["model"] == f"{report['models']['image']}+{report['models']['video']}"
    assert not report["trained"]  # one of the two is untrained
    assert {i["kind"] for i in report["items"]} == {"image", "video"}
    assert main(["eval", str(tiny_corpus), "--weights", spec, "--frames", "4", "--limit", "1"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header.startswith("weights (UNTRAINED): images tiny@") and "; videos random" in header


def test_eval_text_report_with_random_weights(
    tiny_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["eval", str(tiny_corpus), "--weights", "random", "--frames", "4", "--limit", "1"])
    assert code == 0
    out = capsys.readouterr()
    assert "UNTRAINED" in out.out and "ALL" in out.out and "images/composites" in out.out
    assert "/4 files" in out.err  # progress on stderr


def test_export_writes_the_best_epoch_as_weights(
    prepared: Path, trained: Path, tmp_path: Path
) -> None:
    assert main(["train", "export", str(prepared), str(trained), "--out", str(tmp_path)]) == 0
    weights = load_weights(tmp_path / "tiny.json")
    assert weights.manifest.trained and weights.manifest.architecture.lstm_hidden == 32
    assert weights.manifest.provenance["best_epoch"] in (1, 2)
    assert (tmp_path / "tiny.pt").stat().st_size > 1000
    assert not weights.manifest.scale.identity  # Platt-scaled on val, thresholds on that scale
    assert weights.manifest.provenance["calibration"].startswith("scores Platt-scaled on val")


def test_calibrate_fits_a_scale_for_weights_and_keeps_their_bytes(
    prepared: Path, trained: Path, tmp_path: Path
) -> None:
    before = load_weights(trained / "tiny.json").manifest
    args = ["train", "calibrate", str(prepared), "--weights", str(trained / "tiny.json"),
            "--out", str(tmp_path), "--threads", "1"]  # fmt: skip
    assert main(args) == 0
    after = load_weights(tmp_path / "tiny.json").manifest
    assert after.sha256 == before.sha256 and after.model_id == before.model_id
    assert not after.scale.identity
    assert after.provenance["recalibrated"]["previous_thresholds"] == {
        "fake": before.thresholds.fake,
        "real": before.thresholds.real,
    }


def test_export_any_kept_epoch_and_say_which_are_kept(
    prepared: Path, trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["train", "export", str(prepared), str(trained)]
    for epoch in (1, 2):
        out = tmp_path / f"e{epoch}"
        assert main([*base, "--out", str(out), "--epoch", str(epoch)]) == 0
        provenance = load_weights(out / "tiny.json").manifest.provenance
        assert provenance["best_epoch"] == epoch
        assert provenance["selection"] == f"epoch {epoch}, chosen by hand"
    first = (tmp_path / "e1" / "tiny.pt").read_bytes()
    assert first != (tmp_path / "e2" / "tiny.pt").read_bytes()  # two different epochs
    capsys.readouterr()
    assert main([*base, "--out", str(tmp_path / "e9"), "--epoch", "9"]) != 0
    err = capsys.readouterr().err
    assert "no weights for epoch 9" in err and "epoch-001.ckpt, epoch-002.ckpt" in err


def test_fit_from_earlier_weights_names_them_by_model_id(
    prepared: Path, trained: Path, tmp_path: Path
) -> None:
    parent = load_weights(trained / "tiny.json").manifest
    out = tmp_path / "again"
    args = ["train", "fit", str(prepared), "--out", str(out), "--name", "tiny2", "--batch", "8",
            "--lstm-hidden", "32", "--seq-len", "3", "--samples-per-epoch", "6", "--epochs", "1",
            "--threads", "1", "--device", "cpu", "--init", str(trained / "tiny.json"),
            "--freeze-stages", "0", "--labelled-repeat", "2", "--video-repeat", "0"]  # fmt: skip
    assert main(args) == 0
    m = load_weights(out / "tiny2.json").manifest
    assert f"fine-tuned from {parent.model_id}" in m.provenance["recipe"]
    assert m.provenance["fit"]["labelled_repeat"] == 2
    assert m.provenance["fit"]["video_repeat"] == 0
    assert m.provenance["fit"]["freeze_stages"] == 0


def test_fit_on_labelled_fakes_alone_without_damage(prepared: Path, tmp_path: Path) -> None:
    out = tmp_path / "plain"
    args = ["train", "fit", str(prepared), "--out", str(out), "--name", "plain", "--batch", "8",
            "--lstm-hidden", "32", "--seq-len", "3", "--samples-per-epoch", "6", "--epochs", "1",
            "--threads", "1", "--device", "cpu",
            "--no-self-blends", "--damage", "none"]  # fmt: skip
    assert main(args) == 0
    m = load_weights(out / "plain.json").manifest
    assert m.provenance["fit"]["self_blends"] is False
    assert m.provenance["fit"]["damage"] == "none"


def test_fit_refuses_a_model_margin_wider_than_the_prepared_crops(
    prepared: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["train", "fit", str(prepared), "--out", str(tmp_path / "wide"), "--name", "wide",
            "--epochs", "1", "--threads", "1", "--device", "cpu",
            "--model-margin", "0.9"]  # fmt: skip
    assert main(args) != 0
    assert "prepare the faces again with --margin 0.9" in capsys.readouterr().err

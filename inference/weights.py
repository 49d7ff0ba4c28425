"""Weights files and their manifests.

A shipped weights file ``weights/<name>.pt`` (a plain state dict, usually fp16)
sits next to ``weights/<name>.json``, its manifest: architecture,
preprocessing, decision thresholds, provenance and the file's sha256.
``weights/DEFAULT`` names the file the pipeline uses when none is asked for.

Checkpoints of the public ResNeXt-LSTM project
(``model_<acc>_acc_<frames>_frames_<data>.pt``) load from a path without a
manifest: their layout is recognised and the legacy configuration used.

Everything loads on the CPU with ``weights_only=True``; a bad file raises
:class:`base.errors.WeightsInvalid` from its cause.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from base import vocabulary
from base.errors import WeightsInvalid, WeightsMissing
from inference.calibration import ScoreScale
from inference.model import (
    LEGACY_CONFIG,
    LEGACY_PREPROCESSING,
    Classifier,
    ModelConfig,
    Preprocessing,
    build_model,
)

DEFAULT_POINTER = "DEFAULT"
RANDOM = "random"
_LEGACY_NAME = re.compile(r"^model_(?P<acc>[\d.]+)_acc_(?P<frames>\d+)_frames_(?P<data>.+)\.pt$")

# A small configuration for tests and for the untrained stand-in (a few MB).
SMALL_CONFIG = ModelConfig(layers=(1, 1, 1, 1), lstm_hidden=128)


@dataclass(frozen=True)
class Thresholds(vocabulary.Thresholds):
    """A model's thresholds as its manifest gives them: ``0 <= real <= fake <= 1``.

    The rule they feed is :func:`base.vocabulary.decide_label`.
    """

    def __post_init__(self) -> None:
        if not 0.0 <= self.real <= self.fake <= 1.0:
            raise WeightsInvalid(f"thresholds must satisfy 0 <= real <= fake <= 1, got {self}")


@dataclass(frozen=True)
class Manifest:
    """What a weights file is and how to use it."""

    name: str
    architecture: ModelConfig
    preprocessing: Preprocessing
    thresholds: Thresholds = Thresholds()
    file: str | None = None
    sha256: str | None = None
    trained: bool = True
    provenance: dict[str, Any] = field(default_factory=dict)
    # raw score -> reported fake probability; the thresholds are on the reported scale
    scale: ScoreScale = field(default_factory=ScoreScale)

    @property
    def model_id(self) -> str:
        """Name plus a short content hash: what verdicts record and dedup keys on."""
        return f"{self.name}@{self.sha256[:12]}" if self.sha256 else self.name

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["architecture"] = self.architecture.to_dict()
        data["preprocessing"] = self.preprocessing.to_dict()
        data["scale"] = self.scale.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        """Parse a manifest, with a clear error for a malformed one."""
        try:
            return cls(
                name=str(data["name"]),
                architecture=ModelConfig.from_dict(data["architecture"]),
                preprocessing=Preprocessing.from_dict(data.get("preprocessing", {})),
                thresholds=Thresholds(**data.get("thresholds", {})),
                file=data.get("file"),
                sha256=data.get("sha256"),
                trained=bool(data.get("trained", True)),
                provenance=dict(data.get("provenance", {})),
                scale=ScoreScale.from_dict(data.get("scale")),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise WeightsInvalid(f"malformed weights manifest: {e}") from e


@dataclass
class LoadedWeights:
    """A model in eval mode with the manifest that describes it."""

    model: Classifier
    manifest: Manifest


def weights_dir() -> Path:
    """``FAKEWATCH_WEIGHTS_DIR`` or the ``weights/`` folder of this checkout."""
    env = os.environ.get("FAKEWATCH_WEIGHTS_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "weights"


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_name(folder: Path | None = None) -> str:
    """The name in ``weights/DEFAULT``, when it names one file for every kind of media.

    Raises:
        WeightsMissing: there is no ``weights/DEFAULT``.
        WeightsInvalid: it names one file per kind (:mod:`inference.weight_set` reads those);
            the message names them, to ask for one.
    """
    folder = folder or weights_dir()
    pointer = folder / DEFAULT_POINTER
    if not pointer.is_file():
        raise WeightsMissing(
            f"no trained weights are installed ({pointer} does not exist). "
            "Train them with `fakewatch train`, pass --weights PATH, "
            "or use --weights random for an untrained stand-in."
        )
    text = pointer.read_text().strip()
    if "=" in text:
        names = ", ".join(line.strip() for line in text.splitlines() if line.strip())
        raise WeightsInvalid(
            f"{pointer} names one weights file per kind of media ({names}); "
            "ask for one of them by name"
        )
    return text


def legacy_manifest(path: Path) -> Manifest:
    """A manifest for a public-project checkpoint, read from its file name."""
    match = _LEGACY_NAME.match(path.name)
    frames = int(match["frames"]) if match else LEGACY_PREPROCESSING.sequence_length
    provenance = {"source": "Deepfake_detection_using_deep_learning (public checkpoint)"}
    if match:
        provenance |= {"reported_accuracy": match["acc"], "training_data": match["data"]}
    return Manifest(
        name=path.stem,
        architecture=LEGACY_CONFIG,
        preprocessing=replace(LEGACY_PREPROCESSING, sequence_length=frames),
        thresholds=Thresholds(0.5, 0.5),
        file=path.name,
        provenance=provenance,
    )


def resolve(spec: str | os.PathLike[str]) -> tuple[Path, Manifest]:
    """Find a weights file and its manifest from a name, a ``.pt`` path or a manifest path."""
    text = str(spec)
    path = Path(text).expanduser()
    folder = weights_dir()
    if text == "default":
        path = folder / f"{default_name(folder)}.json"
    elif not path.exists() and not path.suffix:
        path = folder / f"{text}.json"
    if path.suffix == ".pt" and path.with_suffix(".json").is_file():
        path = path.with_suffix(".json")
    if not path.exists():
        raise WeightsMissing(f"no weights file or manifest at {path}")
    if path.suffix == ".json":
        try:
            manifest = Manifest.from_dict(json.loads(path.read_text()))
        except json.JSONDecodeError as e:
            raise WeightsInvalid(f"{path} is not valid JSON: {e}") from e
        pt = path.with_name(manifest.file or f"{manifest.name}.pt")
        if not pt.is_file():
            raise WeightsMissing(f"manifest {path.name} names {pt.name}, which is not there")
        return pt, manifest
    return path, legacy_manifest(path)


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a bad file; report one
        raise WeightsInvalid(f"cannot read weights {path.name}: {e}") from e
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsInvalid(f"{path.name} is not a state dict of tensors")
    return {k.removeprefix("module."): v for k, v in state.items()}


def load_weights(spec: str | os.PathLike[str]) -> LoadedWeights:
    """Load weights by name (``default``, ``random``, a shipped name) or path, on the CPU.

    Raises:
        WeightsMissing: nothing at that name or path.
        WeightsInvalid: the file does not match its architecture or its hash.
    """
    if str(spec) == RANDOM:
        return random_weights()
    pt, manifest = resolve(spec)
    digest = sha256_of(pt)
    if manifest.sha256 and manifest.sha256 != digest:
        raise WeightsInvalid(
            f"{pt.name} has sha256 {digest[:12]}..., its manifest says {manifest.sha256[:12]}..."
        )
    manifest = replace(manifest, sha256=digest, file=pt.name)
    model = build_model(manifest.architecture)
    state = _read_state_dict(pt)
    try:
        model.load_state_dict(
            {k: v.float() if v.is_floating_point() else v for k, v in state.items()}, strict=True
        )
    except RuntimeError as e:
        raise WeightsInvalid(f"{pt.name} does not fit its architecture: {e}") from e
    return LoadedWeights(model.eval(), manifest)


def random_weights(config: ModelConfig = SMALL_CONFIG, seed: int = 0) -> LoadedWeights:
    """An untrained model: for tests, and a stand-in when no trained weights exist."""
    torch.manual_seed(seed)
    manifest = Manifest(
        name=f"random-untrained-seed{seed}",
        architecture=config,
        preprocessing=Preprocessing(),
        trained=False,
        provenance={"source": "random initialisation; NOT a trained detector"},
    )
    return LoadedWeights(build_model(config), manifest)


def save_weights(
    model: Classifier, manifest: Manifest, folder: Path, *, half: bool = True
) -> Manifest:
    """Write ``<name>.pt`` (fp16 by default) and ``<name>.json`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    pt = folder / f"{manifest.name}.pt"
    state = {
        k: (v.half() if half and v.is_floating_point() else v).contiguous()
        for k, v in model.state_dict().items()
    }
    torch.save(state, pt)
    final = replace(manifest, file=pt.name, sha256=sha256_of(pt), architecture=model.config)
    (folder / f"{manifest.name}.json").write_text(json.dumps(final.to_dict(), indent=2) + "\n")
    return final

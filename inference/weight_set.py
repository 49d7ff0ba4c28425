"""Which weights judge which kind of media.

One weights file can judge photos and videos alike, or each kind can have its own: a model
fine-tuned hard on photo composites reads photos better and videos worse than one trained for
face tracks (``weights/MODEL_CARD.md`` has the numbers). ``weights/DEFAULT`` says which, as one
name for both kinds or as one line per kind::

    image=fakewatch-lite0-image
    video=fakewatch-lite0

``--weights`` and ``FAKEWATCH_WEIGHTS`` take the same forms on one line: a name or path
(``random``, ``default``, ``fakewatch-lite0``, ``runs/x/model.json``) or
``image=NAME,video=NAME``. Each file is loaded once, however many kinds it judges.

Thresholds are each file's own: a verdict is decided with the thresholds of the weights that
judged it, and ``Verdict.model`` names those weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from base.errors import WeightsInvalid
from inference.media import MediaKind
from inference.weights import DEFAULT_POINTER, LoadedWeights, load_weights, resolve, weights_dir

KINDS: tuple[MediaKind, ...] = get_args(MediaKind)


@dataclass(frozen=True)
class WeightSet:
    """The weights for photos and those for videos (often one and the same)."""

    image: LoadedWeights
    video: LoadedWeights

    @classmethod
    def of(cls, weights: LoadedWeights) -> WeightSet:
        """One weights file for every kind."""
        return cls(image=weights, video=weights)

    def for_kind(self, kind: MediaKind) -> LoadedWeights:
        """The weights that judge ``kind``."""
        return self.image if kind == "image" else self.video

    @property
    def distinct(self) -> list[LoadedWeights]:
        """Each loaded file once (video's first: it names the sampling of frames)."""
        return [self.video] if self.image is self.video else [self.video, self.image]

    @property
    def model_id(self) -> str:
        """The one model id, or ``image-id+video-id``: what the worker's dedup keys on."""
        if self.image is self.video:
            return self.video.manifest.model_id
        return f"{self.image.manifest.model_id}+{self.video.manifest.model_id}"

    @property
    def trained(self) -> bool:
        """Whether every file in the set is trained (``random`` is not)."""
        return all(w.manifest.trained for w in self.distinct)

    def describe(self) -> str:
        """For logs: ``model-id`` or ``images: id; videos: id``."""
        if self.image is self.video:
            return self.video.manifest.model_id
        return f"images: {self.image.manifest.model_id}; videos: {self.video.manifest.model_id}"


def parse_spec(text: str, *, separator: str = ",") -> dict[MediaKind, str]:
    """``NAME`` or ``image=NAME,video=NAME`` (``separator`` between the kinds) as kind -> name.

    Raises:
        WeightsInvalid: a kind that does not exist, a kind given twice, or one left out.
    """
    parts = [p.strip() for p in text.split(separator) if p.strip() and not p.startswith("#")]
    if len(parts) == 1 and "=" not in parts[0]:
        return dict.fromkeys(KINDS, parts[0])
    out: dict[MediaKind, str] = {}
    for part in parts:
        kind, sep, name = (s.strip() for s in part.partition("="))
        if not sep or not name or kind not in KINDS:
            raise WeightsInvalid(
                f"cannot read {part!r} in weights {text!r}: expected a name, or "
                f"{', '.join(f'{k}=NAME' for k in KINDS)}"
            )
        if kind in out:
            raise WeightsInvalid(f"weights {text!r} name {kind} twice")
        out[kind] = name  # type: ignore[index]  # checked against KINDS above
    missing = [k for k in KINDS if k not in out]
    if missing:
        raise WeightsInvalid(f"weights {text!r} name none for {' or '.join(missing)}")
    return out


def default_spec() -> dict[MediaKind, str]:
    """What ``weights/DEFAULT`` names, per kind."""
    pointer = weights_dir() / DEFAULT_POINTER
    if not pointer.is_file():
        return dict.fromkeys(KINDS, "default")  # load_weights says what is missing
    return parse_spec(pointer.read_text(), separator="\n")


def names_of(spec: str) -> dict[MediaKind, str]:
    """The weights ``spec`` names per kind (``default``: what ``weights/DEFAULT`` says)."""
    return default_spec() if spec.strip() == "default" else parse_spec(spec)


def check_weight_set(spec: str) -> None:
    """Raise what :func:`load_weight_set` would for missing files, without loading them."""
    for name in dict.fromkeys(names_of(spec).values()):
        resolve(name)


def load_weight_set(spec: str | LoadedWeights | WeightSet = "default") -> WeightSet:
    """Load the weights ``spec`` names (see the module docstring), each file once.

    Raises:
        WeightsMissing: a file that is not there.
        WeightsInvalid: a spec that cannot be read, or a file that does not fit its manifest.
    """
    if isinstance(spec, WeightSet):
        return spec
    if isinstance(spec, LoadedWeights):
        return WeightSet.of(spec)
    names = names_of(spec)
    loaded: dict[str, LoadedWeights] = {}
    for name in dict.fromkeys(names.values()):
        loaded[name] = load_weights(name)
    return WeightSet(image=loaded[names["image"]], video=loaded[names["video"]])

"""Training and validation samples from a face set: real faces, their self-blends, labelled fakes.

An *entry* is one face sequence used one way:

* ``pair``: a real face and its self-blended fake, made on the fly with the same
  blend and augmentation parameters for every frame and for both (paired samples,
  as in the paper: the blend is the only difference);
* ``single``: a labelled face (a fake from a ``fake/`` folder, or a labelled real).

Photos are sequences of one frame; video tracks give ``seq_len`` frames, a random
ordered subset in training and evenly spaced in validation. Batches hold entries of
one sequence length (see :class:`LengthBatches`).

Each sample also carries its blend mask at the model's input geometry (zero for a
real face, :data:`UNKNOWN_MASK` for a labelled fake, whose manipulated region is not
known): training uses it for dense supervision (see :mod:`training.heads`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from inference.model import FAKE_INDEX, Preprocessing
from inference.pipeline import crops_tensor
from training.augment import NO_AUGMENT, AugmentParams, degrade, model_crop, sample_augment
from training.blend import Donor, blend_sequence, composite_mask, parts_from_name, sample_params
from training.faceset import FaceFrame, FaceSequence, FaceSet

REAL_INDEX = 1 - FAKE_INDEX
UNKNOWN_MASK = -1.0
Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class Entry:
    """One face sequence and how it is used."""

    sequence: FaceSequence
    pair: bool  # a real face plus its self-blend; else the sequence as labelled

    @property
    def outputs(self) -> int:
        """Samples it yields."""
        return 2 if self.pair else 1


def entries_for(sequences: Sequence[FaceSequence], *, sbi: bool = True) -> list[Entry]:
    """Reals become pairs (with ``sbi``), labelled fakes singles; unlabelled fakes cannot occur."""
    out = []
    for s in sequences:
        if s.is_fake:
            out.append(Entry(s, pair=False))
        else:
            out.append(Entry(s, pair=sbi))
    return out


def margin_fraction(stored_margin: float, model_margin: float) -> float:
    """Side of the model's crop region over the side of the stored crop."""
    return (1 + 2 * model_margin) / (1 + 2 * stored_margin)


def pick_frames(length: int, want: int, rng: np.random.Generator | None) -> list[int]:
    """``want`` ordered frame indices: random (training) or evenly spaced (``rng`` None)."""
    if length <= want:
        return list(range(length))
    if rng is None:
        return [round(i * (length - 1) / (want - 1)) for i in range(want)] if want > 1 else [0]
    return sorted(rng.choice(length, size=want, replace=False).tolist())


class FaceSamples(torch.utils.data.Dataset[Batch]):
    """Entries -> ``(x, y, masks)``: ``x`` is ``(k, T, 3, S, S)``, ``y`` is ``(k,)`` class
    indices, ``masks`` is ``(k, T, S, S)``.

    In training every call draws fresh random blends and augmentations from the
    base seed, the epoch and the index (reproducible, different every epoch);
    validation uses fixed blends per entry and no augmentation.
    """

    def __init__(
        self,
        faces: FaceSet,
        entries: Sequence[Entry],
        prep: Preprocessing,
        *,
        seq_len: int,
        train: bool,
        seed: int = 0,
        damage: str = "full",
    ) -> None:
        self.faces = faces
        self.damage = damage
        self.entries = list(entries)
        self.prep = prep
        self.seq_len = seq_len
        self.train = train
        self.seed = seed
        self.epoch = 0
        self.strong = False  # curriculum: stronger blends, gentler damage
        self.fraction = margin_fraction(faces.geometry.margin, prep.margin)
        # Real faces that can lend a part to another identity's blend.
        self.donors = [i for i, e in enumerate(self.entries) if e.pair]

    def __len__(self) -> int:
        return len(self.entries)

    def length_of(self, index: int) -> int:
        """Frames the entry's samples will have."""
        seq = self.entries[index].sequence
        return min(seq.length, self.seq_len if self.train else self.prep.sequence_length)

    def _rng(self, index: int) -> np.random.Generator:
        epoch = self.epoch if self.train else -1
        return np.random.default_rng([self.seed, epoch + 1, index])

    def __getitem__(self, index: int) -> Batch:
        entry = self.entries[index]
        rng = self._rng(index)
        seq = entry.sequence
        chosen = pick_frames(seq.length, self.length_of(index), rng if self.train else None)
        frames = [seq.frames[i] for i in chosen]
        crops = [self.faces.crop(f) for f in frames]
        augment = (
            sample_augment(rng, damage="gentle" if self.strong else self.damage)
            if self.train
            else NO_AUGMENT
        )
        noise_seed = int(rng.integers(0, 2**31 - 1))
        size = self.prep.input_size
        samples: list[tuple[list[np.ndarray], int, torch.Tensor]] = []
        if entry.pair:
            params = sample_params(rng, strong=self.strong)
            donor = self._donor(index, rng) if params.donor else None
            blended = blend_sequence(crops, [f.landmarks for f in frames], params, donor)
            masks = torch.from_numpy(
                np.stack(
                    [
                        model_crop(b.mask, fraction=self.fraction, size=size, params=augment)
                        for b in blended
                    ]
                )
            )
            samples.append(([b.real for b in blended], REAL_INDEX, torch.zeros_like(masks)))
            samples.append(([b.fake for b in blended], FAKE_INDEX, masks))
        else:
            samples.append(
                (
                    crops,
                    FAKE_INDEX if seq.is_fake else REAL_INDEX,
                    self._known_masks(seq, frames, augment),
                )
            )
        xs = [self._tensor(images, augment, noise_seed) for images, _, _ in samples]
        return (
            torch.stack(xs),
            torch.tensor([label for _, label, _ in samples], dtype=torch.long),
            torch.stack([m for _, _, m in samples]),
        )

    def _donor(self, index: int, rng: np.random.Generator) -> Donor | None:
        """A random frame of another real sequence (another identity where the pool allows)."""
        me = self.entries[index].sequence
        for _ in range(4):
            other = self.entries[self.donors[int(rng.integers(0, len(self.donors)))]].sequence
            if other.identity != me.identity or len(self.donors) < 2:
                frame = other.frames[int(rng.integers(0, other.length))]
                return self.faces.crop(frame), frame.landmarks
        return None

    def _known_masks(
        self, seq: FaceSequence, frames: Sequence[FaceFrame], augment: AugmentParams
    ) -> torch.Tensor:
        """Zero for a real face; a composite's parts mask when its name says which; else unknown."""
        size = self.prep.input_size
        if not seq.is_fake:
            return torch.zeros((len(frames), size, size))
        parts = parts_from_name(seq.file)
        if parts is None:
            return torch.full((len(frames), size, size), UNKNOWN_MASK)
        shape = (self.faces.geometry.size, self.faces.geometry.size)
        return torch.from_numpy(
            np.stack(
                [
                    model_crop(
                        composite_mask(shape, f.landmarks, parts),
                        fraction=self.fraction,
                        size=size,
                        params=augment,
                    )
                    for f in frames
                ]
            )
        )

    def _tensor(self, images: list[np.ndarray], augment: AugmentParams, seed: int) -> torch.Tensor:
        noise = np.random.default_rng(seed)  # the same noise for a real and its fake
        out = []
        for img in images:
            crop = model_crop(
                img, fraction=self.fraction, size=self.prep.input_size, params=augment
            )
            out.append(degrade(crop, augment, noise) if self.train else crop)
        return crops_tensor(out, self.prep)


def collate(batch: Sequence[Batch]) -> Batch:
    """Concatenate entries of one length: ``(B, T, 3, S, S)``, ``(B,)``, ``(B, T, S, S)``."""
    return (
        torch.cat([x for x, _, _ in batch]),
        torch.cat([y for _, y, _ in batch]),
        torch.cat([m for _, _, m in batch]),
    )


class LengthBatches(torch.utils.data.Sampler[list[int]]):
    """Batches of entries with equal sequence length, about ``crops`` crops each.

    Training shuffles within and across lengths every epoch (seeded); validation
    keeps the order.
    """

    def __init__(
        self, data: FaceSamples, crops: int, *, shuffle: bool, seed: int = 0, epoch: int = 0
    ) -> None:
        self.data = data
        self.crops = max(1, crops)
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = epoch

    def _batches(self) -> list[list[int]]:
        rng = np.random.default_rng([self.seed, self.epoch, 7])
        by_len: dict[int, list[int]] = {}
        for i in range(len(self.data)):
            by_len.setdefault(self.data.length_of(i), []).append(i)
        batches: list[list[int]] = []
        for length, indices in sorted(by_len.items()):
            order = rng.permutation(indices).tolist() if self.shuffle else indices
            batch: list[int] = []
            used = 0
            for i in order:
                cost = length * self.data.entries[i].outputs
                if batch and used + cost > self.crops:
                    batches.append(batch)
                    batch, used = [], 0
                batch.append(i)
                used += cost
            if batch:
                batches.append(batch)
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self._batches())

    def __len__(self) -> int:
        return len(self._batches())

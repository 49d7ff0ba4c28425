"""Where media files are and what they are: label, source and identity from folder layouts.

Recognised layouts (folder names are matched case-insensitively):

* ``real/`` and ``fake/`` folders at any depth (our corpus: ``real/images/<source>/...``);
* FaceForensics++: ``original_sequences/`` vs ``manipulated_sequences/<method>/``;
* Celeb-DF: ``Celeb-real/``, ``YouTube-real/`` vs ``Celeb-synthesis/``;
* anything else is taken as real (a folder of real faces for self-blended training).

The *source* of a file is the folder right below its label folder (two levels when the
first is ``images`` or ``videos``, e.g. ``images/ciplab_real_and_fake_rees451``); the
*identity* comes from a ``MANIFEST.tsv`` next to or above the folder when it has one.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif"})
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"})
MEDIA_SUFFIXES = IMAGE_SUFFIXES | VIDEO_SUFFIXES

REAL_FOLDERS = frozenset({"real", "original_sequences", "celeb-real", "youtube-real"})
FAKE_FOLDERS = frozenset({"fake", "manipulated_sequences", "celeb-synthesis"})
# Layouts whose file names start with the identity (FF++ "000_003.mp4", Celeb-DF "id0_0001.mp4").
_PREFIX_IDENTITY_FOLDERS = frozenset(
    {"original_sequences", "manipulated_sequences", "celeb-real", "youtube-real", "celeb-synthesis"}
)
_KIND_FOLDERS = frozenset({"images", "videos"})
_FIRST_TOKEN = re.compile(r"^([^_]+)_")


@dataclass(frozen=True)
class MediaFile:
    """One file found under a root, with what its place says about it."""

    path: Path
    relative: str  # to the root that was walked, with forward slashes
    is_fake: bool
    labelled: bool  # whether a real/fake folder said so (else assumed real)
    source: str
    identity: str

    @property
    def is_video(self) -> bool:
        """Judged by the suffix; decoding decides for sure."""
        return self.path.suffix.lower() in VIDEO_SUFFIXES


def _label_index(parts: tuple[str, ...]) -> tuple[int, bool] | None:
    """Position of the label folder among the folders, and whether it says fake."""
    for i, part in enumerate(parts):
        name = part.lower()
        if name in REAL_FOLDERS:
            return i, False
        if name in FAKE_FOLDERS:
            return i, True
    return None


def _source(folders: tuple[str, ...]) -> str:
    """The source named by the folders below the label folder (or below the root)."""
    if not folders:
        return "."
    take = 2 if folders[0].lower() in _KIND_FOLDERS and len(folders) > 1 else 1
    return "/".join(folders[:take])


def describe(path: Path, root: Path, identities: dict[str, str] | None = None) -> MediaFile:
    """Label, source and identity of ``path`` (a file under ``root``)."""
    rel = path.relative_to(root)
    folders = rel.parts[:-1]
    found = _label_index(folders)
    if found is None:
        is_fake, labelled, below, label_folder = False, False, folders, ""
        source = _source(below)
    else:
        at, is_fake = found
        labelled = True
        below = folders[at + 1 :]
        label_folder = folders[at]
        # Celeb-DF keeps its files right in the label folder: the folder is the source.
        source = _source(below) if below else label_folder
    key = path.resolve().as_posix()
    identity = (identities or {}).get(key, "")
    if not identity:
        source_depth = len(source.split("/")) if source != "." else 0
        if label_folder.lower() in _PREFIX_IDENTITY_FOLDERS:
            m = _FIRST_TOKEN.match(path.stem)
            identity = m.group(1) if m else path.stem
        elif len(below) > source_depth:
            identity = below[-1]  # a folder per person below the source (LFW, Essex)
        else:
            identity = path.stem
    return MediaFile(path, rel.as_posix(), is_fake, labelled, source, identity)


def manifest_identities(root: Path) -> dict[str, str]:
    """Identity column of the nearest ``MANIFEST.tsv`` at or above ``root``, by absolute path."""
    root = root.resolve()
    for folder in (root, *root.parents):
        manifest = folder / "MANIFEST.tsv"
        if manifest.is_file():
            with manifest.open(newline="", encoding="utf-8") as f:
                rows = csv.DictReader(f, delimiter="\t")
                return {
                    (folder / row["relative_path"]).as_posix(): row.get("identity") or ""
                    for row in rows
                    if row.get("relative_path")
                }
    return {}


def walk(root: Path) -> Iterator[MediaFile]:
    """Every media file under ``root`` (sorted, at any depth), described."""
    identities = manifest_identities(root)
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix.lower() in MEDIA_SUFFIXES:
            yield describe(path, root, identities)

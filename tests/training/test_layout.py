"""Labels, sources and identities from folder layouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.layout import describe, walk


@pytest.mark.parametrize(
    ("rel", "is_fake", "labelled", "source", "identity"),
    [
        ("real/images/ciplab/real_001.jpg", False, True, "images/ciplab", "real_001"),
        ("fake/videos/vasa/clip.mp4", True, True, "videos/vasa", "clip"),
        ("fake/stylegan/a.png", True, True, "stylegan", "a"),
        ("images/lfw/Ann_Smith/Ann_Smith_0001.jpg", False, False, "images/lfw", "Ann_Smith"),
        ("original_sequences/youtube/c23/videos/000.mp4", False, True, "youtube", "000"),
        ("manipulated_sequences/Deepfakes/c23/videos/000_003.mp4", True, True, "Deepfakes", "000"),
        ("Celeb-real/id0_0001.mp4", False, True, "Celeb-real", "id0"),
        ("Celeb-synthesis/id0_id16_0001.mp4", True, True, "Celeb-synthesis", "id0"),
        ("YouTube-real/00001.mp4", False, True, "YouTube-real", "00001"),
    ],
)
def test_describe(
    tmp_path: Path, rel: str, is_fake: bool, labelled: bool, source: str, identity: str
) -> None:
    item = describe(tmp_path / rel, tmp_path)
    assert (item.is_fake, item.labelled, item.source) == (is_fake, labelled, source)
    assert item.identity == identity
    assert item.relative == rel


def test_walk_reads_identities_from_a_manifest(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    (root / "real" / "images" / "src").mkdir(parents=True)
    (root / "real" / "images" / "src" / "a.jpg").write_bytes(b"x")
    (root / "real" / "images" / "src" / "b.jpg").write_bytes(b"x")
    (root / "real" / "images" / "src" / "notes.txt").write_text("not media")
    (tmp_path / "MANIFEST.tsv").write_text(
        "label\trelative_path\tidentity\nreal\tcorpus/real/images/src/a.jpg\tAda\n"
    )
    items = list(walk(root))
    assert [i.relative for i in items] == ["real/images/src/a.jpg", "real/images/src/b.jpg"]
    assert [i.identity for i in items] == ["Ada", "b"]

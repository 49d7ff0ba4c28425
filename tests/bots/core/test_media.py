"""Media categories from mime types and names."""

from __future__ import annotations

import pytest

from bots.core.media import category_of, megabytes


@pytest.mark.parametrize(
    ("mime", "name", "category"),
    [
        ("image/jpeg", None, "image"),
        ("image/gif", "a.gif", "image"),
        ("video/quicktime", "clip.mov", "video"),
        ("application/octet-stream", "clip.MP4", "video"),
        (None, "photo.webp", "image"),
        ("image/svg+xml", "logo.svg", None),
        ("application/pdf", "paper.pdf", None),
        (None, None, None),
        ("application/zip", "noext", None),
    ],
)
def test_category(mime: str | None, name: str | None, category: str | None) -> None:
    assert category_of(mime, name) == category


def test_megabytes() -> None:
    assert megabytes(25 * 1024 * 1024) == "25 MB"
    assert megabytes(1024 * 1024) == "1 MB"
    assert megabytes(700 * 1024) == "700 KB"

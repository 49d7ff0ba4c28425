"""The pictures of a verdict reply: which replies carry one, and that they draw the numbers."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest
from PIL import Image

from base.scores import Details
from bots.core import pictures
from bots.core.flow import Reply
from queue_worker.contracts import CheckResult

SCORES = [0.2, 0.35, None, 0.9, 0.6, 0.1, 0.4, 0.5]
TIMES = [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
HOT = (2, 11)  # the map's one hot cell: row, column


def grid() -> list[list[float]]:
    rows = [[0.0] * 14 for _ in range(14)]
    rows[HOT[0]][HOT[1]] = 1.0
    return rows


def details(**changes: Any) -> dict[str, Any]:
    base = {
        "frame_scores": SCORES,
        "frame_times": TIMES,
        "explanation": {"track": 0, "frame": 3, "box": [40.0, 30.0, 100.0, 110.0], "map": grid()},
    }
    return base | changes


def reply(
    label: str = "fake",
    *,
    kind: str = "video",
    explain: bool = False,
    status: str = "done",
    **changes: Any,
) -> Reply:
    outcome = CheckResult(
        check_id=7,
        status=status,
        label=label,
        fake_probability=0.9,
        faces=1,
        frames=len(SCORES),
        media_kind=kind,
        details=Details.from_json(changes.pop("details", details())),  # as the store reads it
    )
    reply_to = {"chat_id": "-100", "message_id": "42", **({"explain": True} if explain else {})}
    fields: dict[str, Any] = {"text": "verdict", "reply_to": reply_to, "check_id": 7}
    return Reply(**(fields | {"outcome": outcome, "label": label} | changes))


def image_of(picture: pictures.Picture | None) -> Image.Image:
    assert picture is not None
    assert picture.data.startswith(b"\x89PNG") and len(picture.data) <= pictures.MAX_BYTES
    return Image.open(io.BytesIO(picture.data)).convert("RGB")


def top_of_line(img: Image.Image, x: int) -> int:
    """The highest pixel of the timeline's line colour in column ``x``."""
    for y in range(40, pictures.TIMELINE_HEIGHT - 44):
        r, g, b = img.getpixel((x, y))  # type: ignore[misc]
        if r > 150 and g < 90 and b < 80:
            return y
    raise AssertionError(f"no line in column {x}")


@pytest.mark.parametrize("label", ["fake", "inconclusive"])
def test_a_fake_or_inconclusive_video_carries_its_timeline(label: str) -> None:
    picture = pictures.reply_picture(reply(label))
    img = image_of(picture)
    assert img.size == (pictures.WIDTH, pictures.TIMELINE_HEIGHT)
    assert picture is not None and picture.name == "fakewatch-check-7.png"
    assert "each sampled frame" in picture.description
    # The line follows the scores: the 0.9 frame is drawn far above the 0.1 frame.
    left, width = 58, pictures.WIDTH - 58 - 22

    def column(t: float) -> int:
        return round(left + t / TIMES[-1] * width)

    assert top_of_line(img, column(0.75)) < top_of_line(img, column(1.25)) - 100


@pytest.mark.parametrize(
    ("label", "kind", "status"),
    [
        ("real", "video", "done"),
        ("no_face", "video", "done"),
        ("fake", "image", "done"),
        ("error", "video", "failed"),
    ],
)
def test_other_verdicts_keep_the_text_reply(label: str, kind: str, status: str) -> None:
    assert pictures.reply_picture(reply(label, kind=kind, status=status)) is None


def test_quiet_reactions_deletions_and_notes_carry_no_picture() -> None:
    assert pictures.reply_picture(reply(reply_to={"mode": "react"})) is None
    assert pictures.reply_picture(reply(action="delete_and_report")) is None
    assert pictures.reply_picture(reply(final=False)) is None


def test_one_scored_frame_is_no_timeline() -> None:
    one = details(frame_scores=[None, 0.8, None], frame_times=[0.0, 0.5, 1.0], explanation=None)
    assert pictures.reply_picture(reply(details=one)) is None


def test_the_map_comes_when_asked_for_and_shows_the_stored_cells() -> None:
    photo = pictures.reply_picture(reply("real", kind="image", explain=True))
    img = image_of(photo)
    assert photo is not None and "where on the face" in photo.description
    assert img.height != pictures.TIMELINE_HEIGHT  # the map alone: no timeline for a photo
    cell, left, top = pictures.MAP_CELL, 58, 40

    def centre(row: int, col: int) -> tuple[int, int]:
        return left + col * cell + cell // 2, top + row * cell + cell // 2

    assert img.getpixel(centre(*HOT)) == (255, 0, 0)
    assert img.getpixel(centre(HOT[0], 0)) == (255, 255, 255)

    both = image_of(pictures.reply_picture(reply("fake", explain=True)))
    assert both.height == pictures.TIMELINE_HEIGHT + img.height  # timeline above the map


def test_no_map_without_a_stored_one_or_for_an_unjudged_check() -> None:
    unreadable = details(explanation={"frame": 0, "box": [1, 2], "map": [[0.5]]})
    short_box = details(explanation={"track": 0, "frame": 0, "box": [1, 2], "map": [[0.5]]})
    ragged = details(explanation={"track": 0, "frame": 0, "box": [1, 2, 3, 4], "map": [[0.5], []]})
    for broken in (unreadable, short_box, ragged):
        assert pictures.reply_picture(reply("real", explain=True, details=broken)) is None
        # A fake video without a map still gets its timeline.
        only_timeline = image_of(pictures.reply_picture(reply(explain=True, details=broken)))
        assert only_timeline.height == pictures.TIMELINE_HEIGHT
    assert pictures.reply_picture(reply("no_face", explain=True)) is None


def test_without_pillow_the_text_goes_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    monkeypatch.setitem(sys.modules, "PIL.ImageDraw", None)
    assert pictures.reply_picture(reply()) is None


def test_a_picture_over_the_size_cap_is_not_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pictures, "MAX_BYTES", 1000)
    assert pictures.reply_picture(reply()) is None

"""Hostile input: every file of the generated corpus, and Hypothesis-mutated real files,
fails with a specific reason (or decodes to sane frames) within a time and memory bound.

Each file is decoded in a sandboxed child process (``tests.inference.sandbox``): a
hang is killed at the timeout, a runaway allocation stops at the address-space
limit, and a crash is reported instead of taking pytest down. The bounds are
generous on purpose: they catch runaways (minutes, gigabytes), not slow machines.
Run with ``-s`` to see the table of outcomes, times and memory.
"""

from __future__ import annotations

import os
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from base.errors import CorruptMedia, TooLong, TooManyPixels
from inference.decoder import decode
from inference.media import MediaLimits
from tests.inference import hostile
from tests.inference.sandbox import Outcome, decode_in_child

# A runaway, not a slow machine: the slowest file of the corpus takes about 2 s.
TIMEOUT_S = 60.0
MEMORY_BOUND_MB = 1024
EXAMPLES = int(os.environ.get("FAKEWATCH_HOSTILE_EXAMPLES", "60"))
LONG_EXAMPLES = 1500  # the slow variant CI runs


@cache
def _corpus() -> dict[str, hostile.Hostile]:
    return {h.name: h for h in hostile.corpus()}


def test_the_corpus_is_large_and_varied() -> None:
    corpus = _corpus()
    assert len(corpus) >= 50
    assert len({h.data for h in corpus.values()}) == len(corpus)  # no two files alike
    refused = [h for h in corpus.values() if hostile.OK not in h.expect]
    assert len(refused) >= 50  # at least 50 must be refused with a reason
    assert all(h.expect <= hostile.MEDIA_CODES | {hostile.OK} for h in corpus.values())


def _table(outcomes: dict[str, Outcome]) -> str:
    width = max(map(len, outcomes))
    lines = [f"{'file':{width}}  {'bytes':>9}  {'outcome':20}  seconds  added MB"]
    for name, o in outcomes.items():
        got = "ok" if o.kind == "ok" else o.code
        size = len(_corpus()[name].data)
        lines.append(f"{name:{width}}  {size:>9,}  {got:20}  {o.seconds:7.2f}  {o.added_mb:8.1f}")
    slowest = max(outcomes.values(), key=lambda o: o.seconds)
    fattest = max(outcomes.values(), key=lambda o: o.added_mb)
    lines.append(
        f"{len(outcomes)} hostile files; slowest {slowest.seconds:.2f}s, "
        f"most memory added {fattest.added_mb:.0f} MB"
    )
    return "\n".join(lines)


def test_each_hostile_file_gets_its_reason_within_bounds() -> None:
    outcomes: dict[str, Outcome] = {}
    wrong: list[str] = []
    for name, case in _corpus().items():
        o = outcomes[name] = decode_in_child(case.data, timeout=TIMEOUT_S)
        got = "ok" if o.kind == "ok" else o.code
        if (
            o.kind not in ("ok", "media_error")
            or got not in case.expect
            or not o.message
            or not o.shapes_ok
            or o.added_mb >= MEMORY_BOUND_MB
        ):
            wrong.append(f"{name} ({case.why}): {o}")
    print("\n" + _table(outcomes))
    assert not wrong, "\n".join(wrong)


# --- Hypothesis: mutated real files ------------------------------------------------

_BASES = {
    "jpeg": hostile.jpeg,
    "png": hostile.png,
    "gif": hostile.gif,
    "webp": hostile.webp,
    "bmp": hostile.bmp,
    "mp4": hostile.video,
    "webm": lambda: hostile.video(".webm", "libvpx-vp9"),
    "mkv": lambda: hostile.video(".mkv"),
    "avi": lambda: hostile.video(".avi", "mpeg4"),
}


@cache
def _base(name: str) -> bytes:
    return _BASES[name]()


# One mutation: (kind, where as a fraction of the file, a byte or a length).
_mutation = st.tuples(
    st.sampled_from(["flip", "set", "truncate", "delete", "insert", "duplicate"]),
    st.floats(min_value=0.0, max_value=1.0),
    st.integers(min_value=0, max_value=255),
)


def mutate(data: bytes, mutations: list[tuple[str, float, int]]) -> bytes:
    """Apply the mutations in order; the file never grows past twice its size."""
    out = bytearray(data)
    for kind, where, value in mutations:
        if not out:
            break
        at = min(int(where * len(out)), len(out) - 1)
        if kind == "flip":
            out[at] ^= 1 << (value % 8)
        elif kind == "set":
            out[at] = value
        elif kind == "truncate":
            del out[max(1, at) :]
        elif kind == "delete":
            del out[at : at + value + 1]
        elif kind == "insert":
            out[at:at] = bytes([value]) * (value % 17 + 1)
        elif kind == "duplicate" and len(out) < 2 * len(data):
            out[at:at] = out[at : at + value + 1]
    return bytes(out)


_FILES = st.sampled_from(sorted(_BASES))
_MUTATIONS = st.lists(_mutation, min_size=1, max_size=6)
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=_SLOW_OK)
@given(base=_FILES, mutations=_MUTATIONS)
def test_decode_of_mutated_real_files_fails_cleanly(
    base: str, mutations: list[tuple[str, float, int]]
) -> None:
    _decode_mutated(base, mutations)


@pytest.mark.slow
@settings(max_examples=LONG_EXAMPLES, deadline=None, suppress_health_check=_SLOW_OK)
@given(base=_FILES, mutations=_MUTATIONS)
def test_decode_of_many_more_mutated_files_fails_cleanly(
    base: str, mutations: list[tuple[str, float, int]]
) -> None:
    _decode_mutated(base, mutations)


def test_a_mutated_avi_that_crashed_parallel_segment_decoding_fails_cleanly() -> None:
    # Found by the slow Hypothesis run: decoding this file's segments in two threads at
    # once crashed the process (SIGSEGV inside FFmpeg's MPEG-4 decoder) in about one
    # decode in ten. Its codec now decodes in one pass.
    mutations = [("flip", 1.0, 0), ("duplicate", 0.89453125, 170)]
    mutations += [("duplicate", 0.75, 170), ("duplicate", 0.75, 173)]
    data = mutate(_base("avi"), mutations)
    outcomes = {decode_in_child(data, timeout=TIMEOUT_S).kind for _ in range(30)}
    assert outcomes <= {"ok", "media_error"}, outcomes


def _decode_mutated(base: str, mutations: list[tuple[str, float, int]]) -> None:
    data = mutate(_base(base), mutations)
    outcome = decode_in_child(data, timeout=TIMEOUT_S)
    assert outcome.kind in ("ok", "media_error"), outcome
    if outcome.kind == "media_error":
        assert outcome.code in hostile.MEDIA_CODES and outcome.message, outcome
    assert outcome.shapes_ok, outcome
    assert outcome.added_mb < MEMORY_BOUND_MB, outcome


# --- the bounds themselves ------------------------------------------------------------


def test_large_video_frames_are_kept_scaled_down() -> None:
    data = hostile.video()  # 128x96
    media = decode(data, frames=4, limits=MediaLimits(max_kept_pixels=64 * 48))
    assert media.kind == "video" and media.frames
    for frame in media.frames:
        h, w = frame.shape[:2]
        assert h * w <= 64 * 48
        assert abs(w / h - 128 / 96) < 0.1  # the aspect ratio survives


def test_video_decoding_work_is_bounded() -> None:
    data = hostile.video()
    # 24 frames of 128x96 to reach 4 samples: a budget of two frames is not enough.
    with pytest.raises(TooLong, match="pixels decoded"):
        decode(data, frames=4, limits=MediaLimits(max_decoded_pixels=2 * 128 * 96))
    assert decode(data, frames=4).frames  # the default budget is plenty


def test_animation_work_is_bounded() -> None:
    data = hostile.gif(frames=6)  # 96x72
    with pytest.raises(TooManyPixels, match="animation"):
        decode(data, limits=MediaLimits(max_animation_pixels=5 * 96 * 72))
    assert len(decode(data, frames=6).frames) == 6


def test_claimed_frames_are_bounded() -> None:
    with pytest.raises(TooLong, match="claims 24 frames"):
        decode(hostile.video(), limits=MediaLimits(max_claimed_frames=23))
    assert decode(hostile.video(), limits=MediaLimits(max_claimed_frames=24)).frames


# --- what the corpus and Hypothesis found, kept as regressions --------------------------


def test_a_truncated_gif_is_corrupt_not_an_index_error() -> None:
    # Pillow's frame count reads past the end of a cut GIF with an IndexError.
    data = mutate(hostile.gif(), [("truncate", 0.71875, 0), ("truncate", 0.71875, 0)])
    with pytest.raises(CorruptMedia):
        decode(data)


@pytest.mark.parametrize("frames", [1, 2, 4])
def test_an_mpeg_ts_that_starts_late_still_gives_its_frames(frames: int) -> None:
    # Broadcast recordings start hours in; a seek to "target + start" landed past the end.
    data = hostile.late_start_video(1000.0)
    media = decode(data, frames=frames)
    assert len(media.frames) == frames
    assert all(0 <= t < 4.0 for t in media.times_s)

"""Counting the frames an MP4 claims from its boxes, before FFmpeg builds its index."""

from __future__ import annotations

import io

import pytest

from inference.boxes import claimed_samples
from inference.decoder import decode
from inference.sniffing import sniff
from tests.inference import hostile


def _claimed(data: bytes) -> int:
    return claimed_samples(io.BytesIO(data), len(data))


@pytest.mark.parametrize("frames", [1, 24, 50])
def test_a_real_mp4_claims_its_frames(frames: int) -> None:
    assert _claimed(hostile.video(frames=frames)) == frames


def test_moov_after_mdat_and_fragments_are_counted() -> None:
    assert _claimed(hostile.faststart_mp4()) == 24  # moov first
    assert _claimed(hostile.video()) == 24  # moov last: mdat is skipped by seeking
    assert _claimed(hostile.fragmented_mp4_claiming(7)) == 7


def test_constant_size_audio_is_left_out() -> None:
    # An AAC track lists each frame's size; only constant-size (PCM-like) audio is skipped.
    assert _claimed(hostile.audio_only()) > 0


def test_hostile_claims_are_read_without_decoding() -> None:
    assert _claimed(hostile.mp4_claiming_frames(20_000_000)) == 20_000_000


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x00\x00\x01moov",  # a 64-bit size cut off
        b"\x00\x00\x00\x04moov",  # a size smaller than the header
        b"\x00\x00\xff\xffmoov" + b"\x00" * 10,  # a size past the end
        b"\x00\x00\x00\x00moov" + b"\x00\x00\x00\x07trak",  # size 0: to the end
        hostile.video()[:300],
    ],
)
def test_damaged_boxes_count_what_is_there_and_never_raise(data: bytes) -> None:
    assert _claimed(data) >= 0


def test_sniffed_containers_decode_with_their_one_demuxer() -> None:
    for suffix, codec, name in [
        (".mpg", "mpeg2video", "mpeg"),
        (".asf", "wmv2", "asf"),
        (".flv", "flv", "flv"),
        (".ts", "libx264", "mpegts"),
        (".ivf", "libvpx", "ivf"),
        (".mov", "libx264", "mp4"),
    ]:
        data = hostile.video(suffix, codec)
        assert sniff(data[:512]) == name
        assert decode(data, frames=2).frames, suffix

"""ISO base media boxes (MP4, MOV, 3GP): how many frames a file claims, read before FFmpeg.

FFmpeg's MOV demuxer makes an index entry for every sample the sample tables
declare. A table can declare millions of samples of one constant size in twelve
bytes (``stsz`` with a size, a count and no per-sample list; ``trun`` in fragments
likewise), so a file of a few kilobytes makes the demuxer allocate gigabytes and
spend seconds building an index for frames that do not exist.
:func:`claimed_samples` reads only box headers and counts, so the decoder can
refuse such a file before FFmpeg sees it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO

# Boxes whose payload is a list of boxes, on the way to the sample counts.
_NESTED = frozenset({b"trak", b"mdia", b"minf", b"stbl", b"traf"})


def _children(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """``(type, payload start, box end)`` of each box in ``data[start:end]``."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                return
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return  # damaged: FFmpeg will say so; there is nothing more to count
        yield kind, pos + header, pos + size
        pos += size


def _u32(data: bytes, at: int, end: int) -> int:
    return struct.unpack_from(">I", data, at)[0] if at + 4 <= end else 0


def _track_samples(data: bytes, start: int, end: int) -> int:
    """Samples one ``trak`` claims, leaving out constant-size audio (FFmpeg indexes it by chunk)."""
    handler = b""
    sample_size = count = 0
    stack = [(start, end)]
    while stack:
        lo, hi = stack.pop()
        for kind, body, box_end in _children(data, lo, hi):
            if kind in _NESTED:
                stack.append((body, box_end))
            elif kind == b"hdlr" and body + 12 <= box_end:
                handler = data[body + 8 : body + 12]
            elif kind == b"stsz":
                sample_size, count = _u32(data, body + 4, box_end), _u32(data, body + 8, box_end)
            elif kind == b"stz2":
                count = _u32(data, body + 8, box_end)
    if handler == b"soun" and sample_size:
        return 0
    return count


def _fragment_samples(data: bytes, start: int, end: int) -> int:
    """Samples the ``trun`` boxes of one ``moof`` claim."""
    total = 0
    for kind, body, box_end in _children(data, start, end):
        if kind == b"traf":
            for inner, run, run_end in _children(data, body, box_end):
                if inner == b"trun":
                    total += _u32(data, run + 4, run_end)
    return total


def claimed_samples(stream: BinaryIO, size: int) -> int:
    """How many samples the tracks and fragments of an ISO media file declare in all.

    Only ``moov`` and ``moof`` payloads are read; ``mdat`` is skipped by seeking.

    Args:
        stream: the file, positioned anywhere (it is rewound).
        size: its length in bytes.
    """
    total = 0
    pos = 0
    while pos + 8 <= size:
        stream.seek(pos)
        head = stream.read(16)
        if len(head) < 8:
            break
        box_size, kind = struct.unpack_from(">I4s", head)
        header = 8
        if box_size == 1 and len(head) == 16:
            box_size, header = struct.unpack_from(">Q", head, 8)[0], 16
        elif box_size == 0:
            box_size = size - pos
        if box_size < header:
            break
        if kind in (b"moov", b"moof"):
            stream.seek(pos + header)
            payload = stream.read(min(box_size, size - pos) - header)
            if kind == b"moov":
                total += sum(
                    _track_samples(payload, body, end)
                    for k, body, end in _children(payload, 0, len(payload))
                    if k == b"trak"
                )
            else:
                total += _fragment_samples(payload, 0, len(payload))
        pos += box_size
    stream.seek(0)
    return total

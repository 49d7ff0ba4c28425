"""A corpus of malformed and hostile media, generated from scratch (nothing is downloaded).

:func:`corpus` returns every file with the outcomes the decoder may give for it:
``ok`` (the bytes are a valid picture after all, e.g. a JPEG with a ZIP appended) or
the stable codes of :mod:`base.errors` that name what is wrong. Files are built
with Pillow and PyAV, then broken on purpose: truncated, bit-flipped, with headers
that lie about sizes, durations and frame counts, with absurd frame rates, as
decompression bombs, polyglots and plain non-media.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import av
import numpy as np
from PIL import Image

from bench import samples

OK = "ok"
CORRUPT = "corrupt_media"
UNSUPPORTED = "unsupported_format"
PIXELS = "too_many_pixels"
LONG = "too_long"
NO_FRAMES = "no_frames"
NO_VIDEO = "no_video_stream"
EMPTY = "empty_file"
# Every code a MediaError may carry.
MEDIA_CODES = frozenset(
    {
        "media_error",
        EMPTY,
        UNSUPPORTED,
        CORRUPT,
        NO_VIDEO,
        NO_FRAMES,
        "media_too_large",
        "too_many_bytes",
        PIXELS,
        LONG,
    }
)
BROKEN = frozenset({CORRUPT, NO_FRAMES, UNSUPPORTED})


@dataclass(frozen=True)
class Hostile:
    """One file of the corpus and what the decoder may answer."""

    name: str
    data: bytes
    expect: frozenset[str]
    why: str


# --- base files --------------------------------------------------------------


@cache
def _face(size: int = 160) -> np.ndarray:
    return np.ascontiguousarray(samples.face_patch(size))


def jpeg() -> bytes:
    """A small JPEG of a face."""
    return samples.encode_image(_face(), "JPEG", quality=85)


def png() -> bytes:
    """A small PNG of a face."""
    return samples.encode_image(_face(), "PNG")


def webp() -> bytes:
    """A small lossy WebP of a face."""
    return samples.encode_image(_face(), "WEBP", quality=80)


def bmp() -> bytes:
    """A small BMP of a face."""
    return samples.encode_image(_face(64), "BMP")


def gif(frames: int = 6, frame_ms: int = 80) -> bytes:
    """A small animated GIF of a drifting face."""
    images = [Image.fromarray(f) for f in samples.moving_face_frames(frames, 96, 72)]
    buf = io.BytesIO()
    images[0].save(buf, "GIF", save_all=True, append_images=images[1:], duration=frame_ms, loop=0)
    return buf.getvalue()


@cache
def video(suffix: str = ".mp4", codec: str = "libx264", frames: int = 24, fps: int = 12) -> bytes:
    """A small clip of a drifting face in the container that ``suffix`` names."""
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / f"clip{suffix}"
        samples.write_video(path, samples.moving_face_frames(frames, 128, 96), codec=codec, fps=fps)
        return path.read_bytes()


def _encode(
    suffix: str,
    frames: list[np.ndarray],
    *,
    codec: str = "libx264",
    rate: Fraction = Fraction(12),
    time_base: Fraction | None = None,
    pts: Callable[[int], int] | None = None,
    options: dict[str, str] | None = None,
) -> bytes:
    """Frames encoded with full control over rate, time base and timestamps."""
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / f"v{suffix}"
        with av.open(str(path), "w") as out:
            stream: Any = out.add_stream(codec, rate=rate)
            h, w = frames[0].shape[:2]
            stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
            if codec == "mjpeg":
                stream.pix_fmt = "yuvj420p"
            if time_base is not None:
                stream.time_base = time_base
            stream.options = {"preset": "veryfast", **(options or {})} if codec == "libx264" else {}
            for i, rgb in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                if pts is not None:
                    frame.pts = pts(i)
                    frame.time_base = time_base
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        return path.read_bytes()


# --- byte surgery ------------------------------------------------------------


def flip(data: bytes, positions: list[int], mask: int = 0xFF) -> bytes:
    """``data`` with the bytes at ``positions`` XOR ``mask``."""
    out = bytearray(data)
    for p in positions:
        out[p % len(out)] ^= mask
    return bytes(out)


def random_flips(data: bytes, n: int, seed: int, start: int = 0, end: int | None = None) -> bytes:
    """``n`` single-bit flips at seeded random places in ``data[start:end]``."""
    rng = random.Random(seed)
    out = bytearray(data)
    for _ in range(n):
        out[rng.randrange(start, len(out) if end is None else end)] ^= 1 << rng.randrange(8)
    return bytes(out)


def boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[str, int, int]]:
    """The ISO-BMFF boxes (type, offset, size) at one level of ``data[start:end]``."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        elif size == 0:
            size = end - pos
        if size < 8:
            return
        yield kind.decode("latin-1"), pos, size
        pos += size


def find_box(data: bytes, path: str) -> int:
    """Offset of the box at ``path`` (``moov/trak/mdia/mdhd``); raises KeyError when absent."""
    start, end = 0, len(data)
    offset = -1
    for part in path.split("/"):
        for kind, pos, size in boxes(data, start, end):
            if kind == part:
                offset = pos
                start, end = pos + 8, pos + size
                break
        else:
            raise KeyError(path)
    return offset


def patch(data: bytes, offset: int, fmt: str, *values: int) -> bytes:
    """``data`` with ``struct.pack(fmt, *values)`` written at ``offset``."""
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, *values)
    return bytes(out)


def faststart_mp4() -> bytes:
    """An H.264 MP4 whose ``moov`` comes before ``mdat``, as streaming sites serve them."""
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "fs.mp4"
        with av.open(str(path), "w", options={"movflags": "faststart"}) as out:
            stream: Any = out.add_stream("libx264", rate=12)
            stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv420p"
            for rgb in samples.moving_face_frames(24, 128, 96):
                for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        return path.read_bytes()


# --- hand-made headers -------------------------------------------------------


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk with its CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int, height: int) -> bytes:
    """A real greyscale PNG of zeros: tiny on disk, ``width * height`` bytes decoded."""
    row = b"\x00" + b"\x00" * width
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", body)
        + png_chunk(b"IEND", b"")
    )


def png_declaring(width: int, height: int) -> bytes:
    """A PNG header that declares a size and carries one empty data chunk."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b""))
        + png_chunk(b"IEND", b"")
    )


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real JPEG whose frame header (SOF0) is rewritten to claim ``width x height``."""
    data = bytearray(jpeg())
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def gif_declaring(width: int, height: int) -> bytes:
    """A real GIF whose logical screen claims ``width x height``."""
    return patch(gif(2), 6, "<HH", width, height)


def gif_many_frames(n: int, *, width: int = 1, height: int = 1) -> bytes:
    """A GIF of ``n`` 1x1 frames on a ``width x height`` canvas, written by hand."""
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0)
    header += b"\x00\x00\x00\xff\xff\xff"
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    frame = (
        b"\x21\xf9\x04\x00\x01\x00\x00\x00"  # graphic control: 10 ms
        + b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00"  # image descriptor 1x1
        + b"\x02\x02\x44\x01\x00"  # LZW min size 2, one sub-block, terminator
    )
    return header + loop + frame * n + b"\x3b"


def gif_with_delays(delay_cs: int, frames: int = 3) -> bytes:
    """A real animated GIF whose every frame lasts ``delay_cs`` hundredths of a second."""
    data = bytearray(gif(frames))
    pos = 0
    while (pos := data.find(b"\x21\xf9\x04", pos)) >= 0:
        struct.pack_into("<H", data, pos + 4, delay_cs)
        pos += 3
    return bytes(data)


def bmp_declaring(width: int, height: int, bits: int | None = None) -> bytes:
    """A real BMP whose info header claims another size (and bit depth)."""
    data = patch(bmp(), 18, "<ii", width, height)
    return patch(data, 28, "<H", bits) if bits is not None else data


def webp_declaring(width: int, height: int) -> bytes:
    """An extended WebP (VP8X) whose canvas claims ``width x height`` around a tiny image."""
    inner = webp()
    assert inner[:4] == b"RIFF" and inner[8:12] == b"WEBP"
    chunks = inner[12:]
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00"
    vp8x += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + vp8x + chunks
    return b"RIFF" + struct.pack("<I", len(body)) + body


def jpeg_with_exif(orientation_bytes: bytes, *, ifd_entries: int = 1, offset: int = 8) -> bytes:
    """A real JPEG with a hand-made EXIF segment (orientation tag, entry count, IFD offset)."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", offset)
    ifd = struct.pack(">H", ifd_entries) + b"\x01\x12\x00\x03\x00\x00\x00\x01" + orientation_bytes
    ifd += b"\x00\x00\x00\x00"
    payload = b"Exif\x00\x00" + tiff + ifd
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    data = jpeg()
    return data[:2] + app1 + data[2:]


def audio_only() -> bytes:
    """An MP4 with an AAC track and no video."""
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.mp4"
        with av.open(str(path), "w") as c:
            s: Any = c.add_stream("aac", rate=8000)
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate = 8000
            for _ in range(4):
                for p in s.encode(frame):
                    c.mux(p)
            for p in s.encode():
                c.mux(p)
        return path.read_bytes()


def zero_frame_video(suffix: str) -> bytes:
    """A container with a video track header and not one frame."""
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / f"z{suffix}"
        with av.open(str(path), "w") as c:
            s: Any = c.add_stream("libx264", rate=25)
            s.width, s.height, s.pix_fmt = 64, 64, "yuv420p"
            c.start_encoding()
        return path.read_bytes()


def ivf_declaring(width: int, height: int) -> bytes:
    """A VP8 IVF file whose file header claims ``width x height``."""
    return patch(video(".ivf", "libvpx"), 12, "<HH", width, height)


def late_start_video(start_s: float, *, frames: int = 48, fps: int = 12) -> bytes:
    """An MPEG-TS clip whose timestamps start ``start_s`` seconds in."""
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "late.ts"
        with av.open(str(path), "w", options={"output_ts_offset": str(start_s)}) as out:
            stream: Any = out.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv420p"
            stream.options = {"preset": "veryfast"}
            for rgb in samples.moving_face_frames(frames, 128, 96):
                for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        return path.read_bytes()


def _frames(n: int, w: int = 96, h: int = 72) -> list[np.ndarray]:
    return samples.moving_face_frames(n, w, h)


# --- MP4 metadata surgery ------------------------------------------------------


def fragmented_mp4_claiming(n: int) -> bytes:
    """A fragmented MP4 whose first fragment's ``trun`` claims ``n`` samples."""
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "frag.mp4"
        with av.open(str(path), "w", options={"movflags": "frag_keyframe+empty_moov"}) as out:
            stream: Any = out.add_stream("libx264", rate=12)
            stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv420p"
            for rgb in samples.moving_face_frames(12, 128, 96):
                for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        data = path.read_bytes()
    trun = find_box(data, "moof/traf/trun")
    return patch(data, trun + 12, ">I", n)


def mp4_with_duration(ticks: int) -> bytes:
    """An MP4 whose movie, track and media headers all claim ``ticks`` of duration."""
    data = video()
    for path, at in (("moov/mvhd", 24), ("moov/trak/tkhd", 28), ("moov/trak/mdia/mdhd", 24)):
        box = find_box(data, path)
        assert data[box + 8] == 0, "version 0 headers expected"
        data = patch(data, box + at, ">I", ticks)
    return data


def mp4_claiming_frames(n: int, sample_size: int = 64) -> bytes:
    """An MP4 whose sample tables claim ``n`` frames of ``sample_size`` bytes in one chunk."""
    data = faststart_mp4()
    stbl = "moov/trak/mdia/minf/stbl"
    stts = find_box(data, f"{stbl}/stts")
    data = patch(data, stts + 12, ">III", 1, n, 1)
    stsz = find_box(data, f"{stbl}/stsz")
    data = patch(data, stsz + 12, ">II", sample_size, n)
    stsc = find_box(data, f"{stbl}/stsc")
    data = patch(data, stsc + 12, ">IIII", 1, 1, n, 1)
    stco = find_box(data, f"{stbl}/stco")
    return patch(data, stco + 12, ">I", 1)


def mp4_declaring(width: int, height: int) -> bytes:
    """An MP4 whose track header and sample description claim ``width x height``."""
    data = video()
    tkhd = find_box(data, "moov/trak/tkhd")
    data = patch(data, tkhd + 84, ">II", width << 16, height << 16)
    stsd = find_box(data, "moov/trak/mdia/minf/stbl/stsd")
    return patch(data, stsd + 16 + 32, ">HH", width, height)


def mp4_with_matrix(values: tuple[int, ...]) -> bytes:
    """An MP4 whose track's display matrix is ``values`` (nine 32-bit fixed-point numbers)."""
    data = video()
    tkhd = find_box(data, "moov/trak/tkhd")
    return patch(data, tkhd + 48, ">9i", *values)


def mp4_box_size(path: str, size: int) -> bytes:
    """An MP4 where the box at ``path`` claims ``size`` bytes."""
    data = video()
    return patch(data, find_box(data, path), ">I", size)


# --- the corpus ------------------------------------------------------------------


def _codes(*codes: str) -> frozenset[str]:
    return frozenset(codes)


def _truncations() -> Iterator[Hostile]:
    bases = {
        "jpeg": jpeg(),
        "png": png(),
        "gif": gif(),
        "webp": webp(),
        "bmp": bmp(),
        "mp4": video(),
        "webm": video(".webm", "libvpx-vp9"),
        "mkv": video(".mkv"),
        "avi": video(".avi", "mpeg4"),
    }
    for name, data in bases.items():
        yield Hostile(f"truncated-{name}-header", data[:24], BROKEN, "cut inside the header")
        # Images lose their pixels; a video cut in half may still give its first frames.
        half = BROKEN if name in ("jpeg", "png", "gif", "webp", "bmp") else BROKEN | {OK}
        yield Hostile(f"truncated-{name}-half", data[: len(data) // 2], half, "cut in half")
    yield Hostile(
        "truncated-mp4-faststart-90pc",
        faststart_mp4()[: len(faststart_mp4()) * 9 // 10],
        _codes(OK, CORRUPT),
        "index complete, last frames missing",
    )
    yield Hostile("truncated-jpeg-1-byte", jpeg()[:1], _codes(UNSUPPORTED), "one byte")


def _bit_flips() -> Iterator[Hostile]:
    data = jpeg()
    sof = data.index(b"\xff\xc0")
    yield Hostile(
        "flipped-jpeg-frame-header",
        flip(data, [sof + 5, sof + 6, sof + 7, sof + 8]),
        _codes(CORRUPT, PIXELS, OK),
        "SOF dimensions scrambled",
    )
    yield Hostile(
        "flipped-jpeg-huffman-marker",
        flip(data, [data.index(b"\xff\xc4") + 1]),
        _codes(CORRUPT),
        "DHT marker destroyed",
    )
    yield Hostile(
        "flipped-jpeg-scan-data",
        random_flips(data, 40, seed=1, start=len(data) // 2),
        _codes(OK, CORRUPT),
        "entropy-coded data damaged (decodes to garbage or fails)",
    )
    p = png()
    yield Hostile("flipped-png-ihdr-crc", flip(p, [29]), _codes(CORRUPT), "IHDR CRC wrong")
    yield Hostile(
        "flipped-png-idat",
        random_flips(p, 30, seed=2, start=60),
        _codes(CORRUPT),
        "compressed pixels damaged",
    )
    yield Hostile(
        "png-chunk-length-2gb",
        patch(p, 33, ">I", 0x7FFFFFF0),
        _codes(OK, CORRUPT),
        "the pixel chunk claims 2 GB (Pillow reads what is there)",
    )
    yield Hostile("flipped-gif", random_flips(gif(), 30, seed=3, start=13), _codes(OK, CORRUPT), "")
    yield Hostile(
        "flipped-webp", random_flips(webp(), 30, seed=4, start=30), _codes(OK, CORRUPT), ""
    )
    yield Hostile(
        "flipped-bmp-bits-per-pixel", bmp_declaring(64, 64, bits=0), _codes(CORRUPT), "0 bpp"
    )
    mp4 = video()
    yield Hostile(
        "flipped-mp4-moov",
        random_flips(mp4, 60, seed=5, start=find_box(mp4, "moov")),
        BROKEN | {OK, NO_VIDEO, LONG, PIXELS},
        "sample tables and headers damaged",
    )
    mdat = find_box(mp4, "mdat")
    yield Hostile(
        "flipped-mp4-mdat",
        random_flips(
            mp4,
            80,
            seed=6,
            start=mdat + 16,
            end=mdat + struct.unpack(">I", mp4[mdat : mdat + 4])[0],
        ),
        _codes(OK, CORRUPT, NO_FRAMES),
        "coded frames damaged",
    )
    yield Hostile(
        "flipped-webm",
        random_flips(video(".webm", "libvpx-vp9"), 60, seed=7, start=40),
        BROKEN | {OK, NO_VIDEO, LONG, PIXELS},
        "",
    )
    yield Hostile(
        "flipped-mkv-header",
        random_flips(
            video(".mkv"),
            40,
            seed=8,
            start=4,
        )[:4000]
        + video(".mkv")[4000:],
        BROKEN | {OK, NO_VIDEO, LONG, PIXELS},
        "EBML header damaged",
    )


def _bombs_and_dimensions() -> Iterator[Hostile]:
    yield Hostile(
        "png-bomb-30000x30000", png_bomb(30000, 30000), _codes(PIXELS), "900 Mpx of zeros"
    )
    yield Hostile(
        "png-bomb-under-the-limit", png_bomb(7000, 7000), _codes(OK), "49 Mpx: allowed, bounded"
    )
    yield Hostile("png-declares-40000x40000", png_declaring(40000, 40000), _codes(PIXELS), "")
    yield Hostile("png-declares-0x0", png_declaring(0, 0), _codes(CORRUPT), "")
    yield Hostile(
        "png-declares-2^31", png_declaring(2**31 - 1, 2**31 - 1), _codes(PIXELS, CORRUPT), ""
    )
    yield Hostile("jpeg-declares-65500x65500", jpeg_declaring(65500, 65500), _codes(PIXELS), "")
    yield Hostile("jpeg-declares-0x0", jpeg_declaring(0, 0), _codes(CORRUPT), "")
    yield Hostile("gif-declares-65535x65535", gif_declaring(65535, 65535), _codes(PIXELS), "")
    yield Hostile("bmp-declares-100000x100000", bmp_declaring(100000, 100000), _codes(PIXELS), "")
    yield Hostile("bmp-negative-width", bmp_declaring(-64, 64), _codes(CORRUPT), "")
    yield Hostile("bmp-top-down", bmp_declaring(64, -64), _codes(OK), "negative height is legal")
    yield Hostile("webp-canvas-16384x16384", webp_declaring(16384, 16384), _codes(PIXELS), "")
    yield Hostile("mp4-declares-30000x30000", mp4_declaring(30000, 30000), _codes(PIXELS, OK), "")
    yield Hostile("ivf-declares-16384x16384", ivf_declaring(16384, 16384), _codes(PIXELS, OK), "")
    huge = np.full((4320, 7680, 3), 90, np.uint8)
    yield Hostile(
        "mjpeg-8k-video-16-frames",
        _encode(".avi", [huge] * 16, codec="mjpeg"),
        _codes(OK),
        "8K frames are kept scaled to 4K UHD pixels (16 at full size would hold 1.6 GB)",
    )
    big = np.full((7100, 7100, 3), 90, np.uint8)
    yield Hostile(
        "mjpeg-7100x7100-video",
        _encode(".avi", [big], codec="mjpeg"),
        _codes(PIXELS),
        "a real 50.4 Mpx frame",
    )


def _frames_and_rates() -> Iterator[Hostile]:
    yield Hostile("mkv-zero-frames", zero_frame_video(".mkv"), _codes(NO_FRAMES), "")
    yield Hostile(
        "mp4-zero-frames",
        zero_frame_video(".mp4"),
        _codes(NO_FRAMES, NO_VIDEO, CORRUPT),
        "the muxer leaves out a track without samples",
    )
    yield Hostile("mp4-audio-only", audio_only(), _codes(NO_VIDEO), "")
    yield Hostile(
        "mp4-claims-5-million-frames",
        mp4_claiming_frames(5_000_000),
        _codes(CORRUPT, NO_FRAMES, LONG),
        "sample tables claim millions of frames",
    )
    yield Hostile(
        "mp4-claims-20-million-frames",
        mp4_claiming_frames(20_000_000),
        _codes(LONG),
        "4.7 kB that FFmpeg would index in 1.4 GB",
    )
    yield Hostile(
        "fragmented-mp4-claims-20-million-frames",
        fragmented_mp4_claiming(20_000_000),
        _codes(LONG),
        "a fragment's run claims 20 million samples",
    )
    yield Hostile(
        "mp4-claims-a-year",
        mp4_with_duration(0xFFFFFFF0),
        _codes(OK, LONG),
        "headers claim 4 billion ticks; FFmpeg believes the sample table",
    )
    yield Hostile(
        "mp4-one-frame-per-3-hours",
        _encode(".mp4", _frames(3), rate=Fraction(1, 10000), time_base=Fraction(1, 1)),
        _codes(LONG),
        "absurdly low frame rate",
    )
    yield Hostile(
        "mkv-million-fps",
        _encode(".mkv", _frames(30), rate=Fraction(1_000_000), time_base=Fraction(1, 1_000_000)),
        _codes(OK),
        "30 frames in 30 microseconds",
    )
    yield Hostile(
        "mkv-timestamps-jump-a-day",
        _encode(
            ".mkv",
            _frames(4),
            time_base=Fraction(1, 1000),
            pts=lambda i: i * 86_400_000,
        ),
        _codes(LONG),
        "4 frames a day apart",
    )
    yield Hostile("gif-25000-frames", gif_many_frames(25_000), _codes(LONG), "very long GIF")
    yield Hostile(
        "mpegts-starting-1000s-in",
        late_start_video(1000.0),
        _codes(OK),
        "timestamps start at 1000 s (broadcast recordings do)",
    )
    yield Hostile("gif-5000-frames", gif_many_frames(5_000), _codes(OK), "long, within limits")
    yield Hostile(
        "gif-4000x4000-canvas-2000-frames",
        gif_many_frames(2_000, width=4000, height=4000),
        _codes(PIXELS),
        "46 kB that redraw a 16 Mpx canvas 2000 times (minutes of work)",
    )
    yield Hostile("gif-frames-of-655s", gif_with_delays(65535), _codes(LONG), "")
    yield Hostile("gif-zero-delays", gif_with_delays(0), _codes(OK), "")


def _metadata() -> Iterator[Hostile]:
    yield Hostile(
        "jpeg-exif-orientation-9", jpeg_with_exif(b"\x00\x09\x00\x00"), _codes(OK), "no such value"
    )
    yield Hostile(
        "jpeg-exif-orientation-65535", jpeg_with_exif(b"\xff\xff\x00\x00"), _codes(OK), ""
    )
    yield Hostile(
        "jpeg-exif-65535-entries",
        jpeg_with_exif(b"\x00\x06\x00\x00", ifd_entries=65535),
        _codes(OK, CORRUPT),
        "IFD claims more entries than the segment holds",
    )
    yield Hostile(
        "jpeg-exif-ifd-offset-out-of-range",
        jpeg_with_exif(b"\x00\x06\x00\x00", offset=0x7FFFFFFF),
        _codes(OK, CORRUPT),
        "",
    )
    yield Hostile(
        "jpeg-exif-ifd-loops-on-itself",
        jpeg_with_exif(b"\x00\x06\x00\x00", offset=8)[:-4] + struct.pack(">I", 8),
        _codes(OK, CORRUPT),
        "",
    )
    yield Hostile(
        "mp4-display-matrix-37-degrees",
        mp4_with_matrix((52335, 39438, 0, -39438, 52335, 0, 0, 0, 0x40000000)),
        _codes(OK),
        "rotation that is not a multiple of 90",
    )
    yield Hostile(
        "mp4-display-matrix-zero", mp4_with_matrix((0,) * 9), _codes(OK), "degenerate matrix"
    )
    yield Hostile(
        "mp4-moov-size-lies",
        mp4_box_size("moov", 0xFFFFFFF0),
        BROKEN | {OK},
        "moov claims 4 GB",
    )
    yield Hostile(
        "mp4-stsd-size-zero",
        mp4_box_size("moov/trak/mdia/minf/stbl/stsd", 0),
        BROKEN | {OK, NO_VIDEO},
        "",
    )
    p = png()
    itxt = png_chunk(
        b"iTXt", b"XML:com.adobe.xmp\x00\x01\x00\x00\x00" + zlib.compress(b"A" * 5_000_000)
    )
    yield Hostile(
        "png-compressed-text-bomb", p[:33] + itxt + p[33:], _codes(OK, CORRUPT), "5 MB of XMP"
    )
    iccp = png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(b"\x00" * 1000))
    yield Hostile("png-garbage-icc-profile", p[:33] + iccp + p[33:], _codes(OK, CORRUPT), "")


def _not_media_and_polyglots() -> Iterator[Hostile]:
    yield Hostile("empty", b"", _codes(EMPTY), "")
    yield Hostile(
        "text-named-mp4", b"this is a text file renamed to .mp4\n" * 20, _codes(UNSUPPORTED), ""
    )
    yield Hostile("html", b"<!doctype html><script>alert(1)</script>" * 10, _codes(UNSUPPORTED), "")
    yield Hostile(
        "svg",
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>x</text></svg>',
        _codes(UNSUPPORTED),
        "",
    )
    yield Hostile(
        "pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", _codes(UNSUPPORTED), ""
    )
    yield Hostile("zip", b"PK\x03\x04" + b"\x00" * 200, _codes(UNSUPPORTED), "")
    yield Hostile("elf", b"\x7fELF\x02\x01\x01" + b"\x00" * 500, _codes(UNSUPPORTED), "")
    tiff = samples.encode_image(_face(32), "TIFF")
    yield Hostile("tiff", tiff, _codes(UNSUPPORTED), "a real TIFF: not a format we take")
    yield Hostile(
        "hls-playlist",
        b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://127.0.0.1:9/x.ts\n"
        b"#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n",
        _codes(UNSUPPORTED),
        "must never be opened as a playlist",
    )
    yield Hostile(
        "ffconcat-list",
        b"ffconcat version 1.0\nfile /etc/passwd\n",
        _codes(UNSUPPORTED),
        "must never be opened as a concat list",
    )
    yield Hostile(
        "raw-h264-annexb",
        b"\x00\x00\x00\x01\x67" + bytes(range(256)) * 8,
        _codes(UNSUPPORTED),
        "elementary stream without a container",
    )
    ppm = b"P6\n64 64\n255\n" + b"\x80" * (64 * 64 * 3)
    yield Hostile("ppm", ppm, _codes(UNSUPPORTED), "FFmpeg would read it; we don't take it")
    yield Hostile(
        "gif-js-polyglot", b"GIF89a/*" + b"\x00" * 10 + b"*/=alert(1);", _codes(CORRUPT), ""
    )
    yield Hostile(
        "jpeg-then-zip", jpeg() + b"PK\x03\x04" + b"\x00" * 300, _codes(OK), "GIFAR-style"
    )
    yield Hostile("png-then-html", png() + b"<script>alert(1)</script>", _codes(OK), "")
    yield Hostile("jpeg-magic-then-mp4", b"\xff\xd8\xff" + video(), _codes(CORRUPT), "")
    yield Hostile(
        "mp4-ftyp-then-jpeg",
        b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + jpeg(),
        BROKEN,
        "",
    )
    yield Hostile("mp4-named-gif", video(), _codes(OK), "wrong extension: bytes decide")


def _degenerate_shapes() -> Iterator[Hostile]:
    """Valid files of shapes no face fits in (the pipeline answers them ``no_face``)."""
    from tests.inference.degenerate import degenerate_files

    for name, data in degenerate_files().items():
        yield Hostile(f"degenerate-{name}", data, frozenset({OK, LONG, PIXELS}), "tiny shape")


def corpus() -> list[Hostile]:
    """Every hostile file with its allowed outcomes."""
    return [
        *_degenerate_shapes(),
        *_truncations(),
        *_bit_flips(),
        *_bombs_and_dimensions(),
        *_frames_and_rates(),
        *_metadata(),
        *_not_media_and_polyglots(),
    ]

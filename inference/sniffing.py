"""What kind of file is this: a format named from a file's first bytes, before any decoder.

Each sniffed format is read by one reader only: the Pillow plugins of
:data:`PILLOW_FORMATS` or the FFmpeg demuxer of :data:`DEMUXERS`. A format that is
in neither is refused before any decoder sees the file.
"""

from __future__ import annotations

_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "png"),
    (0, b"GIF87a", "gif"),
    (0, b"GIF89a", "gif"),
    (0, b"\x1a\x45\xdf\xa3", "matroska"),
    (0, b"FLV", "flv"),
    (0, b"DKIF", "ivf"),
    (0, b"OggS", "ogg"),
    (4, b"ftyp", "mp4"),
    (4, b"moov", "mp4"),
    (4, b"mdat", "mp4"),
    (4, b"free", "mp4"),
    (4, b"wide", "mp4"),
    (4, b"skip", "mp4"),
)
_BMP_HEADER_SIZES = (12, 40, 52, 56, 64, 108, 124)
_ASF_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
# The only FFmpeg demuxer each sniffed container may be opened with. FFmpeg never
# probes: an unknown file is refused before it sees it, so none of its other
# demuxers (playlists, concat lists, image pipes, hundreds more) reads hostile bytes.
# The only FFmpeg demuxer each sniffed container may be opened with. FFmpeg never
# probes: an unknown file is refused before it sees it, so none of its other
# demuxers (playlists, concat lists, image pipes, hundreds more) reads hostile bytes.
DEMUXERS = {
    "mp4": "mov",
    "matroska": "matroska",
    "avi": "avi",
    "flv": "flv",
    "ivf": "ivf",
    "ogg": "ogg",
    "mpegts": "mpegts",
    "mpeg": "mpeg",
    "asf": "asf",
}
# The Pillow plugins each sniffed image format may be read with.
PILLOW_FORMATS = {
    "jpeg": ("JPEG",),  # its factory turns multi-picture files into MPO itself
    "png": ("PNG",),
    "gif": ("GIF",),
    "webp": ("WEBP",),
    "bmp": ("BMP",),
}


def sniff(head: bytes) -> str | None:
    """Name the format from the first bytes of a file, or None if unknown.

    Returns:
        One of ``jpeg png gif webp bmp mp4 matroska avi flv mpegts mpeg asf ivf ogg``
        or None.
    """
    for offset, magic, name in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return name
    if head[:4] == b"RIFF":
        return {b"WEBP": "webp", b"AVI ": "avi"}.get(head[8:12])
    if head[:2] == b"BM" and len(head) >= 26:
        return "bmp" if int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES else None
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return "mpegts"
    if len(head) > 196 and head[4] == 0x47 and head[196] == 0x47:
        return "mpegts"  # M2TS: 192-byte packets
    if head[:4] == b"\x00\x00\x01\xba":
        return "mpeg"
    if head[:16] == _ASF_GUID:
        return "asf"
    return None

"""The project's error hierarchy.

Every error FakeWatch raises on purpose derives from :class:`FakeWatchError` and
carries a short, stable ``code`` that bots, the store and the command line can
show or match on without parsing messages.
"""

from __future__ import annotations


class FakeWatchError(Exception):
    """Base class of every error FakeWatch raises on purpose."""

    code = "error"


class ConfigurationError(FakeWatchError):
    """A setting is missing or invalid."""

    code = "configuration"


# --- media -----------------------------------------------------------------


class MediaError(FakeWatchError):
    """The media item cannot be judged; the message says why in plain words."""

    code = "media_error"


class EmptyMedia(MediaError):
    """The file has no bytes."""

    code = "empty_file"


class UnsupportedMedia(MediaError):
    """Not an image or video format we can decode (or a codec nobody here can decode)."""

    code = "unsupported_format"


class CorruptMedia(MediaError):
    """The container or stream is damaged or truncated."""

    code = "corrupt_media"


class NoVideoStream(MediaError):
    """A media container without any video stream (audio only, subtitles...)."""

    code = "no_video_stream"


class NoFrames(MediaError):
    """A video stream that yields no decodable frame."""

    code = "no_frames"


class MediaTooLarge(MediaError):
    """A limit on bytes, pixels or duration was exceeded."""

    code = "media_too_large"


class TooManyBytes(MediaTooLarge):
    """The file is bigger than the byte limit."""

    code = "too_many_bytes"


class TooManyPixels(MediaTooLarge):
    """A frame is bigger than the pixel limit (decompression-bomb guard)."""

    code = "too_many_pixels"


class TooLong(MediaTooLarge):
    """The clip is longer than the duration limit."""

    code = "too_long"


# --- weights ---------------------------------------------------------------


class WeightsError(FakeWatchError):
    """Model weights could not be used."""

    code = "weights"


class WeightsMissing(WeightsError):
    """No weights file where one was expected."""

    code = "weights_missing"


class WeightsInvalid(WeightsError):
    """A weights file or its manifest does not match the architecture it claims."""

    code = "weights_invalid"

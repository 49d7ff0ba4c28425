"""The project's error hierarchy.

Every error FakeWatch raises on purpose derives from :class:`FakeWatchError` and
carries a short, stable ``code`` that bots, the store and the command line can
show or match on without parsing messages; the media errors' codes are the
:class:`base.vocabulary.ReasonCode` a check that fails on them is stored with.
"""

from __future__ import annotations

from base.vocabulary import ReasonCode


class FakeWatchError(Exception):
    """Base class of every error FakeWatch raises on purpose."""

    code: str = "error"


class ConfigurationError(FakeWatchError):
    """A setting is missing or invalid."""

    code = "configuration"


# --- media -----------------------------------------------------------------


class MediaError(FakeWatchError):
    """The media item cannot be judged; the message says why in plain words."""

    code = ReasonCode.MEDIA_ERROR


class EmptyMedia(MediaError):
    """The file has no bytes."""

    code = ReasonCode.EMPTY_FILE


class UnsupportedMedia(MediaError):
    """Not an image or video format we can decode (or a codec nobody here can decode)."""

    code = ReasonCode.UNSUPPORTED_FORMAT


class CorruptMedia(MediaError):
    """The container or stream is damaged or truncated."""

    code = ReasonCode.CORRUPT_MEDIA


class NoVideoStream(MediaError):
    """A media container without any video stream (audio only, subtitles...)."""

    code = ReasonCode.NO_VIDEO_STREAM


class NoFrames(MediaError):
    """A video stream that yields no decodable frame."""

    code = ReasonCode.NO_FRAMES


class MediaTooLarge(MediaError):
    """A limit on bytes, pixels or duration was exceeded."""

    code = ReasonCode.MEDIA_TOO_LARGE


class TooManyBytes(MediaTooLarge):
    """The file is bigger than the byte limit."""

    code = ReasonCode.TOO_MANY_BYTES


class TooManyPixels(MediaTooLarge):
    """A frame is bigger than the pixel limit (decompression-bomb guard)."""

    code = ReasonCode.TOO_MANY_PIXELS


class TooLong(MediaTooLarge):
    """The clip is longer than the duration limit."""

    code = ReasonCode.TOO_LONG


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


# --- the queue -------------------------------------------------------------


class QueueError(FakeWatchError):
    """The queue cannot do what was asked."""

    code = "queue"


class QueueUnavailable(QueueError):
    """A check could not be queued: Redis (or the store) cannot be reached.

    Raised by the queue client and passed on by the bots' ports as it is.

    Attributes:
        check_id: the check stored for the job, now failed; the chat's answer to it is
            the answer to that check. ``None`` when none was stored.
    """

    code: str = ReasonCode.QUEUE_UNAVAILABLE

    def __init__(self, message: str, *, check_id: int | None = None) -> None:
        super().__init__(message)
        self.check_id = check_id


class QueueFull(QueueUnavailable):
    """Too many checks are waiting for the workers: back-pressure (nothing was stored)."""

    code = "queue_full"

    def __init__(self, depth: int, limit: int) -> None:
        super().__init__(f"{depth:,} checks are waiting; the limit is {limit:,}")
        self.depth = depth
        self.limit = limit

"""The words every package uses for a check, defined once, and the one label rule.

Each vocabulary is a :class:`~enum.StrEnum` whose values are the strings stored in
the database and sent over the queue, so a member compares equal to its text
(``Label.FAKE == "fake"``) and nothing stored changes. Import the names from here;
never spell a label, a status or a reason code as a literal elsewhere.

The label rule (:func:`decide_label`) runs once per check: the pipeline uses it with
the model's thresholds, and the worker with the chat's thresholds at the moment it
stores the verdict. Everything after (the bot's reply, the audit log, the dashboard)
shows the stored label and never decides again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Label(StrEnum):
    """What a finished check concluded."""

    FAKE = "fake"
    REAL = "real"
    INCONCLUSIVE = "inconclusive"
    NO_FACE = "no_face"  # nothing to judge: done, not failed
    UNSUPPORTED = "unsupported"  # the file cannot be judged: failed
    ERROR = "error"  # something went wrong: failed


#: The labels of a judged face: a fake probability decided them.
JUDGED = frozenset({Label.FAKE, Label.REAL, Label.INCONCLUSIVE})
#: The labels of a failed check.
FAILED_LABELS = frozenset({Label.UNSUPPORTED, Label.ERROR})


class Status(StrEnum):
    """Where a check is: ``queued -> running -> done | failed``."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


OPEN: tuple[Status, ...] = (Status.QUEUED, Status.RUNNING)
FINISHED: tuple[Status, ...] = (Status.DONE, Status.FAILED)


class FakeAction(StrEnum):
    """What a chat wants done about a fake verdict of an automatic check."""

    REPLY = "reply"  # answer with the verdict
    REACT = "react"  # a quiet emoji on the message
    DELETE_AND_REPORT = "delete_and_report"  # delete it and tell the moderators


class RequestKind(StrEnum):
    """How a check was asked for."""

    AUTO = "auto"  # posted in a chat with automatic checks on
    COMMAND = "command"  # a chat command (/check)
    UPLOAD = "upload"  # the dashboard's upload form
    CLI = "cli"  # ``fakewatch submit``


class Platform(StrEnum):
    """Where a check comes from."""

    DISCORD = "discord"
    TELEGRAM = "telegram"
    WEB = "web"
    CLI = "cli"


class Decision(StrEnum):
    """A moderator's review of a check."""

    FAKE = "fake"
    REAL = "real"
    DISMISSED = "dismissed"  # not worth a verdict


class ReasonCode(StrEnum):
    """Why a check has no fake probability: stable codes to match on (with words to show).

    The media codes are the ``code`` of the :mod:`base.errors` class that says so.
    """

    NO_FACE = "no_face"
    # The media (base.errors.MediaError and its subclasses).
    MEDIA_ERROR = "media_error"
    EMPTY_FILE = "empty_file"
    UNSUPPORTED_FORMAT = "unsupported_format"
    CORRUPT_MEDIA = "corrupt_media"
    NO_VIDEO_STREAM = "no_video_stream"
    NO_FRAMES = "no_frames"
    MEDIA_TOO_LARGE = "media_too_large"
    TOO_MANY_BYTES = "too_many_bytes"
    TOO_MANY_PIXELS = "too_many_pixels"
    TOO_LONG = "too_long"
    UNSUPPORTED = "unsupported"  # the pipeline refused it without saying why
    # The worker and the queue.
    MEDIA_MISMATCH = "media_mismatch"  # the bytes changed in the queue
    ANALYSIS_TIMEOUT = "analysis_timeout"
    INFERENCE_ERROR = "inference_error"
    LOCK_BUSY = "lock_busy"
    JOB_LOST = "job_lost"
    INTERNAL_ERROR = "internal_error"
    QUEUE_UNAVAILABLE = "queue_unavailable"


@dataclass(frozen=True)
class Thresholds:
    """``p >= fake`` is fake, ``p <= real`` is real, anything between is inconclusive."""

    fake: float = 0.5
    real: float = 0.5

    def overridden(self, *, fake: float | None = None, real: float | None = None) -> Thresholds:
        """These thresholds with a chat's own in place of those it has set."""
        return Thresholds(
            fake=self.fake if fake is None else fake, real=self.real if real is None else real
        )


def decide_label(p_fake: float | None, thresholds: Thresholds) -> Label:
    """The label of a fake probability: the one place the rule is written.

    ``None`` (no face was scored) is ``no_face``. The fake threshold is looked at first,
    so thresholds that overlap (a chat's own ``real`` above the model's ``fake``) still
    give one answer.
    """
    if p_fake is None:
        return Label.NO_FACE
    if p_fake >= thresholds.fake:
        return Label.FAKE
    if p_fake <= thresholds.real:
        return Label.REAL
    return Label.INCONCLUSIVE


# Each vocabulary's members in order: for choices lists, and for membership tests on
# plain strings (``"fake" in Label`` raises TypeError on Python 3.11; ``in LABELS`` works).
LABELS: tuple[Label, ...] = tuple(Label)
STATUSES: tuple[Status, ...] = tuple(Status)
ACTIONS: tuple[FakeAction, ...] = tuple(FakeAction)
REQUEST_KINDS: tuple[RequestKind, ...] = tuple(RequestKind)
PLATFORMS: tuple[Platform, ...] = tuple(Platform)
DECISIONS: tuple[Decision, ...] = tuple(Decision)

"""The words the bots say: verdicts, refusals, audit answers and settings.

Plain text with a few emoji, so the same strings read well on every platform
and need no escaping. Every function takes the platform's message ``limit``
and never returns more than that many characters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from base.vocabulary import JUDGED, OPEN, Label, Platform, ReasonCode, Status
from bots.core.media import InboundMedia, megabytes
from bots.core.ports import Admission, AuditEntry, AuditQuery, ChatPolicy
from queue_worker.contracts import CheckResult

LIMITS: dict[str, int] = {Platform.TELEGRAM: 4096, Platform.DISCORD: 2000}

WORKING = "🔎 Analysing for face manipulation…"

# Reason codes from base.errors and the worker, in words a chat member understands.
_REASONS: dict[str, str] = {
    ReasonCode.EMPTY_FILE: "the file is empty",
    ReasonCode.UNSUPPORTED_FORMAT: "it is not an image or video format FakeWatch can read",
    ReasonCode.CORRUPT_MEDIA: "the file is damaged or cut short",
    ReasonCode.NO_VIDEO_STREAM: "the file has no picture, only sound",
    ReasonCode.NO_FRAMES: "no frame of the video could be decoded",
    ReasonCode.TOO_MANY_BYTES: "the file is too large to check",
    ReasonCode.TOO_MANY_PIXELS: "the picture is too large to check",
    ReasonCode.TOO_LONG: "the video is too long to check",
    ReasonCode.MEDIA_TOO_LARGE: "the file is too large to check",
}


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def percent(p: float) -> str:
    """A probability as a whole percentage, never rounding to a false 0 or 100."""
    value = round(p * 100)
    if value == 0 and p > 0:
        return "<1%"
    if value == 100 and p < 1:
        return ">99%"
    return f"{value}%"


def sureness(label: str, p: float) -> str:
    """How sure the model is of a fake or real verdict, in plain words.

    The shipped weights' scores are calibrated on their validation split (see
    weights/MODEL_CARD.md), so the farther ``p`` is from the undecided middle, the surer.
    """
    distance = p if label == Label.FAKE else 1.0 - p
    if distance >= 0.9:
        return "The model is very sure."
    if distance >= 0.75:
        return "The model is fairly sure."
    return "The model is only somewhat sure: a person should confirm."


def reason_text(code: str | None, reason: str | None) -> str:
    """Why a file could not be judged, in plain words."""
    if code in _REASONS:
        return _REASONS[code]
    return (reason or "something went wrong while checking it").rstrip(".")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _details(outcome: CheckResult) -> str:
    parts = []
    if outcome.faces:
        parts.append(_plural(outcome.faces, "face"))
    if outcome.frames and outcome.frames > 1:  # a still image is one frame: not worth saying
        parts.append(f"{_plural(outcome.frames, 'frame')} checked")
    parts.append(f"check {outcome.check_id}")
    return " · ".join(parts)


def verdict_text(outcome: CheckResult, *, limit: int = 4096) -> str:
    """The reply for a finished (or failed) check, with the label it is stored with.

    The label was decided once, when the worker stored the verdict under the chat's
    thresholds of that moment; the reply never decides it again, so it always says what
    the audit log and the dashboard say.
    """
    label = outcome.label
    p = outcome.fake_probability
    if label == Label.UNSUPPORTED:
        head = f"🚫 Can't check this file: {reason_text(outcome.reason_code, outcome.reason)}."
        tail = f"check {outcome.check_id}"
    elif outcome.status == Status.FAILED or label in (None, Label.ERROR):
        head = f"❗ The check failed: {reason_text(outcome.reason_code, outcome.reason)}."
        tail = f"You can try again with /check. (check {outcome.check_id})"
    elif label == Label.FAKE and p is not None:
        head = f"⚠️ Likely a deepfake: {percent(p)} probability of face manipulation. " + sureness(
            Label.FAKE, p
        )
        tail = _details(outcome)
    elif label == Label.REAL and p is not None:
        head = f"✅ No sign of face manipulation ({percent(p)} fake probability). " + sureness(
            Label.REAL, p
        )
        tail = _details(outcome)
    elif label == Label.INCONCLUSIVE and p is not None:
        head = (
            f"🤔 Inconclusive: {percent(p)} fake probability, between the thresholds. "
            "A person should take a look."
        )
        tail = _details(outcome)
    elif label == Label.NO_FACE:
        head = "🙂 No face found, so there is nothing to judge for face manipulation."
        tail = _details(outcome)
    else:
        head = f"❔ Unexpected result {str(label)!r}."
        tail = f"check {outcome.check_id}"
    return clip(f"{head}\n{tail}", limit)


def unsupported_type_text(media: InboundMedia, *, limit: int = 4096) -> str:
    """The answer to /check on something that is not an image or video."""
    what = media.mime_type or media.file_name or media.kind
    return clip(f"🚫 FakeWatch checks images and videos; this is {what}.", limit)


def too_large_text(
    size: int, max_bytes: int, *, platform_limit: bool, hint: str | None = None, limit: int = 4096
) -> str:
    """Why a file is not checked for its size; ``platform_limit``: the platform's cap, not ours."""
    if platform_limit:
        text = (
            f"📦 This file is {megabytes(size)}, and bots can only download files up to "
            f"{megabytes(max_bytes)} here, so I can't check it."
        )
    else:
        text = (
            f"📦 This file is {megabytes(size)}; "
            f"FakeWatch checks files up to {megabytes(max_bytes)}."
        )
    if hint:
        text += f" {hint}"
    return clip(text, limit)


def pending_text(check_id: int, *, limit: int = 4096) -> str:
    """Shown when a check takes longer than the bot waits: the verdict comes later."""
    return clip(
        f"⏳ This is taking a while; I'll post the verdict here when it's ready. "
        f"(check {check_id})",
        limit,
    )


def unavailable_text(*, limit: int = 4096) -> str:
    """Shown when the check could not even be queued."""
    return clip(
        "❗ FakeWatch can't check files right now. Please try again in a few minutes.", limit
    )


def busy_text(*, limit: int = 4096) -> str:
    """Shown when the queue is full: the workers are behind."""
    return clip(
        "⏳ FakeWatch is very busy right now and can't take more files. "
        "Please try again in a few minutes.",
        limit,
    )


def _after(seconds: float) -> str:
    if seconds < 90:
        return f"in about {max(1, round(seconds))} seconds"
    return f"in about {math.ceil(seconds / 60)} minutes"


def limited_text(admission: Admission, *, limit: int = 4096) -> str:
    """The polite note when a user or a chat has asked for more checks than the limits allow."""
    rate = f"{admission.per_minute:g}" if admission.per_minute else "a few"
    when = _after(admission.retry_after_s)
    if admission.scope == "user":
        text = (
            f"⏳ That's a lot of files at once: I check up to {rate} a minute for one person, "
            f"so I'm skipping some of yours. I'll check yours again {when}."
        )
    elif admission.scope == "chat":
        text = (
            f"⏳ Lots of media here right now: I check up to {rate} files a minute in one chat, "
            f"so I'm skipping some. I'll check again {when}; ask for a check of anything "
            "suspicious then."
        )
    else:
        return busy_text(limit=limit)
    return clip(text, limit)


def fetch_failed_text(*, limit: int = 4096) -> str:
    """Shown when the platform would not hand over the file."""
    return clip("❗ I couldn't download this file, so it wasn't checked.", limit)


def removal_text(
    outcome: CheckResult, *, author: str | None, reported: bool, limit: int = 4096
) -> str:
    """Posted in the chat after a likely deepfake was deleted."""
    who = f" posted by {author}" if author else ""
    p = outcome.fake_probability
    prob = f" ({percent(p)} fake probability)" if p is not None else ""
    told = "The moderators have been told." if reported else "Moderators can override it with"
    if reported:
        return clip(
            f"🗑️ Removed a likely deepfake{who}{prob}. {told} (check {outcome.check_id})", limit
        )
    return clip(
        f"🗑️ Removed a likely deepfake{who}{prob}. {told} /verdict {outcome.check_id} real",
        limit,
    )


def report_text(
    outcome: CheckResult,
    *,
    chat: str | None,
    author: str | None,
    deleted: bool,
    limit: int = 4096,
) -> str:
    """The note to the moderators' channel about a likely deepfake."""
    where = f" in {chat}" if chat else ""
    who = author or "someone"
    p = outcome.fake_probability
    prob = f"{percent(p)} fake probability" if p is not None else "flagged as fake"
    done = "The message was deleted." if deleted else "The message could NOT be deleted."
    return clip(
        f"🚨 Likely deepfake{where} from {who}: {prob}. {done}\n"
        f"Override with /verdict {outcome.check_id} real|fake [note].",
        limit,
    )


def settings_text(policy: ChatPolicy, *, limit: int = 4096) -> str:
    """A chat's settings, one per line, with how to change each."""

    def threshold(value: float | None) -> str:
        return "model default" if value is None else f"{value:g}"

    lines = [
        "⚙️ FakeWatch settings for this chat",
        f"auto: {'on' if policy.auto_check else 'off'} — check every image and video posted",
        f"fake: {threshold(policy.fake_threshold)} — fake at or above this fake probability",
        f"real: {threshold(policy.real_threshold)} — real at or below this fake probability",
        f"action: {policy.action} — on a fake verdict: reply, react or delete_and_report",
        f"modchannel: {policy.mod_channel_id or 'this chat'} — where deletions are reported",
        f"retention: {policy.retention_days or 'default'} days — how long checks are kept",
        "Change one with /settings NAME VALUE, e.g. /settings auto off",
    ]
    return clip("\n".join(lines), limit)


def _entry_line(e: AuditEntry) -> str:
    when = e.created_at.strftime("%Y-%m-%d %H:%M")
    who = e.author_name or e.author_id or "?"
    if e.status in OPEN:
        what = e.status
    else:
        what = e.label or e.status
        if e.fake_probability is not None and what in JUDGED:
            what += f" {percent(e.fake_probability)}"
    review = f" → reviewed {e.review}" if e.review else ""
    return f"{when} {who} {e.media_kind or ''}: {what}{review} [{e.check_id}]".replace("  ", " ")


def describe_query(query: AuditQuery) -> str:
    """The filters of an audit request in words (for the reply and the CSV's name)."""
    parts = []
    if query.label:
        parts.append(f"label {query.label}")
    at = f"@{query.author_username}" if query.author_username else None
    if query.author:
        parts.append(f"by user id {query.author}" + (f" ({at})" if at else ""))
    elif at:
        parts.append(f"by {at}")
    if query.since:
        parts.append(f"since {query.since.strftime('%Y-%m-%d %H:%M')} UTC")
    return ", ".join(parts) or "no filter"


def audit_text(
    entries: Sequence[AuditEntry],
    *,
    query: AuditQuery,
    counts: dict[str, int] | None = None,
    limit: int = 4096,
) -> str:
    """The answer to /audit: the most recent checks, newest first, within ``limit``."""
    head = f"🧾 Last {len(entries)} checks here ({describe_query(query)})"
    if not entries:
        return clip(f"🧾 No checks here match ({describe_query(query)}).", limit)
    lines = [head]
    if counts:
        lines.append(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    budget = limit - len("\n".join(lines)) - 40  # room for the "and N more" line
    shown = 0
    for e in entries:
        line = _entry_line(e)
        if len(line) + 1 > budget:
            break
        lines.append(line)
        budget -= len(line) + 1
        shown += 1
    if shown < len(entries):
        lines.append(f"… and {len(entries) - shown} more in the CSV file.")
    return clip("\n".join(lines), limit)

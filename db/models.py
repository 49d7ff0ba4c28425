"""The tables: one ``Check`` per media item checked, moderators' ``Review``s, ``ChatSettings``.

Chat and user ids are text: Telegram ids are signed 64-bit integers, Discord ids
are snowflakes, and a Discord channel override uses ``"<guild id>:<channel id>"``
(see :mod:`db.chat_settings`). Times are aware UTC datetimes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from base.vocabulary import FINISHED, FakeAction, Status
from db.columns import JSONType, UTCDateTime, utcnow

# SQLite wants INTEGER PRIMARY KEY for its rowid alias; PostgreSQL gets bigint.
Id = BigInteger().with_variant(Integer(), "sqlite")

# Stable constraint names: Alembic needs them to alter SQLite tables in batch mode.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with the naming convention."""

    metadata = MetaData(naming_convention=NAMING)


class Check(Base):
    """One media item checked: who posted it where, and what the model concluded.

    ``status`` goes ``queued -> running -> done | failed`` and a finished check
    always has a ``label``: the verdict's (``fake``, ``real``, ``inconclusive``,
    ``no_face``) when done, ``unsupported`` or ``error`` when failed.
    """

    __tablename__ = "checks"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    # The arq job id: fixed when the row is made, so the job cannot be enqueued twice.
    job_id: Mapped[str] = mapped_column(String(64), unique=True)

    # Where and by whom.
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str | None] = mapped_column(String(64))
    chat_title: Mapped[str | None] = mapped_column(String(256))
    message_id: Mapped[str | None] = mapped_column(String(64))
    author_id: Mapped[str | None] = mapped_column(String(64))
    author_name: Mapped[str | None] = mapped_column(String(256))
    request_kind: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str | None] = mapped_column(String(256))

    # The media item.
    media_kind: Mapped[str | None] = mapped_column(String(16))
    file_name: Mapped[str | None] = mapped_column(String(512))
    mime_type: Mapped[str | None] = mapped_column(String(128))
    byte_size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    phash: Mapped[str | None] = mapped_column(String(16))  # 64-bit perceptual hash, images
    media_path: Mapped[str | None] = mapped_column(String(1024))  # kept only under retention
    media_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The outcome.
    # The values of base.vocabulary: Status, Label, ReasonCode.
    status: Mapped[str] = mapped_column(
        String(16), default=Status.QUEUED.value, server_default=Status.QUEUED.value
    )
    label: Mapped[str | None] = mapped_column(String(16))
    fake_probability: Mapped[float | None] = mapped_column(Float)
    faces: Mapped[int | None] = mapped_column(Integer)
    frames: Mapped[int | None] = mapped_column(Integer)
    model_id: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(Text)
    reason_code: Mapped[str | None] = mapped_column(String(64))
    timings: Mapped[dict[str, float] | None] = mapped_column(JSONType)
    # face_scores, frame_scores, frame_times of the verdict: the dashboard's timeline.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    deduplicated_from: Mapped[int | None] = mapped_column(
        Id, ForeignKey("checks.id", ondelete="SET NULL")
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    # What the bot needs to answer after a restart (chat, message, status message ids).
    reply_to: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    reviews: Mapped[list[Review]] = relationship(
        back_populates="check", order_by="Review.created_at", passive_deletes=True
    )

    __table_args__ = (
        Index("ix_checks_sha256_model_id", "sha256", "model_id"),
        Index("ix_checks_platform_chat_id_created_at", "platform", "chat_id", "created_at"),
        Index("ix_checks_status", "status"),
        Index("ix_checks_created_at", "created_at"),
        Index("ix_checks_author_id", "author_id"),
        Index("ix_checks_platform_replied_at", "platform", "replied_at"),
    )

    @property
    def finished(self) -> bool:
        """Whether the check is done or failed."""
        return self.status in FINISHED

    def __repr__(self) -> str:
        return f"<Check {self.id} {self.platform} {self.status} {self.label}>"


class Review(Base):
    """A moderator's decision on a check: the audit trail of overrides."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    check_id: Mapped[int] = mapped_column(
        Id, ForeignKey("checks.id", ondelete="CASCADE"), index=True
    )
    moderator_id: Mapped[str] = mapped_column(String(64))
    moderator_name: Mapped[str | None] = mapped_column(String(256))
    decision: Mapped[str] = mapped_column(String(16))  # a base.vocabulary.Decision
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    check: Mapped[Check] = relationship(back_populates="reviews")

    def __repr__(self) -> str:
        return f"<Review {self.id} of check {self.check_id}: {self.decision}>"


class ChatSettings(Base):
    """Per chat (or per Discord channel, ``chat_id = "<guild>:<channel>"``) moderation settings.

    ``None`` thresholds mean the model's own. ``retention_days = 0`` keeps no media.
    """

    __tablename__ = "chat_settings"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    auto_check: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    fake_threshold: Mapped[float | None] = mapped_column(Float)
    real_threshold: Mapped[float | None] = mapped_column(Float)
    action: Mapped[str] = mapped_column(  # a base.vocabulary.FakeAction
        String(24), default=FakeAction.REPLY.value, server_default=FakeAction.REPLY.value
    )
    mod_channel_id: Mapped[str | None] = mapped_column(String(64))
    retention_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(256))

    def __repr__(self) -> str:
        return f"<ChatSettings {self.platform}:{self.chat_id}>"

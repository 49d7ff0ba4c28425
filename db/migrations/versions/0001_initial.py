"""Initial schema: checks, reviews, chat settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def Time() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the three tables and the indexes the queries use."""
    op.create_table(
        "chat_settings",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("auto_check", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("fake_threshold", sa.Float(), nullable=True),
        sa.Column("real_threshold", sa.Float(), nullable=True),
        sa.Column("action", sa.String(24), server_default="reply", nullable=False),
        sa.Column("mod_channel_id", sa.String(64), nullable=True),
        sa.Column("retention_days", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", Time(), nullable=False),
        sa.Column("updated_by", sa.String(256), nullable=True),
        sa.PrimaryKeyConstraint("platform", "chat_id", name=op.f("pk_chat_settings")),
    )
    op.create_table(
        "checks",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=True),
        sa.Column("chat_title", sa.String(256), nullable=True),
        sa.Column("message_id", sa.String(64), nullable=True),
        sa.Column("author_id", sa.String(64), nullable=True),
        sa.Column("author_name", sa.String(256), nullable=True),
        sa.Column("request_kind", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(256), nullable=True),
        sa.Column("media_kind", sa.String(16), nullable=True),
        sa.Column("file_name", sa.String(512), nullable=True),
        sa.Column("mime_type", sa.String(128), nullable=True),
        sa.Column("byte_size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("phash", sa.String(16), nullable=True),
        sa.Column("media_path", sa.String(1024), nullable=True),
        sa.Column("media_expires_at", Time(), nullable=True),
        sa.Column("status", sa.String(16), server_default="queued", nullable=False),
        sa.Column("label", sa.String(16), nullable=True),
        sa.Column("fake_probability", sa.Float(), nullable=True),
        sa.Column("faces", sa.Integer(), nullable=True),
        sa.Column("frames", sa.Integer(), nullable=True),
        sa.Column("model_id", sa.String(128), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reason_code", sa.String(64), nullable=True),
        sa.Column("timings", Json, nullable=True),
        sa.Column("details", Json, nullable=True),
        sa.Column("deduplicated_from", Id, nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reply_to", Json, nullable=True),
        sa.Column("created_at", Time(), nullable=False),
        sa.Column("started_at", Time(), nullable=True),
        sa.Column("finished_at", Time(), nullable=True),
        sa.Column("replied_at", Time(), nullable=True),
        sa.ForeignKeyConstraint(
            ["deduplicated_from"],
            ["checks.id"],
            name=op.f("fk_checks_deduplicated_from_checks"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checks")),
        sa.UniqueConstraint("job_id", name=op.f("uq_checks_job_id")),
    )
    op.create_index("ix_checks_author_id", "checks", ["author_id"])
    op.create_index("ix_checks_created_at", "checks", ["created_at"])
    op.create_index(
        "ix_checks_platform_chat_id_created_at", "checks", ["platform", "chat_id", "created_at"]
    )
    op.create_index("ix_checks_platform_replied_at", "checks", ["platform", "replied_at"])
    op.create_index("ix_checks_sha256_model_id", "checks", ["sha256", "model_id"])
    op.create_index("ix_checks_status", "checks", ["status"])
    op.create_table(
        "reviews",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("check_id", Id, nullable=False),
        sa.Column("moderator_id", sa.String(64), nullable=False),
        sa.Column("moderator_name", sa.String(256), nullable=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", Time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_id"], ["checks.id"], name=op.f("fk_reviews_check_id_checks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
    )
    op.create_index(op.f("ix_reviews_check_id"), "reviews", ["check_id"])


def downgrade() -> None:
    """Drop everything :func:`upgrade` made."""
    op.drop_index(op.f("ix_reviews_check_id"), table_name="reviews")
    op.drop_table("reviews")
    for name in (
        "ix_checks_status",
        "ix_checks_sha256_model_id",
        "ix_checks_platform_replied_at",
        "ix_checks_platform_chat_id_created_at",
        "ix_checks_created_at",
        "ix_checks_author_id",
    ):
        op.drop_index(name, table_name="checks")
    op.drop_table("checks")
    op.drop_table("chat_settings")
